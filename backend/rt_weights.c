/* rt_weights.c: weights that arrive as graph inputs at run time (ONNX node
 * tests, a host updating weights), and Gemm's forms of its operands.  Such
 * weights keep their packed place in the blob and are packed on the machine
 * before the layer (pack.c, bk_rt_pack_dma). */
#include "backend/backend.h"

int bk_is_runtime(const IrGraph *g, int ti) {
    return ti >= 0 && g->t[ti].is_graph_input && g->t[ti].dtype == IR_F32;
}

int bk_w_kmajor(const IrLayer *l) { return l->op == IR_MATMUL || (l->op == IR_GEMM && !l->a.gemm.trans_b); }

float bk_gemm_scale(const IrLayer *l, int k) {
    return l->op != IR_GEMM ? 1.0f : k == 1 ? l->a.gemm.alpha : l->a.gemm.beta;
}

int bk_gemm_c_form(const IrGraph *g, const IrLayer *l) {
    if (l->op != IR_GEMM || l->n_in < 3 || l->in[2] < 0)
        return 1;
    const IrTensor *c = &g->t[l->in[2]], *y = &g->t[l->out[0]];
    int64_t n = y->dims[0], m = y->dims[1];
    int64_t r = c->rank == 2 ? c->dims[0] : 1, k = c->rank == 2 ? c->dims[1] : c->rank == 1 ? c->dims[0] : 1;
    if (c->rank > 2 || (r != 1 && r != n) || (k != 1 && k != m))
        return 0;
    return r == 1 || n == 1 ? 1 : 2;
}

int bk_has_rt_pack(const IrGraph *g, const IrLayer *l) {
    const BkSched *s = l->dead ? NULL : l->sched;
    if (!s)
        return 0;
    if (s->kind == BK_KIND_CONV || s->kind == BK_KIND_DW)
        return bk_is_runtime(g, l->in[1]) || (s->u.conv.b_off >= 0 && bk_is_runtime(g, l->in[2]));
    if (s->kind == BK_KIND_EW && s->u.ew.op == M7K_EW_AFFINE && l->op == IR_BATCHNORM)
        for (int k = 1; k < 5; k++)
            if (bk_is_runtime(g, l->in[k]))
                return 1;
    return 0;
}
