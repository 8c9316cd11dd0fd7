/* tgraph.h: hand-built graphs for the pass and dump tests, run with the
 * reference executor (ir_eval). */
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
