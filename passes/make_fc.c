/* make_fc.c: Gemm / MatMul with constant weights -> IR_FC.
 *
 * IR_FC is Y = X W^T + b with W laid out M x K and X read as N x K after
 * flattening everything behind the batch axis, so a Flatten(axis 1) or a
 * Reshape to [N, K] feeding the Gemm is skipped as well (dce removes it
 * when nothing else reads it).  Refused (left as is): transA, alpha != 1,
 * non-constant B, a C that is not a per-column bias, batched MatMul. */
#include "passes/passes.h"

#include <string.h>

/* If tensor a (the N x K operand) is a batch-preserving flatten of some X,
 * returns X, else a. */
static int skip_flatten(const IrGraph *g, int a) {
    int p = g->t[a].producer;
    if (p < 0)
        return a;
    const IrLayer *f = &g->l[p];
    if (f->dead || f->n_in < 1 || f->in[0] < 0)
        return a;
    if (f->op != IR_FLATTEN && f->op != IR_RESHAPE)
        return a;
    if (f->op == IR_FLATTEN && f->a.axis != 1)
        return a;
    /* y = [d0, prod(x dims 1..)] is a flatten behind the batch axis; d0
     * then equals x's batch dim even when symbolic (numel is preserved). */
    const IrTensor *x = &g->t[f->in[0]], *y = &g->t[a];
    if (x->dtype != IR_F32 || x->rank < 2 || y->rank != 2 || y->dims[1] < 0)
        return a;
    int64_t k = 1;
    for (int i = 1; i < x->rank; i++)
        if (x->dims[i] < 0 || ir_mul_i64(k, x->dims[i], &k))
            return a;
    if (k <= 0 || k != y->dims[1])
        return a;
    return f->in[0];
}

/* The bias vector of Gemm's C operand: C itself when it already is an F32
 * [M] constant and beta == 1, a new [M] constant when it broadcasts along
 * rows (shape [1], [M], [1, M], scalar), -2 when it is not a bias. */
static int gemm_bias(IrGraph *g, int li, int c, int64_t m) {
    if (c < 0)
        return -1;
    if (!canon_is_const_f32(g, c))
        return -2;
    const IrTensor *t = &g->t[c];
    int64_t n = ir_numel(t);
    int row = (t->rank == 1 && (n == m || n == 1)) || t->rank == 0 ||
              (t->rank == 2 && t->dims[0] == 1 && (n == m || n == 1));
    if (!row)
        return -2;
    float beta = g->l[li].a.gemm.beta;
    if (t->rank == 1 && n == m && beta == 1.0f)
        return c;
    int b = canon_new_const(g, g->t[c].name, ".bias", 1, (int64_t[]){m});
    t = &g->t[c];
    for (int64_t i = 0; i < m; i++)
        g->t[b].f32[i] = beta * t->f32[n == 1 ? 0 : i];
    return b;
}

static int to_fc(IrGraph *g, int li) {
    IrLayer *l = &g->l[li];
    if (l->n_in < 2 || l->in[0] < 0 || l->n_out < 1 || l->out[0] < 0)
        return 0;
    int is_gemm = l->op == IR_GEMM;
    if (is_gemm && (l->a.gemm.trans_a || l->a.gemm.alpha != 1.0f))
        return 0;
    int a = l->in[0], bw = l->in[1], y = l->out[0];
    if (!canon_is_const_f32(g, bw) || g->t[bw].rank != 2 || g->t[a].rank != 2 || g->t[y].rank != 2)
        return 0;
    int trans_b = is_gemm && l->a.gemm.trans_b;
    int64_t k = g->t[bw].dims[trans_b ? 1 : 0], m = g->t[bw].dims[trans_b ? 0 : 1];
    if (g->t[a].dims[1] != k || g->t[y].dims[1] != m || g->t[y].dims[0] != g->t[a].dims[0])
        return 0;
    int bias = is_gemm && l->n_in > 2 ? gemm_bias(g, li, l->in[2], m) : -1;
    if (bias == -2)
        return 0;
    int w = bw;
    if (!trans_b) { /* W = B^T */
        w = canon_new_const(g, g->t[bw].name, ".T", 2, (int64_t[]){m, k});
        const float *src = g->t[bw].f32;
        float *dst = g->t[w].f32;
        for (int64_t i = 0; i < k; i++)
            for (int64_t j = 0; j < m; j++)
                dst[j * k + i] = src[i * m + j];
    }
    l = &g->l[li];
    l->op = IR_FC;
    memset(&l->a, 0, sizeof l->a);
    l->n_in = 2;
    l->in[0] = skip_flatten(g, a);
    l->in[1] = w;
    if (bias >= 0)
        canon_set_input(g, li, 2, bias);
    return 1;
}

int passes_make_fc(IrGraph *g, IrDiag *d) {
    (void)d;
    int n = 0;
    for (int li = 0; li < g->n_l; li++) {
        IrLayer *l = &g->l[li];
        if (!l->dead && (l->op == IR_GEMM || l->op == IR_MATMUL))
            n += to_fc(g, li);
    }
    return n;
}
