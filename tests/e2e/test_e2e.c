/* End to end: every reference model of tests/models is compiled by m7cc
 * into an executable, run on the simulator with its race and capacity
 * checks on, and its output compared with PyTorch's (rtol 1e-4).  Models
 * listed in known_limits.txt must be refused with a message instead.
 *
 *     test_e2e M7CC MODELS_DIR KNOWN_LIMITS SCRATCH_DIR */
#include <CUnit/Basic.h>

#include "tests/common/cunit_run.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/common/spawn.h"

static const char *m7cc, *models, *limits, *scratch;

/* The reason a model is listed in known_limits.txt, or NULL. */
static char *known_limit(const char *model) {
    FILE *f = fopen(limits, "r");
    if (!f)
        return NULL;
    char line[512], *found = NULL;
    while (!found && fgets(line, sizeof line, f)) {
        char name[128];
        int used = 0;
        if (line[0] == '#' || sscanf(line, "%127s %n", name, &used) < 1)
            continue;
        if (strcmp(name, model) == 0) {
            line[strcspn(line, "\n")] = 0;
            found = strdup(line + used);
        }
    }
    fclose(f);
    return found;
}

static void run_model(const char *model) {
    char onnx[1024], input[1024], expect[1024], exe[1024];
    snprintf(onnx, sizeof onnx, "%s/%s/model.onnx", models, model);
    snprintf(input, sizeof input, "%s/%s/input_0.pb", models, model);
    snprintf(expect, sizeof expect, "%s/%s/output_0.pb", models, model);
    snprintf(exe, sizeof exe, "%s/%s", scratch, model);
    char *limit = known_limit(model);
    SpawnResult r;
    char *compile[] = {(char *)m7cc, onnx, "-o", exe, NULL};
    if (spawn_run(compile, scratch, &r)) {
        CU_FAIL("cannot start m7cc");
        free(limit);
        return;
    }
    if (limit) {
        printf("\n  %-20s known limit (%s): %s", model, limit, r.status ? "refused" : "NOW COMPILES");
        if (r.status == 0)
            printf(" - remove it from known_limits.txt");
        CU_ASSERT_EQUAL(r.status, 1);
        CU_ASSERT(strlen(r.err) > 0);
        spawn_result_free(&r);
        free(limit);
        return;
    }
    if (r.status)
        printf("\n  %-20s compile failed:\n%s", model, r.err);
    CU_ASSERT_EQUAL(r.status, 0);
    int compiled = r.status == 0;
    spawn_result_free(&r);
    if (!compiled)
        return;
    char *run[] = {exe, "-i", input, "--expect", expect, "--rtol", "1e-4", "--atol", "1e-5", NULL};
    if (spawn_run(run, scratch, &r)) {
        CU_FAIL("cannot start the compiled program");
        return;
    }
    /* the total line of the report: "total  cycles ms GFLOP eff% ..." */
    const char *total = strstr(r.out, "\ntotal ");
    printf("\n  %-20s %s", model, r.status == 0 ? "matches PyTorch" : "FAILED");
    if (total)
        printf(" | %.*s", (int)strcspn(total + 1, "\n"), total + 1);
    if (r.status)
        printf("\n%s", r.err);
    CU_ASSERT_EQUAL(r.status, 0);
    spawn_result_free(&r);
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_all_models(void) {
    DIR *dir = opendir(models);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) && n < 256) {
        char p[1024];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s/model.onnx", models, e->d_name);
        if (e->d_name[0] != '.' && stat(p, &st) == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(dir);
    qsort(names, (size_t)n, sizeof *names, by_name);
    CU_ASSERT(n >= 10); /* the reference set is there */
    for (int i = 0; i < n; i++) {
        run_model(names[i]);
        free(names[i]);
    }
    printf("\n");
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: test_e2e M7CC MODELS_DIR KNOWN_LIMITS SCRATCH_DIR\n");
        return 2;
    }
    m7cc = argv[1];
    models = argv[2];
    limits = argv[3];
    scratch = argv[4];
    mkdir(scratch, 0755);
    static const TestCase tests[] = {
        {"reference models on the simulator match PyTorch", test_all_models},
        {NULL, NULL},
    };
    return cunit_run("e2e", tests);
}
