/* The ONNX backend test data (libonnx-testdata: node, pytorch-converted,
 * pytorch-operator) through m7cc.  Every case is compiled; a case m7cc
 * refuses with "unsupported node" is counted as rejected.  Every other case
 * must run on the simulator and in the reference executor (--interpret) and
 * match its expected outputs, or be listed in known_limits.txt with the
 * path it fails on and why; a listed case that passes is a failure too, so
 * the list stays true.  Prints a table per op and the totals.
 *
 *     test_onnx_suite M7CC DATA_DIR KNOWN_LIMITS SCRATCH_DIR [JOBS] */
#include <CUnit/Basic.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/common/cunit_run.h"
#include "tests/onnx_suite/known_limits.h"
#include "tests/onnx_suite/suite_case.h"

/* ONNX test data is computed by numpy in float32: rtol as the e2e test; an
 * atol for outputs near zero, where float32 rounding of a different but
 * valid summation order leaves ~1e-7..1e-6 absolute error. */
static const char *RTOL = "1e-4", *ATOL = "1e-5";
static const char *suites[] = {"node", "pytorch-converted", "pytorch-operator"};

static const char *m7cc, *data, *limits_path, *scratch;
static int jobs = 2;

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends the cases of DATA_DIR/suite (folders with a model.onnx) in name order. */
static int list_suite(const char *suite, SuiteCase *cases, int n, int cap) {
    char dir[700];
    snprintf(dir, sizeof dir, "%s/%s", data, suite);
    DIR *d = opendir(dir);
    if (!d) {
        printf("\n  %s: cannot open", dir);
        return n;
    }
    char **names = NULL;
    int k = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char p[2048];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s/model.onnx", dir, e->d_name);
        if (e->d_name[0] != '.' && stat(p, &st) == 0) {
            names = realloc(names, (size_t)(k + 1) * sizeof *names);
            names[k++] = strdup(e->d_name);
        }
    }
    closedir(d);
    qsort(names, (size_t)k, sizeof *names, by_name);
    for (int i = 0; i < k; i++) {
        if (n < cap) {
            snprintf(cases[n].name, sizeof cases[n].name, "%s/%s", suite, names[i]);
            snprintf(cases[n].dir, sizeof cases[n].dir, "%s/%s", dir, names[i]);
            n++;
        }
        free(names[i]);
    }
    free(names);
    return n;
}

/* Runs every case, split over `jobs` worker processes writing into shared
 * memory; the outcome of a case does not depend on which worker ran it. */
static int run_all(SuiteCase *cases, int n) {
    pid_t pids[16];
    int started = 0;
    fflush(stdout);
    for (int w = 0; w < jobs; w++) {
        pid_t pid = fork();
        if (pid < 0)
            break;
        if (pid == 0) {
            char dir[1024];
            snprintf(dir, sizeof dir, "%s/w%d", scratch, w);
            mkdir(dir, 0755);
            for (int i = w; i < n; i += jobs) {
                suite_case_op(&cases[i]);
                suite_case_run(&cases[i], m7cc, dir, RTOL, ATOL);
            }
            _exit(0);
        }
        pids[started++] = pid;
    }
    int ok = started == jobs;
    for (int w = 0; w < started; w++) {
        int st;
        waitpid(pids[w], &st, 0);
        ok = ok && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    return ok;
}

typedef struct {
    const char *op;
    int cases, sim, interp, limits, rejected, failed;
} Row;

static Row *row_of(Row *rows, int *nrows, const char *op) {
    for (int i = 0; i < *nrows; i++)
        if (strcmp(rows[i].op, op) == 0)
            return &rows[i];
    rows[*nrows] = (Row){.op = op};
    return &rows[(*nrows)++];
}

static int only_rejected(const Row *r) { return r->rejected == r->cases; }

/* Rows with cases m7cc accepts first, then the unsupported ops; by name. */
static int by_op(const void *a, const void *b) {
    const Row *x = a, *y = b;
    if (only_rejected(x) != only_rejected(y))
        return only_rejected(x) - only_rejected(y);
    return strcmp(x->op, y->op);
}

static const char *word(int outcome) {
    return outcome == RUN_PASS      ? "pass"
           : outcome == RUN_REFUSED ? "refused"
           : outcome == RUN_MISMATCH ? "MISMATCH"
                                     : "not run";
}

/* Judges one path of a case against the list; returns 1 for a failure. */
static int judge(const SuiteCase *c, const char *path, int outcome, const char *msg, int listed) {
    if (outcome == RUN_PASS && listed) {
        printf("\n  FAIL %s: passes %s but is listed in known_limits.txt - remove it", c->name, path);
        return 1;
    }
    if (outcome != RUN_PASS && !listed) {
        printf("\n  FAIL %s [%s]: %s %s: %s", c->name, c->op, path, word(outcome), msg);
        return 1;
    }
    return 0;
}

static void print_table(Row *rows, int nrows) {
    qsort(rows, (size_t)nrows, sizeof *rows, by_op);
    Row t = {.op = "total"}; /* each case is in one row, so rows add up */
    printf("\n\n  %-34s %6s %6s %7s %6s %8s %6s\n", "op", "cases", "sim", "interp", "limits",
           "rejected", "FAILED");
    static const char rule[] = "----------------------------------------------------------------"
                               "------------------";
    for (int i = 0; i <= nrows; i++) {
        Row *r = i < nrows ? &rows[i] : &t;
        if (i < nrows && only_rejected(r) && (i == 0 || !only_rejected(&rows[i - 1])))
            printf("  %s\n  ops m7cc does not support (every case rejected):\n", rule);
        if (i == nrows)
            printf("  %s\n", rule);
        printf("  %-34s %6d %6d %7d %6d %8d %6d\n", r->op, r->cases, r->sim, r->interp, r->limits,
               r->rejected, r->failed);
        t.cases += r->cases, t.sim += r->sim, t.interp += r->interp;
        t.limits += r->limits, t.rejected += r->rejected, t.failed += r->failed;
    }
    printf("  (sim / interp: passed on the simulator / in the reference executor; limits: cases "
           "listed in known_limits.txt)\n");
}

static void test_suite(void) {
    LimitList lim;
    CU_ASSERT_EQUAL_FATAL(limits_read(limits_path, &lim), 0);
    enum { CAP = 4096 };
    SuiteCase *cases = mmap(NULL, CAP * sizeof *cases, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CU_ASSERT_FATAL(cases != MAP_FAILED);
    memset(cases, 0, CAP * sizeof *cases);
    int n = 0;
    for (size_t s = 0; s < sizeof suites / sizeof *suites; s++) {
        int before = n;
        n = list_suite(suites[s], cases, n, CAP);
        CU_ASSERT(n > before); /* every suite is there: no silent skip */
    }
    CU_ASSERT(n < CAP);
    CU_ASSERT_FATAL(run_all(cases, n));

    Row *rows = calloc((size_t)n + 1, sizeof *rows);
    int nrows = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        SuiteCase *c = &cases[i];
        Row *r = row_of(rows, &nrows, c->op);
        Limit *l = limits_find(&lim, c->name);
        int bad = 0;
        r->cases++;
        if (l)
            l->used = 1;
        if (c->rejected) {
            r->rejected++;
            if (l) {
                printf("\n  FAIL %s: rejected (unsupported op %s) but listed in known_limits.txt",
                       c->name, c->op);
                bad = 1;
            }
        } else {
            int ls = l && (l->paths & LIMIT_SIM), li = l && (l->paths & LIMIT_INTERP);
            bad |= judge(c, "on the simulator", c->sim, c->sim_msg, ls);
            bad |= judge(c, "in the reference executor", c->interp, c->interp_msg, li);
            r->sim += c->sim == RUN_PASS;
            r->interp += c->interp == RUN_PASS;
            r->limits += l != NULL;
            if (l && !bad) /* what the list says, and what happened */
                printf("\n  limit %s [%s]: %s\n      sim %s%s%s\n      interp %s%s%s", c->name,
                       c->op, l->reason, word(c->sim), c->sim ? ": " : "", c->sim ? c->sim_msg : "",
                       word(c->interp), c->interp ? ": " : "", c->interp ? c->interp_msg : "");
        }
        r->failed += bad;
        failed += bad;
    }
    for (int i = 0; i < lim.n; i++)
        if (!lim.v[i].used) {
            printf("\n  FAIL known_limits.txt lists %s, which is not a case", lim.v[i].name);
            failed++;
        }
    print_table(rows, nrows);
    CU_ASSERT_EQUAL(failed, 0);
    free(rows);
    munmap(cases, CAP * sizeof *cases);
    limits_free(&lim);
}

int main(int argc, char **argv) {
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: test_onnx_suite M7CC DATA_DIR KNOWN_LIMITS SCRATCH_DIR [JOBS]\n");
        return 2;
    }
    m7cc = argv[1];
    data = argv[2];
    limits_path = argv[3];
    scratch = argv[4];
    if (argc == 6)
        jobs = atoi(argv[5]);
    if (jobs < 1 || jobs > 16) {
        fprintf(stderr, "test_onnx_suite: JOBS must be 1 to 16\n");
        return 2;
    }
    mkdir(scratch, 0755);
    static const TestCase tests[] = {
        {"ONNX test data: simulator and reference executor", test_suite},
        {NULL, NULL},
    };
    return cunit_run("onnx_suite", tests);
}
