/* sub_to_add.c: A - c with c a constant becomes A + (-c).  Negation is
 * exact, so the result is bit for bit the same, and every backend path of
 * Add with a constant (a per-channel shift, a fused bias, broadcasting)
 * serves Sub too. */
#include "passes.h"

int passes_sub_to_add(IrGraph *g, IrDiag *d) {
    (void)d;
    int n = 0;
    for (int li = 0; li < g->n_l; li++) {
        IrLayer *l = &g->l[li];
        if (l->dead || l->op != IR_SUB || l->n_in != 2 || !canon_is_const_f32(g, l->in[1]))
            continue;
        int b = l->in[1];
        int c = canon_new_const(g, g->t[b].name, ".neg", g->t[b].rank, g->t[b].dims);
        int64_t cnt = ir_numel(&g->t[c]);
        for (int64_t i = 0; i < cnt; i++)
            g->t[c].f32[i] = -g->t[b].f32[i];
        l->in[1] = c; /* canon_new_const moves g->t only: l stays valid */
        l->op = IR_ADD;
        n++;
    }
    return n;
}
