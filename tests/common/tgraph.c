/* tgraph.c: test graph builders and helpers (see tgraph.h). */
#include "tests/common/tgraph.h"

#include "ir/eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float rnd(unsigned *s, float lo, float hi) {
    *s = *s * 1664525u + 1013904223u;
    return lo + (hi - lo) * (float)((*s >> 8) & 0xffffff) / 16777216.0f;
}

static int tensor(IrGraph *g, const char *name, IrTensorRole role, int rank, const int64_t *dims) {
    int t = ir_add_tensor(g, name, IR_F32, role);
    ir_set_shape(&g->t[t], rank, dims);
    return t;
}

int tg_input(IrGraph *g, const char *name, int rank, const int64_t *dims) {
    int t = tensor(g, name, IR_T_INPUT, rank, dims);
    ir_graph_add_input(g, t);
    return t;
}

int tg_act(IrGraph *g, const char *name, int rank, const int64_t *dims) {
    return tensor(g, name, IR_T_ACT, rank, dims);
}

int tg_const(IrGraph *g, const char *name, int rank, const int64_t *dims, unsigned seed,
             float lo, float hi) {
    int t = tensor(g, name, IR_T_CONST, rank, dims);
    int64_t n = ir_numel(&g->t[t]);
    g->t[t].f32 = ir_xmalloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++)
        g->t[t].f32[i] = rnd(&seed, lo, hi);
    return t;
}

int tg_const_i64(IrGraph *g, const char *name, int n, const int64_t *v) {
    int t = ir_add_tensor(g, name, IR_I64, IR_T_CONST);
    ir_set_shape(&g->t[t], 1, (int64_t[]){n});
    g->t[t].i64 = ir_xmalloc((size_t)n * sizeof(int64_t));
    memcpy(g->t[t].i64, v, (size_t)n * sizeof(int64_t));
    return t;
}

int tg_conv(IrGraph *g, const char *name, int x, int w, int b, int y, int stride,
            const int pad[4], int group) {
    int li = ir_add_layer(g, IR_CONV, name, "Conv", (int[]){x, w, b}, b >= 0 ? 3 : 2, &y, 1);
    IrConvAttr *c = &g->l[li].a.conv;
    c->kernel[0] = (int)g->t[w].dims[2];
    c->kernel[1] = (int)g->t[w].dims[3];
    c->stride[0] = c->stride[1] = stride;
    c->dilation[0] = c->dilation[1] = 1;
    memcpy(c->pad, pad, sizeof c->pad);
    c->group = group;
    return li;
}

int tg_bn(IrGraph *g, const char *name, int x, const int p[4], int y, float eps) {
    int li = ir_add_layer(g, IR_BATCHNORM, name, "BatchNormalization",
                          (int[]){x, p[0], p[1], p[2], p[3]}, 5, &y, 1);
    g->l[li].a.bn.eps = eps;
    return li;
}

int tg_pool(IrGraph *g, IrOp op, const char *name, int x, int y, int k, int stride,
            const int pad[4], int cip) {
    int li = ir_add_layer(g, op, name, op == IR_MAXPOOL ? "MaxPool" : "AveragePool", &x, 1, &y, 1);
    IrPoolAttr *p = &g->l[li].a.pool;
    p->kernel[0] = p->kernel[1] = k;
    p->stride[0] = p->stride[1] = stride;
    p->dilation[0] = p->dilation[1] = 1;
    memcpy(p->pad, pad, sizeof p->pad);
    p->count_include_pad = cip;
    return li;
}

int tg_pad(IrGraph *g, const char *name, int x, int y, const int64_t pads[8], float value) {
    int li = ir_add_layer(g, IR_PAD, name, "Pad", &x, 1, &y, 1);
    memcpy(g->l[li].a.pad.pads, pads, 8 * sizeof(int64_t));
    g->l[li].a.pad.value = value;
    return li;
}

int tg_gemm(IrGraph *g, const char *name, int a, int b, int c, int y, float alpha, float beta,
            int ta, int tb) {
    int li = ir_add_layer(g, IR_GEMM, name, "Gemm", (int[]){a, b, c}, c >= 0 ? 3 : 2, &y, 1);
    g->l[li].a.gemm = (IrGemmAttr){.alpha = alpha, .beta = beta, .trans_a = ta, .trans_b = tb};
    return li;
}

int tg_unary(IrGraph *g, IrOp op, const char *name, int x, int y) {
    return ir_add_layer(g, op, name, ir_op_name(op), &x, 1, &y, 1);
}

int tg_binary(IrGraph *g, IrOp op, const char *name, int a, int b, int y) {
    return ir_add_layer(g, op, name, ir_op_name(op), (int[]){a, b}, 2, &y, 1);
}

float *tg_random(const IrGraph *g, int ti, unsigned seed) {
    int64_t n = ir_numel(&g->t[ti]);
    float *p = ir_xmalloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++)
        p[i] = rnd(&seed, -1.0f, 1.0f);
    return p;
}

double tg_max_rel_err(const float *a, const float *b, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]) / (1.0 + fabs((double)b[i]));
        if (!(e <= m)) /* NaN counts as the worst */
            m = isnan(e) ? INFINITY : e;
    }
    return m;
}

/* ---- graphs shared by the tests ----------------------------------------- */

#define NCHW(n, c, h, w) 4, (int64_t[]){n, c, h, w}
#define VEC(n) 1, (int64_t[]){n}
#define MAT(r, c) 2, (int64_t[]){r, c}
static const int P0[4] = {0, 0, 0, 0}, P1[4] = {1, 1, 1, 1};

void tg_bn_params(IrGraph *g, int c, int p[4], unsigned seed) {
    p[0] = tg_const(g, "bn.scale", VEC(c), seed, 0.5f, 2);
    p[1] = tg_const(g, "bn.B", VEC(c), seed + 1, -1, 1);
    p[2] = tg_const(g, "bn.mean", VEC(c), seed + 2, -1, 1);
    p[3] = tg_const(g, "bn.var", VEC(c), seed + 3, 0.1f, 3);
}

/* A small CNN as PyTorch exports it: Identity on a shared initializer,
 * conv+BN+relu, Pad+AveragePool, Dropout, Flatten+Gemm, graph output written
 * by an Identity. */
IrGraph *tg_small_cnn(void) {
    IrGraph *g = ir_graph_new("small_cnn");
    g->opset = 13;
    int x = tg_input(g, "input", NCHW(2, 3, 8, 8));
    int w0 = tg_const(g, "conv1.weight", NCHW(4, 3, 3, 3), 1, -1, 1);
    int w = tg_act(g, "onnx::Conv_7", NCHW(4, 3, 3, 3));
    int c = tg_act(g, "c", NCHW(2, 4, 8, 8)), bno = tg_act(g, "bn_out", NCHW(2, 4, 8, 8));
    int r = tg_act(g, "relu_out", NCHW(2, 4, 8, 8)), p = tg_act(g, "pad_out", NCHW(2, 4, 10, 10));
    int ap = tg_act(g, "pool_out", NCHW(2, 4, 4, 4)), dr = tg_act(g, "drop_out", NCHW(2, 4, 4, 4));
    int f = tg_act(g, "flat", MAT(2, 64));
    int fw = tg_const(g, "fc.weight", MAT(10, 64), 2, -0.2f, 0.2f);
    int fb = tg_const(g, "fc.bias", VEC(10), 3, -1, 1);
    int gy = tg_act(g, "gemm_out", MAT(2, 10)), y = tg_act(g, "output", MAT(2, 10));
    int bp[4];
    tg_bn_params(g, 4, bp, 4);
    tg_unary(g, IR_IDENTITY, "Identity_0", w0, w);
    tg_conv(g, "Conv_1", x, w, -1, c, 1, P1, 1);
    tg_bn(g, "BatchNormalization_2", c, bp, bno, 1e-5f);
    tg_unary(g, IR_RELU, "Relu_3", bno, r);
    tg_pad(g, "Pad_4", r, p, (int64_t[]){0, 0, 1, 1, 0, 0, 1, 1}, 0);
    tg_pool(g, IR_AVGPOOL, "AveragePool_5", p, ap, 3, 2, P0, 0);
    tg_unary(g, IR_DROPOUT, "Dropout_6", ap, dr);
    int lf = tg_unary(g, IR_FLATTEN, "Flatten_7", dr, f);
    g->l[lf].a.axis = 1;
    tg_gemm(g, "Gemm_8", f, fw, fb, gy, 1, 1, 0, 1);
    tg_unary(g, IR_IDENTITY, "Identity_9", gy, y);
    ir_graph_add_output(g, y);
    return g;
}

/* ---- running graphs: the reference executor ------------------------------ */

int tg_eval(const IrGraph *g, const float *const *inputs, float **outputs) {
    IrDiag d = {0};
    int rc = ir_eval(g, inputs, outputs, &d);
    ir_diag_print(&d, stderr);
    ir_diag_free(&d);
    return rc;
}

int tg_tensor(IrGraph *g, const char *name, IrTensorRole role, int rank, const int64_t *dims) {
    if (role == IR_T_CONST)
        return tg_const(g, name, rank, dims, 12345u + 7919u * (unsigned)g->n_t, -0.5f, 0.5f);
    return tensor(g, name, role, rank, dims);
}

/* NAME_SUFFIX */
static const char *named(char *buf, size_t n, const char *name, const char *suffix) {
    snprintf(buf, n, "%s_%s", name, suffix);
    return buf;
}

int tg_add_conv(IrGraph *g, const char *name, int x, int cout, int k, int stride, int pad, IrActKind act,
                int group) {
    const IrTensor *xt = &g->t[x];
    int64_t n = xt->dims[0], cin = xt->dims[1], h = xt->dims[2], w = xt->dims[3];
    int64_t ho = (h + 2 * pad - k) / stride + 1, wo = (w + 2 * pad - k) / stride + 1;
    char nm[96];
    int wt = tg_tensor(g, named(nm, sizeof nm, name, "w"), IR_T_CONST, 4, (int64_t[]){cout, cin / group, k, k});
    int b = tg_tensor(g, named(nm, sizeof nm, name, "b"), IR_T_CONST, 1, (int64_t[]){cout});
    int y = tg_act(g, named(nm, sizeof nm, name, "y"), 4, (int64_t[]){n, cout, ho, wo});
    int li = tg_conv(g, name, x, wt, b, y, stride, (int[]){pad, pad, pad, pad}, group);
    g->l[li].act.kind = act;
    return y;
}

int tg_add_pool(IrGraph *g, const char *name, IrOp op, int x, int k, int stride, int pad) {
    const IrTensor *xt = &g->t[x];
    int64_t ho = (xt->dims[2] + 2 * pad - k) / stride + 1, wo = (xt->dims[3] + 2 * pad - k) / stride + 1;
    char nm[96];
    int y = tg_act(g, named(nm, sizeof nm, name, "y"), 4, (int64_t[]){xt->dims[0], xt->dims[1], ho, wo});
    tg_pool(g, op, name, x, y, k, stride, (int[]){pad, pad, pad, pad}, 0);
    return y;
}

int tg_add_unary(IrGraph *g, const char *name, IrOp op, int x, int rank, const int64_t *dims) {
    char nm[96];
    int y = tg_act(g, named(nm, sizeof nm, name, "y"), rank, dims);
    int li = ir_add_layer(g, op, name, ir_op_name(op), (int[]){x}, 1, (int[]){y}, 1);
    if (op == IR_SOFTMAX)
        g->l[li].a.softmax.axis = 1;
    return y;
}

int tg_add_fc(IrGraph *g, const char *name, int x, int m, IrActKind act) {
    const IrTensor *xt = &g->t[x];
    char nm[96];
    int wt = tg_tensor(g, named(nm, sizeof nm, name, "w"), IR_T_CONST, 2, (int64_t[]){m, xt->dims[1]});
    int b = tg_tensor(g, named(nm, sizeof nm, name, "b"), IR_T_CONST, 1, (int64_t[]){m});
    int y = tg_act(g, named(nm, sizeof nm, name, "y"), 2, (int64_t[]){xt->dims[0], m});
    int li = ir_add_layer(g, IR_FC, name, "Gemm", (int[]){x, wt, b}, 3, (int[]){y}, 1);
    g->l[li].act.kind = act;
    return y;
}
