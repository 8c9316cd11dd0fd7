/* remove_noops.c: layers that copy their input are dropped: Identity,
 * inference Dropout, and a pool with a 1x1 window, stride 1 and no pads.
 * PyTorch emits Identity on shared initializers, keeps Dropout when
 * exported in training-preserving mode, and exports VGG's
 * AdaptiveAvgPool2d(7) on a 7x7 map as a 1x1 AveragePool. */
#include "passes/passes.h"

/* Output slot of layer li that writes tensor ti, or -1. */
static int out_slot(const IrLayer *l, int ti) {
    for (int k = 0; k < l->n_out; k++)
        if (l->out[k] == ti)
            return k;
    return -1;
}

static int same_shape(const IrTensor *a, const IrTensor *b) {
    if (a->rank < 0 || a->rank != b->rank)
        return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i] || a->dims[i] < 0)
            return 0;
    return 1;
}

static int is_noop(const IrGraph *g, const IrLayer *l) {
    if (ir_op_is_noop(l->op))
        return 1;
    if (l->op != IR_MAXPOOL && l->op != IR_AVGPOOL)
        return 0;
    const IrPoolAttr *p = &l->a.pool;
    return p->kernel[0] == 1 && p->kernel[1] == 1 && p->stride[0] == 1 && p->stride[1] == 1 &&
           !p->pad[0] && !p->pad[1] && !p->pad[2] && !p->pad[3] && l->n_out == 1 &&
           same_shape(&g->t[l->in[0]], &g->t[l->out[0]]);
}

int passes_remove_noops(IrGraph *g, IrDiag *d) {
    (void)d;
    int n = 0;
    for (int li = 0; li < g->n_l; li++) {
        IrLayer *l = &g->l[li];
        if (l->dead || l->n_in < 1 || l->n_out < 1 || l->in[0] < 0 || l->out[0] < 0 ||
            !is_noop(g, l))
            continue;
        int x = l->in[0], y = l->out[0];
        /* Dropout's mask output: nobody reads it in practice; if someone
         * does, keep the layer rather than invent a tensor of ones. */
        if (l->op == IR_DROPOUT && l->n_out > 1 && l->out[1] >= 0 &&
            (g->t[l->out[1]].is_graph_output || ir_consumer_count(g, l->out[1]) > 0))
            continue;
        if (!g->t[y].is_graph_output) {
            canon_replace_uses(g, y, x);
            l->dead = 1;
            g->t[y].producer = -1;
            n++;
            continue;
        }
        /* y must keep its name: let x's producer write y directly, if this
         * layer is x's only reader. */
        int p = g->t[x].producer;
        if (p < 0 || g->l[p].dead || canon_sole_consumer(g, x) != li)
            continue;
        int k = out_slot(&g->l[p], x);
        if (k < 0)
            continue;
        l->dead = 1;
        canon_retarget_output(g, p, k, y);
        n++;
    }
    return n;
}
