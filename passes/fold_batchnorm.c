/* fold_batchnorm.c: inference BatchNormalization folded into the weights of
 * the Conv or FC before it.
 *
 *   y = (x - mean) * s + B,  s = scale / sqrt(var + eps)
 *   conv/fc: x = W * in + b  =>  W' = W * s (per output channel),
 *                                b' = (b - mean) * s + B
 *
 * computed in double.  The folded weights are new constants; the old ones
 * are freed by dce once nothing reads them.  Refused (the BN stays): any
 * non-constant parameter, a producer that is not Conv/FC or has other
 * readers (or is a graph output), an already fused activation, channel
 * counts that do not match, var + eps <= 0, a training-form BN whose extra
 * outputs are read. */
#include "passes/passes.h"

#include <math.h>

/* 1 if tensor ti is a constant vector of exactly c floats. */
static int const_vec(const IrGraph *g, int ti, int64_t c) {
    return canon_is_const_f32(g, ti) && ir_numel(&g->t[ti]) == c;
}

static int fold_one(IrGraph *g, int bi) {
    const IrLayer *bn = &g->l[bi];
    if (bn->n_in < 5 || bn->n_out < 1 || bn->in[0] < 0 || bn->out[0] < 0 || bn->a.bn.training)
        return 0;
    for (int k = 1; k < bn->n_out; k++)
        if (bn->out[k] >= 0 &&
            (g->t[bn->out[k]].is_graph_output || ir_consumer_count(g, bn->out[k]) > 0))
            return 0;
    int x = bn->in[0];
    int pi = g->t[x].producer;
    if (pi < 0 || canon_sole_consumer(g, x) != bi)
        return 0;
    const IrLayer *p = &g->l[pi];
    if (p->dead || (p->op != IR_CONV && p->op != IR_FC) || p->act.kind != IR_ACT_NONE ||
        p->n_in < 2 || p->n_out != 1 || p->out[0] != x)
        return 0;
    int w = p->in[1], b = p->n_in > 2 ? p->in[2] : -1;
    if (!canon_is_const_f32(g, w) || g->t[w].rank < 2)
        return 0;
    int64_t c = g->t[w].dims[0];
    if (c <= 0 || (b >= 0 && !const_vec(g, b, c)))
        return 0;
    if (g->t[x].rank >= 2 && g->t[x].dims[1] != c)
        return 0;
    for (int k = 1; k < 5; k++)
        if (!const_vec(g, bn->in[k], c))
            return 0;
    for (int64_t o = 0; o < c; o++) /* leave a NaN-producing BN to the executor */
        if (!((double)g->t[bn->in[4]].f32[o] + bn->a.bn.eps > 0))
            return 0;

    /* New tensors first: ir_add_tensor may move g->t. */
    char *bn_name = bn->name;
    int w2 = canon_new_const(g, g->t[w].name, ".bn", g->t[w].rank, g->t[w].dims);
    int b2 = b >= 0 ? canon_new_const(g, g->t[b].name, ".bn", 1, (int64_t[]){c})
                    : canon_new_const(g, bn_name, ".bias", 1, (int64_t[]){c});
    bn = &g->l[bi];
    const float *scale = g->t[bn->in[1]].f32, *shift = g->t[bn->in[2]].f32;
    const float *mean = g->t[bn->in[3]].f32, *var = g->t[bn->in[4]].f32;
    const float *win = g->t[w].f32, *bin = b >= 0 ? g->t[b].f32 : NULL;
    float *wout = g->t[w2].f32, *bout = g->t[b2].f32;
    int64_t per = ir_numel(&g->t[w]) / c;
    double eps = bn->a.bn.eps;
    for (int64_t o = 0; o < c; o++) {
        double s = (double)scale[o] / sqrt((double)var[o] + eps);
        for (int64_t i = 0; i < per; i++)
            wout[o * per + i] = (float)((double)win[o * per + i] * s);
        double b0 = bin ? bin[o] : 0.0;
        bout[o] = (float)((b0 - mean[o]) * s + shift[o]);
    }
    g->l[pi].in[1] = w2;
    canon_set_input(g, pi, 2, b2);
    int y = g->l[bi].out[0];
    g->l[bi].dead = 1;
    canon_retarget_output(g, pi, 0, y);
    return 1;
}

int passes_fold_batchnorm(IrGraph *g, IrDiag *d) {
    (void)d;
    int n = 0;
    for (int li = 0; li < g->n_l; li++)
        if (!g->l[li].dead && g->l[li].op == IR_BATCHNORM)
            n += fold_one(g, li);
    return n;
}
