/* fuse_activation.c: Relu, Clip (Relu6 is Clip 0..6) and LeakyRelu applied
 * by the Conv / FC / Gemm / Add that produces their input, so the backend
 * applies them to each output tile while it is still on chip.  Refused: a
 * producer with other readers, a graph-output intermediate, Clip bounds that
 * are not constants.  Sigmoid is left standalone.  A producer that already
 * has an activation takes a second one only when the two compose into one
 * exactly (Relu and Clip are clamps: Relu then Clip(0, 6), as PyTorch
 * exports relu6 after some layers, is Clip(0, 6)); otherwise no fusing twice. */
#include "passes/passes.h"

#include <math.h>

/* The bound of a Clip: its min/max input when given (opset >= 11), else the
 * attribute value the frontend stored.  0 when the input is not constant. */
static int clip_bound(const IrGraph *g, const IrLayer *a, int k, float *v) {
    if (k >= a->n_in || a->in[k] < 0)
        return 1;
    int ti = a->in[k];
    if (!canon_is_const_f32(g, ti) || ir_numel(&g->t[ti]) != 1)
        return 0;
    *v = g->t[ti].f32[0];
    return 1;
}

/* Relu and Clip as the clamp [lo, hi]; 0 for other activations. */
static int as_clamp(const IrAct *a, float *lo, float *hi) {
    if (a->kind == IR_ACT_RELU) {
        *lo = 0;
        *hi = INFINITY;
        return 1;
    }
    if (a->kind != IR_ACT_CLIP || isnan(a->lo) || isnan(a->hi) || a->lo > a->hi)
        return 0;
    *lo = a->lo;
    *hi = a->hi;
    return 1;
}

/* `first` then `then` as one activation: clamp(clamp(x, a, b), c, d) is
 * clamp(x, max(a, c), min(b, d)) when the intervals overlap. */
static int compose(const IrAct *first, const IrAct *then, IrAct *out) {
    float a, b, c, d;
    if (!as_clamp(first, &a, &b) || !as_clamp(then, &c, &d))
        return 0;
    float lo = a > c ? a : c, hi = b < d ? b : d;
    if (lo > hi)
        return 0;
    if (lo == 0 && isinf(hi))
        *out = (IrAct){.kind = IR_ACT_RELU, .lo = -INFINITY, .hi = INFINITY};
    else
        *out = (IrAct){.kind = IR_ACT_CLIP, .lo = lo, .hi = hi};
    return 1;
}

static int fuse_one(IrGraph *g, int ai) {
    const IrLayer *a = &g->l[ai];
    if (a->n_in < 1 || a->n_out < 1 || a->in[0] < 0 || a->out[0] < 0)
        return 0;
    IrAct act = {.kind = IR_ACT_RELU, .alpha = 0, .lo = -INFINITY, .hi = INFINITY};
    if (a->op == IR_LEAKY_RELU) {
        act.kind = IR_ACT_LEAKY_RELU;
        act.alpha = a->act.alpha;
    } else if (a->op == IR_CLIP) {
        act.kind = IR_ACT_CLIP;
        act.lo = a->act.lo;
        act.hi = a->act.hi;
        if (!clip_bound(g, a, 1, &act.lo) || !clip_bound(g, a, 2, &act.hi))
            return 0;
    }
    int x = a->in[0];
    int pi = g->t[x].producer;
    if (pi < 0 || canon_sole_consumer(g, x) != ai)
        return 0;
    const IrLayer *p = &g->l[pi];
    if (p->dead || p->n_out != 1 || p->out[0] != x)
        return 0;
    if (p->op != IR_CONV && p->op != IR_FC && p->op != IR_GEMM && p->op != IR_ADD)
        return 0;
    if (p->act.kind != IR_ACT_NONE && !compose(&p->act, &act, &act))
        return 0;
    g->l[pi].act = act;
    int y = a->out[0];
    g->l[ai].dead = 1;
    canon_retarget_output(g, pi, 0, y);
    return 1;
}

int passes_fuse_activation(IrGraph *g, IrDiag *d) {
    (void)d;
    int n = 0;
    for (int li = 0; li < g->n_l; li++) {
        IrOp op = g->l[li].op;
        if (!g->l[li].dead && (op == IR_RELU || op == IR_CLIP || op == IR_LEAKY_RELU))
            n += fuse_one(g, li);
    }
    return n;
}
