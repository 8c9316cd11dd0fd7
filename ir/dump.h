/* dump.h: the --dump-ir text of a graph.  Stable (golden-tested), readable,
 * nothing run-dependent in it: no pointers, no timings. */
#ifndef M7CC_DUMP_H
#define M7CC_DUMP_H

#include <stdio.h>

#include "ir/ir.h"

/* Header (model, opset, inputs, outputs), one block per live layer
 * (attributes, tensors with shapes, parameter bytes, FLOPs, fused
 * activation, backend annotations via l->dump_sched), then totals. */
void ir_dump(const IrGraph *g, FILE *f);

#endif
