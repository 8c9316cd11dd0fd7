/* plan_print.h: a kernel plan of target/m7k.h printed as a C constant,
 * field by field from the plan's X-macro list (so no field name is written
 * twice).  Fields that are zero are left out (a designated initialiser
 * makes them zero).  `table` names the array a plan's table field points
 * at (M7kPool.recip, M7kMoves.m, M7kPackDma.d) or the function M7kConv.mk
 * names; NULL for other plans. */
#ifndef M7CC_PLAN_PRINT_H
#define M7CC_PLAN_PRINT_H

#include <stdio.h>

#include "target/m7k.h"

/* One declaration per plan: pp_<plan>(f, "static const M7kConv NAME", p). */
#define M7CC_PLAN_PRINTERS(X)                                                                              \
    X(conv, M7kConv) X(dw, M7kDw) X(pool, M7kPool) X(gpool, M7kGPool) X(ew, M7kEw)                         \
    X(softmax, M7kSoftmax) X(lrn, M7kLrn) X(softmax_rows, M7kSoftmaxRows) X(softmax_axis, M7kSoftmaxAxis)  \
    X(moves, M7kMoves) X(pad, M7kPad) X(copy, M7kCopy) X(pack_dma, M7kPackDma) X(pack_bn, M7kPackBn)       \
    X(pack_scale, M7kPackScale) X(train, M7kTrain) X(upsample, M7kUpsample)
#define M7CC_DECLARE_PRINTER(plan, type) \
    void pp_##plan(FILE *f, const char *name, const type *p, const char *table);
M7CC_PLAN_PRINTERS(M7CC_DECLARE_PRINTER)

/* One element of a move or DMA table, as `{...}` (no newline). */
void pp_move(FILE *f, const M7kMove *m);
void pp_dma_desc(FILE *f, const M7kDmaDesc *d);
/* A float as a C literal that reads back exactly (1 -> 1.0f, INFINITY). */
void pp_float(FILE *f, float v);

#endif
