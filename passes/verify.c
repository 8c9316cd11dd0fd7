/* verify.c: the graph invariants every pass relies on and must keep.
 * Run before canonicalisation (bad IR is reported, not crashed on) and by
 * the tests after every pass. */
#include "passes/passes.h"

static int is_source(const IrTensor *t) {
    return t->is_graph_input || t->role == IR_T_CONST || t->role == IR_T_PARAM;
}

int passes_verify(const IrGraph *g, IrDiag *d) {
    int bad = 0;
    for (int i = 0; i < g->n_inputs; i++)
        if (g->inputs[i] < 0 || g->inputs[i] >= g->n_t) {
            ir_diag_add(d, "graph input %d refers to tensor %d of %d", i, g->inputs[i], g->n_t);
            bad++;
        }
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] < 0 || g->outputs[i] >= g->n_t) {
            ir_diag_add(d, "graph output %d refers to tensor %d of %d", i, g->outputs[i], g->n_t);
            bad++;
        }
    for (int i = 0; i < g->n_t; i++) {
        int p = g->t[i].producer;
        if (p < -1 || p >= g->n_l) {
            ir_diag_add(d, "tensor '%s' has producer %d of %d layers", g->t[i].name, p, g->n_l);
            bad++;
        }
    }
    if (bad)
        return -1;
    for (int li = 0; li < g->n_l; li++) {
        const IrLayer *l = &g->l[li];
        if (l->dead)
            continue;
        if (l->n_in < 0 || l->n_out < 1) {
            ir_diag_add(d, "layer '%s' has %d inputs and %d outputs", l->name, l->n_in, l->n_out);
            bad++;
            continue;
        }
        for (int k = 0; k < l->n_out; k++) {
            int ti = l->out[k];
            if (ti < -1 || ti >= g->n_t) {
                ir_diag_add(d, "layer '%s' output %d refers to tensor %d of %d", l->name, k, ti, g->n_t);
                bad++;
            } else if (ti >= 0 && g->t[ti].producer != li) {
                ir_diag_add(d, "layer '%s' writes tensor '%s' whose producer is layer %d", l->name,
                            g->t[ti].name, g->t[ti].producer);
                bad++;
            }
        }
        for (int k = 0; k < l->n_in; k++) {
            int ti = l->in[k];
            if (ti == -1)
                continue;
            if (ti < -1 || ti >= g->n_t) {
                ir_diag_add(d, "layer '%s' input %d refers to tensor %d of %d", l->name, k, ti, g->n_t);
                bad++;
                continue;
            }
            const IrTensor *t = &g->t[ti];
            if (t->producer < 0 && !is_source(t)) {
                ir_diag_add(d, "layer '%s' reads tensor '%s' that nothing produces", l->name, t->name);
                bad++;
            } else if (t->producer >= 0 && (t->producer >= li || g->l[t->producer].dead)) {
                ir_diag_add(d, "layer '%s' reads tensor '%s' before (or without) its producer",
                            l->name, t->name);
                bad++;
            }
        }
    }
    for (int i = 0; i < g->n_outputs; i++) {
        const IrTensor *t = &g->t[g->outputs[i]];
        if (t->producer >= 0 ? g->l[t->producer].dead : !is_source(t)) {
            ir_diag_add(d, "graph output '%s' is not produced by any layer", t->name);
            bad++;
        }
    }
    return bad ? -1 : 0;
}
