/* passes.h: canonicalisation of the layer IR.
 *
 * These passes turn the graph as read from ONNX into the small set of layer
 * shapes the backend maps: no-ops gone, BatchNorm folded into the weights,
 * activations fused into their producer, zero Pads folded into conv/pool
 * pads, Gemm/MatMul on constant weights turned into IR_FC, dead layers and
 * their constants dropped.
 *
 * Every pass rewrites the graph in place: layers are only marked dead (their
 * index stays valid), new constants are added with ir_add_tensor, consumers
 * are rewired, and graph outputs keep their tensor (and so their name).
 * Shapes of surviving tensors never change.  A pattern that cannot be
 * rewritten exactly is left alone.
 *
 * Each pass returns the number of rewrites it made (>= 0), or -1 after adding
 * a message to d when the graph is malformed.
 */
#ifndef M7CC_PASSES_H
#define M7CC_PASSES_H

#include "ir/ir.h"

/* Checks the invariants every pass relies on (tensor indices in range,
 * producers consistent, live layers in topological order, graph outputs
 * produced).  Returns 0, or -1 with one message per problem. */
int passes_verify(const IrGraph *g, IrDiag *d);

/* Runs the passes below to a fixed point: verify, remove_noops, const_operands, make_fc,
 * fold_batchnorm, fold_pad, fold_transpose, fuse_activation, dce.  0 or -1. */
int passes_canonicalize(IrGraph *g, IrDiag *d);

/* Dropout (inference), Identity, 1x1/stride-1/unpadded pools: consumers
 * read the input instead. */
int passes_remove_noops(IrGraph *g, IrDiag *d);
/* Sub of a constant -> Add of its negation (exact); Div by a constant ->
 * Mul by its reciprocal (exact for powers of two, else within an ulp). */
int passes_const_operands(IrGraph *g, IrDiag *d);
/* Flatten/Reshape-to-[N,K] + Gemm/MatMul, or 2-D Gemm/MatMul, with constant
 * weights -> IR_FC (W as M x K, bias M). */
int passes_make_fc(IrGraph *g, IrDiag *d);
/* Inference BatchNorm with constant parameters folded into the preceding
 * Conv or FC when that is its only consumer. */
int passes_fold_batchnorm(IrGraph *g, IrDiag *d);
/* Constant-zero spatial Pad folded into the following Conv / AveragePool,
 * -inf Pad into MaxPool. */
int passes_fold_pad(IrGraph *g, IrDiag *d);
/* Transpose(P) -> Softmax -> Transpose(P^-1) -> one Softmax over axis P[a]. */
int passes_fold_transpose(IrGraph *g, IrDiag *d);
/* Relu / Clip / LeakyRelu fused into a Conv, FC, Gemm or Add it alone reads. */
int passes_fuse_activation(IrGraph *g, IrDiag *d);
/* Marks layers whose outputs nobody reads dead and frees constants that no
 * live layer reads any more. */
int passes_dce(IrGraph *g, IrDiag *d);

/* ---- training (autodiff.c, docs/training.md) ----------------------------- */
typedef struct {
    IrLossKind loss;
    float lr;                   /* SGD learning rate */
} TrainOptions;
/* Before canonicalisation: switches BatchNormalization to batch statistics
 * (as PyTorch's model.train(); canonicalisation then leaves it alone) and
 * lists every layer without a backward, all of them.  0 or -1. */
int passes_train_prepare(IrGraph *g, IrDiag *d);
/* After canonicalisation: appends a `target` graph input, the loss, the
 * backward layers and an SGD update of every conv/FC weight and bias and
 * BatchNormalization scale and bias; the
 * graph outputs become the loss, the updated parameters, then their
 * gradients (forward order).  0, or -1 listing every layer without a
 * backward. */
int passes_autodiff(IrGraph *g, const TrainOptions *o, IrDiag *d);

/* ---- rewriting helpers shared by the passes (rewrite.c) ---------------- */

/* 1 if tensor ti is a compile-time F32 constant with data and known shape. */
int canon_is_const_f32(const IrGraph *g, int ti);
/* The live layer reading tensor ti when exactly one live layer reads it
 * (once), else -1.  A graph output counts as an extra reader. */
int canon_sole_consumer(const IrGraph *g, int ti);
/* Every live layer input reading `from` reads `to` instead. */
void canon_replace_uses(IrGraph *g, int from, int to);
/* Layer li writes tensor `to` in output slot k instead of its old tensor
 * (which is left without producer). */
void canon_retarget_output(IrGraph *g, int li, int k, int to);
/* Adds an F32 tensor of the given role named base+suffix (made unique) with
 * the given shape and no data; returns its index.  Moves g->t as below. */
int canon_new_tensor(IrGraph *g, const char *base, const char *suffix, IrTensorRole role, int rank,
                     const int64_t *dims);
/* Adds a CONST F32 tensor named base+suffix (made unique) with the given
 * shape and zeroed data; returns its index.  Moves g->t (re-take pointers
 * into it afterwards); base and dims may point into it. */
int canon_new_const(IrGraph *g, const char *base, const char *suffix, int rank,
                    const int64_t *dims);
/* Sets input slot k of layer li, growing the input array if needed (new
 * slots in between are -1). */
void canon_set_input(IrGraph *g, int li, int k, int ti);

#endif
