/* eval.c: the reference executor (see eval.h).  One function per op, each
 * written straight from the ONNX operator definition; clarity over speed.
 * Every op first checks the shapes of its tensors against its rules, so a
 * wrong graph gives a message, never an out-of-bounds access. */
#include "ir/eval.h"
#include "ir/eval_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Largest tensor ir_eval allocates (bytes); bigger ones are reported. */
#define EVAL_MAX_BYTES ((int64_t)1 << 32)


/* The tensor of input k, or NULL when absent. */
const IrTensor *eval_tin(const IrGraph *g, const IrLayer *l, int k) {
    return k < l->n_in && l->in[k] >= 0 ? &g->t[l->in[k]] : NULL;
}

const IrTensor *eval_tout(const IrGraph *g, const IrLayer *l) {
    return &g->t[l->out[0]];
}

int64_t eval_prod(const int64_t *dims, int from, int to) {
    int64_t n = 1;
    for (int i = from; i < to; i++)
        n *= dims[i]; /* callers hold tensors whose numel is known not to overflow */
    return n;
}

static int same_dims(const IrTensor *a, int rank, const int64_t *dims) {
    if (a->rank != rank)
        return 0;
    for (int i = 0; i < rank; i++)
        if (a->dims[i] != dims[i])
            return 0;
    return 1;
}

const char *eval_shape_str(const IrTensor *t) {
    static char buf[4][160];
    static int k;
    char *s = buf[k++ & 3];
    int n = snprintf(s, sizeof buf[0], "[");
    for (int i = 0; i < t->rank && n < (int)sizeof buf[0]; i++)
        n += snprintf(s + n, sizeof buf[0] - (size_t)n, "%s%lld", i ? "," : "",
                      (long long)t->dims[i]);
    if (n < (int)sizeof buf[0])
        snprintf(s + n, sizeof buf[0] - (size_t)n, "]");
    return s;
}

/* Output must have exactly the given shape. */
int eval_check_out(IrDiag *d, const IrLayer *l, const IrTensor *y, int rank,
                     const int64_t *dims) {
    if (same_dims(y, rank, dims))
        return 0;
    IrTensor want = {.rank = rank};
    memcpy(want.dims, dims, (size_t)rank * sizeof *dims);
    return fail(d, l, "output '%s' has shape %s, the op gives %s", y->name, eval_shape_str(y),
                eval_shape_str(&want));
}

/* ---- activations ------------------------------------------------------- */

/* NaN passes through every activation, as in ONNX (max/min of numpy). */
float eval_act1(float x, const IrAct *a) {
    switch (a->kind) {
    case IR_ACT_RELU:
        return x < 0 ? 0.0f : x;
    case IR_ACT_LEAKY_RELU:
        return x < 0 ? a->alpha * x : x;
    case IR_ACT_CLIP:
        return x < a->lo ? a->lo : x > a->hi ? a->hi : x;
    case IR_ACT_SIGMOID:
        return (float)(1.0 / (1.0 + exp(-(double)x)));
    case IR_ACT_TANH:
        return (float)tanh((double)x);
    default:
        return x;
    }
}

static void apply_act(float *y, int64_t n, const IrAct *a) {
    if (a->kind == IR_ACT_NONE)
        return;
    for (int64_t i = 0; i < n; i++)
        y[i] = eval_act1(y[i], a);
}

/* A conv/pool output given in the 2-D view (ir_dims_2d) of a rank-xrank input. */
int eval_check_out_2d(IrDiag *d, const IrLayer *l, const IrTensor *y, int xrank, const int64_t *d4) {
    int64_t d3[3] = {d4[0], d4[1], d4[3]};
    return xrank == 3 ? eval_check_out(d, l, y, 3, d3) : eval_check_out(d, l, y, 4, d4);
}

/* ---- convolution and pooling ------------------------------------------- */

static int op_conv(const IrGraph *g, const IrLayer *l, const float *const *in, float *y,
                   IrDiag *d) {
    const IrTensor *xt = eval_tin(g, l, 0), *wt = eval_tin(g, l, 1), *bt = eval_tin(g, l, 2);
    const IrConvAttr *a = &l->a.conv;
    int64_t xd[4], wd[4];
    if (!wt || wt->rank != xt->rank || ir_dims_2d(xt, xd) || ir_dims_2d(wt, wd))
        return fail(d, l, "needs 3-D or 4-D X and W of one rank, got X %s, W %s", eval_shape_str(xt),
                    wt ? eval_shape_str(wt) : "absent");
    int64_t N = xd[0], C = xd[1], H = xd[2], W = xd[3];
    int64_t M = wd[0], Cg = wd[1], KH = wd[2], KW = wd[3];
    int64_t G = a->group ? a->group : 1;
    if (G < 1 || Cg * G != C || M % G)
        return fail(d, l, "group %lld does not fit X %s and W %s", (long long)G, eval_shape_str(xt),
                    eval_shape_str(wt));
    if ((a->kernel[0] && a->kernel[0] != KH) || (a->kernel[1] && a->kernel[1] != KW))
        return fail(d, l, "kernel_shape %dx%d differs from W %s", a->kernel[0], a->kernel[1],
                    eval_shape_str(wt));
    if (bt && (bt->rank != 1 || bt->dims[0] != M))
        return fail(d, l, "bias %s is not [%lld]", eval_shape_str(bt), (long long)M);
    int sh = a->stride[0] ? a->stride[0] : 1, sw = a->stride[1] ? a->stride[1] : 1;
    int dh = a->dilation[0] ? a->dilation[0] : 1, dw = a->dilation[1] ? a->dilation[1] : 1;
    int pt = a->pad[0], pl = a->pad[1], pb = a->pad[2], pr = a->pad[3];
    if (sh < 1 || sw < 1 || dh < 1 || dw < 1 || pt < 0 || pl < 0 || pb < 0 || pr < 0)
        return fail(d, l, "bad strides, dilations or pads");
    int64_t nh = H + pt + pb - dh * (KH - 1) - 1, nw = W + pl + pr - dw * (KW - 1) - 1;
    if (nh < 0 || nw < 0)
        return fail(d, l, "kernel larger than padded input %s", eval_shape_str(xt));
    int64_t OH = nh / sh + 1, OW = nw / sw + 1;
    if (eval_check_out_2d(d, l, eval_tout(g, l), xt->rank, (int64_t[]){N, M, OH, OW}))
        return -1;
    const float *x = in[0], *w = in[1], *b = bt ? in[2] : NULL;
    int64_t Mg = M / G;
    for (int64_t n = 0; n < N; n++)
        for (int64_t m = 0; m < M; m++) {
            int64_t c0 = (m / Mg) * Cg; /* first input channel of m's group */
            for (int64_t oh = 0; oh < OH; oh++)
                for (int64_t ow = 0; ow < OW; ow++) {
                    double acc = b ? b[m] : 0.0;
                    for (int64_t c = 0; c < Cg; c++)
                        for (int64_t i = 0; i < KH; i++) {
                            int64_t ih = oh * sh - pt + i * dh;
                            if (ih < 0 || ih >= H)
                                continue;
                            for (int64_t j = 0; j < KW; j++) {
                                int64_t iw = ow * sw - pl + j * dw;
                                if (iw < 0 || iw >= W)
                                    continue;
                                acc += (double)x[((n * C + c0 + c) * H + ih) * W + iw] *
                                       w[((m * Cg + c) * KH + i) * KW + j];
                            }
                        }
                    y[((n * M + m) * OH + oh) * OW + ow] = (float)acc;
                }
        }
    return 0;
}

/* Output length of a pooling axis (ONNX rule).  With ceil_mode the last
 * window must start inside the input or its left padding, else it is
 * dropped.  -1 when the window does not fit. */
int64_t eval_pool_len(int64_t in, int k, int s, int dil, int pb, int pe, int ceil_mode) {
    int64_t num = in + pb + pe - ((int64_t)dil * (k - 1) + 1);
    if (num < 0)
        return -1;
    int64_t o = (ceil_mode ? (num + s - 1) / s : num / s) + 1;
    if (ceil_mode && (o - 1) * s >= in + pb)
        o--;
    return o;
}

int eval_pool_geo(const IrGraph *g, const IrLayer *l, const IrTensor *xt, EvalPool *p, IrDiag *d) {
    const IrPoolAttr *a = &l->a.pool;
    int64_t xd[4];
    if (ir_dims_2d(xt, xd))
        return fail(d, l, "needs 3-D or 4-D X, got %s", eval_shape_str(xt));
    (void)g;
    p->N = xd[0], p->C = xd[1], p->H = xd[2], p->W = xd[3];
    p->kh = a->kernel[0], p->kw = a->kernel[1];
    p->sh = a->stride[0] ? a->stride[0] : 1, p->sw = a->stride[1] ? a->stride[1] : 1;
    p->dh = a->dilation[0] ? a->dilation[0] : 1, p->dw = a->dilation[1] ? a->dilation[1] : 1;
    p->pt = a->pad[0], p->pl = a->pad[1], p->pb = a->pad[2], p->pr = a->pad[3];
    p->count_include_pad = a->count_include_pad;
    if (p->kh < 1 || p->kw < 1 || p->sh < 1 || p->sw < 1 || p->dh < 1 || p->dw < 1 || p->pt < 0 ||
        p->pl < 0 || p->pb < 0 || p->pr < 0)
        return fail(d, l, "bad kernel, strides, dilations or pads");
    p->OH = eval_pool_len(p->H, p->kh, p->sh, p->dh, p->pt, p->pb, a->ceil_mode);
    p->OW = eval_pool_len(p->W, p->kw, p->sw, p->dw, p->pl, p->pr, a->ceil_mode);
    if (p->OH < 1 || p->OW < 1)
        return fail(d, l, "window larger than padded input %s", eval_shape_str(xt));
    return 0;
}

int eval_pool_window(const EvalPool *p, int64_t oh, int64_t ow, int64_t *idx, int64_t *divisor) {
    int64_t cnt_h = 0, cnt_w = 0, n = 0;
    for (int i = 0; i < p->kh; i++) {
        int64_t ih = oh * p->sh - p->pt + (int64_t)i * p->dh;
        cnt_h += ih >= -p->pt && ih < p->H + p->pb; /* inside the padded input */
        if (ih < 0 || ih >= p->H)
            continue;
        for (int j = 0; j < p->kw; j++) {
            int64_t iw = ow * p->sw - p->pl + (int64_t)j * p->dw;
            if (iw >= 0 && iw < p->W)
                idx[n++] = ih * p->W + iw;
        }
    }
    for (int j = 0; j < p->kw; j++) {
        int64_t iw = ow * p->sw - p->pl + (int64_t)j * p->dw;
        cnt_w += iw >= -p->pl && iw < p->W + p->pr;
    }
    /* count_include_pad counts pads but not the ceil_mode overhang beyond
     * them (as ONNX and PyTorch do). */
    *divisor = p->count_include_pad ? cnt_h * cnt_w : n;
    return (int)n;
}

int eval_pool_argmax(const float *xp, const int64_t *idx, int n) {
    int best = -1;
    double acc = -INFINITY;
    for (int k = 0; k < n; k++) {
        double v = xp[idx[k]];
        if (best < 0 || isnan(v) || v > acc) {
            acc = v, best = k;
            if (isnan(v))
                break; /* NaN sticks: v > NaN is false */
        }
    }
    return best;
}

static int op_pool(const IrGraph *g, const IrLayer *l, const float *x, float *y, IrDiag *d) {
    const IrTensor *xt = eval_tin(g, l, 0);
    EvalPool p;
    if (eval_pool_geo(g, l, xt, &p, d) ||
        eval_check_out_2d(d, l, eval_tout(g, l), xt->rank, (int64_t[]){p.N, p.C, p.OH, p.OW}))
        return -1;
    int64_t *idx = malloc((size_t)p.kh * (size_t)p.kw * sizeof *idx);
    if (!idx)
        return fail(d, l, "out of memory");
    for (int64_t nc = 0; nc < p.N * p.C; nc++) {
        const float *xp = x + nc * p.H * p.W;
        for (int64_t oh = 0; oh < p.OH; oh++)
            for (int64_t ow = 0; ow < p.OW; ow++) {
                int64_t div;
                int n = eval_pool_window(&p, oh, ow, idx, &div);
                double acc;
                if (l->op == IR_MAXPOOL) {
                    int k = eval_pool_argmax(xp, idx, n);
                    acc = k < 0 ? -INFINITY : xp[idx[k]];
                } else {
                    acc = 0.0;
                    for (int k = 0; k < n; k++)
                        acc += xp[idx[k]];
                    acc = div ? acc / (double)div : NAN;
                }
                y[(nc * p.OH + oh) * p.OW + ow] = (float)acc;
            }
    }
    free(idx);
    return 0;
}

static int op_global_pool(const IrGraph *g, const IrLayer *l, const float *x, float *y,
                          IrDiag *d) {
    const IrTensor *xt = eval_tin(g, l, 0);
    if (xt->rank < 3)
        return fail(d, l, "needs X of rank >= 3, got %s", eval_shape_str(xt));
    int64_t dims[IR_MAX_RANK];
    for (int i = 0; i < xt->rank; i++)
        dims[i] = i < 2 ? xt->dims[i] : 1;
    if (eval_check_out(d, l, eval_tout(g, l), xt->rank, dims))
        return -1;
    int64_t NC = xt->dims[0] * xt->dims[1], S = eval_prod(xt->dims, 2, xt->rank);
    for (int64_t i = 0; i < NC; i++) {
        double acc = l->op == IR_GLOBAL_MAXPOOL ? -INFINITY : 0.0;
        for (int64_t k = 0; k < S; k++) {
            double v = x[i * S + k];
            if (l->op == IR_GLOBAL_AVGPOOL)
                acc += v;
            else if (isnan(v) || v > acc)
                acc = v;
        }
        y[i] = (float)(l->op == IR_GLOBAL_AVGPOOL ? (S ? acc / (double)S : NAN) : acc);
    }
    return 0;
}

/* ---- matrix products ---------------------------------------------------- */

/* Y[M,N] = alpha * A'[M,K] B'[K,N] + beta * C; A' is A or A^T (ta), same for B. */
static void gemm(int64_t M, int64_t N, int64_t K, const float *A, int ta, const float *B, int tb,
                 double alpha, float *Y) {
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double acc = 0;
            for (int64_t k = 0; k < K; k++)
                acc += (double)(ta ? A[k * M + i] : A[i * K + k]) *
                       (tb ? B[j * K + k] : B[k * N + j]);
            Y[i * N + j] = (float)(alpha * acc);
        }
}

static int op_gemm(const IrGraph *g, const IrLayer *l, const float *const *in, float *y,
                   IrDiag *d) {
    const IrTensor *at = eval_tin(g, l, 0), *bt = eval_tin(g, l, 1), *ct = eval_tin(g, l, 2);
    const IrGemmAttr *a = &l->a.gemm;
    int gemm_op = l->op == IR_GEMM;
    if (!bt || at->rank != 2 || bt->rank != 2)
        return fail(d, l, "needs 2-D A and B, got A %s, B %s", eval_shape_str(at),
                    bt ? eval_shape_str(bt) : "absent");
    int ta = gemm_op && a->trans_a, tb = gemm_op && a->trans_b;
    int64_t M = at->dims[ta], K = at->dims[!ta], K2 = bt->dims[tb], N = bt->dims[!tb];
    if (K != K2)
        return fail(d, l, "inner dimensions differ: A %s, B %s", eval_shape_str(at), eval_shape_str(bt));
    if (eval_check_out(d, l, eval_tout(g, l), 2, (int64_t[]){M, N}))
        return -1;
    /* C broadcasts one way to [M, N]: scalar, [N], [1|M, 1|N]. */
    int64_t cm = 1, cn = 1;
    if (gemm_op && ct) {
        if (ct->rank > 2)
            return fail(d, l, "C %s has rank > 2", eval_shape_str(ct));
        cn = ct->rank >= 1 ? ct->dims[ct->rank - 1] : 1;
        cm = ct->rank == 2 ? ct->dims[0] : 1;
        if ((cm != 1 && cm != M) || (cn != 1 && cn != N))
            return fail(d, l, "C %s does not broadcast to [%lld,%lld]", eval_shape_str(ct),
                        (long long)M, (long long)N);
    }
    gemm(M, N, K, in[0], ta, in[1], tb, gemm_op ? a->alpha : 1.0, y);
    if (gemm_op && ct) {
        const float *c = in[2];
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++)
                y[i * N + j] = (float)((double)y[i * N + j] +
                                       (double)a->beta * c[(cm == 1 ? 0 : i) * cn +
                                                           (cn == 1 ? 0 : j)]);
    }
    return 0;
}

static int op_fc(const IrGraph *g, const IrLayer *l, const float *const *in, float *y,
                 IrDiag *d) {
    const IrTensor *xt = eval_tin(g, l, 0), *wt = eval_tin(g, l, 1), *bt = eval_tin(g, l, 2);
    if (!wt || xt->rank < 1 || wt->rank != 2)
        return fail(d, l, "needs X of rank >= 1 and 2-D W, got X %s, W %s", eval_shape_str(xt),
                    wt ? eval_shape_str(wt) : "absent");
    int64_t N = xt->dims[0], K = eval_prod(xt->dims, 1, xt->rank), M = wt->dims[0];
    if (wt->dims[1] != K)
        return fail(d, l, "X %s flattens to K=%lld, W is %s", eval_shape_str(xt), (long long)K,
                    eval_shape_str(wt));
    if (bt && (bt->rank != 1 || bt->dims[0] != M))
        return fail(d, l, "bias %s is not [%lld]", eval_shape_str(bt), (long long)M);
    if (eval_check_out(d, l, eval_tout(g, l), 2, (int64_t[]){N, M}))
        return -1;
    const float *x = in[0], *w = in[1], *b = bt ? in[2] : NULL;
    for (int64_t n = 0; n < N; n++)
        for (int64_t m = 0; m < M; m++) {
            double acc = b ? b[m] : 0.0;
            for (int64_t k = 0; k < K; k++)
                acc += (double)x[n * K + k] * w[m * K + k];
            y[n * M + m] = (float)acc;
        }
    return 0;
}

/* ---- normalisation ------------------------------------------------------ */

/* Per channel mean and (biased) variance of X [N, C, ...] over all but C. */
void eval_batch_stats(const float *x, int64_t N, int64_t C, int64_t S, int64_t c, double *mean, double *var) {
    double s = 0.0, q = 0.0;
    for (int64_t n = 0; n < N; n++)
        for (int64_t i = 0; i < S; i++)
            s += x[(n * C + c) * S + i];
    double m = s / (double)(N * S);
    for (int64_t n = 0; n < N; n++)
        for (int64_t i = 0; i < S; i++) {
            double e = x[(n * C + c) * S + i] - m;
            q += e * e;
        }
    *mean = m;
    *var = q / (double)(N * S);
}

/* Inference: the given statistics.  Training: the batch's, and the running
 * statistics moved towards them (outputs 1, 2; as the ONNX reference). */
static int op_batchnorm(const IrGraph *g, const IrLayer *l, const float *const *in, float *const *out,
                        IrDiag *d) {
    const IrTensor *xt = eval_tin(g, l, 0);
    if (xt->rank < 2)
        return fail(d, l, "needs X of rank >= 2, got %s", eval_shape_str(xt));
    int64_t N = xt->dims[0], C = xt->dims[1], S = eval_prod(xt->dims, 2, xt->rank);
    for (int k = 1; k <= 4; k++) {
        const IrTensor *p = eval_tin(g, l, k);
        if (!p || p->rank != 1 || p->dims[0] != C)
            return fail(d, l, "parameter %d is %s, not [%lld]", k, p ? eval_shape_str(p) : "absent",
                        (long long)C);
    }
    if (eval_check_out(d, l, eval_tout(g, l), xt->rank, xt->dims))
        return -1;
    const float *x = in[0], *scale = in[1], *bias = in[2], *mean = in[3], *var = in[4];
    float *y = out[0];
    for (int64_t c = 0; c < C; c++) {
        double m = mean[c], v = var[c];
        if (l->a.bn.training) {
            eval_batch_stats(x, N, C, S, c, &m, &v);
            double mo = l->a.bn.momentum;
            if (l->n_out > 1 && out[1])
                out[1][c] = (float)(mean[c] * mo + m * (1 - mo));
            if (l->n_out > 2 && out[2])
                out[2][c] = (float)(var[c] * mo + v * (1 - mo));
        }
        double k = scale[c] / sqrt(v + l->a.bn.eps);
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < S; i++) {
                int64_t o = (n * C + c) * S + i;
                y[o] = (float)(((double)x[o] - m) * k + bias[c]);
            }
    }
    return 0;
}

static int op_lrn(const IrGraph *g, const IrLayer *l, const float *x, float *y, IrDiag *d) {
    const IrTensor *xt = eval_tin(g, l, 0);
    const IrLrnAttr *a = &l->a.lrn;
    if (xt->rank < 3 || a->size < 1)
        return fail(d, l, "needs X of rank >= 3 and size >= 1, got %s, size %d", eval_shape_str(xt),
                    a->size);
    if (eval_check_out(d, l, eval_tout(g, l), xt->rank, xt->dims))
        return -1;
    int64_t N = xt->dims[0], C = xt->dims[1], S = eval_prod(xt->dims, 2, xt->rank);
    int64_t before = (a->size - 1) / 2, after = a->size / 2; /* floor, ceil of (size-1)/2 */
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t i = 0; i < S; i++) {
                double sq = 0;
                for (int64_t cc = c - before; cc <= c + after; cc++)
                    if (cc >= 0 && cc < C) {
                        double v = x[(n * C + cc) * S + i];
                        sq += v * v;
                    }
                int64_t o = (n * C + c) * S + i;
                y[o] = (float)(x[o] / pow(a->bias + a->alpha / a->size * sq, a->beta));
            }
    return 0;
}

/* Softmax over `len` elements at stride `inner`, for each (outer, inner). */
static int op_softmax(const IrGraph *g, const IrLayer *l, const float *x, float *y, IrDiag *d) {
    const IrTensor *xt = eval_tin(g, l, 0);
    int axis = l->a.softmax.axis;
    if (axis < 0 || axis >= xt->rank)
        return fail(d, l, "axis %d out of range for %s", axis, eval_shape_str(xt));
    if (eval_check_out(d, l, eval_tout(g, l), xt->rank, xt->dims))
        return -1;
    int64_t outer = eval_prod(xt->dims, 0, axis), len, inner;
    if (l->a.softmax.coerce_2d) {
        len = eval_prod(xt->dims, axis, xt->rank);
        inner = 1;
    } else {
        len = xt->dims[axis];
        inner = eval_prod(xt->dims, axis + 1, xt->rank);
    }
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const float *xp = x + o * len * inner + i;
            float *yp = y + o * len * inner + i;
            double mx = -INFINITY, sum = 0;
            for (int64_t k = 0; k < len; k++)
                if (xp[k * inner] > mx)
                    mx = xp[k * inner];
            for (int64_t k = 0; k < len; k++)
                sum += exp((double)xp[k * inner] - mx);
            for (int64_t k = 0; k < len; k++)
                yp[k * inner] = (float)(exp((double)xp[k * inner] - mx) / sum);
        }
    return 0;
}

/* ---- element-wise and data movement ------------------------------------ */

/* Strides of t when read at the indices of an output of rank r, dims yd
 * (ONNX multidirectional broadcasting: align right; size-1 axes repeat). */
static int bcast_strides(const IrTensor *t, int r, const int64_t *yd, int64_t *st) {
    int64_t s = 1;
    for (int i = r - 1; i >= 0; i--) {
        int ti = i - (r - t->rank);
        int64_t n = ti >= 0 ? t->dims[ti] : 1;
        if (n != yd[i] && n != 1)
            return -1;
        st[i] = n == 1 ? 0 : s;
        s *= n;
    }
    return 0;
}

static int op_binary(const IrGraph *g, const IrLayer *l, const float *const *in, float *y,
                     IrDiag *d) {
    const IrTensor *at = eval_tin(g, l, 0), *bt = eval_tin(g, l, 1);
    if (!bt)
        return fail(d, l, "needs two inputs");
    int r = at->rank > bt->rank ? at->rank : bt->rank;
    int64_t yd[IR_MAX_RANK], sa[IR_MAX_RANK], sb[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
    for (int i = 0; i < r; i++) {
        int ia = i - (r - at->rank), ib = i - (r - bt->rank);
        int64_t da = ia >= 0 ? at->dims[ia] : 1, db = ib >= 0 ? bt->dims[ib] : 1;
        yd[i] = da == 1 ? db : da;
    }
    if (bcast_strides(at, r, yd, sa) || bcast_strides(bt, r, yd, sb))
        return fail(d, l, "shapes %s and %s do not broadcast", eval_shape_str(at), eval_shape_str(bt));
    if (eval_check_out(d, l, eval_tout(g, l), r, yd))
        return -1;
    int64_t n = eval_prod(yd, 0, r), oa = 0, ob = 0;
    for (int64_t o = 0; o < n; o++) {
        float va = in[0][oa], vb = in[1][ob];
        y[o] = l->op == IR_ADD ? va + vb : l->op == IR_MUL ? va * vb : l->op == IR_SUB ? va - vb : va / vb;
        for (int i = r - 1; i >= 0; i--) { /* odometer step */
            oa += sa[i];
            ob += sb[i];
            if (++idx[i] < yd[i])
                break;
            oa -= sa[i] * yd[i];
            ob -= sb[i] * yd[i];
            idx[i] = 0;
        }
    }
    return 0;
}

static int op_concat(const IrGraph *g, const IrLayer *l, const float *const *in, float *y,
                     IrDiag *d) {
    const IrTensor *x0 = eval_tin(g, l, 0);
    int r = x0->rank, axis = l->a.axis < 0 ? l->a.axis + r : l->a.axis;
    if (axis < 0 || axis >= r)
        return fail(d, l, "axis %d out of range for %s", l->a.axis, eval_shape_str(x0));
    int64_t yd[IR_MAX_RANK];
    memcpy(yd, x0->dims, sizeof yd);
    yd[axis] = 0;
    for (int k = 0; k < l->n_in; k++) {
        const IrTensor *t = eval_tin(g, l, k);
        int ok = t && t->rank == r;
        for (int i = 0; ok && i < r; i++)
            ok = i == axis || t->dims[i] == x0->dims[i];
        if (!ok)
            return fail(d, l, "input %d %s does not match input 0 %s off axis %d", k,
                        t ? eval_shape_str(t) : "absent", eval_shape_str(x0), axis);
        yd[axis] += t->dims[axis];
    }
    if (eval_check_out(d, l, eval_tout(g, l), r, yd))
        return -1;
    int64_t outer = eval_prod(yd, 0, axis), inner = eval_prod(yd, axis + 1, r);
    for (int64_t o = 0; o < outer; o++)
        for (int k = 0; k < l->n_in; k++) {
            int64_t n = eval_tin(g, l, k)->dims[axis] * inner;
            memcpy(y, in[k] + o * n, (size_t)n * sizeof *y);
            y += n;
        }
    return 0;
}

/* Constant padding; negative pads crop, as ONNX allows. */
static int op_pad(const IrGraph *g, const IrLayer *l, const float *x, float *y, IrDiag *d) {
    const IrTensor *xt = eval_tin(g, l, 0);
    const IrPadAttr *a = &l->a.pad;
    int r = xt->rank;
    int64_t yd[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
    for (int i = 0; i < r; i++) {
        yd[i] = xt->dims[i] + a->pads[i] + a->pads[r + i];
        if (yd[i] < 0)
            return fail(d, l, "pads crop axis %d of %s below zero", i, eval_shape_str(xt));
    }
    if (eval_check_out(d, l, eval_tout(g, l), r, yd))
        return -1;
    int64_t n = eval_prod(yd, 0, r);
    for (int64_t o = 0; o < n; o++) {
        int64_t off = 0;
        int inside = 1;
        for (int i = 0; i < r; i++) {
            int64_t xi = idx[i] - a->pads[i], n = xt->dims[i];
            if (a->mode == IR_PAD_REFLECT) /* shape inference keeps pads < n */
                xi = xi < 0 ? -xi : xi >= n ? 2 * (n - 1) - xi : xi;
            else if (a->mode == IR_PAD_EDGE)
                xi = xi < 0 ? 0 : xi >= n ? n - 1 : xi;
            inside &= xi >= 0 && xi < n;
            off = off * n + xi;
        }
        y[o] = inside ? x[off] : a->value;
        for (int i = r - 1; i >= 0 && ++idx[i] == yd[i]; i--)
            idx[i] = 0;
    }
    return 0;
}

/* Ops whose output is their input, reinterpreted. */
static int op_copy(const IrGraph *g, const IrLayer *l, const float *x, float *y, IrDiag *d) {
    const IrTensor *xt = eval_tin(g, l, 0), *yt = eval_tout(g, l);
    if (ir_numel(xt) != ir_numel(yt))
        return fail(d, l, "output %s has not the element count of input %s", eval_shape_str(yt),
                    eval_shape_str(xt));
    memcpy(y, x, (size_t)ir_numel(xt) * sizeof *y);
    return 0;
}

static int op_act(const IrGraph *g, const IrLayer *l, const float *x, float *y, IrDiag *d) {
    const IrTensor *xt = eval_tin(g, l, 0);
    if (eval_check_out(d, l, eval_tout(g, l), xt->rank, xt->dims))
        return -1;
    IrAct a = l->act; /* the op's own parameters */
    a.kind = ir_op_act(l->op);
    int64_t n = ir_numel(xt);
    for (int64_t i = 0; i < n; i++)
        y[i] = eval_act1(x[i], &a);
    return 0;
}

/* Output axis k is input axis perm[k]. */
static int op_transpose(const IrGraph *g, const IrLayer *l, const float *x, float *y, IrDiag *d) {
    const IrTensor *xt = eval_tin(g, l, 0);
    int r = xt->rank;
    int64_t yd[IR_MAX_RANK], xs[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
    if (l->a.perm.n != r)
        return fail(d, l, "perm has %d axes for an input of rank %d", l->a.perm.n, r);
    int seen = 0;
    for (int k = 0; k < r; k++) {
        int p = l->a.perm.v[k];
        if (p < 0 || p >= r || (seen >> p) & 1)
            return fail(d, l, "perm is not a permutation of 0..%d", r - 1);
        seen |= 1 << p;
    }
    int64_t stride = 1;
    for (int k = r - 1; k >= 0; k--) {
        xs[k] = stride;
        stride *= xt->dims[k];
    }
    for (int k = 0; k < r; k++)
        yd[k] = xt->dims[l->a.perm.v[k]];
    if (eval_check_out(d, l, eval_tout(g, l), r, yd))
        return -1;
    int64_t n = ir_numel(xt);
    for (int64_t i = 0; i < n; i++) {
        int64_t off = 0;
        for (int k = 0; k < r; k++)
            off += idx[k] * xs[l->a.perm.v[k]];
        y[i] = x[off];
        for (int k = r - 1; k >= 0 && ++idx[k] == yd[k]; k--)
            idx[k] = 0;
    }
    return 0;
}

/* Inputs every op needs as float data (the rest are optional or I64). */
static int required_inputs(IrOp op, int n_in) {
    /* the float inputs checked here: a training op checks the rest of its
     * own (eval_grad.c); Gather's indices are I64 and never evaluated */
    if (eval_is_grad_op(op) || op == IR_GATHER)
        return 1;
    int k = ir_op_n_in(op);
    return k > 0 ? k : n_in > 0 ? n_in : 1;
}

int ir_eval_layer(const IrGraph *g, const IrLayer *l, const float *const *in, float *const *out,
                  IrDiag *d) {
    if (l->n_out < 1 || l->out[0] < 0 || !out[0])
        return fail(d, l, "no output buffer");
    const IrTensor *yt = eval_tout(g, l);
    if (ir_numel(yt) < 0)
        return fail(d, l, "output '%s' has unknown shape", yt->name);
    int need = required_inputs(l->op, l->n_in);
    if (l->n_in < need)
        return fail(d, l, "needs %d inputs, has %d", need, l->n_in);
    for (int k = 0; k < l->n_in; k++) {
        const IrTensor *t = eval_tin(g, l, k);
        if (!t)
            continue;
        if (ir_numel(t) < 0)
            return fail(d, l, "input '%s' has unknown shape", t->name);
        if (t->dtype == IR_F32 && !in[k])
            return fail(d, l, "input '%s' has no data", t->name);
        if (k < need && t->dtype != IR_F32)
            return fail(d, l, "input '%s' is not float", t->name);
    }
    for (int k = 0; k < need; k++)
        if (!eval_tin(g, l, k))
            return fail(d, l, "input %d is absent", k);
    if (eval_is_grad_op(l->op)) /* training ops: l->act is the activation to differentiate */
        return eval_grad_layer(g, l, in, out, d);
    float *y = out[0];
    int rc;
    switch (l->op) {
    case IR_CONV:
        rc = op_conv(g, l, in, y, d);
        break;
    case IR_MAXPOOL:
    case IR_AVGPOOL:
        rc = op_pool(g, l, in[0], y, d);
        break;
    case IR_GLOBAL_AVGPOOL:
    case IR_GLOBAL_MAXPOOL:
        rc = op_global_pool(g, l, in[0], y, d);
        break;
    case IR_GEMM:
    case IR_MATMUL:
        rc = op_gemm(g, l, in, y, d);
        break;
    case IR_FC:
        rc = op_fc(g, l, in, y, d);
        break;
    case IR_BATCHNORM:
        rc = op_batchnorm(g, l, in, out, d);
        break;
    case IR_LRN:
        rc = op_lrn(g, l, in[0], y, d);
        break;
    case IR_SOFTMAX:
        rc = op_softmax(g, l, in[0], y, d);
        break;
    case IR_ADD:
    case IR_MUL:
    case IR_SUB:
    case IR_DIV:
        rc = op_binary(g, l, in, y, d);
        break;
    case IR_CONCAT:
        rc = op_concat(g, l, in, y, d);
        break;
    case IR_PAD:
        rc = op_pad(g, l, in[0], y, d);
        break;
    case IR_TRANSPOSE:
        rc = op_transpose(g, l, in[0], y, d);
        break;
    default:
        if (ir_op_act(l->op) != IR_ACT_NONE)
            return op_act(g, l, in[0], y, d); /* l->act is the op itself, not a fused one */
        if (!ir_op_is_alias(l->op) && l->op != IR_CAST)
            return fail(d, l, "op not supported by the reference executor (I64 shape arithmetic "
                              "should have been folded by shape inference)");
        /* the input's data in the output's shape (Cast: float to float) */
        if (eval_tin(g, l, 0)->dtype != IR_F32 || yt->dtype != IR_F32)
            return fail(d, l, "only float data is evaluated; I64 shape arithmetic should "
                              "have been folded by shape inference");
        rc = op_copy(g, l, in[0], y, d);
        if (!rc && l->op == IR_DROPOUT && l->n_out > 1 && l->out[1] >= 0 && out[1]) {
            int64_t n = ir_numel(&g->t[l->out[1]]);
            for (int64_t i = 0; i < n; i++)
                out[1][i] = 1.0f; /* inference: every element kept */
        }
        break;
    }
    if (rc == 0)
        apply_act(y, ir_numel(yt), &l->act);
    return rc;
}

/* ---- whole graph ---------------------------------------------------------- */

int ir_eval(const IrGraph *g, const float *const *inputs, float **outputs, IrDiag *d) {
    int n = g->n_t, rc = -1;
    const float **val = calloc((size_t)(n ? n : 1), sizeof *val);
    char *owned = calloc((size_t)(n ? n : 1), 1);
    int *last = malloc((size_t)(n ? n : 1) * sizeof *last);
    if (!val || !owned || !last) {
        ir_diag_add(d, "eval: out of memory");
        goto out;
    }
    /* Where each tensor's value comes from, and its last reader (so
     * activations are freed as soon as they are dead). */
    for (int t = 0; t < n; t++) {
        last[t] = g->t[t].is_graph_output ? g->n_l : -1;
        if (g->t[t].dtype == IR_F32 && g->t[t].f32)
            val[t] = g->t[t].f32;
    }
    for (int i = 0; i < g->n_inputs; i++) {
        const IrTensor *t = &g->t[g->inputs[i]];
        if (t->dtype != IR_F32 || !inputs[i]) {
            ir_diag_add(d, "eval: graph input '%s' is %s", t->name,
                        t->dtype != IR_F32 ? "not float" : "missing");
            goto out;
        }
        val[g->inputs[i]] = inputs[i];
    }
    for (int li = 0; li < g->n_l; li++)
        if (!g->l[li].dead)
            for (int k = 0; k < g->l[li].n_in; k++)
                if (g->l[li].in[k] >= 0 && last[g->l[li].in[k]] < li)
                    last[g->l[li].in[k]] = li;

    for (int li = 0; li < g->n_l; li++) {
        const IrLayer *l = &g->l[li];
        if (l->dead)
            continue;
        const float *in[l->n_in > 0 ? l->n_in : 1];
        float *outb[l->n_out > 0 ? l->n_out : 1];
        for (int k = 0; k < l->n_in; k++) {
            int ti = l->in[k];
            in[k] = ti >= 0 ? val[ti] : NULL;
            if (ti >= 0 && g->t[ti].dtype == IR_F32 && !in[k]) {
                fail(d, l, "input '%s' has no value (no live producer, not a graph input, "
                           "no constant data)", g->t[ti].name);
                goto out;
            }
        }
        for (int k = 0; k < l->n_out; k++) {
            int ti = l->out[k];
            outb[k] = NULL;
            if (ti < 0 || g->t[ti].dtype != IR_F32)
                continue;
            int64_t ne = ir_numel(&g->t[ti]), bytes;
            if (ne < 0) {
                fail(d, l, "output '%s' has unknown shape", g->t[ti].name);
                goto out;
            }
            if (ir_mul_i64(ne, 4, &bytes) || bytes > EVAL_MAX_BYTES ||
                !(outb[k] = malloc((size_t)(bytes ? bytes : 1)))) {
                fail(d, l, "cannot allocate %lld elements for output '%s'", (long long)ne,
                     g->t[ti].name);
                goto out;
            }
            if (owned[ti])
                free((void *)val[ti]); /* written twice: the later value wins */
            val[ti] = outb[k];
            owned[ti] = 1;
        }
        if (ir_eval_layer(g, l, in, outb, d))
            goto out;
        for (int k = 0; k < l->n_out; k++) { /* outputs nobody reads */
            int ti = l->out[k];
            if (ti >= 0 && owned[ti] && last[ti] < li) {
                free((void *)val[ti]);
                val[ti] = NULL;
                owned[ti] = 0;
            }
        }
        for (int k = 0; k < l->n_in; k++) {
            int ti = l->in[k];
            if (ti >= 0 && owned[ti] && last[ti] == li) {
                free((void *)val[ti]);
                val[ti] = NULL;
                owned[ti] = 0;
            }
        }
    }
    for (int i = 0; i < g->n_outputs; i++) {
        int ti = g->outputs[i];
        const IrTensor *t = &g->t[ti];
        int64_t ne = ir_numel(t);
        if (t->dtype == IR_I64 && t->i64 && ne >= 0) { /* shape arithmetic folded to a constant */
            outputs[i] = NULL;
            continue;
        }
        if (!val[ti] || t->dtype != IR_F32 || ne < 0) {
            ir_diag_add(d, "eval: graph output '%s' has no float value", t->name);
            for (int j = 0; j < i; j++) {
                free(outputs[j]);
                outputs[j] = NULL;
            }
            goto out;
        }
        outputs[i] = malloc((size_t)(ne ? ne : 1) * sizeof(float));
        if (!outputs[i]) {
            ir_diag_add(d, "eval: out of memory for graph output '%s'", t->name);
            for (int j = 0; j < i; j++) {
                free(outputs[j]);
                outputs[j] = NULL;
            }
            goto out;
        }
        memcpy(outputs[i], val[ti], (size_t)ne * sizeof(float));
    }
    rc = 0;
out:
    for (int t = 0; val && owned && t < n; t++)
        if (owned[t])
            free((void *)val[t]);
    free(val);
    free(owned);
    free(last);
    return rc;
}
