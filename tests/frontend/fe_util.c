/* fe_util.c: see fe_util.h. */
#include "tests/frontend/fe_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

void fe_setup(void) {
    snprintf(dir, sizeof dir, "/tmp/m7fe.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
}

void fe_cleanup(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

const char *fe_path(const char *name) {
    static char buf[2][256];
    static int k;
    k ^= 1;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

IrGraph *fe_load(Onnx__ModelProto *m, int64_t batch, IrDiag *d) {
    const char *p = fe_path("m.onnx");
    mk_write(m, p);
    FrontendOptions opt = {batch};
    return frontend_load_onnx(p, &opt, d);
}

int fe_diag_has(const IrDiag *d, const char *sub) {
    for (int i = 0; i < d->n; i++)
        if (strstr(d->msg[i], sub))
            return 1;
    return 0;
}

void fe_expect_error_at(Onnx__ModelProto *m, const char *a, const char *b, const char *file, int line) {
    IrDiag d = {0};
    IrGraph *g = fe_load(m, 0, &d);
    int ok = !g && d.n > 0 && fe_diag_has(&d, a) && (!b || fe_diag_has(&d, b));
    CU_assertImplementation(ok, (unsigned)line, "expected error", file, "", CU_FALSE);
    if (getenv("FE_SHOW")) /* FE_SHOW=1 prints every expected message */
        ir_diag_print(&d, stdout);
    if (!ok) {
        fprintf(stderr, "\n%s:%d: expected an error with '%s' / '%s', got %s:\n", file, line, a,
                b ? b : "", g ? "a graph" : "");
        ir_diag_print(&d, stderr);
    }
    ir_graph_free(g);
    ir_diag_free(&d);
}

IrTensor *fe_tensor(IrGraph *g, const char *name) {
    int t = ir_find_tensor(g, name);
    return t < 0 ? NULL : &g->t[t];
}

IrLayer *fe_layer(IrGraph *g, const char *out) {
    IrTensor *t = fe_tensor(g, out);
    if (!t || t->producer < 0 || g->l[t->producer].dead)
        return NULL;
    return &g->l[t->producer];
}

void fe_expect_shape_at(IrGraph *g, const char *name, const char *dims, const char *file, int line) {
    IrTensor *t = fe_tensor(g, name);
    char want[160] = "[", got[160] = "(no tensor)";
    size_t k = 1;
    for (const char *p = dims; *p; p++)
        want[k++] = *p == ',' ? 'x' : *p;
    want[k++] = ']';
    want[k] = 0;
    if (t)
        ir_shape_str(t, got, sizeof got);
    int ok = t && !strcmp(want, got);
    CU_assertImplementation(ok, (unsigned)line, "shape", file, "", CU_FALSE);
    if (!ok)
        fprintf(stderr, "\n%s:%d: tensor '%s': want %s, got %s\n", file, line, name, want, got);
}
