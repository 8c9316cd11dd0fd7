/* shape.h: static shape inference and constant folding of shape arithmetic.
 *
 * Walks the layers in topological order and computes every output's rank,
 * dims and dtype from its inputs, checking that they agree (messages name
 * the layer, its op and the shapes).  Shape helpers whose inputs are
 * compile-time constants (Shape, Gather, Unsqueeze, Squeeze, Cast, Concat,
 * Reshape, Identity, Dropout, Transpose, int64 Add/Mul) are evaluated: the
 * layer is marked dead and
 * its output becomes an IR_T_CONST tensor.  Running it again on an
 * already-inferred graph changes nothing (passes call it after rewriting).
 *
 * Conventions the IR does not spell out elsewhere:
 *   IR_PAD      a.pad.pads holds 2*rank entries: all begins, then all ends.
 *   IR_SHAPE    a.axes.n == 2 means the opset-15 slice [v[0], v[1]) of the
 *               shape; a.axes.n == 0 means the whole shape.
 *   IR_RESHAPE  in[1] is the I64 target (0 = copy dim, -1 = infer); with no
 *               in[1] the output shape already set is kept.
 *   IR_SQUEEZE  a.axes.n == 0 squeezes every dimension of size 1.
 */
#ifndef M7CC_SHAPE_H
#define M7CC_SHAPE_H

#include "ir/ir.h"

/* Largest tensor we accept: the M7004's DDR (16 GB). */
#define IR_MAX_TENSOR_BYTES (INT64_C(1) << 34)

/* 0 ok, -1 with messages in d. */
int ir_infer_shapes(IrGraph *g, IrDiag *d);
/* One layer, whose inputs must already have shapes (the frontend calls this
 * as it builds the graph, so later nodes can see folded constants). */
int ir_infer_layer(IrGraph *g, int li, IrDiag *d);
/* Checks a tensor's declared shape: known, non-negative dims, size within
 * IR_MAX_TENSOR_BYTES. 0 ok, -1 with a message naming the tensor. */
int ir_check_tensor_size(const IrTensor *t, IrDiag *d);
/* Writes "[1x3x224x224]" (or "[?]" when unknown) into buf. */
const char *ir_shape_str(const IrTensor *t, char *buf, size_t n);

#endif
