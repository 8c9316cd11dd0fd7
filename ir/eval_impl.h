/* eval_impl.h: what the files of the reference executor share (eval.c,
 * the forward ops; eval_grad.c, the training ops).  Not for other stages. */
#ifndef M7CC_EVAL_IMPL_H
#define M7CC_EVAL_IMPL_H

#include "ir/ir.h"

#define fail(d, l, ...) ir_diag_layer(d, "eval", l, __VA_ARGS__)

/* The tensor of input k (NULL when absent), of output 0. */
const IrTensor *eval_tin(const IrGraph *g, const IrLayer *l, int k);
const IrTensor *eval_tout(const IrGraph *g, const IrLayer *l);
int64_t eval_prod(const int64_t *dims, int from, int to);
/* "[2,3,4]" in one of 4 rotating static buffers. */
const char *eval_shape_str(const IrTensor *t);
/* 0 if y has exactly this shape, else -1 with a message; _2d: the dims in
 * the 2-D view (ir_dims_2d) of a rank-xrank conv/pool operand. */
int eval_check_out(IrDiag *d, const IrLayer *l, const IrTensor *y, int rank, const int64_t *dims);
int eval_check_out_2d(IrDiag *d, const IrLayer *l, const IrTensor *y, int xrank, const int64_t *d4);
float eval_act1(float x, const IrAct *a);
/* Mean and biased variance of channel c of X [N, C, S] (BatchNormalization). */
void eval_batch_stats(const float *x, int64_t N, int64_t C, int64_t S, int64_t c, double *mean, double *var);

/* A pooling window's geometry, from l->a.pool and the input X. */
typedef struct {
    int64_t N, C, H, W, OH, OW;
    int kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, count_include_pad;
} EvalPool;
int64_t eval_pool_len(int64_t in, int k, int s, int dil, int pb, int pe, int ceil_mode);
int eval_pool_geo(const IrGraph *g, const IrLayer *l, const IrTensor *xt, EvalPool *p, IrDiag *d);
/* The in-plane offsets of the input elements of window (oh, ow) in idx
 * (room for kh*kw), in window order; returns their count.  *divisor is the
 * average's divisor (count_include_pad counts the pads). */
int eval_pool_window(const EvalPool *p, int64_t oh, int64_t ow, int64_t *idx, int64_t *divisor);
/* Which of the n window elements is the max (the first of equals; a NaN
 * wins), -1 for an empty window. */
int eval_pool_argmax(const float *xp, const int64_t *idx, int n);

/* eval_grad.c: the training ops (IR_LOSS_GRAD .. IR_SGD); 1 if l is one. */
int eval_is_grad_op(IrOp op);
int eval_grad_layer(const IrGraph *g, const IrLayer *l, const float *const *in, float *const *out,
                    IrDiag *d);

#endif
