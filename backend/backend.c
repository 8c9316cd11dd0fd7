/* backend.c: runs the backend passes in order and answers program-wide
 * questions (sizes, weights blob) for the code generator. */
#include <string.h>

#include "backend/backend.h"

void bk_options_default(BkOptions *o) {
    o->double_buffer = 1;
    o->weight_sharing = 1;
}

int backend_run(IrGraph *g, const M7Machine *m, IrDiag *d) {
    BkOptions o;
    bk_options_default(&o);
    return backend_run_opts(g, m, &o, d);
}

int backend_run_opts(IrGraph *g, const M7Machine *m, const BkOptions *o, IrDiag *d) {
    if (m->cores < 1 || m->lanes != 32 || m->am_bytes < 4096 || m->sm_bytes < 1024) {
        ir_diag_add(d, "backend: machine description unsupported (cores %d, lanes %d; the kernels "
                       "need 32 lanes)", m->cores, m->lanes);
        return -1;
    }
    /* A program computes its outputs; one folded to a constant at compile
     * time (e.g. Shape of an input) would never be written. */
    int bad = 0;
    for (int i = 0; i < g->n_outputs; i++) {
        const IrTensor *t = &g->t[g->outputs[i]];
        if (t->role == IR_T_CONST) {
            ir_diag_add(d, "backend: graph output '%s' is a constant known at compile time (%s); "
                           "a compiled program only computes outputs from its inputs",
                        t->name, t->dtype == IR_I64 ? "int64 shape arithmetic" : "float");
            bad = 1;
        }
    }
    if (bad || bk_map(g, d))
        return -1;
    bk_fuse_pools(g);
    if (bk_tile(g, m, o, d) || bk_memplan(g, d))
        return -1;
    bk_convert_moves(g);
    return 0;
}

void bk_program(const IrGraph *g, BkProgram *p) {
    if (g->program) {
        *p = *g->program;
    } else { /* the blob's fixed head (iota, zeros) even when no layer adds weights */
        memset(p, 0, sizeof *p);
        p->zero_bytes = 128;
        p->weights_bytes = BK_BLOB_ZERO + p->zero_bytes;
    }
    p->cyc_pred = 0;
    for (int li = 0; li < g->n_l; li++) {
        const IrLayer *l = &g->l[li];
        if (!l->dead && l->sched)
            p->cyc_pred += l->sched->cyc_pred;
    }
}
