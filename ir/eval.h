/* eval.h: the reference executor.  Runs an IR graph on the host in float32,
 * in the semantic (ONNX, NCHW) layouts, with plain loops that follow the ONNX
 * operator definitions.  It is the oracle the tests compare compiled code
 * against, and implements `m7cc --interpret`.
 *
 * Sums (conv, pooling, gemm/fc/matmul, LRN, softmax, batchnorm) accumulate
 * in double and round once to float, so the oracle is at least as accurate
 * as any float implementation it is compared with. */
#ifndef M7CC_EVAL_H
#define M7CC_EVAL_H

#include "ir/ir.h"

/* Runs the graph on the given inputs (one per g->inputs entry, in order,
 * float32, shapes as the graph says).  Dead layers are skipped; CONST (and
 * PARAM with data) tensors supply their f32 data.  On success returns 0 and
 * sets outputs[i] to a malloc'ed float array per g->outputs entry (caller
 * frees); an INT64 output (shape arithmetic, folded to a constant by shape
 * inference) gets NULL: its value is the tensor's i64.  Returns -1 with a message in d on failure (unknown shape,
 * inconsistent shapes, a tensor over 4 GiB or out of memory, unsupported
 * op); then no output is set.  Activations are freed after their last
 * reader, so peak memory is about the live set, not the whole graph. */
int ir_eval(const IrGraph *g, const float *const *inputs, float **outputs, IrDiag *d);

/* Runs one layer: in[k] is the data of tensor l->in[k] (NULL for an absent
 * optional input or an I64 shape operand), out[k] receives tensor l->out[k]
 * (NULL for an output nobody wants).  Shapes come from the tensors and are
 * checked against the op's rules before any element is touched. Returns 0, or
 * -1 with a message in d. */
int ir_eval_layer(const IrGraph *g, const IrLayer *l, const float *const *in, float *const *out,
                  IrDiag *d);

#endif
