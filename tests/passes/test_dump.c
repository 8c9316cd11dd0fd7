/* Golden-text tests of the --dump-ir printer (ir/dump.c): hand-built graphs
 * are dumped and compared byte for byte with tests/passes/golden/<name>.txt,
 * before and after canonicalisation.
 *
 * After an intended change of the format, regenerate and review the diff:
 *     UPDATE_GOLDEN=1 meson test -C build passes-dump
 * (writes the goldens into the source tree instead of comparing). */
#include <CUnit/Basic.h>

#include "tests/common/cunit_run.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/dump.h"
#include "passes/passes.h"
#include "tests/common/tgraph.h"

#ifndef GOLDEN_DIR
#error "GOLDEN_DIR must name tests/passes/golden"
#endif

static char *dump_text(const IrGraph *g) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    ir_dump(g, f);
    fclose(f);
    return buf;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[4096];
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n + 1 > cap) {
            cap = 2 * (len + n + 1);
            buf = ir_xrealloc(buf, cap);
        }
        memcpy(buf + len, chunk, n);
        len += n;
    }
    fclose(f);
    if (!buf)
        buf = ir_xcalloc(1, 1);
    buf[len] = 0;
    return buf;
}

static void check_golden(const IrGraph *g, const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.txt", GOLDEN_DIR, name);
    char *got = dump_text(g);
    const char *upd = getenv("UPDATE_GOLDEN");
    if (upd && strcmp(upd, "1") == 0) {
        FILE *f = fopen(path, "wb");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fputs(got, f);
        fclose(f);
        fprintf(stderr, "updated %s\n", path);
        free(got);
        return;
    }
    char *want = read_file(path);
    if (!want)
        fprintf(stderr, "missing golden %s (make it with UPDATE_GOLDEN=1)\n", path);
    else if (strcmp(got, want) != 0)
        fprintf(stderr, "dump differs from %s; got:\n%s", path, got);
    CU_ASSERT(want && strcmp(got, want) == 0);
    free(want);
    free(got);
}

static void test_small_cnn(void) {
    IrGraph *g = tg_small_cnn();
    check_golden(g, "small_cnn_before");
    IrDiag d = {0};
    CU_ASSERT_EQUAL(passes_canonicalize(g, &d), 0);
    ir_diag_free(&d);
    check_golden(g, "small_cnn_after");
    ir_graph_free(g);
}

/* A stand-in for the backend's record: ir/ only carries the pointer. */
struct BkSched {
    int rows;
};
static void fake_sched(const struct BkSched *sched, FILE *f) { fprintf(f, "    tile %d rows\n", sched->rows); }

/* Every attribute kind, symbolic and unknown shapes, DDR offsets and a
 * backend annotation. */
static void test_ops(void) {
    IrGraph *g = ir_graph_new("ops");
    g->opset = 11;
    int x = tg_input(g, "x", 4, (int64_t[]){-1, 4, 6, 6});
    g->t[x].dim_param[0] = ir_strdup("batch");
    int a = tg_act(g, "a", 4, (int64_t[]){-1, 4, 6, 6});
    int b = tg_act(g, "b", 4, (int64_t[]){-1, 4, 6, 6});
    int c = tg_act(g, "c", 4, (int64_t[]){-1, 8, 6, 6});
    int s = tg_act(g, "s", 4, (int64_t[]){-1, 8, 6, 6});
    int m = tg_act(g, "m", 4, (int64_t[]){-1, 8, 3, 3});
    int u = ir_add_tensor(g, "u", IR_F32, IR_T_ACT); /* shape unknown */
    int k = tg_act(g, "k", 4, (int64_t[]){-1, 8, 3, 3});
    int sq = tg_act(g, "sq", 2, (int64_t[]){-1, 72});
    int ax = tg_const_i64(g, "axes", 1, (int64_t[]){0});
    int la = tg_unary(g, IR_LEAKY_RELU, "leaky", x, a);
    g->l[la].act.alpha = 0.25f;
    int ll = tg_unary(g, IR_LRN, "lrn", a, b);
    g->l[ll].a.lrn = (IrLrnAttr){.size = 5, .alpha = 1e-4f, .beta = 0.75f, .bias = 2};
    int lc = ir_add_layer(g, IR_CONCAT, "cat", "Concat", (int[]){a, b}, 2, &c, 1);
    g->l[lc].a.axis = 1;
    int lk = tg_unary(g, IR_CLIP, "clip", c, s);
    g->l[lk].act.lo = 0;
    g->l[lk].act.hi = 6;
    tg_pool(g, IR_MAXPOOL, "pool", s, m, 2, 2, (int[]){0, 0, 0, 0}, 0);
    int mt = tg_act(g, "mt", 4, (int64_t[]){-1, 3, 3, 8});
    int mt2 = tg_act(g, "mt2", 4, (int64_t[]){-1, 3, 3, 8});
    int m2 = tg_act(g, "m2", 4, (int64_t[]){-1, 8, 3, 3});
    int lt = tg_unary(g, IR_TRANSPOSE, "to_nhwc", m, mt);
    g->l[lt].a.perm.n = 4;
    memcpy(g->l[lt].a.perm.v, (int[]){0, 2, 3, 1}, 4 * sizeof(int));
    tg_unary(g, IR_TANH, "tanh", mt, mt2);
    int lt2 = tg_unary(g, IR_TRANSPOSE, "to_nchw", mt2, m2);
    g->l[lt2].a.perm.n = 4;
    memcpy(g->l[lt2].a.perm.v, (int[]){0, 3, 1, 2}, 4 * sizeof(int));
    int lsm = tg_unary(g, IR_SOFTMAX, "softmax", m2, k);
    g->l[lsm].a.softmax = (IrSoftmaxAttr){.axis = 1, .coerce_2d = 1};
    int lr = tg_binary(g, IR_RESHAPE, "flatten", k, ax, sq);
    g->t[sq].ddr_offset = 4096;
    static struct BkSched rows = {3};
    g->l[lr].sched = &rows;
    g->l[lr].dump_sched = fake_sched;
    int lu = tg_unary(g, IR_UNSQUEEZE, "unsq\n\"1\"", sq, u); /* escaped */
    g->l[lu].a.axes.n = 2;
    g->l[lu].a.axes.v[0] = 0;
    g->l[lu].a.axes.v[1] = 3;
    ir_graph_add_output(g, u);
    ir_graph_add_output(g, k);
    check_golden(g, "ops");
    g->l[lr].sched = NULL; /* static, not owned */
    ir_graph_free(g);
}

int main(void) {
    static const TestCase tests[] = {
        {"small cnn before/after canonicalisation", test_small_cnn},
        {"every attribute kind", test_ops},
        {NULL, NULL},
    };
    return cunit_run("dump", tests);
}
