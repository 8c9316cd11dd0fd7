/* rewrite.c: small graph-rewriting helpers shared by the canonicalisation
 * passes, so each pass reads as its pattern and its arithmetic only. */
#include "passes/passes.h"

#include <stdlib.h>
#include <string.h>

int canon_is_const_f32(const IrGraph *g, int ti) {
    if (ti < 0 || ti >= g->n_t)
        return 0;
    const IrTensor *t = &g->t[ti];
    /* A PARAM may be retrained and an input may be fed at run time: only
     * true constants are folded. */
    return t->role == IR_T_CONST && t->dtype == IR_F32 && t->f32 && !t->is_graph_input &&
           ir_numel(t) >= 0;
}

int canon_sole_consumer(const IrGraph *g, int ti) {
    if (ti < 0 || ti >= g->n_t || g->t[ti].is_graph_output)
        return -1;
    int who = -1, uses = 0;
    for (int i = 0; i < g->n_l; i++) {
        const IrLayer *l = &g->l[i];
        if (l->dead)
            continue;
        for (int k = 0; k < l->n_in; k++)
            if (l->in[k] == ti) {
                who = i;
                uses++;
            }
    }
    return uses == 1 ? who : -1;
}

void canon_replace_uses(IrGraph *g, int from, int to) {
    for (int i = 0; i < g->n_l; i++) {
        IrLayer *l = &g->l[i];
        if (l->dead)
            continue;
        for (int k = 0; k < l->n_in; k++)
            if (l->in[k] == from)
                l->in[k] = to;
    }
}

void canon_retarget_output(IrGraph *g, int li, int k, int to) {
    IrLayer *l = &g->l[li];
    int old = l->out[k];
    if (old >= 0 && g->t[old].producer == li)
        g->t[old].producer = -1;
    l->out[k] = to;
    g->t[to].producer = li;
}

int canon_new_tensor(IrGraph *g, const char *base, const char *suffix, IrTensorRole role, int rank,
                     const int64_t *dims) {
    int64_t d[IR_MAX_RANK]; /* dims may point into g->t, which ir_add_tensor moves */
    for (int i = 0; i < rank && i < IR_MAX_RANK; i++)
        d[i] = dims[i];
    size_t n = strlen(base) + strlen(suffix) + 24;
    char *name = ir_xmalloc(n);
    snprintf(name, n, "%s%s", base, suffix);
    for (int i = 2; ir_find_tensor(g, name) >= 0; i++)
        snprintf(name, n, "%s%s.%d", base, suffix, i);
    int ti = ir_add_tensor(g, name, IR_F32, role);
    free(name);
    ir_set_shape(&g->t[ti], rank, d);
    return ti;
}

int canon_new_const(IrGraph *g, const char *base, const char *suffix, int rank,
                    const int64_t *dims) {
    int ti = canon_new_tensor(g, base, suffix, IR_T_CONST, rank, dims);
    IrTensor *t = &g->t[ti];
    int64_t cnt = ir_numel(t);
    t->f32 = ir_xcalloc((size_t)(cnt > 0 ? cnt : 1), sizeof(float));
    return ti;
}

void canon_set_input(IrGraph *g, int li, int k, int ti) {
    IrLayer *l = &g->l[li];
    if (k >= l->n_in) {
        l->in = ir_xrealloc(l->in, (size_t)(k + 1) * sizeof(int));
        for (int j = l->n_in; j < k; j++)
            l->in[j] = -1;
        l->n_in = k + 1;
    }
    l->in[k] = ti;
}
