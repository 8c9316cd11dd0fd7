/* tgraph.h: hand-built graphs for the tests (passes, dump, backend,
 * codegen), and the reference executor (ir_eval) to run them. */
#ifndef M7CC_TGRAPH_H
#define M7CC_TGRAPH_H

#include "ir/ir.h"

/* Tensors with shapes; tg_const fills deterministic pseudo-random data in
 * [lo, hi) from a per-call seed. */
int tg_input(IrGraph *g, const char *name, int rank, const int64_t *dims);
int tg_act(IrGraph *g, const char *name, int rank, const int64_t *dims);
int tg_const(IrGraph *g, const char *name, int rank, const int64_t *dims, unsigned seed,
             float lo, float hi);
int tg_const_i64(IrGraph *g, const char *name, int n, const int64_t *v);

/* A tensor of any role with its shape; a constant is filled with
 * deterministic pseudo-random values in [-0.5, 0.5) (seeded by its index).
 * Not added to the graph's inputs (tg_input does that). */
int tg_tensor(IrGraph *g, const char *name, IrTensorRole role, int rank, const int64_t *dims);

/* Layers that make their own weights (NAME_w, NAME_b: tg_tensor) and output
 * (NAME_y, its shape inferred), returning the output tensor: a k x k conv of
 * cout channels with symmetric padding (group 1: dense) and a fused
 * activation; a k x k pool; a unary op of the given output shape (softmax
 * over axis 1); an FC (Gemm of x [N, K] and W [m, K]). */
int tg_add_conv(IrGraph *g, const char *name, int x, int cout, int k, int stride, int pad, IrActKind act,
                int group);
int tg_add_pool(IrGraph *g, const char *name, IrOp op, int x, int k, int stride, int pad);
int tg_add_unary(IrGraph *g, const char *name, IrOp op, int x, int rank, const int64_t *dims);
int tg_add_fc(IrGraph *g, const char *name, int x, int m, IrActKind act);

/* Layers with their attributes. */
int tg_conv(IrGraph *g, const char *name, int x, int w, int b, int y, int stride,
            const int pad[4], int group);
int tg_bn(IrGraph *g, const char *name, int x, const int p[4], int y, float eps);
int tg_pool(IrGraph *g, IrOp op, const char *name, int x, int y, int k, int stride,
            const int pad[4], int cip);
int tg_pad(IrGraph *g, const char *name, int x, int y, const int64_t pads[8], float value);
int tg_gemm(IrGraph *g, const char *name, int a, int b, int c, int y, float alpha, float beta,
            int ta, int tb);
int tg_unary(IrGraph *g, IrOp op, const char *name, int x, int y);
int tg_binary(IrGraph *g, IrOp op, const char *name, int a, int b, int y);

/* Constant BatchNorm scale, B, mean, var (var > 0) of c channels. */
void tg_bn_params(IrGraph *g, int c, int p[4], unsigned seed);
/* A small CNN as PyTorch exports it (see tgraph.c). */
IrGraph *tg_small_cnn(void);

/* Random input data for tensor ti (caller frees). */
float *tg_random(const IrGraph *g, int ti, unsigned seed);
/* ir_eval, printing its messages: outputs[i] malloc'ed per graph output.
 * 0 or -1. */
int tg_eval(const IrGraph *g, const float *const *inputs, float **outputs);
/* Max |a-b| / (1 + |b|) over n elements. */
double tg_max_rel_err(const float *a, const float *b, int64_t n);

#endif
