/* canonicalize.c: the order of the canonicalisation passes.
 *
 * noops go first so every other pattern sees producer and consumer
 * adjacent; make_fc before fold_batchnorm so a BN after a Gemm folds into
 * the FC; BN folding before activation fusing (BN sits between conv and
 * relu).  A round can enable the next (dce removing a dead second reader of
 * a conv output lets its BN or Relu fold), so rounds repeat until nothing
 * changes. */
#include "passes/passes.h"

typedef int (*Pass)(IrGraph *, IrDiag *);

int passes_canonicalize(IrGraph *g, IrDiag *d) {
    if (passes_verify(g, d))
        return -1;
    static const Pass order[] = {passes_remove_noops, passes_const_operands, passes_make_fc, passes_fold_batchnorm,
                                 passes_fold_pad, passes_fold_transpose, passes_fuse_activation, passes_dce};
    /* Every rewrite removes a layer or a pattern for good, so this bound is
     * never reached on a correct pass; it only guards against a bug. */
    for (int round = 0; round <= g->n_l + 1; round++) {
        int changed = 0;
        for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
            int r = order[i](g, d);
            if (r < 0)
                return -1;
            changed += r;
        }
        if (!changed)
            return passes_verify(g, d);
    }
    ir_diag_add(d, "canonicalisation did not reach a fixed point (internal error)");
    return -1;
}
