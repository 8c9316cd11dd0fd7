/* const_operands.c: Sub and Div by a constant become Add and Mul, so every
 * backend path of Add/Mul with a constant (a per-channel shift or scale, a
 * fused bias, broadcasting) serves them.
 *
 *   A - c  ->  A + (-c)    exact: negation changes no bit of the sum
 *   A / c  ->  A * (1/c)   exact when c is a power of two; otherwise within
 *                          an ulp or so of the quotient, as on the machine,
 *                          which divides as a * (1/b) anyway.  A c with no
 *                          finite reciprocal (0, subnormal) is left alone. */
#include <math.h>

#include "passes/passes.h"

int passes_const_operands(IrGraph *g, IrDiag *d) {
    (void)d;
    int n = 0;
    for (int li = 0; li < g->n_l; li++) {
        IrLayer *l = &g->l[li];
        if (l->dead || (l->op != IR_SUB && l->op != IR_DIV) || l->n_in != 2 || !canon_is_const_f32(g, l->in[1]))
            continue;
        int b = l->in[1], is_div = l->op == IR_DIV;
        int64_t cnt = ir_numel(&g->t[b]);
        int ok = 1;
        for (int64_t i = 0; i < cnt && is_div; i++)
            ok &= isfinite(1.0f / g->t[b].f32[i]) && g->t[b].f32[i] != 0.0f;
        if (!ok)
            continue;
        int c = canon_new_const(g, g->t[b].name, is_div ? ".recip" : ".neg", g->t[b].rank, g->t[b].dims);
        for (int64_t i = 0; i < cnt; i++)
            g->t[c].f32[i] = is_div ? 1.0f / g->t[b].f32[i] : -g->t[b].f32[i];
        l->in[1] = c; /* canon_new_const moves g->t only: l stays valid */
        l->op = is_div ? IR_MUL : IR_ADD;
        n++;
    }
    return n;
}
