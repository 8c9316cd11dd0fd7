/* Unit tests of the canonicalisation passes on hand-built graphs: the
 * structure after each pass, and the numbers: every rewritten graph is run
 * before and after on the same random inputs and must give the same outputs
 * (to rounding, for the folds that change weights). */
#include <CUnit/Basic.h>

#include "tests/common/cunit_run.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"
#include "tests/common/tgraph.h"

#define NCHW(n, c, h, w) 4, (int64_t[]){n, c, h, w}
#define VEC(n) 1, (int64_t[]){n}
#define MAT(r, c) 2, (int64_t[]){r, c}
static const int P0[4] = {0, 0, 0, 0}, P1[4] = {1, 1, 1, 1};

/* ---- before/after comparison -------------------------------------------- */

typedef struct {
    float *in[4], *out[4];
} Run;

static Run run_before(const IrGraph *g) {
    Run r = {0};
    for (int i = 0; i < g->n_inputs; i++)
        r.in[i] = tg_random(g, g->inputs[i], 7u + (unsigned)i);
    CU_ASSERT_FATAL(tg_eval(g, (const float *const *)r.in, r.out) == 0);
    return r;
}

/* Verifies the graph, runs it again and compares with r (then frees r). */
static void expect_same(const IrGraph *g, Run *r, double tol) {
    IrDiag d = {0};
    int v = passes_verify(g, &d);
    if (v)
        ir_diag_print(&d, stderr);
    CU_ASSERT_EQUAL(v, 0);
    ir_diag_free(&d);
    float *out[4] = {0};
    CU_ASSERT_FATAL(tg_eval(g, (const float *const *)r->in, out) == 0);
    for (int i = 0; i < g->n_outputs; i++) {
        double e = tg_max_rel_err(out[i], r->out[i], ir_numel(&g->t[g->outputs[i]]));
        if (e > tol)
            fprintf(stderr, "output %d differs by %g\n", i, e);
        CU_ASSERT(e <= tol);
        free(out[i]);
        free(r->out[i]);
    }
    for (int i = 0; i < g->n_inputs; i++)
        free(r->in[i]);
}

static int run_pass(int (*pass)(IrGraph *, IrDiag *), IrGraph *g) {
    IrDiag d = {0};
    int n = pass(g, &d);
    CU_ASSERT(n >= 0);
    ir_diag_free(&d);
    return n;
}

/* The live layer writing tensor named `name`, or -1. */
static int producer_of(const IrGraph *g, const char *name) {
    int t = ir_find_tensor(g, name);
    if (t < 0 || g->t[t].producer < 0 || g->l[g->t[t].producer].dead)
        return -1;
    return g->t[t].producer;
}

static int live_layers(const IrGraph *g) {
    int n = 0;
    for (int i = 0; i < g->n_l; i++)
        n += !g->l[i].dead;
    return n;
}

/* ---- remove_noops --------------------------------------------------------- */

static void test_noops(void) {
    /* x -> conv(w via Identity) -> identity -> dropout -> relu -> y (output) */
    IrGraph *g = ir_graph_new("noops");
    int x = tg_input(g, "x", NCHW(1, 2, 5, 5));
    int w0 = tg_const(g, "w", NCHW(3, 2, 3, 3), 1, -1, 1);
    int w = tg_act(g, "w_id", NCHW(3, 2, 3, 3));
    int c = tg_act(g, "c", NCHW(1, 3, 5, 5)), i1 = tg_act(g, "i1", NCHW(1, 3, 5, 5));
    int d1 = tg_act(g, "d1", NCHW(1, 3, 5, 5)), y = tg_act(g, "y", NCHW(1, 3, 5, 5));
    int li_w = tg_unary(g, IR_IDENTITY, "idw", w0, w);
    tg_conv(g, "conv", x, w, -1, c, 1, P1, 1);
    int li_i = tg_unary(g, IR_IDENTITY, "id", c, i1);
    int li_d = tg_unary(g, IR_DROPOUT, "drop", i1, d1);
    int li_r = tg_unary(g, IR_RELU, "relu", d1, y);
    ir_graph_add_output(g, y);
    Run r = run_before(g);
    CU_ASSERT_EQUAL(run_pass(passes_remove_noops, g), 3);
    CU_ASSERT(g->l[li_w].dead && g->l[li_i].dead && g->l[li_d].dead && !g->l[li_r].dead);
    CU_ASSERT_EQUAL(g->l[1].in[1], w0);
    CU_ASSERT_EQUAL(g->l[li_r].in[0], c);
    expect_same(g, &r, 0);
    ir_graph_free(g);
}

static void test_noop_pool(void) {
    /* VGG's AdaptiveAvgPool2d(7) on 7x7 exports as a 1x1 AveragePool */
    IrGraph *g = ir_graph_new("noop_pool");
    int x = tg_input(g, "x", NCHW(1, 2, 3, 3));
    int a = tg_act(g, "a", NCHW(1, 2, 3, 3)), b = tg_act(g, "b", NCHW(1, 2, 3, 3));
    int y = tg_act(g, "y", NCHW(1, 2, 3, 3)), z = tg_act(g, "z", NCHW(1, 2, 2, 2));
    int l1 = tg_pool(g, IR_AVGPOOL, "avg1x1", x, a, 1, 1, P0, 0);
    int l2 = tg_pool(g, IR_MAXPOOL, "max1x1", a, b, 1, 1, P0, 0);
    int l3 = tg_unary(g, IR_RELU, "relu", b, y);
    int l4 = tg_pool(g, IR_MAXPOOL, "max1x1s2", y, z, 1, 2, P0, 0); /* strided: not a copy */
    ir_graph_add_output(g, z);
    Run r = run_before(g);
    CU_ASSERT_EQUAL(run_pass(passes_remove_noops, g), 2);
    CU_ASSERT(g->l[l1].dead && g->l[l2].dead && !g->l[l3].dead && !g->l[l4].dead);
    CU_ASSERT_EQUAL(g->l[l3].in[0], x);
    expect_same(g, &r, 0);
    ir_graph_free(g);
}

static void test_noop_graph_output(void) {
    /* conv -> identity -> y (output): conv now writes y itself.
     * x -> identity -> z (output): nothing else can write z; stays. */
    IrGraph *g = ir_graph_new("noop_out");
    int x = tg_input(g, "x", NCHW(1, 1, 4, 4));
    int w = tg_const(g, "w", NCHW(2, 1, 1, 1), 2, -1, 1);
    int c = tg_act(g, "c", NCHW(1, 2, 4, 4)), y = tg_act(g, "y", NCHW(1, 2, 4, 4));
    int z = tg_act(g, "z", NCHW(1, 1, 4, 4));
    int m = tg_act(g, "m", NCHW(1, 2, 4, 4)), y2 = tg_act(g, "y2", NCHW(1, 2, 4, 4));
    int lc = tg_conv(g, "conv", x, w, -1, c, 1, P0, 1);
    int li = tg_unary(g, IR_IDENTITY, "id", c, y);
    int lz = tg_unary(g, IR_IDENTITY, "idx", x, z);
    /* a Dropout whose mask is read stays */
    int ld = ir_add_layer(g, IR_DROPOUT, "drop", "Dropout", &y, 1, (int[]){y2, m}, 2);
    int mo = tg_act(g, "mo", NCHW(1, 2, 4, 4));
    tg_unary(g, IR_RELU, "relu_m", m, mo);
    ir_graph_add_output(g, y);
    ir_graph_add_output(g, z);
    ir_graph_add_output(g, y2);
    CU_ASSERT_EQUAL(run_pass(passes_remove_noops, g), 1);
    CU_ASSERT(g->l[li].dead && !g->l[lz].dead && !g->l[ld].dead);
    CU_ASSERT_EQUAL(producer_of(g, "y"), lc);
    CU_ASSERT_EQUAL(g->t[c].producer, -1);
    IrDiag d = {0};
    CU_ASSERT_EQUAL(passes_verify(g, &d), 0);
    ir_diag_free(&d);
    ir_graph_free(g);
}

/* ---- make_fc --------------------------------------------------------------- */

/* x[2,3,2,2] -> Flatten -> Gemm(B, C, transB) -> y[2,5] */
static IrGraph *flatten_gemm(int tb, int cshape, IrOp flat) {
    IrGraph *g = ir_graph_new("fc");
    int x = tg_input(g, "x", NCHW(2, 3, 2, 2));
    int f = tg_act(g, "f", MAT(2, 12));
    int b = tb ? tg_const(g, "B", MAT(5, 12), 3, -1, 1) : tg_const(g, "B", MAT(12, 5), 3, -1, 1);
    int c = cshape == 1 ? tg_const(g, "C", VEC(5), 4, -1, 1)
          : cshape == 2 ? tg_const(g, "C", MAT(1, 5), 4, -1, 1)
          : cshape == 3 ? tg_const(g, "C", MAT(2, 5), 4, -1, 1) : -1;
    int y = tg_act(g, "y", MAT(2, 5));
    if (flat == IR_FLATTEN) {
        int lf = tg_unary(g, IR_FLATTEN, "flat", x, f);
        g->l[lf].a.axis = 1;
    } else {
        int s = tg_const_i64(g, "shape", 2, (int64_t[]){2, -1});
        tg_binary(g, IR_RESHAPE, "reshape", x, s, f);
    }
    tg_gemm(g, "gemm", f, b, c, y, 1, cshape == 2 ? 0.5f : 1, 0, tb);
    ir_graph_add_output(g, y);
    return g;
}

static void test_make_fc(void) {
    for (int tb = 0; tb < 2; tb++)
        for (int cs = 0; cs < 3; cs++) {
            IrGraph *g = flatten_gemm(tb, cs, cs == 1 ? IR_RESHAPE : IR_FLATTEN);
            Run r = run_before(g);
            CU_ASSERT_EQUAL(run_pass(passes_make_fc, g), 1);
            const IrLayer *l = &g->l[1];
            CU_ASSERT_EQUAL(l->op, IR_FC);
            CU_ASSERT_EQUAL(l->in[0], ir_find_tensor(g, "x")); /* flatten skipped */
            CU_ASSERT_EQUAL(g->t[l->in[1]].dims[0], 5);
            CU_ASSERT_EQUAL(g->t[l->in[1]].dims[1], 12);
            CU_ASSERT_EQUAL(tb ? l->in[1] : -1, tb ? ir_find_tensor(g, "B") : -1); /* no copy */
            CU_ASSERT_EQUAL(l->n_in, cs ? 3 : 2);
            if (cs)
                CU_ASSERT_EQUAL(g->t[l->in[2]].rank, 1);
            CU_ASSERT_EQUAL(run_pass(passes_dce, g), 1); /* the flatten */
            CU_ASSERT_EQUAL(live_layers(g), 1);
            expect_same(g, &r, 1e-6); /* Gemm and FC may round apart */
            ir_graph_free(g);
        }
}

static void test_make_fc_refusals(void) {
    /* C as a full matrix is not a bias */
    IrGraph *g = flatten_gemm(1, 3, IR_FLATTEN);
    CU_ASSERT_EQUAL(run_pass(passes_make_fc, g), 0);
    CU_ASSERT_EQUAL(g->l[1].op, IR_GEMM);
    ir_graph_free(g);
    /* alpha != 1, transA, non-constant B */
    for (int k = 0; k < 3; k++) {
        g = ir_graph_new("fc_no");
        int a = tg_input(g, "a", MAT(4, 6));
        int b = k == 2 ? tg_input(g, "b", MAT(3, 6)) : tg_const(g, "b", MAT(3, 6), 1, -1, 1);
        int y = tg_act(g, "y", MAT(k == 1 ? 6 : 4, 3));
        tg_gemm(g, "gemm", a, b, -1, y, k == 0 ? 2.0f : 1.0f, 1, k == 1, 1);
        ir_graph_add_output(g, y);
        CU_ASSERT_EQUAL(run_pass(passes_make_fc, g), 0);
        CU_ASSERT_EQUAL(g->l[0].op, IR_GEMM);
        ir_graph_free(g);
    }
}

static void test_make_fc_flatten_shapes(void) {
    /* symbolic batch: the flatten is still skipped */
    IrGraph *g = ir_graph_new("fc_dyn");
    int x = tg_input(g, "x", NCHW(-1, 3, 2, 2));
    int f = tg_act(g, "f", MAT(-1, 12)), y = tg_act(g, "y", MAT(-1, 5));
    int b = tg_const(g, "B", MAT(5, 12), 3, -1, 1);
    int lf = tg_unary(g, IR_FLATTEN, "flat", x, f);
    g->l[lf].a.axis = 1;
    int lg = tg_gemm(g, "gemm", f, b, -1, y, 1, 1, 0, 1);
    ir_graph_add_output(g, y);
    CU_ASSERT_EQUAL(run_pass(passes_make_fc, g), 1);
    CU_ASSERT_EQUAL(g->l[lg].in[0], x);
    ir_graph_free(g);
    /* a Reshape that moves data into the batch axis is kept: [2,3,2,2] -> [6,4] */
    g = ir_graph_new("fc_reshape");
    x = tg_input(g, "x", NCHW(2, 3, 2, 2));
    f = tg_act(g, "f", MAT(6, 4));
    y = tg_act(g, "y", MAT(6, 5));
    b = tg_const(g, "B", MAT(5, 4), 3, -1, 1);
    int s = tg_const_i64(g, "shape", 2, (int64_t[]){6, 4});
    tg_binary(g, IR_RESHAPE, "reshape", x, s, f);
    lg = tg_gemm(g, "gemm", f, b, -1, y, 1, 1, 0, 1);
    ir_graph_add_output(g, y);
    Run r = run_before(g);
    CU_ASSERT_EQUAL(run_pass(passes_make_fc, g), 1);
    CU_ASSERT_EQUAL(g->l[lg].in[0], f);
    expect_same(g, &r, 1e-6);
    ir_graph_free(g);
}

static void test_matmul_fc(void) {
    IrGraph *g = ir_graph_new("mm");
    int a = tg_input(g, "a", MAT(3, 4));
    int b = tg_const(g, "b", MAT(4, 6), 9, -1, 1);
    int y = tg_act(g, "y", MAT(3, 6));
    tg_binary(g, IR_MATMUL, "mm", a, b, y);
    ir_graph_add_output(g, y);
    Run r = run_before(g);
    CU_ASSERT_EQUAL(run_pass(passes_make_fc, g), 1);
    CU_ASSERT_EQUAL(g->l[0].op, IR_FC);
    CU_ASSERT_EQUAL(g->t[g->l[0].in[1]].dims[0], 6);
    expect_same(g, &r, 1e-6);
    ir_graph_free(g);
}

/* ---- fold_batchnorm ------------------------------------------------------ */

static void test_fold_bn_conv(void) {
    for (int with_bias = 0; with_bias < 2; with_bias++) {
        /* grouped, strided, padded conv, then BN -> y (graph output) */
        IrGraph *g = ir_graph_new("bn");
        int x = tg_input(g, "x", NCHW(2, 4, 7, 7));
        int w = tg_const(g, "w", NCHW(6, 2, 3, 3), 11, -1, 1);
        int b = with_bias ? tg_const(g, "b", VEC(6), 12, -1, 1) : -1;
        int c = tg_act(g, "c", NCHW(2, 6, 4, 4)), y = tg_act(g, "y", NCHW(2, 6, 4, 4));
        int p[4];
        tg_bn_params(g, 6, p, 20);
        int lc = tg_conv(g, "conv", x, w, b, c, 2, P1, 2);
        int lb = tg_bn(g, "bn", c, p, y, 1e-3f);
        ir_graph_add_output(g, y);
        Run r = run_before(g);
        CU_ASSERT_EQUAL(run_pass(passes_fold_batchnorm, g), 1);
        CU_ASSERT(g->l[lb].dead);
        CU_ASSERT_EQUAL(producer_of(g, "y"), lc);
        CU_ASSERT_EQUAL(g->l[lc].n_in, 3);
        CU_ASSERT_NOT_EQUAL(g->l[lc].in[1], w);
        CU_ASSERT_EQUAL(run_pass(passes_dce, g), 0);
        CU_ASSERT_PTR_NULL(g->t[w].f32); /* the unfolded weights are freed */
        CU_ASSERT_PTR_NULL(g->t[p[0]].f32);
        expect_same(g, &r, 1e-5);
        ir_graph_free(g);
    }
}

static void test_fold_bn_fc(void) {
    /* Gemm + BN (BatchNorm1d after Linear): canonicalize makes FC, folds BN */
    IrGraph *g = ir_graph_new("bnfc");
    int a = tg_input(g, "a", MAT(3, 8));
    int b = tg_const(g, "B", MAT(5, 8), 31, -1, 1);
    int c = tg_const(g, "C", VEC(5), 32, -1, 1);
    int h = tg_act(g, "h", MAT(3, 5)), y = tg_act(g, "y", MAT(3, 5));
    int p[4];
    tg_bn_params(g, 5, p, 40);
    int lg = tg_gemm(g, "fc", a, b, c, h, 1, 1, 0, 1);
    tg_bn(g, "bn", h, p, y, 1e-5f);
    ir_graph_add_output(g, y);
    Run r = run_before(g);
    IrDiag d = {0};
    CU_ASSERT_EQUAL(passes_canonicalize(g, &d), 0);
    ir_diag_free(&d);
    CU_ASSERT_EQUAL(live_layers(g), 1);
    CU_ASSERT_EQUAL(g->l[lg].op, IR_FC);
    CU_ASSERT_EQUAL(producer_of(g, "y"), lg);
    expect_same(g, &r, 1e-5);
    ir_graph_free(g);
}

static void test_fold_bn_refusals(void) {
    /* 0: conv output also read elsewhere; 1: BN scale is a graph input;
     * 2: conv output is a graph output; 3: conv already has an activation;
     * 4: BN after a maxpool; 5: var + eps < 0 */
    for (int k = 0; k < 6; k++) {
        IrGraph *g = ir_graph_new("bn_no");
        int x = tg_input(g, "x", NCHW(1, 2, 4, 4));
        int w = tg_const(g, "w", NCHW(2, 2, 1, 1), 1, -1, 1);
        int c = tg_act(g, "c", NCHW(1, 2, 4, 4)), y = tg_act(g, "y", NCHW(1, 2, 4, 4));
        int p[4];
        tg_bn_params(g, 2, p, 5);
        if (k == 1)
            p[0] = tg_input(g, "scale_in", VEC(2));
        if (k == 5)
            g->t[p[3]].f32[1] = -1;
        int lc = k == 4 ? tg_pool(g, IR_MAXPOOL, "pool", x, c, 1, 1, P0, 0)
                        : tg_conv(g, "conv", x, w, -1, c, 1, P0, 1);
        if (k == 3)
            g->l[lc].act.kind = IR_ACT_RELU;
        int lb = tg_bn(g, "bn", c, p, y, 1e-5f);
        ir_graph_add_output(g, y);
        if (k == 0) {
            int z = tg_act(g, "z", NCHW(1, 2, 4, 4));
            tg_unary(g, IR_RELU, "relu", c, z);
            ir_graph_add_output(g, z);
        }
        if (k == 2)
            ir_graph_add_output(g, c);
        CU_ASSERT_EQUAL(run_pass(passes_fold_batchnorm, g), 0);
        CU_ASSERT(!g->l[lb].dead);
        ir_graph_free(g);
    }
}

static void test_fold_bn_shared_weights(void) {
    /* Two convs share w; only the first is followed by a BN. */
    IrGraph *g = ir_graph_new("bn_shared");
    int x = tg_input(g, "x", NCHW(1, 3, 5, 5));
    int w = tg_const(g, "w", NCHW(3, 3, 3, 3), 13, -1, 1);
    int c1 = tg_act(g, "c1", NCHW(1, 3, 5, 5)), y1 = tg_act(g, "y1", NCHW(1, 3, 5, 5));
    int y2 = tg_act(g, "y2", NCHW(1, 3, 5, 5));
    int p[4];
    tg_bn_params(g, 3, p, 50);
    int l1 = tg_conv(g, "conv1", x, w, -1, c1, 1, P1, 1);
    tg_bn(g, "bn", c1, p, y1, 1e-5f);
    int l2 = tg_conv(g, "conv2", y1, w, -1, y2, 1, P1, 1);
    ir_graph_add_output(g, y2);
    Run r = run_before(g);
    IrDiag d = {0};
    CU_ASSERT_EQUAL(passes_canonicalize(g, &d), 0);
    ir_diag_free(&d);
    CU_ASSERT_NOT_EQUAL(g->l[l1].in[1], w);
    CU_ASSERT_EQUAL(g->l[l2].in[1], w);
    CU_ASSERT_PTR_NOT_NULL(g->t[w].f32);
    expect_same(g, &r, 1e-5);
    ir_graph_free(g);
}

/* ---- fuse_activation ---------------------------------------------------- */

static void test_fuse(void) {
    /* conv -> clip(0,6) ; conv -> relu ; add -> leaky ; add -> relu -> relu */
    IrGraph *g = ir_graph_new("fuse");
    int x = tg_input(g, "x", NCHW(1, 2, 4, 4));
    int w = tg_const(g, "w", NCHW(2, 2, 3, 3), 3, -4, 4);
    int c1 = tg_act(g, "c1", NCHW(1, 2, 4, 4)), a1 = tg_act(g, "a1", NCHW(1, 2, 4, 4));
    int c2 = tg_act(g, "c2", NCHW(1, 2, 4, 4)), a2 = tg_act(g, "a2", NCHW(1, 2, 4, 4));
    int s = tg_act(g, "s", NCHW(1, 2, 4, 4)), a3 = tg_act(g, "a3", NCHW(1, 2, 4, 4));
    int a4 = tg_act(g, "a4", NCHW(1, 2, 4, 4));
    int l1 = tg_conv(g, "conv1", x, w, -1, c1, 1, P1, 1);
    int r1 = tg_unary(g, IR_CLIP, "relu6", c1, a1);
    g->l[r1].act.lo = 0;
    g->l[r1].act.hi = 6;
    int l2 = tg_conv(g, "conv2", a1, w, -1, c2, 1, P1, 1);
    int r2 = tg_unary(g, IR_RELU, "relu", c2, a2);
    int l3 = tg_binary(g, IR_ADD, "add", a2, x, s);
    int r3 = tg_unary(g, IR_LEAKY_RELU, "leaky", s, a3);
    g->l[r3].act.alpha = 0.1f;
    int r4 = tg_unary(g, IR_RELU, "relu_again", a3, a4);
    ir_graph_add_output(g, a4);
    Run r = run_before(g);
    CU_ASSERT_EQUAL(run_pass(passes_fuse_activation, g), 3);
    CU_ASSERT(g->l[r1].dead && g->l[r2].dead && g->l[r3].dead && !g->l[r4].dead);
    CU_ASSERT_EQUAL(g->l[l1].act.kind, IR_ACT_CLIP);
    CU_ASSERT_EQUAL(g->l[l1].act.hi, 6.0f);
    CU_ASSERT_EQUAL(g->l[l2].act.kind, IR_ACT_RELU);
    CU_ASSERT_EQUAL(g->l[l3].act.kind, IR_ACT_LEAKY_RELU);
    CU_ASSERT_EQUAL(producer_of(g, "a1"), l1);
    CU_ASSERT_EQUAL(producer_of(g, "a3"), l3);
    /* fusing again changes nothing: the add already has its activation */
    CU_ASSERT_EQUAL(run_pass(passes_fuse_activation, g), 0);
    expect_same(g, &r, 0);
    ir_graph_free(g);
}

/* x - c -> x + (-c), bit-identical; c - x and x - y stay Sub; x / c ->
 * x * (1/c) (exact here: c a power of two); x / 0 stays Div. */
static void test_const_operands(void) {
    IrGraph *g = ir_graph_new("sub");
    int x = tg_input(g, "x", NCHW(1, 3, 4, 4));
    int c = tg_const(g, "c", 1, (int64_t[]){4}, 9, -2, 2);
    int s1 = tg_act(g, "s1", NCHW(1, 3, 4, 4)), s2 = tg_act(g, "s2", NCHW(1, 3, 4, 4));
    int s3 = tg_act(g, "s3", NCHW(1, 3, 4, 4));
    int l1 = tg_binary(g, IR_SUB, "x_minus_c", x, c, s1);
    int l2 = tg_binary(g, IR_SUB, "c_minus_x", c, s1, s2);
    int l3 = tg_binary(g, IR_SUB, "x_minus_y", s2, x, s3);
    int p2 = tg_const(g, "p2", 0, NULL, 1, 0, 1), z = tg_const(g, "z", 0, NULL, 1, 0, 0);
    g->t[p2].f32[0] = 0.25f;
    int s4 = tg_act(g, "s4", NCHW(1, 3, 4, 4)), s5 = tg_act(g, "s5", NCHW(1, 3, 4, 4));
    int l4 = tg_binary(g, IR_DIV, "x_over_quarter", s3, p2, s4);
    int l5 = tg_binary(g, IR_DIV, "x_over_zero", s4, z, s5);
    ir_graph_add_output(g, s4); /* s5 (infinities) is left out of the comparison */
    (void)s5;
    Run r = run_before(g);
    CU_ASSERT_EQUAL(run_pass(passes_const_operands, g), 2);
    CU_ASSERT(g->l[l1].op == IR_ADD && g->l[l2].op == IR_SUB && g->l[l3].op == IR_SUB);
    CU_ASSERT(g->l[l4].op == IR_MUL && g->t[g->l[l4].in[1]].f32[0] == 4.0f && g->l[l5].op == IR_DIV);
    const IrTensor *neg = &g->t[g->l[l1].in[1]];
    CU_ASSERT(neg->f32 && neg->f32[0] == -g->t[c].f32[0] && neg->f32[3] == -g->t[c].f32[3]);
    CU_ASSERT_EQUAL(run_pass(passes_const_operands, g), 0);
    expect_same(g, &r, 0); /* bit for bit */
    ir_graph_free(g);
}

static void test_fuse_compose(void) {
    /* k = 0: relu then clip(0, 6) -> clip(0, 6); 1: clip(-1, 3) then relu ->
     * clip(0, 3); 2: relu then relu -> relu; 3: relu then clip(-5, -1): the
     * clamps do not overlap, the clip stays */
    static const float lo[] = {0, -1, 0, -5}, hi[] = {6, 3, INFINITY, -1};
    static const IrOp first[] = {IR_RELU, IR_CLIP, IR_RELU, IR_RELU};
    static const IrOp then[] = {IR_CLIP, IR_RELU, IR_RELU, IR_CLIP};
    for (int k = 0; k < 4; k++) {
        IrGraph *g = ir_graph_new("compose");
        int x = tg_input(g, "x", NCHW(1, 2, 3, 3));
        int w = tg_const(g, "w", NCHW(2, 2, 1, 1), 3, -8, 8);
        int c = tg_act(g, "c", NCHW(1, 2, 3, 3)), a = tg_act(g, "a", NCHW(1, 2, 3, 3));
        int y = tg_act(g, "y", NCHW(1, 2, 3, 3));
        int lc = tg_conv(g, "conv", x, w, -1, c, 1, P0, 1);
        int l1 = tg_unary(g, first[k], "first", c, a);
        int l2 = tg_unary(g, then[k], "then", a, y);
        IrLayer *clip = first[k] == IR_CLIP ? &g->l[l1] : &g->l[l2];
        clip->act.lo = lo[k];
        clip->act.hi = hi[k];
        ir_graph_add_output(g, y);
        Run r = run_before(g);
        CU_ASSERT_EQUAL(run_pass(passes_fuse_activation, g), k == 3 ? 1 : 2);
        const IrAct *act = &g->l[lc].act;
        if (k == 0)
            CU_ASSERT(act->kind == IR_ACT_CLIP && act->lo == 0 && act->hi == 6);
        if (k == 1)
            CU_ASSERT(act->kind == IR_ACT_CLIP && act->lo == 0 && act->hi == 3);
        if (k >= 2)
            CU_ASSERT_EQUAL(act->kind, IR_ACT_RELU);
        CU_ASSERT_EQUAL(g->l[l2].dead, k != 3);
        expect_same(g, &r, 0);
        ir_graph_free(g);
    }
}

static void test_fuse_clip_inputs(void) {
    /* opset 11 Clip: bounds as constant inputs, min absent */
    IrGraph *g = ir_graph_new("clip11");
    int x = tg_input(g, "x", MAT(2, 4));
    int w = tg_const(g, "w", MAT(3, 4), 3, -2, 2);
    int hi = tg_const(g, "hi", 0, NULL, 1, 0.5f, 0.5f);
    int h = tg_act(g, "h", MAT(2, 3)), y = tg_act(g, "y", MAT(2, 3));
    int lf = tg_binary(g, IR_FC, "fc", x, w, h);
    int lk = ir_add_layer(g, IR_CLIP, "clip", "Clip", (int[]){h, -1, hi}, 3, &y, 1);
    g->l[lk].act.hi = 0.5f; /* what the frontend stores; ir_eval reads this */
    ir_graph_add_output(g, y);
    Run r = run_before(g);
    CU_ASSERT_EQUAL(run_pass(passes_fuse_activation, g), 1);
    CU_ASSERT_EQUAL(g->l[lf].act.kind, IR_ACT_CLIP);
    CU_ASSERT_EQUAL(g->l[lf].act.hi, 0.5f);
    CU_ASSERT(isinf(g->l[lf].act.lo) && g->l[lf].act.lo < 0);
    expect_same(g, &r, 0);
    ir_graph_free(g);
}

static void test_fuse_refusals(void) {
    /* conv output read twice; maxpool -> relu; clip with a non-constant max */
    IrGraph *g = ir_graph_new("fuse_no");
    int x = tg_input(g, "x", NCHW(1, 1, 4, 4));
    int hi = tg_input(g, "hi", VEC(1));
    int w = tg_const(g, "w", NCHW(1, 1, 1, 1), 3, -1, 1);
    int c = tg_act(g, "c", NCHW(1, 1, 4, 4)), a = tg_act(g, "a", NCHW(1, 1, 4, 4));
    int s = tg_act(g, "s", NCHW(1, 1, 4, 4));
    int m = tg_act(g, "m", NCHW(1, 1, 4, 4)), b = tg_act(g, "b", NCHW(1, 1, 4, 4));
    int c2 = tg_act(g, "c2", NCHW(1, 1, 4, 4)), k = tg_act(g, "k", NCHW(1, 1, 4, 4));
    tg_conv(g, "conv", x, w, -1, c, 1, P0, 1);
    tg_unary(g, IR_RELU, "relu", c, a);
    tg_binary(g, IR_ADD, "add", a, c, s);
    tg_pool(g, IR_MAXPOOL, "pool", s, m, 1, 1, P0, 0);
    tg_unary(g, IR_RELU, "relu2", m, b);
    tg_conv(g, "conv2", b, w, -1, c2, 1, P0, 1);
    ir_add_layer(g, IR_CLIP, "clip", "Clip", (int[]){c2, -1, hi}, 3, &k, 1);
    ir_graph_add_output(g, k);
    CU_ASSERT_EQUAL(run_pass(passes_fuse_activation, g), 0);
    CU_ASSERT_EQUAL(live_layers(g), 7);
    ir_graph_free(g);
}

/* ---- fold_pad --------------------------------------------------------------- */

static const int64_t PADS_HW[8] = {0, 0, 1, 2, 0, 0, 2, 1}; /* top 1 left 2 bottom 2 right 1 */

/* x -> Pad(value) -> op (3x3, stride 1) -> y */
static IrGraph *pad_then(IrOp op, float value, const int64_t pads[8], const int opad[4], int cip) {
    IrGraph *g = ir_graph_new("pad");
    int x = tg_input(g, "x", NCHW(1, 2, 5, 6));
    int64_t ph = 5 + pads[2] + pads[6], pw = 6 + pads[3] + pads[7];
    int p = tg_act(g, "p", NCHW(1 + pads[0] + pads[4], 2 + pads[1] + pads[5], ph, pw));
    int oh = (int)ph + opad[0] + opad[2] - 2, ow = (int)pw + opad[1] + opad[3] - 2;
    int y = tg_act(g, "y", NCHW(1, 2, oh, ow));
    tg_pad(g, "pad", x, p, pads, value);
    if (op == IR_CONV) {
        int w = tg_const(g, "w", NCHW(2, 2, 3, 3), 5, -1, 1);
        tg_conv(g, "conv", p, w, -1, y, 1, opad, 1);
    } else {
        tg_pool(g, op, "pool", p, y, 3, 1, opad, cip);
    }
    ir_graph_add_output(g, y);
    return g;
}

static void test_fold_pad(void) {
    struct { IrOp op; float v; const int *opad; int cip, want_cip; } ok[] = {
        {IR_CONV, 0, P1, 0, 0},
        {IR_AVGPOOL, 0, P0, 0, 1}, /* PyTorch's AvgPool2d(padding) export */
        {IR_AVGPOOL, 0, P0, 1, 1},
        {IR_MAXPOOL, -INFINITY, P0, 0, 0},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        IrGraph *g = pad_then(ok[i].op, ok[i].v, PADS_HW, ok[i].opad, ok[i].cip);
        Run r = run_before(g);
        CU_ASSERT_EQUAL(run_pass(passes_fold_pad, g), 1);
        CU_ASSERT_EQUAL(run_pass(passes_dce, g), 1);
        CU_ASSERT_EQUAL(live_layers(g), 1);
        const IrLayer *l = &g->l[1];
        const int *pad = l->op == IR_CONV ? l->a.conv.pad : l->a.pool.pad;
        CU_ASSERT_EQUAL(pad[0], ok[i].opad[0] + 1);
        CU_ASSERT_EQUAL(pad[1], ok[i].opad[1] + 2);
        CU_ASSERT_EQUAL(pad[2], ok[i].opad[2] + 2);
        CU_ASSERT_EQUAL(pad[3], ok[i].opad[3] + 1);
        if (l->op == IR_AVGPOOL)
            CU_ASSERT_EQUAL(l->a.pool.count_include_pad, ok[i].want_cip);
        expect_same(g, &r, 0);
        ir_graph_free(g);
    }
}

static void test_fold_pad_refusals(void) {
    static const int64_t chan[8] = {0, 1, 1, 1, 0, 0, 1, 1};
    static const int64_t neg[8] = {0, 0, -1, 0, 0, 0, 0, 0};
    static const int64_t big[8] = {0, 0, 2, 2, 0, 0, 2, 2};
    struct { IrOp op; float v; const int64_t *pads; const int *opad; int cip, ceil; } no[] = {
        {IR_CONV, 1, PADS_HW, P0, 0, 0},          /* non-zero value into conv */
        {IR_CONV, 0, chan, P0, 0, 0},             /* channel padding */
        {IR_CONV, 0, neg, P0, 0, 0},              /* cropping */
        {IR_MAXPOOL, 0, PADS_HW, P0, 0, 0},       /* zero into max pool */
        {IR_AVGPOOL, 0, PADS_HW, P1, 0, 0},       /* pool pads not counted */
        {IR_AVGPOOL, 0, PADS_HW, P0, 0, 1},       /* ceil_mode */
        {IR_MAXPOOL, -INFINITY, big, P1, 0, 0},   /* pads reach a whole window */
    };
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        IrGraph *g = pad_then(no[i].op, no[i].v, no[i].pads, no[i].opad, no[i].cip);
        g->l[1].a.pool.ceil_mode = no[i].op != IR_CONV && no[i].ceil;
        CU_ASSERT_EQUAL(run_pass(passes_fold_pad, g), 0);
        CU_ASSERT_EQUAL(g->l[1].in[0], ir_find_tensor(g, "p"));
        ir_graph_free(g);
    }
}

static void test_fold_pad_input_pads(void) {
    /* opset 11 Pad: pads and value as constant inputs */
    IrGraph *g = pad_then(IR_CONV, 7, (const int64_t[8]){0}, P1, 0);
    int pads = tg_const_i64(g, "pads", 8, PADS_HW);
    int v = tg_const(g, "value", 0, NULL, 1, 0, 0);
    canon_set_input(g, 0, 1, pads);
    canon_set_input(g, 0, 2, v);
    CU_ASSERT_EQUAL(run_pass(passes_fold_pad, g), 1);
    CU_ASSERT_EQUAL(g->l[1].a.conv.pad[1], 3);
    CU_ASSERT_EQUAL(g->l[1].a.conv.pad[2], 3);
    ir_graph_free(g);
}

static void test_fold_pad_shared(void) {
    /* One zero Pad read by a conv (folds) and a max pool (must not). */
    IrGraph *g = ir_graph_new("pad2");
    int x = tg_input(g, "x", NCHW(1, 1, 4, 4));
    int p = tg_act(g, "p", NCHW(1, 1, 6, 6));
    int w = tg_const(g, "w", NCHW(1, 1, 3, 3), 8, -1, 1);
    int y1 = tg_act(g, "y1", NCHW(1, 1, 4, 4)), y2 = tg_act(g, "y2", NCHW(1, 1, 4, 4));
    int lp = tg_pad(g, "pad", x, p, (int64_t[]){0, 0, 1, 1, 0, 0, 1, 1}, 0);
    int lc = tg_conv(g, "conv", p, w, -1, y1, 1, P0, 1);
    int lm = tg_pool(g, IR_MAXPOOL, "pool", p, y2, 3, 1, P0, 0);
    ir_graph_add_output(g, y1);
    ir_graph_add_output(g, y2);
    Run r = run_before(g);
    CU_ASSERT_EQUAL(run_pass(passes_fold_pad, g), 1);
    CU_ASSERT_EQUAL(g->l[lc].in[0], x);
    CU_ASSERT_EQUAL(g->l[lm].in[0], p);
    CU_ASSERT_EQUAL(run_pass(passes_dce, g), 0);
    CU_ASSERT(!g->l[lp].dead);
    expect_same(g, &r, 0);
    ir_graph_free(g);
}

/* ---- fold_transpose --------------------------------------------------------- */

/* transpose(0,3,2,1) -> softmax(axis 3) -> transpose(0,3,2,1): the opset-11
 * export of a softmax over the channels of a 4-D tensor. */
static IrGraph *transposed_softmax(int axis, int coerce_2d, int *t1, int *sm, int *t2) {
    IrGraph *g = ir_graph_new("tsm");
    int x = tg_input(g, "x", NCHW(2, 5, 3, 4));
    int a = tg_act(g, "a", NCHW(2, 4, 3, 5)), b = tg_act(g, "b", NCHW(2, 4, 3, 5));
    int y = tg_act(g, "y", NCHW(2, 5, 3, 4));
    *t1 = tg_unary(g, IR_TRANSPOSE, "t1", x, a);
    *sm = tg_unary(g, IR_SOFTMAX, "sm", a, b);
    *t2 = tg_unary(g, IR_TRANSPOSE, "t2", b, y);
    const int perm[4] = {0, 3, 2, 1};
    for (int k = 0; k < 4; k++) {
        g->l[*t1].a.perm.v[k] = perm[k];
        g->l[*t2].a.perm.v[k] = perm[k];
    }
    g->l[*t1].a.perm.n = g->l[*t2].a.perm.n = 4;
    g->l[*sm].a.softmax.axis = axis;
    g->l[*sm].a.softmax.coerce_2d = coerce_2d;
    ir_graph_add_output(g, y);
    return g;
}

static void test_fold_transpose(void) {
    int t1, sm, t2;
    IrGraph *g = transposed_softmax(3, 1, &t1, &sm, &t2);
    Run r = run_before(g);
    CU_ASSERT_EQUAL(run_pass(passes_fold_transpose, g), 1);
    CU_ASSERT(g->l[t1].dead && g->l[t2].dead && !g->l[sm].dead);
    CU_ASSERT_EQUAL(g->l[sm].a.softmax.axis, 1);
    CU_ASSERT_EQUAL(g->l[sm].a.softmax.coerce_2d, 0);
    CU_ASSERT_EQUAL(producer_of(g, "y"), sm);
    expect_same(g, &r, 0);
    ir_graph_free(g);
}

static void test_fold_transpose_refusals(void) {
    /* coerce-to-2-D at a non-last axis spans several axes: not one softmax */
    int t1, sm, t2;
    IrGraph *g = transposed_softmax(2, 1, &t1, &sm, &t2);
    CU_ASSERT_EQUAL(run_pass(passes_fold_transpose, g), 0);
    ir_graph_free(g);
    /* a second transpose that is not the inverse */
    g = transposed_softmax(3, 0, &t1, &sm, &t2);
    g->l[t2].a.perm.v[1] = 2;
    g->l[t2].a.perm.v[2] = 3;
    g->l[t2].a.perm.v[3] = 1;
    CU_ASSERT_EQUAL(run_pass(passes_fold_transpose, g), 0);
    ir_graph_free(g);
}

/* ---- dce ---------------------------------------------------------------------- */

static void test_dce(void) {
    /* x -> conv -> y (output); x -> conv2(w2) -> relu -> nobody */
    IrGraph *g = ir_graph_new("dce");
    int x = tg_input(g, "x", NCHW(1, 1, 2, 2));
    int w = tg_const(g, "w", NCHW(1, 1, 1, 1), 1, -1, 1);
    int w2 = tg_const(g, "w2", NCHW(1, 1, 1, 1), 2, -1, 1);
    int y = tg_act(g, "y", NCHW(1, 1, 2, 2)), u = tg_act(g, "u", NCHW(1, 1, 2, 2));
    int v = tg_act(g, "v", NCHW(1, 1, 2, 2));
    int lc = tg_conv(g, "conv", x, w, -1, y, 1, P0, 1);
    int l2 = tg_conv(g, "conv2", x, w2, -1, u, 1, P0, 1);
    int lr = tg_unary(g, IR_RELU, "relu", u, v);
    ir_graph_add_output(g, y);
    Run r = run_before(g);
    CU_ASSERT_EQUAL(run_pass(passes_dce, g), 2);
    CU_ASSERT(!g->l[lc].dead && g->l[l2].dead && g->l[lr].dead);
    CU_ASSERT_PTR_NOT_NULL(g->t[w].f32);
    CU_ASSERT_PTR_NULL(g->t[w2].f32);
    CU_ASSERT_EQUAL(g->t[u].producer, -1);
    CU_ASSERT_EQUAL(run_pass(passes_dce, g), 0);
    expect_same(g, &r, 0);
    ir_graph_free(g);
}

/* ---- the whole pipeline -------------------------------------------------------- */

static void test_canonicalize(void) {
    IrGraph *g = tg_small_cnn();
    Run r = run_before(g);
    IrDiag d = {0};
    CU_ASSERT_EQUAL(passes_canonicalize(g, &d), 0);
    ir_diag_print(&d, stderr);
    ir_diag_free(&d);
    /* conv(+bn, relu) -> avgpool(pad) -> fc writing "output" */
    CU_ASSERT_EQUAL(live_layers(g), 3);
    int lc = producer_of(g, "relu_out"), la = producer_of(g, "pool_out"), lf = producer_of(g, "output");
    CU_ASSERT_FATAL(lc >= 0 && la >= 0 && lf >= 0);
    CU_ASSERT_EQUAL(g->l[lc].op, IR_CONV);
    CU_ASSERT_EQUAL(g->l[lc].act.kind, IR_ACT_RELU);
    CU_ASSERT_EQUAL(g->l[la].op, IR_AVGPOOL);
    CU_ASSERT_EQUAL(g->l[la].in[0], ir_find_tensor(g, "relu_out"));
    CU_ASSERT_EQUAL(g->l[lf].op, IR_FC);
    CU_ASSERT_EQUAL(g->l[lf].in[0], ir_find_tensor(g, "pool_out"));
    CU_ASSERT_EQUAL(g->outputs[0], ir_find_tensor(g, "output"));
    expect_same(g, &r, 1e-5);
    /* a second run finds nothing to do */
    int before = g->n_t;
    CU_ASSERT_EQUAL(passes_canonicalize(g, &d), 0);
    CU_ASSERT_EQUAL(g->n_t, before);
    ir_diag_free(&d);
    ir_graph_free(g);
}

static void test_canonicalize_rounds(void) {
    /* The conv output has a second, dead reader: the BN folds only after
     * dce has removed it, in the second round. */
    IrGraph *g = ir_graph_new("rounds");
    int x = tg_input(g, "x", NCHW(1, 2, 4, 4));
    int w = tg_const(g, "w", NCHW(3, 2, 3, 3), 1, -1, 1);
    int c = tg_act(g, "c", NCHW(1, 3, 4, 4)), y = tg_act(g, "y", NCHW(1, 3, 4, 4));
    int u = tg_act(g, "unused", NCHW(1, 3, 4, 4));
    int p[4];
    tg_bn_params(g, 3, p, 60);
    int lc = tg_conv(g, "conv", x, w, -1, c, 1, P1, 1);
    tg_unary(g, IR_SIGMOID, "dead", c, u);
    int lb = tg_bn(g, "bn", c, p, y, 1e-5f);
    ir_graph_add_output(g, y);
    Run r = run_before(g);
    IrDiag d = {0};
    CU_ASSERT_EQUAL(passes_canonicalize(g, &d), 0);
    ir_diag_free(&d);
    CU_ASSERT(g->l[lb].dead);
    CU_ASSERT_EQUAL(producer_of(g, "y"), lc);
    CU_ASSERT_EQUAL(live_layers(g), 1);
    expect_same(g, &r, 1e-5);
    ir_graph_free(g);
}

static void test_unknown_shapes(void) {
    /* Activations without shapes (shape inference not run): the passes that
     * need shapes refuse, the others still work, nothing crashes. */
    IrGraph *g = tg_small_cnn();
    for (int i = 0; i < g->n_t; i++)
        if (g->t[i].role == IR_T_ACT)
            g->t[i].rank = -1;
    IrDiag d = {0};
    CU_ASSERT_EQUAL(passes_canonicalize(g, &d), 0);
    ir_diag_free(&d);
    CU_ASSERT_EQUAL(producer_of(g, "relu_out"), 1);        /* conv + bn + relu */
    CU_ASSERT_EQUAL(g->l[1].act.kind, IR_ACT_RELU);
    CU_ASSERT_EQUAL(g->l[4].dead, 0);                      /* pad: rank unknown */
    CU_ASSERT_EQUAL(g->l[8].op, IR_GEMM);                  /* gemm: rank unknown */
    ir_graph_free(g);
}

static void test_bad_graph(void) {
    /* Malformed IR is reported, never crashed on. */
    IrGraph *g = ir_graph_new("bad");
    int x = tg_input(g, "x", VEC(4));
    int y = tg_act(g, "y", VEC(4));
    int z = tg_act(g, "z", VEC(4));
    int l = tg_unary(g, IR_RELU, "relu", x, y);
    tg_unary(g, IR_RELU, "relu2", z, y); /* reads z that nothing writes; y written twice */
    ir_graph_add_output(g, y);
    g->l[l].in[0] = 99;
    IrDiag d = {0};
    CU_ASSERT_EQUAL(passes_canonicalize(g, &d), -1);
    CU_ASSERT(d.n >= 2);
    ir_diag_free(&d);
    ir_graph_free(g);
}

int main(void) {
    static const TestCase tests[] = {
        {"remove_noops", test_noops},
        {"sub/div by a constant to add/mul", test_const_operands},
        {"remove_noops of 1x1 pools", test_noop_pool},
        {"remove_noops keeps graph outputs", test_noop_graph_output},
        {"make_fc from flatten/reshape + gemm", test_make_fc},
        {"make_fc refusals", test_make_fc_refusals},
        {"make_fc flatten shapes", test_make_fc_flatten_shapes},
        {"make_fc from matmul", test_matmul_fc},
        {"fold_batchnorm into conv", test_fold_bn_conv},
        {"fold_batchnorm into fc", test_fold_bn_fc},
        {"fold_batchnorm refusals", test_fold_bn_refusals},
        {"fold_batchnorm with shared weights", test_fold_bn_shared_weights},
        {"fuse_activation composes clamps", test_fuse_compose},
        {"fuse_activation of opset-11 clip", test_fuse_clip_inputs},
        {"fuse_activation", test_fuse},
        {"fuse_activation refusals", test_fuse_refusals},
        {"fold_pad", test_fold_pad},
        {"fold_pad refusals", test_fold_pad_refusals},
        {"fold_pad with pads as inputs", test_fold_pad_input_pads},
        {"fold_pad with two readers", test_fold_pad_shared},
        {"fold_transpose", test_fold_transpose},
        {"fold_transpose refusals", test_fold_transpose_refusals},
        {"dce", test_dce},
        {"canonicalize small cnn", test_canonicalize},
        {"canonicalize repeats rounds", test_canonicalize_rounds},
        {"unknown shapes", test_unknown_shapes},
        {"malformed graph", test_bad_graph},
        {NULL, NULL},
    };
    return cunit_run("passes", tests);
}
