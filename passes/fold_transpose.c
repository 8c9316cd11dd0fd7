/* fold_transpose.c: Transpose(P) -> Softmax -> Transpose(P^-1) becomes one
 * Softmax on the original tensor.
 *
 * PyTorch exports softmax over a non-last axis at opset < 13 this way (the
 * old Softmax flattens to 2-D at its axis, so the exporter moves the wanted
 * axis last).  A softmax over exactly one axis a of the transposed tensor is
 * a softmax over axis P[a] of the original; the old coerce-to-2-D form is
 * that only when a is the last axis.  Nothing else is rewritten. */
#include "passes/passes.h"

static int is_inverse(const IrLayer *t1, const IrLayer *t2) {
    int r = t1->a.perm.n;
    if (t2->a.perm.n != r)
        return 0;
    for (int k = 0; k < r; k++) {
        int p = t1->a.perm.v[k];
        if (p < 0 || p >= r || t2->a.perm.v[p] != k)
            return 0;
    }
    return 1;
}

int passes_fold_transpose(IrGraph *g, IrDiag *d) {
    (void)d;
    int n = 0;
    for (int i = 0; i < g->n_l; i++) {
        IrLayer *t1 = &g->l[i];
        if (t1->dead || t1->op != IR_TRANSPOSE || t1->n_in < 1 || t1->n_out < 1)
            continue;
        int si = canon_sole_consumer(g, t1->out[0]);
        if (si < 0 || g->l[si].op != IR_SOFTMAX || g->l[si].n_out < 1)
            continue;
        int ti = canon_sole_consumer(g, g->l[si].out[0]);
        if (ti < 0 || g->l[ti].op != IR_TRANSPOSE || !is_inverse(t1, &g->l[ti]))
            continue;
        IrLayer *sm = &g->l[si];
        int r = t1->a.perm.n, a = sm->a.softmax.axis;
        if (a < 0 || a >= r || (sm->a.softmax.coerce_2d && a != r - 1))
            continue;
        /* The softmax reads the transpose's input and writes the second
         * transpose's output; both transposes go. */
        sm->a.softmax.axis = t1->a.perm.v[a];
        sm->a.softmax.coerce_2d = 0;
        sm->in[0] = t1->in[0];
        canon_retarget_output(g, si, 0, g->l[ti].out[0]);
        t1->dead = 1;
        g->l[ti].dead = 1;
        n++;
    }
    return n;
}
