/* m7k.h: the contract between the compiler and the kernel library.
 *
 * Every plan struct a kernel of target/ reads, and every enum and limit both
 * sides use, is defined here once.  The kernels include it; so do the
 * backend (which decides the values) and codegen (which prints them).  A
 * plan's fields are an X-macro list, M7K_<PLAN>_FIELDS(X), with one
 * X(type, name) per field: the struct is declared from the list and
 * codegen prints a plan from the same list (codegen/plan_print.c), so a
 * field added here is printed without anyone writing its name again.
 *
 * Field types are single tokens so that a printer can be chosen by name:
 * the C types int, int64_t, uint64_t, uint32_t, float, the nested plans
 * M7kAct and M7kConv, and the typedefs below for arrays and tables.
 * Addresses are plain integers (byte offsets in DDR, GSM, AM or SM;
 * docs/machine.md section 4).  Nothing here is device code: the file needs
 * only <stdint.h>.
 */
#ifndef M7K_H
#define M7K_H

#include <stdint.h>

/* DMA channels: 0/1 input slots, 2/3 output slots, 4/5 weight slots, 6 bias
 * and constants (more in the kernels that need them). */
enum { M7K_CH_IN = 0, M7K_CH_OUT = 2, M7K_CH_W = 4, M7K_CH_CONST = 6 };
enum { M7K_ACT_NONE, M7K_ACT_RELU, M7K_ACT_LEAKY, M7K_ACT_CLIP, M7K_ACT_SIGMOID, M7K_ACT_TANH };

/* Register-block limits: accumulators + 2 weight vectors per output vector
 * + 2 broadcasts per pixel stay within 28 + 8 + 24 = 60 of the 64 vector
 * registers. */
#define M7K_MAXV 4
#define M7K_MAXP 12
#define M7K_MAXACC 28
/* depthwise: pixels per block, input pixels a block reads */
#define M7K_DW_MAXP 8
#define M7K_DW_MAXX 24
/* moves: loop nest depth of one move; channels its DMAs rotate over */
#define M7K_MOVE_LOOPS 8
#define M7K_MOVE_CHANNELS 8

/* Element-wise ops (M7kEw.op) and the arithmetic of the ADD forms. */
enum { M7K_EW_ACT, M7K_EW_ADD, M7K_EW_MUL, M7K_EW_AFFINE, M7K_EW_ADD_BC, M7K_EW_MUL_BC, M7K_EW_ADD_REP,
       M7K_EW_MUL_REP };
enum { M7K_AR_SUB = 1, M7K_AR_DIV = 2 };
/* Pad modes (M7kPad.mode), in IrPadMode's order. */
enum { M7K_PAD_CONSTANT, M7K_PAD_REFLECT, M7K_PAD_EDGE };
/* Training kernels (M7kTrain.op) and the element-wise ones (ew_op). */
enum { M7K_TR_LOSS, M7K_TR_EW, M7K_TR_POOL, M7K_TR_GW };
enum { M7K_TR_EW_ACT, M7K_TR_EW_SGD };

/* Array and table field types (one token each, see above).  A table is
 * printed as the name of an array codegen emits beside the plan. */
typedef uint64_t M7kU64x2[2];
typedef int64_t M7kLoopCounts[M7K_MOVE_LOOPS];
typedef uint64_t M7kLoopStrides[M7K_MOVE_LOOPS];
typedef const float *M7kFloatTable;

/* One call of a conv layer's micro-kernel: a block of vb output vectors x pb
 * output pixels of one row, accumulated over nci input channels and every
 * tap.  The driver (m7k_conv_group) fills it; codegen emits, per layer, a
 * function for each block shape the layer uses, modulo-scheduled by the
 * backend (backend/mk_sched.c), and a dispatcher of type M7kConvMk that the
 * plan's `mk` names. */
typedef struct {
    uint64_t x0, w0, o0, bias;      /* AM/SM addresses: pixel 0's first channel, vector 0's weights, outputs, bias (0: none) */
    uint64_t wj, ovj, bias_q;       /* bytes to the next vector's weights, output vector, pixel's bias (FC) */
    uint64_t sr, sc, sub_bytes, px_step; /* SM: input row, column, 32-channel sub, next output pixel */
    int nci, cioff, sub_ci, kh, kw, dh, dw;
    int first, last;                /* first: start from the bias (or 0), else from o0; last: activation */
} M7kMkCall;
typedef void (*M7kConvMk)(int vb, int pb, const M7kMkCall *c);

/* One call of a weight-gradient micro-kernel: a block of vb dY vectors x
 * pp channel pairs at one tap, its 2 pp x vb accumulators read from and
 * written back to AM, summed over the npix pixels of a dY tile (images of
 * nth rows of ntw).
 * The kernel (m7k_gw_block) fills it; codegen emits per layer a function
 * for each block shape, modulo-scheduled by the backend, and a dispatcher
 * of type M7kGwMk that the plan's `mk` names.  m7k_gw_at gives pixel k's
 * addresses. */
typedef struct {
    uint64_t x0, d0, a0;            /* SM: pixel 0's first pair; AM: pixel 0 of dY vector 0; accumulator (0, 0) */
    uint64_t dj, aj, ac;            /* AM bytes to the next dY vector, accumulator vector, accumulator channel */
    uint64_t x_row, x_col, dy_row;  /* SM bytes between pixel rows and columns of the window; AM between dY rows */
    uint64_t x_img, dy_img;         /* SM bytes between the images' windows, AM between their dY */
    int nth, ntw, npix;
} M7kGwCall;
typedef void (*M7kGwMk)(int vb, int pp, const M7kGwCall *c);

#define M7K_DECLARE_FIELD(type, name) type name;

/* A fused activation: y = act(x). */
#define M7K_ACT_FIELDS(X) X(int, act) X(float, alpha) X(float, lo) X(float, hi)
typedef struct { M7K_ACT_FIELDS(M7K_DECLARE_FIELD) } M7kAct;

/* Convolution and FC (channels in lanes: 32 output channels per vector;
 * weights in AM, input pixels in SM broadcast to all lanes).
 * - input in DDR: a "sub" is what one DMA brings: 32 channels (blocked,
 *   SLDDW loads a channel pair) or 1 channel (planar NCHW); ci_base: the
 *   first input channel (grouped conv)
 * - in_gsm: the input is first staged from DDR (stage_src, stage_bytes) into
 *   GSM at `in`, so the re-reads of every weight chunk run at GSM speed
 * - output in DDR, blocked: vector block stride, row stride, pixel stride
 * - wts, bias: weight and bias blobs in DDR (bias = 0: none)
 * - grouped conv: groups run one after the other, each a conv of cin
 *   channels into nvco vectors; per group the input channels move by cin,
 *   the output by g_out bytes, the weights by g_wts, the bias by g_bias
 * - bias_px (FC): a bias per pixel (sample) and channel, [wo][nvco][32]
 * - a fused k x k, stride k pooling (pool_k > 1): tiles and core shares are
 *   whole windows; a finished tile is pooled in place in AM and only the
 *   pooled pixels leave (out_* strides are the pooled tensor's);
 *   pool_scale 1 / k^2 for average pooling
 * - zero: a DDR row of zeros (padding)
 * - tiling: vco x px register block; co_chunk x ci_chunk weight chunk
 *   (vectors x channels); th x tw output tile; cores split rows in
 *   row_parts, channels in cores / row_parts; slices: channel parts as
 *   slices of broadcast weight chunks; w_parts: broadcast chunks come in
 *   this many parts (every core has >= w_parts tiles); resident: outputs
 *   stay in AM across ci chunks; single_buf: one slot per stream (w1 = w0,
 *   in1 = in0), each DMA after the compute it would overwrite; no_share:
 *   every core reads its own weights, never a broadcast
 * - on-chip placement: byte offsets in AM and SM
 * - mk: the layer's micro-kernels (a function codegen emits) */
#define M7K_CONV_FIELDS(X)                                                                                 \
    X(int, n) X(int, cin) X(int, h) X(int, w) X(int, ho) X(int, wo) X(int, nvco)                           \
    X(int, kh) X(int, kw) X(int, sh) X(int, sw) X(int, dh) X(int, dw) X(int, pt) X(int, pl)                \
    X(M7kAct, act)                                                                                         \
    X(int, sub_ci) X(int, ci_base)                                                                         \
    X(uint64_t, in) X(uint64_t, in_sn) X(uint64_t, in_ssub) X(uint64_t, in_sh) X(uint64_t, in_sw)          \
    X(int, in_gsm) X(uint64_t, stage_src) X(uint64_t, stage_bytes)                                         \
    X(uint64_t, out) X(uint64_t, out_sn) X(uint64_t, out_sv) X(uint64_t, out_sh) X(uint64_t, out_sw)       \
    X(uint64_t, wts) X(uint64_t, bias)                                                                     \
    X(int, groups) X(uint64_t, g_out) X(uint64_t, g_wts) X(uint64_t, g_bias)                               \
    X(int, bias_px)                                                                                        \
    X(int, pool_k) X(int, pool_max) X(float, pool_scale)                                                   \
    X(uint64_t, zero)                                                                                      \
    X(int, vco) X(int, px) X(int, co_chunk) X(int, ci_chunk) X(int, th) X(int, tw)                         \
    X(int, row_parts) X(int, slices) X(int, w_parts) X(int, resident) X(int, single_buf) X(int, no_share)  \
    X(uint64_t, am_bias) X(uint64_t, am_w0) X(uint64_t, am_w1) X(uint64_t, am_out)                         \
    X(uint64_t, sm_in0) X(uint64_t, sm_in1)                                                                \
    X(uint64_t, out_tile_bytes) X(uint64_t, w_slot_bytes) X(uint64_t, sm_slot_bytes)                      \
    X(M7kConvMk, mk)
typedef struct { M7K_CONV_FIELDS(M7K_DECLARE_FIELD) } M7kConv;

/* Depthwise conv: geo holds the geometry, input strides, th, tw = wo and
 * the zero row; ncb channel blocks, px pixels per block. */
#define M7K_DW_FIELDS(X)                                                                                   \
    X(M7kConv, geo) X(int, ncb) X(int, px)                                                                 \
    X(uint64_t, am_w) X(uint64_t, am_b) X(uint64_t, am_in0) X(uint64_t, am_in1) X(uint64_t, am_out0)       \
    X(uint64_t, am_out1)
typedef struct { M7K_DW_FIELDS(M7K_DECLARE_FIELD) } M7kDw;

/* Max/average pooling of blocked tensors in DDR: th x tw output tiles; gh,
 * gw the input row/column step, cols_in AM pixels per window row; recip
 * (average): recip[k] = 1/k for k = 1..kh*kw. */
#define M7K_POOL_FIELDS(X)                                                                                 \
    X(int, n) X(int, ncb) X(int, h) X(int, w) X(int, ho) X(int, wo)                                        \
    X(int, kh) X(int, kw) X(int, sh) X(int, sw) X(int, dh) X(int, dw) X(int, pt) X(int, pl) X(int, pb)     \
    X(int, pr) X(int, is_max) X(int, count_include_pad)                                                    \
    X(uint64_t, in) X(uint64_t, out) X(int, th) X(int, tw) X(int, gh) X(int, gw) X(int, cols_in)           \
    X(uint64_t, am_in0) X(uint64_t, am_in1) X(uint64_t, am_out0) X(uint64_t, am_out1)                      \
    X(M7kFloatTable, recip)
typedef struct { M7K_POOL_FIELDS(M7K_DECLARE_FIELD) } M7kPool;

/* Global max/average pooling: nb image x block planes of hw pixels. */
#define M7K_GPOOL_FIELDS(X)                                                                                \
    X(int, nb) X(int, hw) X(int, is_max) X(int, chunk) X(uint64_t, in) X(uint64_t, out)                    \
    X(uint64_t, am_in0) X(uint64_t, am_in1) X(uint64_t, am_out) X(float, inv_hw)
typedef struct { M7K_GPOOL_FIELDS(M7K_DECLARE_FIELD) } M7kGPool;

/* Element-wise, flat over the vectors of tensors of one shape and layout:
 * y = act(a op b); nvec vectors, chunk vectors per AM slot.  AFFINE: y = a *
 * scale[c] + shift[c], [block][32] scales then shifts at st.  ADD_BC/MUL_BC:
 * b is [N][C] (one vector per image and block), whole in AM at am_st (from
 * st, st_bytes).  bytes: plain (NCHW) operands' bytes (the last vector is
 * partial), 0 blocked.  ADD_REP/MUL_REP: output element f takes b[(f / rep)
 * % period].  arith (ADD forms): M7K_AR_SUB a - b, M7K_AR_DIV a / b. */
#define M7K_EW_FIELDS(X)                                                                                   \
    X(int, op) X(M7kAct, act) X(int64_t, nvec) X(int, chunk)                                               \
    X(uint64_t, a) X(uint64_t, b) X(uint64_t, out) X(M7kU64x2, am_a) X(M7kU64x2, am_b)                     \
    X(int, hw) X(int, ncb) X(uint64_t, st) X(uint64_t, am_st) X(uint64_t, st_bytes)                        \
    X(uint64_t, bytes) X(int64_t, rep) X(int64_t, period) X(int, arith)
typedef struct { M7K_EW_FIELDS(M7K_DECLARE_FIELD) } M7kEw;

/* Softmax across the channels of each pixel (np pixels per item). */
#define M7K_SOFTMAX_FIELDS(X)                                                                              \
    X(int, n) X(int, nb) X(int, c) X(int, hw) X(int, np)                                                   \
    X(uint64_t, in) X(uint64_t, out) X(uint64_t, iota) X(uint64_t, am_x) X(uint64_t, am_iota)
typedef struct { M7K_SOFTMAX_FIELDS(M7K_DECLARE_FIELD) } M7kSoftmax;

/* LRN across channels: half = (size - 1) / 2 channels before; beta4 = beta
 * * 4: 2 (0.5), 3 (0.75) or 4 (1); sq_row: bytes per pixel row of squares. */
#define M7K_LRN_FIELDS(X)                                                                                  \
    X(int, n) X(int, nb) X(int, c) X(int, hw) X(int, np) X(int, size) X(int, half) X(int, beta4)           \
    X(float, alpha_over_size) X(float, bias)                                                               \
    X(uint64_t, in) X(uint64_t, out) X(uint64_t, iota)                                                     \
    X(uint64_t, am_x) X(uint64_t, am_sq) X(uint64_t, am_iota) X(uint64_t, sq_row)
typedef struct { M7K_LRN_FIELDS(M7K_DECLARE_FIELD) } M7kLrn;

/* Softmax over the last axis of NCHW data: rows of len, chunk rows per
 * item; pitch: AM bytes per row. */
#define M7K_SOFTMAX_ROWS_FIELDS(X)                                                                         \
    X(int, rows) X(int, len) X(int, chunk)                                                                 \
    X(uint64_t, in) X(uint64_t, out) X(uint64_t, iota) X(uint64_t, pitch) X(uint64_t, am_x)                \
    X(uint64_t, am_iota)
typedef struct { M7K_SOFTMAX_ROWS_FIELDS(M7K_DECLARE_FIELD) } M7kSoftmaxRows;

/* Softmax over axis a of [outer][len][inner] data, lanes along inner, cols
 * inner positions an item. */
#define M7K_SOFTMAX_AXIS_FIELDS(X)                                                                         \
    X(int, len) X(int, cols) X(int64_t, outer) X(int64_t, inner)                                           \
    X(uint64_t, in) X(uint64_t, out) X(uint64_t, pitch) X(uint64_t, am_x)
typedef struct { M7K_SOFTMAX_AXIS_FIELDS(M7K_DECLARE_FIELD) } M7kSoftmaxAxis;

/* One strided copy DDR to DDR: `rows` rows of `row_bytes` (sstride /
 * dstride apart) repeated over nloop loops, outermost first. */
#define M7K_MOVE_FIELDS(X)                                                                                 \
    X(uint64_t, src) X(uint64_t, dst) X(uint64_t, sstride) X(uint64_t, dstride)                            \
    X(uint32_t, rows) X(uint32_t, row_bytes) X(int, nloop)                                                 \
    X(M7kLoopCounts, cnt) X(M7kLoopStrides, sstr) X(M7kLoopStrides, dstr)
typedef struct { M7K_MOVE_FIELDS(M7K_DECLARE_FIELD) } M7kMove;
typedef const M7kMove *M7kMoveTable;
#define M7K_MOVES_FIELDS(X) X(int, n) X(M7kMoveTable, m)
typedef struct { M7K_MOVES_FIELDS(M7K_DECLARE_FIELD) } M7kMoves;

/* Spatial pad by DMA: geo holds h, w, the input strides and zero = the
 * value row; mode M7K_PAD_*: constant, or the border copies interior pixels. */
#define M7K_PAD_FIELDS(X)                                                                                  \
    X(M7kConv, geo) X(int, ncb) X(int, ho) X(int, wo) X(int, pt) X(int, pl) X(int, mode) X(uint64_t, out)
typedef struct { M7K_PAD_FIELDS(M7K_DECLARE_FIELD) } M7kPad;

/* A contiguous copy DDR to DDR. */
#define M7K_COPY_FIELDS(X) X(uint64_t, in) X(uint64_t, out) X(uint64_t, bytes)
typedef struct { M7K_COPY_FIELDS(M7K_DECLARE_FIELD) } M7kCopy;

/* Run-time weight packing: a table of 2-D DMAs (byte addresses in DDR). */
#define M7K_DMA_DESC_FIELDS(X)                                                                             \
    X(uint64_t, dst) X(uint64_t, src) X(uint64_t, dst_stride) X(uint64_t, src_stride)                      \
    X(uint32_t, rows) X(uint32_t, row_bytes)
typedef struct { M7K_DMA_DESC_FIELDS(M7K_DECLARE_FIELD) } M7kDmaDesc;
typedef const M7kDmaDesc *M7kDmaTable;
#define M7K_PACK_DMA_FIELDS(X) X(int, n) X(M7kDmaTable, d)
typedef struct { M7K_PACK_DMA_FIELDS(M7K_DECLARE_FIELD) } M7kPackDma;

/* BatchNormalization parameters folded on the machine: scale, bias, mean,
 * var [C] each in DDR into scales [ncb][32] then shifts at st. */
#define M7K_PACK_BN_FIELDS(X)                                                                              \
    X(int, c) X(int, ncb) X(float, eps)                                                                    \
    X(uint64_t, scale) X(uint64_t, bias) X(uint64_t, mean) X(uint64_t, var) X(uint64_t, st) X(uint64_t, am)
typedef struct { M7K_PACK_BN_FIELDS(M7K_DECLARE_FIELD) } M7kPackBn;

/* Gemm's alpha/beta applied on the machine to packed run-time weights. */
typedef float M7kF32x2[2];
#define M7K_PACK_SCALE_FIELDS(X) X(M7kU64x2, addr) X(M7kU64x2, lines) X(M7kF32x2, s) X(uint64_t, am)
typedef struct { M7K_PACK_SCALE_FIELDS(M7K_DECLARE_FIELD) } M7kPackScale;

/* Training kernels (target/kernels_train.c):
 * - a, b, out, out2: DDR inputs and outputs; zero, iota: blob rows
 * - loss: [n][kb vectors] logits; scale of the summed loss, dscale of dY
 * - element-wise: ew_op, act; SGD: neg_lr = -lr; nbytes, chunk
 * - pooling gradient: geometry; inv_div the average's 1 / divisor; slots
 *   (1 or 2) of X rows, gradient rows and dY row in AM
 * - weight gradient: fc_hw (FC of flattened X: H W; ci runs over X's blocked
 *   order, cig = C), swap (FC of 2-D X: a = X (K in lanes), b = dY
 *   (broadcast); dW rows whole), geometry, tiling (a dY tile: tn images of th
 *   x tw) and X/dY strides;
 *   tr_stages: the exchange stages a finished conv chunk's blocks go
 *   through before they leave (m7k_gw_elem), am_t: their 8 KB of scratch;
 *   mk: the layer's micro-kernels (a function codegen emits) */
#define M7K_TRAIN_FIELDS(X)                                                                                \
    X(int, op) X(uint64_t, a) X(uint64_t, b) X(uint64_t, out) X(uint64_t, out2)                            \
    X(uint64_t, zero) X(uint64_t, iota)                                                                    \
    X(int, loss_ce) X(int, n) X(int, k) X(int, kb) X(float, scale) X(float, dscale)                        \
    X(int, ew_op) X(M7kAct, act) X(float, neg_lr) X(uint64_t, nbytes) X(uint64_t, chunk)                   \
    X(int, ncb) X(int, h) X(int, w) X(int, ho) X(int, wo) X(int, kh) X(int, kw) X(int, sh) X(int, sw)      \
    X(int, pt) X(int, pl) X(int, is_max) X(int, span_h) X(float, inv_div) X(int, slots)                    \
    X(int, fc_hw) X(int, swap)                                                                             \
    X(int, cin) X(int, cout) X(int, cig) X(int, cog) X(int, dh) X(int, dw) X(int, vco) X(int, ci_chunk)    \
    X(int, th) X(int, tw) X(int, tn) X(int, vb) X(int, pp) X(int, rows_in) X(int, cols_in) X(int, has_bias) \
    X(uint64_t, x_sn) X(uint64_t, x_sblk) X(uint64_t, x_sh) X(uint64_t, x_sw)                              \
    X(uint64_t, dy_sn) X(uint64_t, dy_sblk) X(uint64_t, dy_sh) X(uint64_t, dy_sw)                          \
    X(M7kU64x2, am_a) X(M7kU64x2, am_b) X(uint64_t, am_c) X(uint64_t, am_t) X(M7kU64x2, sm_x)              \
    X(int, tr_stages)                                                                                      \
    X(M7kGwMk, mk)
typedef struct { M7K_TRAIN_FIELDS(M7K_DECLARE_FIELD) } M7kTrain;

/* dY spread s apart (a strided conv's dX, then the conv kernel). */
#define M7K_UPSAMPLE_FIELDS(X)                                                                             \
    X(int, planes) X(int, ho) X(int, wo) X(int, hu) X(int, wu) X(int, sh) X(int, sw)                       \
    X(uint64_t, in) X(uint64_t, out) X(uint64_t, zero)
typedef struct { M7K_UPSAMPLE_FIELDS(M7K_DECLARE_FIELD) } M7kUpsample;

#endif
