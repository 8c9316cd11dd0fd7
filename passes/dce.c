/* dce.c: dead-code elimination.  A layer lives when a graph output or a
 * living layer reads one of its outputs; one backward sweep over the
 * topologically ordered layers decides it.  Constants no living layer reads
 * any more (weights replaced by folding, BN parameters) are freed: the
 * graph of a large model holds hundreds of MB of them. */
#include "passes/passes.h"

#include <stdlib.h>

int passes_dce(IrGraph *g, IrDiag *d) {
    (void)d;
    char *needed = ir_xcalloc((size_t)g->n_t, 1);
    for (int i = 0; i < g->n_outputs; i++)
        needed[g->outputs[i]] = 1;
    int n = 0;
    for (int li = g->n_l - 1; li >= 0; li--) {
        IrLayer *l = &g->l[li];
        if (l->dead)
            continue;
        int live = 0;
        for (int k = 0; k < l->n_out; k++)
            if (l->out[k] >= 0 && g->t[l->out[k]].producer == li && needed[l->out[k]])
                live = 1;
        if (!live) {
            l->dead = 1;
            n++;
            continue;
        }
        for (int k = 0; k < l->n_in; k++)
            if (l->in[k] >= 0)
                needed[l->in[k]] = 1;
    }
    for (int i = 0; i < g->n_t; i++) {
        IrTensor *t = &g->t[i];
        if (t->producer >= 0 && g->l[t->producer].dead)
            t->producer = -1;
        if (!needed[i] && !t->is_graph_input) {
            free(t->f32);
            free(t->i64);
            t->f32 = NULL;
            t->i64 = NULL;
        }
    }
    free(needed);
    return n;
}
