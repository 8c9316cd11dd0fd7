/* suite_case.c: runs one ONNX test-data case through m7cc (see suite_case.h). */
#include "tests/onnx_suite/suite_case.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend/onnx.pb-c.h"
#include "tests/common/spawn.h"
#include "runtime/tensor_file.h"

enum { MAX_TENSORS = 16 };
#define TIMEOUT_S "120" /* per command; a compile takes ~0.3 s */

static void copy(char *dst, size_t len, const char *src) {
    snprintf(dst, len, "%s", src);
}

void suite_case_op(SuiteCase *c) {
    char path[1300];
    snprintf(path, sizeof path, "%s/model.onnx", c->dir);
    copy(c->op, sizeof c->op, "?");
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = n > 0 ? malloc((size_t)n) : NULL;
    Onnx__ModelProto *m = NULL;
    if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n)
        m = onnx__model_proto__unpack(NULL, (size_t)n, buf);
    free(buf);
    fclose(f);
    if (!m || !m->graph)
        goto done;
    c->op[0] = 0;
    for (int pass = 0; pass < 2 && !c->op[0]; pass++)
        for (size_t i = 0; i < m->graph->n_node; i++) {
            const char *t = m->graph->node[i]->op_type;
            if (pass == 0 && strcmp(t, "Constant") == 0)
                continue; /* a helper of the op under test */
            char pat[112];
            snprintf(pat, sizeof pat, "+%s+", t);
            char have[104];
            snprintf(have, sizeof have, "+%s+", c->op);
            if (strstr(have, pat))
                continue;
            size_t used = strlen(c->op);
            snprintf(c->op + used, sizeof c->op - used, "%s%s", used ? "+" : "", t);
        }
done:
    if (m)
        onnx__model_proto__free_unpacked(m, NULL);
}

/* The first line of what a command printed, without m7cc's "MODEL: " prefix. */
static void first_line(char *dst, size_t len, const SpawnResult *r, const char *prefix) {
    const char *s = r->err[0] ? r->err : r->out;
    while (*s == '\n')
        s++;
    size_t pl = strlen(prefix);
    if (strncmp(s, prefix, pl) == 0 && strncmp(s + pl, ": ", 2) == 0)
        s += pl + 2;
    if (!*s)
        snprintf(dst, len, "exit status %d, no message", r->status);
    else
        snprintf(dst, len, "%.*s", (int)strcspn(s, "\n"), s);
}

/* Paths of test_data_set_0/<kind>_N.pb that exist, N = 0, 1, ... */
static int data_files(const SuiteCase *c, const char *kind, char paths[][1300]) {
    int n = 0;
    while (n < MAX_TENSORS) {
        snprintf(paths[n], 1300, "%s/test_data_set_0/%s_%d.pb", c->dir, kind, n);
        if (access(paths[n], R_OK) != 0)
            break;
        n++;
    }
    return n;
}

/* Runs argv under timeout(1), so a program that hangs fails its case
 * instead of the whole test; RUN_PASS on exit 0, else `fail` with the first
 * line of what it printed in msg. */
static int run(char **argv, const char *scratch, const char *model, int fail, char *msg,
               size_t len, int *status) {
    char *timed[8 + 4 * MAX_TENSORS + 3] = {"/usr/bin/timeout", TIMEOUT_S};
    for (int i = 0; argv[i]; i++)
        timed[i + 2] = argv[i];
    SpawnResult r;
    if (spawn_run(timed, scratch, &r)) {
        snprintf(msg, len, "cannot start %s", timed[0]);
        return fail;
    }
    *status = r.status;
    int outcome = r.status == 0 ? RUN_PASS : fail;
    if (r.status == 124)
        snprintf(msg, len, "%s timed out after %s s", argv[0], TIMEOUT_S);
    else if (r.status > 128)
        snprintf(msg, len, "%s died of signal %d", argv[0], r.status - 128);
    else if (r.status)
        first_line(msg, len, &r, model);
    spawn_result_free(&r);
    return outcome;
}

static void run_interpret(SuiteCase *c, const char *m7cc, const char *scratch, const char *model,
                          char in[][1300], int nin, char want[][1300], int nout, double rtol,
                          double atol) {
    char got[MAX_TENSORS][1300];
    char *argv[8 + 4 * MAX_TENSORS];
    int a = 0, status;
    argv[a++] = (char *)m7cc;
    argv[a++] = (char *)model;
    argv[a++] = "--interpret";
    for (int i = 0; i < nin; i++)
        argv[a++] = "-i", argv[a++] = in[i];
    for (int i = 0; i < nout; i++) {
        snprintf(got[i], sizeof got[i], "%s/interp_%d.pb", scratch, i);
        remove(got[i]);
        argv[a++] = "-o", argv[a++] = got[i];
    }
    argv[a] = NULL;
    c->interp = run(argv, scratch, model, RUN_REFUSED, c->interp_msg, sizeof c->interp_msg, &status);
    for (int i = 0; i < nout && c->interp == RUN_PASS; i++) {
        M7Tensor g = {0}, w = {0};
        char err[300], report[300];
        if (m7_tensor_read(got[i], &g, err, sizeof err) || m7_tensor_read(want[i], &w, err, sizeof err)) {
            c->interp = RUN_MISMATCH;
            snprintf(c->interp_msg, sizeof c->interp_msg, "output %d: %s", i, err);
        } else if (m7_tensor_compare(&g, &w, rtol, atol, report, sizeof report)) {
            c->interp = RUN_MISMATCH;
            snprintf(c->interp_msg, sizeof c->interp_msg, "output %d: %s", i, report);
        }
        m7_tensor_free(&g);
        m7_tensor_free(&w);
        remove(got[i]);
    }
}

void suite_case_run(SuiteCase *c, const char *m7cc, const char *scratch, const char *rtol,
                    const char *atol) {
    char model[1300], exe[1024], weights[1100];
    char in[MAX_TENSORS][1300], want[MAX_TENSORS][1300];
    snprintf(model, sizeof model, "%s/model.onnx", c->dir);
    snprintf(exe, sizeof exe, "%s/case", scratch);
    snprintf(weights, sizeof weights, "%s.weights", exe);
    int nin = data_files(c, "input", in), nout = data_files(c, "output", want);
    c->sim = c->interp = RUN_NOT_RUN;
    remove(exe);

    int status = 0;
    char *compile[] = {(char *)m7cc, model, "-o", exe, NULL};
    c->sim = run(compile, scratch, model, RUN_REFUSED, c->sim_msg, sizeof c->sim_msg, &status);
    if (c->sim == RUN_REFUSED && status == 1 && strstr(c->sim_msg, "unsupported node")) {
        const char *op = strstr(c->sim_msg, "op '");
        c->rejected = 1;
        if (op)
            snprintf(c->op, sizeof c->op, "%.*s", (int)strcspn(op + 4, "'"), op + 4);
        c->sim = RUN_NOT_RUN;
        return;
    }
    if (c->sim == RUN_PASS) {
        char *argv[8 + 4 * MAX_TENSORS];
        int a = 0;
        argv[a++] = exe;
        for (int i = 0; i < nin; i++)
            argv[a++] = "-i", argv[a++] = in[i];
        for (int i = 0; i < nout; i++)
            argv[a++] = "--expect", argv[a++] = want[i];
        argv[a++] = "--rtol", argv[a++] = (char *)rtol;
        argv[a++] = "--atol", argv[a++] = (char *)atol;
        argv[a++] = "--quiet";
        argv[a] = NULL;
        c->sim = run(argv, scratch, exe, RUN_MISMATCH, c->sim_msg, sizeof c->sim_msg, &status);
    }
    remove(exe);
    remove(weights);
    run_interpret(c, m7cc, scratch, model, in, nin, want, nout, atof(rtol), atof(atol));
}
