/* eval_grad.c: the training ops of the reference executor: the loss and
 * its gradient, the backward layers of conv, FC, pooling and activations,
 * and the SGD update.  Each is the derivative of the forward op of eval.c
 * written out as plain loops (the chain rule, nothing clever), summing in
 * double like the forward ops.  The tests compare them with PyTorch's
 * autograd (tests/train). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/eval_impl.h"

int eval_is_grad_op(IrOp op) { return ir_op_is_train(op); }

/* Output k's tensor must have exactly the shape of tensor `like`. */
static int check_like(IrDiag *d, const IrGraph *g, const IrLayer *l, int k, const IrTensor *like) {
    if (k >= l->n_out || l->out[k] < 0)
        return fail(d, l, "output %d is absent", k);
    return eval_check_out(d, l, &g->t[l->out[k]], like->rank, like->dims);
}

static double *dzeros(IrDiag *d, const IrLayer *l, int64_t n) {
    double *p = calloc((size_t)(n ? n : 1), sizeof *p);
    if (!p)
        fail(d, l, "out of memory");
    return p;
}

static void to_float(float *y, const double *acc, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        y[i] = (float)acc[i];
}

/* dY = d loss / dY and the loss; Y and T of one shape.  Cross-entropy:
 * Y [N, K] logits, T [N, K] target probabilities, loss = mean over n of
 * -sum_k T log softmax(Y); dY = (softmax(Y) - T) / N.  MSE: mean of
 * (Y - T)^2; dY = 2 (Y - T) / numel. */
static int op_loss(const IrGraph *g, const IrLayer *l, const float *const *in, float *const *out,
                   IrDiag *d) {
    const IrTensor *yt = eval_tin(g, l, 0), *tt = eval_tin(g, l, 1);
    if (ir_numel(tt) != ir_numel(yt) || tt->rank != yt->rank)
        return fail(d, l, "target '%s' %s is not of the output's shape %s", tt->name, eval_shape_str(tt),
                    eval_shape_str(yt));
    if (check_like(d, g, l, 0, yt))
        return -1;
    if (l->n_out < 2 || l->out[1] < 0 || ir_numel(&g->t[l->out[1]]) != 1)
        return fail(d, l, "needs a one-element loss output");
    const float *y = in[0], *t = in[1];
    float *dy = out[0];
    int64_t n = ir_numel(yt);
    double loss = 0.0;
    if (l->a.train.loss == IR_LOSS_MSE) {
        for (int64_t i = 0; i < n; i++) {
            double e = (double)y[i] - t[i];
            loss += e * e;
            dy[i] = (float)(2.0 * e / (double)n);
        }
        loss /= (double)n;
    } else {
        if (yt->rank != 2)
            return fail(d, l, "cross-entropy needs [N, K] logits, got %s", eval_shape_str(yt));
        int64_t N = yt->dims[0], K = yt->dims[1];
        for (int64_t r = 0; r < N; r++) {
            const float *yr = y + r * K, *tr = t + r * K;
            double mx = -INFINITY, sum = 0.0;
            for (int64_t k = 0; k < K; k++)
                mx = yr[k] > mx ? yr[k] : mx;
            for (int64_t k = 0; k < K; k++)
                sum += exp((double)yr[k] - mx);
            double lse = mx + log(sum);
            for (int64_t k = 0; k < K; k++) {
                double p = exp((double)yr[k] - lse);
                loss -= (double)tr[k] * ((double)yr[k] - lse);
                dy[r * K + k] = (float)((p - tr[k]) / (double)N);
            }
        }
        loss /= (double)N;
    }
    if (out[1])
        out[1][0] = (float)loss;
    return 0;
}

/* dX = dY * f'(x), from the forward output y = f(x). */
static double act_slope(float y, const IrAct *a) {
    switch (a->kind) {
    case IR_ACT_RELU:
        return y > 0.0f;
    case IR_ACT_LEAKY_RELU:
        return y > 0.0f ? 1.0 : a->alpha;
    case IR_ACT_CLIP:
        return y > a->lo && y < a->hi;
    case IR_ACT_SIGMOID:
        return (double)y * (1.0 - y);
    case IR_ACT_TANH:
        return 1.0 - (double)y * y;
    default:
        return 1.0;
    }
}

static int op_act_grad(const IrGraph *g, const IrLayer *l, const float *const *in, float *dx,
                       IrDiag *d) {
    const IrTensor *dyt = eval_tin(g, l, 0), *yt = eval_tin(g, l, 1);
    if (ir_numel(yt) != ir_numel(dyt))
        return fail(d, l, "dY %s and Y %s differ", eval_shape_str(dyt), eval_shape_str(yt));
    if (check_like(d, g, l, 0, dyt))
        return -1;
    int64_t n = ir_numel(dyt);
    for (int64_t i = 0; i < n; i++)
        dx[i] = (float)((double)in[0][i] * act_slope(in[1][i], &l->act));
    return 0;
}

/* The geometry of a conv from dY, W (or dW) and X (or dX), all in the 2-D
 * view; checks they fit the forward conv l->a.conv describes. */
typedef struct {
    int64_t N, C, H, W, M, Cg, KH, KW, OH, OW, G;
} ConvGeo;

static int conv_geo(IrDiag *d, const IrLayer *l, const IrTensor *dyt, const IrTensor *wt,
                    const IrTensor *xt, ConvGeo *c) {
    int64_t yd[4], wd[4], xd[4];
    const IrConvAttr *a = &l->a.conv;
    if (ir_dims_2d(dyt, yd) || ir_dims_2d(wt, wd) || ir_dims_2d(xt, xd) || dyt->rank != xt->rank)
        return fail(d, l, "needs dY, W and X of rank 3 or 4, got %s, %s, %s", eval_shape_str(dyt),
                    eval_shape_str(wt), eval_shape_str(xt));
    c->N = xd[0], c->C = xd[1], c->H = xd[2], c->W = xd[3];
    c->M = wd[0], c->Cg = wd[1], c->KH = wd[2], c->KW = wd[3];
    c->OH = yd[2], c->OW = yd[3];
    c->G = a->group ? a->group : 1;
    int64_t oh = (c->H + a->pad[0] + a->pad[2] - (int64_t)a->dilation[0] * (c->KH - 1) - 1) / a->stride[0] + 1;
    int64_t ow = (c->W + a->pad[1] + a->pad[3] - (int64_t)a->dilation[1] * (c->KW - 1) - 1) / a->stride[1] + 1;
    if (c->G < 1 || c->Cg * c->G != c->C || c->M % c->G || yd[0] != c->N || yd[1] != c->M ||
        oh != c->OH || ow != c->OW)
        return fail(d, l, "dY %s, W %s and X %s do not fit the conv", eval_shape_str(dyt),
                    eval_shape_str(wt), eval_shape_str(xt));
    return 0;
}

/* Calls the body for every (output, weight tap) pair of a conv whose input
 * pixel is inside: n, m, oh, ow, c (the input channel), i, j, ih, iw. */
#define CONV_TAPS(c, a, BODY)                                                                     \
    for (int64_t n = 0; n < (c).N; n++)                                                           \
        for (int64_t m = 0; m < (c).M; m++) {                                                     \
            int64_t c0 = m / ((c).M / (c).G) * (c).Cg;                                            \
            for (int64_t oh = 0; oh < (c).OH; oh++)                                               \
                for (int64_t ow = 0; ow < (c).OW; ow++)                                           \
                    for (int64_t cg = 0; cg < (c).Cg; cg++)                                       \
                        for (int64_t i = 0; i < (c).KH; i++) {                                    \
                            int64_t ih = oh * (a)->stride[0] - (a)->pad[0] + i * (a)->dilation[0];\
                            if (ih < 0 || ih >= (c).H)                                            \
                                continue;                                                         \
                            for (int64_t j = 0; j < (c).KW; j++) {                                \
                                int64_t iw = ow * (a)->stride[1] - (a)->pad[1] + j * (a)->dilation[1]; \
                                if (iw < 0 || iw >= (c).W)                                        \
                                    continue;                                                     \
                                int64_t xi = ((n * (c).C + c0 + cg) * (c).H + ih) * (c).W + iw;   \
                                int64_t wi = ((m * (c).Cg + cg) * (c).KH + i) * (c).KW + j;       \
                                int64_t yi = ((n * (c).M + m) * (c).OH + oh) * (c).OW + ow;       \
                                BODY;                                                             \
                            }                                                                     \
                        }                                                                         \
        }

/* dX = the transposed conv of dY with W: every tap scatters back. */
static int op_conv_grad_x(const IrGraph *g, const IrLayer *l, const float *const *in, float *dx,
                          IrDiag *d) {
    const IrTensor *dyt = eval_tin(g, l, 0), *wt = eval_tin(g, l, 1), *xt = eval_tout(g, l);
    ConvGeo c;
    if (conv_geo(d, l, dyt, wt, xt, &c))
        return -1;
    const float *dy = in[0], *w = in[1];
    double *acc = dzeros(d, l, ir_numel(xt));
    if (!acc)
        return -1;
    CONV_TAPS(c, &l->a.conv, acc[xi] += (double)dy[yi] * w[wi]);
    to_float(dx, acc, ir_numel(xt));
    free(acc);
    return 0;
}

/* dW = the correlation of X with dY; dB = dY summed over n and pixels. */
static int op_conv_grad_w(const IrGraph *g, const IrLayer *l, const float *const *in, float *const *out,
                          IrDiag *d) {
    const IrTensor *dyt = eval_tin(g, l, 0), *xt = eval_tin(g, l, 1), *wt = eval_tout(g, l);
    ConvGeo c;
    if (conv_geo(d, l, dyt, wt, xt, &c))
        return -1;
    const float *dy = in[0], *x = in[1];
    double *acc = dzeros(d, l, ir_numel(wt));
    if (!acc)
        return -1;
    CONV_TAPS(c, &l->a.conv, acc[wi] += (double)dy[yi] * x[xi]);
    to_float(out[0], acc, ir_numel(wt));
    free(acc);
    if (l->n_out > 1 && l->out[1] >= 0 && out[1]) {
        const IrTensor *bt = &g->t[l->out[1]];
        if (eval_check_out(d, l, bt, 1, (int64_t[]){c.M}))
            return -1;
        for (int64_t m = 0; m < c.M; m++) {
            double s = 0.0;
            for (int64_t n = 0; n < c.N; n++)
                for (int64_t p = 0; p < c.OH * c.OW; p++)
                    s += dy[(n * c.M + m) * c.OH * c.OW + p];
            out[1][m] = (float)s;
        }
    }
    return 0;
}

/* FC: Y [N, M] = X [N, K] W^T + B, X flattened after the first axis. */
static int fc_geo(IrDiag *d, const IrLayer *l, const IrTensor *dyt, const IrTensor *wt, const IrTensor *xt,
                  int64_t *N, int64_t *M, int64_t *K) {
    *N = xt->rank >= 1 ? xt->dims[0] : 0;
    *K = eval_prod(xt->dims, 1, xt->rank);
    *M = wt->rank == 2 ? wt->dims[0] : 0;
    if (dyt->rank != 2 || wt->rank != 2 || wt->dims[1] != *K || dyt->dims[0] != *N || dyt->dims[1] != *M)
        return fail(d, l, "dY %s, W %s and X %s do not fit the FC", eval_shape_str(dyt), eval_shape_str(wt),
                    eval_shape_str(xt));
    return 0;
}

static int op_fc_grad_x(const IrGraph *g, const IrLayer *l, const float *const *in, float *dx,
                        IrDiag *d) {
    int64_t N, M, K;
    if (fc_geo(d, l, eval_tin(g, l, 0), eval_tin(g, l, 1), eval_tout(g, l), &N, &M, &K))
        return -1;
    const float *dy = in[0], *w = in[1];
    for (int64_t n = 0; n < N; n++)
        for (int64_t k = 0; k < K; k++) {
            double s = 0.0;
            for (int64_t m = 0; m < M; m++)
                s += (double)dy[n * M + m] * w[m * K + k];
            dx[n * K + k] = (float)s;
        }
    return 0;
}

static int op_fc_grad_w(const IrGraph *g, const IrLayer *l, const float *const *in, float *const *out,
                        IrDiag *d) {
    int64_t N, M, K;
    if (fc_geo(d, l, eval_tin(g, l, 0), eval_tout(g, l), eval_tin(g, l, 1), &N, &M, &K))
        return -1;
    const float *dy = in[0], *x = in[1];
    for (int64_t m = 0; m < M; m++)
        for (int64_t k = 0; k < K; k++) {
            double s = 0.0;
            for (int64_t n = 0; n < N; n++)
                s += (double)dy[n * M + m] * x[n * K + k];
            out[0][m * K + k] = (float)s;
        }
    if (l->n_out > 1 && l->out[1] >= 0 && out[1]) {
        if (eval_check_out(d, l, &g->t[l->out[1]], 1, (int64_t[]){M}))
            return -1;
        for (int64_t m = 0; m < M; m++) {
            double s = 0.0;
            for (int64_t n = 0; n < N; n++)
                s += dy[n * M + m];
            out[1][m] = (float)s;
        }
    }
    return 0;
}

/* Max: each window's dY goes to its (first) max; average: spread over the
 * window by the forward divisor. */
static int op_pool_grad(const IrGraph *g, const IrLayer *l, const float *const *in, float *dx,
                        IrDiag *d) {
    const IrTensor *dyt = eval_tin(g, l, 0), *xt = eval_tin(g, l, 1);
    EvalPool p;
    if (eval_pool_geo(g, l, xt, &p, d) ||
        check_like(d, g, l, 0, xt))
        return -1;
    if (ir_numel(dyt) != p.N * p.C * p.OH * p.OW)
        return fail(d, l, "dY %s is not the pooled shape of X %s", eval_shape_str(dyt), eval_shape_str(xt));
    double *acc = dzeros(d, l, ir_numel(xt));
    int64_t *idx = malloc((size_t)p.kh * (size_t)p.kw * sizeof *idx);
    if (!acc || !idx) {
        free(acc);
        free(idx);
        return acc ? fail(d, l, "out of memory") : -1;
    }
    for (int64_t nc = 0; nc < p.N * p.C; nc++) {
        const float *xp = in[1] + nc * p.H * p.W;
        double *ap = acc + nc * p.H * p.W;
        for (int64_t oh = 0; oh < p.OH; oh++)
            for (int64_t ow = 0; ow < p.OW; ow++) {
                double gy = in[0][(nc * p.OH + oh) * p.OW + ow];
                int64_t div;
                int n = eval_pool_window(&p, oh, ow, idx, &div);
                if (l->op == IR_MAXPOOL_GRAD) {
                    int k = eval_pool_argmax(xp, idx, n);
                    if (k >= 0)
                        ap[idx[k]] += gy;
                } else if (div) {
                    for (int k = 0; k < n; k++)
                        ap[idx[k]] += gy / (double)div;
                }
            }
    }
    to_float(dx, acc, ir_numel(xt));
    free(acc);
    free(idx);
    return 0;
}

/* BatchNormalization with batch statistics (mean m, biased variance v over
 * the M = N x pixels values of a channel, xh = (x - m) / sqrt(v + eps)):
 * dB = sum dY, dscale = sum dY xh, dX = scale / sqrt(v + eps) / M
 * (M dY - dB - xh dscale). */
static int op_bn_grad(const IrGraph *g, const IrLayer *l, const float *const *in, float *const *out,
                      IrDiag *d) {
    const IrTensor *dyt = eval_tin(g, l, 0), *xt = eval_tin(g, l, 1), *st = eval_tin(g, l, 2);
    if (!st || !in[2] || xt->rank < 2 || ir_numel(dyt) != ir_numel(xt) || st->rank != 1 || st->dims[0] != xt->dims[1])
        return fail(d, l, "needs dY and X of one shape [N, C, ...] and scale [C]");
    if (check_like(d, g, l, 0, xt))
        return -1;
    for (int k = 1; k < 3; k++)
        if (l->n_out <= k || l->out[k] < 0 || eval_check_out(d, l, &g->t[l->out[k]], 1, st->dims))
            return k < l->n_out && l->out[k] >= 0 ? -1 : fail(d, l, "needs dscale and dB outputs");
    int64_t N = xt->dims[0], C = xt->dims[1], S = eval_prod(xt->dims, 2, xt->rank);
    const float *dy = in[0], *x = in[1], *scale = in[2];
    double M = (double)(N * S);
    for (int64_t c = 0; c < C; c++) {
        double m, v, db = 0.0, ds = 0.0;
        eval_batch_stats(x, N, C, S, c, &m, &v);
        double is = 1.0 / sqrt(v + l->a.bn.eps);
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < S; i++) {
                int64_t o = (n * C + c) * S + i;
                db += dy[o];
                ds += dy[o] * ((x[o] - m) * is);
            }
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < S; i++) {
                int64_t o = (n * C + c) * S + i;
                double xh = (x[o] - m) * is;
                out[0][o] = (float)(scale[c] * is / M * (M * dy[o] - db - xh * ds));
            }
        if (out[1])
            out[1][c] = (float)ds;
        if (out[2])
            out[2][c] = (float)db;
    }
    return 0;
}

static int op_sgd(const IrGraph *g, const IrLayer *l, const float *const *in, float *w1, IrDiag *d) {
    const IrTensor *wt = eval_tin(g, l, 0), *dwt = eval_tin(g, l, 1);
    if (ir_numel(wt) != ir_numel(dwt))
        return fail(d, l, "W %s and dW %s differ", eval_shape_str(wt), eval_shape_str(dwt));
    if (check_like(d, g, l, 0, wt))
        return -1;
    int64_t n = ir_numel(wt);
    for (int64_t i = 0; i < n; i++)
        w1[i] = in[0][i] - l->a.train.lr * in[1][i]; /* as torch.optim.SGD: p.add_(grad, alpha=-lr) */
    return 0;
}

int eval_grad_layer(const IrGraph *g, const IrLayer *l, const float *const *in, float *const *out,
                    IrDiag *d) {
    if (l->n_in < 2 || l->in[0] < 0 || l->in[1] < 0 || !in[0] || !in[1])
        return fail(d, l, "needs two float inputs");
    switch (l->op) {
    case IR_LOSS_GRAD:
        return op_loss(g, l, in, out, d);
    case IR_ACT_GRAD:
        return op_act_grad(g, l, in, out[0], d);
    case IR_CONV_GRAD_X:
        return op_conv_grad_x(g, l, in, out[0], d);
    case IR_CONV_GRAD_W:
        return op_conv_grad_w(g, l, in, out, d);
    case IR_FC_GRAD_X:
        return op_fc_grad_x(g, l, in, out[0], d);
    case IR_FC_GRAD_W:
        return op_fc_grad_w(g, l, in, out, d);
    case IR_MAXPOOL_GRAD:
    case IR_AVGPOOL_GRAD:
        return op_pool_grad(g, l, in, out[0], d);
    case IR_BATCHNORM_GRAD:
        return op_bn_grad(g, l, in, out, d);
    case IR_SGD:
        return op_sgd(g, l, in, out[0], d);
    default:
        return fail(d, l, "not a training op");
    }
}
