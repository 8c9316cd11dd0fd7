/* remove_noops.c: Identity and inference Dropout copy their input; drop them.
 * PyTorch emits Identity on shared initializers and keeps Dropout when
 * exported in training-preserving mode. */
#include "passes.h"

/* Output slot of layer li that writes tensor ti, or -1. */
static int out_slot(const IrLayer *l, int ti) {
    for (int k = 0; k < l->n_out; k++)
        if (l->out[k] == ti)
            return k;
    return -1;
}

int passes_remove_noops(IrGraph *g, IrDiag *d) {
    (void)d;
    int n = 0;
    for (int li = 0; li < g->n_l; li++) {
        IrLayer *l = &g->l[li];
        if (l->dead || (l->op != IR_IDENTITY && l->op != IR_DROPOUT) || l->n_in < 1 || l->n_out < 1)
            continue;
        int x = l->in[0], y = l->out[0];
        if (x < 0 || y < 0)
            continue;
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
