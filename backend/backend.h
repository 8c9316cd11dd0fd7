/* backend.h: the backend decisions of m7cc, hung on each layer's l->sched.
 *
 * backend_run (backend.c) maps every live layer (map.c, map_train.c; fuse.c
 * fuses pools into convs), chooses tiles with the cost model (tile.c,
 * cost.c, dma_cost.c, dma_schedule.c, core_split.c) and places tensors and
 * weights in DDR (memplan.c); pack.c packs the weights, sched.c makes the
 * per-layer record and dump.c prints it for --dump-ir.  codegen/ turns the
 * result into C for the kernel library target/kernels.c, whose plan
 * structs mirror BkConv etc.
 *
 * Machine layouts (docs/backend.md): activations live in DDR "blocked",
 * [N][ceil(C/32)][H][W][32] FP32, so a pixel's 32 channels are one vector;
 * graph inputs and outputs are NCHW.  All DDR addresses below are byte
 * offsets; AM/SM offsets are per core.
 */
#ifndef M7CC_BACKEND_H
#define M7CC_BACKEND_H

#include "ir/ir.h"
#include "runtime/m7_machine.h"
#include "target/m7k.h"       /* the kernel plans, enums and limits */
#include "target/m7k_split.h" /* how the kernels split work: ranges, core shares, windows */

/* How a layer uses the lanes.  Only channels-in-lanes is built so far;
 * batch-in-lanes (MACHINE.md 6) is the other choice a layer may get. */
typedef enum { BK_MAP_CHANNELS_IN_LANES, BK_MAP_BATCH_IN_LANES } BkMapping;

typedef enum {
    BK_KIND_CONV,    /* conv and FC (FC = 1x1 conv over the batch) */
    BK_KIND_DW,      /* depthwise conv (plan in u.conv) */
    BK_KIND_POOL,    /* max/avg pool */
    BK_KIND_GPOOL,   /* global max/avg pool */
    BK_KIND_EW,      /* add, mul, standalone activations */
    BK_KIND_SOFTMAX,
    BK_KIND_LRN,     /* plan in u.softmax */
    BK_KIND_PAD,     /* constant spatial pad by DMA */
    BK_KIND_MOVES,   /* Transpose (any rank), Concat (any axis): strided DMA (moves.c) */
    BK_KIND_TO_NCHW, /* a reshape of blocked data: converted to NCHW (by DMA) */
    BK_KIND_COPY,    /* NCHW data copied to a graph output (DDR to DDR by DMA) */
    BK_KIND_ALIAS,   /* reshape/flatten/identity/dropout: no code, output = input */
    BK_KIND_FUSED,   /* a pooling done by the conv before it (no code) */
    BK_KIND_TRAIN,   /* a training layer of map_train.c (plan in u.train) */
} BkKind;

typedef enum { BK_LAYOUT_NCHW, BK_LAYOUT_BLOCKED } BkLayout;

/* An activation as it sits in DDR: its physical geometry (a flattened
 * tensor keeps the C,H,W of its source) and address. */
typedef struct {
    BkLayout layout;
    int n, c, h, w;
    int64_t ddr;
} BkAct;

/* Bytes of an activation in its layout. */
int64_t bk_act_bytes(const BkAct *a);


/* Conv and FC (and depthwise, which reads the geometry): the kernel plan's
 * fields under their own names (M7kConv, target/m7k.h: what each means),
 * and the backend's own.  plan.c copies k, then resolves what the memory
 * plan decides and the backend leaves 0 here: act, in, out, wts, bias,
 * zero, stage_src, stage_bytes, ci_base, pool_scale. */
typedef struct {
    union {
        M7kConv k;
        struct { M7K_CONV_FIELDS(M7K_DECLARE_FIELD) };
    };
    int pairs;                      /* SLDDW channel pairs */
    int merge;                      /* ONNX groups per group run (block-diagonal weights; 1: none) */
    int trans_a;                    /* FC of Gemm transA: A [K, N] read planar, channel k = row k */
    int64_t in_bytes;               /* the input's bytes (what staging copies) */
    int64_t zero_bytes;             /* the zero row it needs */
    int64_t w_off, b_off;           /* in the weights blob; b_off -1: no bias */
    int64_t w_bytes;
    /* depthwise: channel blocks, AM input slots */
    int ncb;
    int64_t am_in0, am_in1;
} BkConv;

/* Pooling: the kernel plan's fields by name (M7kPool; plan.c resolves in,
 * out and recip), and the input window's rows (cols_in is the plan's). */
typedef struct {
    union {
        M7kPool k;
        struct { M7K_POOL_FIELDS(M7K_DECLARE_FIELD) };
    };
    int rows_in;                /* a full tile's input rows in AM, every gh-th */
} BkPool;

/* Global pooling: M7kGPool's fields (plan.c resolves in, out, inv_hw). */
typedef union {
    M7kGPool k;
    struct { M7K_GPOOL_FIELDS(M7K_DECLARE_FIELD) };
} BkGPool;

typedef struct {
    int op, chunk;
    int64_t nvec;
    int64_t am_a0, am_a1, am_b0, am_b1;
    /* AFFINE (BatchNorm, Add/Mul by a per-channel or scalar constant):
     * scales and shifts [block][32] at st_off in the blob */
    int hw, ncb, const_in;
    int64_t st_off, am_st;
    int64_t bc_bytes;           /* ADD_BC/MUL_BC: the [N][C] operand (in[1]) */
    int64_t bytes;              /* plain (NCHW) operands: their bytes; 0 blocked */
    /* ADD_REP/MUL_REP (plain): element f of the output takes b[(f / rep) %
     * period] of the plain in[1], whole on chip: rep 1 a row in AM (copies
     * of b, so 32 values from any start are one unaligned load), rep a
     * multiple of 32 the values in SM (one per vector, broadcast) */
    int64_t rep, period, b_bytes;
    int arith;                  /* ADD/ADD_REP forms: M7K_AR_SUB a - b, M7K_AR_DIV a / b; 0: the op's own */
} BkEw;

/* Softmax and LRN across the channels of each pixel; np pixels per item. */
typedef struct {
    int nb, hw, np;
    int64_t am_x, am_iota;
    /* LRN */
    int size, half, beta4;
    float alpha_over_size, bias;
    int64_t am_sq, sq_row;
    /* softmax over the last axis of NCHW data: rows x len, chunk rows per DMA */
    int by_rows, rows, len, chunk;
    int64_t pitch;
    /* by_axis: softmax over axis a of [outer][len][inner] data (NCHW, or a
     * blocked tensor's non-channel axis): lanes run along inner, so the
     * reduction is across vectors; an item is one outer index and `cols`
     * inner positions ([len][cols] in AM at `pitch` bytes a row) */
    int by_axis, cols;
    int64_t outer, inner;
} BkSoftmax;

/* A strided copy by DMA, DDR to DDR (moves.c): `rows` rows of `row_bytes`
 * bytes (rows src_stride / dst_stride apart), repeated over nloop outer
 * loops (outermost first).  Addresses are byte offsets from an operand:
 * k >= 0 the layer's IR input k, or one of BK_OPD_*; codegen resolves them. */
enum { BK_OPD_OUT = -1, BK_OPD_TMP0 = -2, BK_OPD_TMP1 = -3, BK_OPD_ZERO = -4, BK_OPD_ABS = -5 /* offsets are DDR addresses */ };
typedef struct {
    int src, dst;
    int64_t src_off, dst_off;
    uint32_t rows, row_bytes;
    int64_t src_stride, dst_stride;
    int nloop;
    int64_t cnt[M7K_MOVE_LOOPS], sstr[M7K_MOVE_LOOPS], dstr[M7K_MOVE_LOOPS];
} BkMove;
typedef struct {
    int n;
    BkMove *m;                  /* owned */
} BkMoves;
/* DMAs a move list issues (the product of every move's loop counts). */
int64_t bk_moves_dmas(const BkMoves *mv);

/* A broadcast (or layout change) of operand in[k] of an element-wise layer
 * into a temporary of the output's shape and layout, before the layer. */
typedef struct {
    int present;
    BkAct buf;                  /* the temporary (arena) */
    BkMoves mv;                 /* src: the IR input, dst: BK_OPD_TMP0 + -k */
} BkExpand;

typedef struct {
    int pt, pl;                 /* top, left pads; the rest from the shapes */
    int mode;                   /* IrPadMode: reflect/edge copy border rows and columns after */
    float value;
    int64_t row_off;            /* a row of `value` in the blob (value != 0) */
    int64_t row_bytes;
} BkPad;

/* Training layers (map_train.c; docs/training.md).  conv_grad_x and
 * fc_grad_x are BK_KIND_CONV (the conv kernel with re-packed weights). */
typedef struct {
    int op;
    /* LOSS: cross-entropy (1) or mse (0) over [n][k] logits, kb vectors a row */
    int loss_ce, n, k, kb;
    /* EW: act_grad (act kind, alpha, lo, hi) or SGD (lr) on nbytes */
    int ew_op, act;
    float alpha, lo, hi, lr;
    int64_t nbytes, chunk_bytes;
    int64_t w_off;              /* SGD: the master copy (ONNX layout) in the blob */
    /* POOL (grad): non-overlapping windows; span rows/cols of X per output */
    int ncb, h, w, ho, wo, kh, kw, sh, sw, pt, pl, is_max, span_h;
    int slots;                  /* POOL: AM slots (2: the next row loads behind the compute) */
    float inv_div;              /* average: 1 / the divisor of every window */
    /* GW: dW (and dB) of conv/FC = sum over pixels of dY x X windows */
    int fc_hw;                  /* fc_grad_w of a flattened [N, C, H, W]: H W (ci is X's blocked order) */
    int swap;                   /* fc_grad_w of 2-D X: X's K in lanes, dY broadcast (dW rows stored whole) */
    int cin, cout, cig, cog, dh, dw, vco, ci_chunk, th, tw, vb, pp, rows_in, cols_in, has_bias;
    int tn;                     /* images a dY tile (of whole images) takes */
    int tr_stages;              /* exchange stages of a finished chunk's blocks (m7k_gw_elem) */
    int64_t x_sn, x_sblk, x_sh, x_sw, dy_sn, dy_sblk, dy_sh, dy_sw;
    int64_t am_a[2], am_b[2], am_c, am_t, sm_x[2], zero_need;
} BkTrain;

/* A step of its own before (pre) or after (post) a layer that moves an
 * activation from one form into another by DMA. */
typedef enum {
    BK_CONVERT_TO_NCHW,         /* blocked -> NCHW (a graph output; post) */
    BK_CONVERT_TO_BLOCKED,      /* NCHW -> blocked (a graph input; pre) */
    BK_CONVERT_UPSAMPLE,        /* dY spread by the stride into a zeroed buffer (m7k_tr_upsample; pre) */
    BK_CONVERT_NCHW_COPY,       /* a blocked input copied to NCHW for the kernel (pre) */
} BkConvertKind;
typedef struct {
    int present;
    BkConvertKind kind;
    int k;                      /* which input (pre) */
    BkAct from, to;
    BkMoves mv;                 /* the DMAs, at their addresses (bk_convert_moves; not UPSAMPLE) */
} BkConvert;

typedef struct BkSched {
    BkKind kind;
    BkMapping map;
    int cores;                  /* the core count it was planned for */
    int out_tensor;             /* the IR tensor it writes: l->out[0], or a fused pool's */
    int n_in;
    int src[2];                 /* the IR input each in[k] is */
    BkAct in[2], out;
    BkConvert pre, post;        /* graph input -> blocked; blocked -> graph output */
    union {
        BkConv conv;
        BkPool pool;
        BkGPool gpool;
        BkEw ew;
        BkSoftmax softmax;
        BkPad pad;
        BkTrain train;
    } u;
    BkMoves mv;                 /* MOVES: the copy */
    BkExpand expand[2];         /* EW: operands broadcast/converted first (in[k]) */
    int64_t *cat_addr;          /* moves: every IR input's DDR address (owned) */
    /* summary of the choice, per core */
    int64_t am_bytes, sm_bytes, gsm_bytes;
    int am_slots, sm_slots;     /* double-buffer slots in use */
    int64_t dma_transfers, dma_bytes;
    int64_t flops;              /* useful, whole layer */
    double cyc_compute, cyc_dma, cyc_pred, eff_pred;
    double cyc_exposed;         /* DMA before the first and after the last compute */
    int candidates;             /* tilings the cost model compared */
} BkSched;

/* Constants at the start of the weights blob. */
#define BK_BLOB_IOTA 0          /* 32 floats 0.5, 1.5, ..., 31.5 (lane masks) */
#define BK_BLOB_ZERO 128        /* zeros (padding rows), bk_program.zero_bytes long */

/* Program-wide figures: memplan.c writes them once, on IrGraph.program. */
typedef struct BkProgram {
    int64_t weights_bytes;      /* blob, loaded at DDR 0 */
    int64_t zero_bytes;
    int64_t ddr_bytes;          /* all DDR the program uses */
    int64_t act_peak;           /* activation arena after liveness reuse */
    int64_t act_total;          /* what it would be without reuse */
    double cyc_pred;            /* the layers' predicted cycles (bk_program sums them) */
} BkProgram;

/* Compiler choices (not machine facts) the backend honours; both on by
 * default.  Off, they show what each buys (bench/vgg16.py --variants). */
typedef struct {
    int double_buffer;          /* conv DMA overlaps compute (ping-pong slots) */
    int weight_sharing;         /* conv weights broadcast to the cores (DDR read once) */
} BkOptions;
void bk_options_default(BkOptions *o);

/* ---- the passes ---------------------------------------------------------- */
/* All backend passes; 0, or -1 with messages in d (graph left annotated as
 * far as it got; ir_graph_free frees the annotations).  backend_run uses
 * the default options. */
int backend_run(IrGraph *g, const M7Machine *m, IrDiag *d);
int backend_run_opts(IrGraph *g, const M7Machine *m, const BkOptions *o, IrDiag *d);
/* Program-wide figures, after backend_run. */
void bk_program(const IrGraph *g, BkProgram *p);
/* pack.c: fills blob (p->weights_bytes, zeroed by the caller) with every
 * layer's weights in the order its kernels read them. */
void bk_pack_weights(const IrGraph *g, float *blob);
/* sched.c: sets l->sched, l->free_sched, l->dump_sched to a fresh BkSched. */
BkSched *bk_sched_attach(IrLayer *l);
/* dump.c: a BkSched's lines of --dump-ir (IrLayer.dump_sched). */
void bk_sched_dump(const BkSched *s, FILE *f);

/* map.c: kinds, layouts and geometries of every live layer; then pools
 * that can be are fused into the conv before them (fuse.c). */
int bk_map(IrGraph *g, IrDiag *d);
void bk_fuse_pools(IrGraph *g);
/* tile.c: chooses tiles for each layer; -1 with a message if one cannot fit. */
int bk_tile(IrGraph *g, const M7Machine *m, const BkOptions *o, IrDiag *d);
int bk_tile_conv(const char *name, BkSched *s, const M7Machine *m, IrDiag *d);
/* 1 if a conv may run k of its ONNX groups (cout_g outputs each) as one. */
int bk_conv_merge_ok(int groups, int cout_g, int k);
/* memplan.c: DDR placement of activations (liveness) and of weights. */
int bk_memplan(IrGraph *g, IrDiag *d);

/* map_train.c: the training layers (ops IR_LOSS_GRAD .. IR_SGD).
 * bk_map_train maps layer l (sets phys of its outputs); bk_tile_train
 * tiles and prices it; bk_train_conv_setup is conv_setup for conv_grad_x
 * and fc_grad_x; bk_train_weight_src their weights' source index;
 * bk_train_blob places SGD master copies in the blob (returns the new end)
 * and bk_train_zero the zero row they need; bk_train_pack fills the blob
 * (its --dump-ir lines are dump.c's). */
int bk_is_train_op(IrOp op);
int bk_map_train(IrGraph *g, BkAct *phys, IrLayer *l, BkSched *s, IrDiag *d);
int bk_tile_train(IrGraph *g, IrLayer *l, BkSched *s, const M7Machine *m, IrDiag *d);
int bk_train_conv_setup(IrGraph *g, IrLayer *l, BkSched *s, IrDiag *d);
int64_t bk_train_weight_src(const IrGraph *g, const IrLayer *l, const BkSched *s, int64_t co, int64_t ci, int t);
int64_t bk_train_blob(IrGraph *g, int64_t off);
int64_t bk_train_zero(const IrGraph *g, int64_t zero);
void bk_train_pack(const IrGraph *g, const IrLayer *l, float *blob);

/* core_split.c: a conv core's rows, output-channel vectors, slice and
 * whether its weights come by broadcast (m7k_conv_share of m7k_split.h). */
M7kShare bk_conv_share(const BkConv *c, int core, int ncores);

/* dma_cost.c: cycles of one DDR (bcast: a broadcast) or GSM transfer. */
double bk_dma_cycles(const M7Machine *m, int64_t rows, int64_t bytes, int bcast);
double bk_gsm_cycles(const M7Machine *m, int64_t rows, int64_t bytes);
/* A core's stream of one-row DDR transfers through two AM slots: every
 * setup but the first runs while other transfers hold the link, whose rows
 * and bytes follow each other (docs/machine.md 5.5). */
double bk_dma_stream_cycles(const M7Machine *m, double transfers, double bytes);
/* mk_sched.c: the micro-kernels' inner loops, modulo-scheduled.
 * A conv step (gw = 0) is one tap of one input channel (two = 0) or of a
 * channel pair (two = 1: one SLDDW gives both): H = 1 + two weight vectors
 * per output vector (VLD w[h][j]), one scalar load per pixel (SLD s[q]),
 * H broadcasts per pixel (x[h][q]) and vb x pb x H FMAs into the
 * accumulators a[j][q].  A weight-gradient step (gw = 1, two = 1) is px
 * pixels (1, or 2 so that a dY vector's 9-cycle load fits in the life of
 * one variable) of a block of vb dY vectors x pb channel pairs: per pixel
 * vb dY vectors (VLD w[0][j], read by both channels of every pair), one
 * SLDDW per pair, two broadcasts per pair; q = pixel * pb + pair runs over
 * the step's px x pb pairs, and FMAs go into a[j][2 pair + h], one
 * accumulator per (vector, channel), px FMAs each a step.
 * Op o of step i issues at cycle (i + o.stage) * ii + o.slot of the loop;
 * every value lives at most ii cycles, so each has one C variable (no
 * register copies).  op[] is the loop body in emitted order (by slot; in a
 * slot, readers before writers).  codegen prints it as prologue, kernel and
 * epilogue passes; the cost model prices exactly that sequence. */
typedef enum { BK_MK_FMA, BK_MK_BCAST, BK_MK_SLD, BK_MK_VLD } BkMkKind;
typedef struct {
    uint8_t kind, h, j, q;      /* q: the pixel (conv) or pair (dW); of a VLD, its group of them */
    int16_t stage, slot;
} BkMkOp;
#define BK_MK_MAXWG 4
#define BK_MK_MAXACC M7K_MAXACC /* accumulators of a block, either form */
#define BK_MK_MAXQ (2 * M7K_MAXP) /* q's of a step: pixels (conv), pixels x pairs (dW) */
#define BK_MK_MAXOPS (2 * M7K_MAXV * BK_MK_MAXWG + 3 * BK_MK_MAXQ + 2 * BK_MK_MAXACC)
typedef struct {
    int gw, vb, pb, two, px;
    int wg;                     /* groups of q: a vector is loaded once per group (w[h][j][g]) */
    int ii, stages, vregs;      /* initiation interval (cycles a step), stages, vector registers */
    int n;
    BkMkOp op[BK_MK_MAXOPS];
} BkMkLoop;
/* The schedule of a block shape on machine m (computed once, then kept):
 * a conv block of vb vectors x pb pixels, or a dW block of vb dY vectors
 * x pp channel pairs, px pixels a step (NULL beyond M7K_MAXV, M7K_MAXP or
 * M7K_MAXACC). */
const BkMkLoop *bk_mk_loop(const M7Machine *m, int vb, int pb, int two);
const BkMkLoop *bk_gw_loop(const M7Machine *m, int vb, int pp, int px);
/* The q's of a step, and the group whose vector copies q's FMAs read (dW:
 * groups never straddle pixels, wg is a multiple of px). */
static inline int bk_mk_nq(const BkMkLoop *L) { return L->gw ? L->px * L->pb : L->pb; }
static inline int bk_mk_wgroup(const BkMkLoop *L, int q) { return q * L->wg / bk_mk_nq(L); }
/* dW: the pixel (of the step) of q and of a vector group. */
static inline int bk_gw_pixel(const BkMkLoop *L, int q) { return q / L->pb; }
static inline int bk_gw_group_pixel(const BkMkLoop *L, int g) { return g * L->px / L->wg; }
/* Which vector an FMA of channel h reads (dW: one for both), the
 * accumulator columns of a vector, and the accumulator of an FMA. */
static inline int bk_mk_vec_h(const BkMkLoop *L, int h) { return L->gw ? 0 : h; }
static inline int bk_mk_cols(const BkMkLoop *L) { return L->gw ? 2 * L->pb : L->pb; }
static inline int bk_mk_col(const BkMkLoop *L, int h, int q) { return L->gw ? 2 * (q % L->pb) + h : q; }
static inline int bk_mk_acc(const BkMkLoop *L, int h, int j, int q) { return j * bk_mk_cols(L) + bk_mk_col(L, h, q); }
/* The passes codegen emits for a loop of n steps (n >= 1): prologue passes
 * p = 0..stages-2 run the ops of stage <= p on step p - stage (those with
 * step >= n skipped); kernel pass k = 0..n-stages runs every op, on step
 * k + stages-1 - stage; epilogue pass e = 0..stages-2 runs when
 * n >= stages-1-e, the ops of stage > e, on step n + e - stage. */
static inline int bk_mk_prologue_step(const BkMkOp *o, int p) { return o->stage <= p ? p - o->stage : -1; }
static inline int bk_mk_epilogue_runs(const BkMkLoop *L, int n, int e) { return n >= L->stages - 1 - e; }
/* How a call starts and ends (codegen emits the layer's one form). */
typedef enum { BK_MK_INIT_ZERO, BK_MK_INIT_LOAD } BkMkInit; /* 0, or a load of the bias or partial sums */
typedef enum { BK_MK_ACT_NONE, BK_MK_ACT_RELU, BK_MK_ACT_OTHER } BkMkAct;
BkMkAct bk_mk_act(int m7k_act);
/* Cycles one call of a vb x pb block over nci channels and kk taps adds
 * to a run of such calls (its instructions as emitted, timed by the rules
 * of docs/machine.md 5.3). */
double bk_mk_call_cycles(const M7Machine *m, int vb, int pb, int two, int nci, int kk, BkMkInit init,
                         BkMkAct act);
/* The same for a dW block of vb x pp over npix pixels: accumulators loaded,
 * the loop of two pixels a step, an odd last pixel alone, accumulators
 * stored. */
double bk_gw_call_cycles(const M7Machine *m, int vb, int pp, int npix);
/* map_train.c: cycles of one 32 x 32 block of a finished dW chunk through
 * `stages` exchange stages (m7k_tr_block; 0: none). */
double bk_gw_tr_block_cycles(const M7Machine *m, int stages);
/* The block shapes (vb, pp) a weight-gradient layer's kernel calls:
 * shapes[vb] has bit pp set. */
void bk_gw_mk_shapes(const BkTrain *t, uint32_t shapes[M7K_MAXV + 1]);
/* The block shapes (vb, pb) a conv's driver calls on any core:
 * shapes[vb] has bit pb set. */
void bk_conv_mk_shapes(const BkConv *c, int ncores, uint32_t shapes[M7K_MAXV + 1]);
/* Whether a conv's steps take channel pairs (SLDDW): 32-channel subs, and
 * every group's channels start on an even one. */
int bk_conv_pairs(const BkConv *c);

/* cost.c: predicted cycles. */
void bk_cost_conv(const BkSched *s, const M7Machine *m, double *compute, double *dma,
                  int64_t *transfers, int64_t *bytes);
void bk_cost_simple(BkSched *s, const M7Machine *m);
void bk_cost_dw(BkSched *s, const M7Machine *m);
/* A move list's DMA time on the busiest core (the kernel spreads the DMAs
 * over the cores and over M7K_MOVE_CHANNELS channels of each). */
void bk_cost_moves(const BkMoves *mv, const M7Machine *m, double *dma, int64_t *transfers, int64_t *bytes);

/* moves.c: how a tensor's elements sit in DDR, for building moves. */
typedef struct {
    int opd;                    /* operand (BkMove.src/dst) */
    int rank;
    int64_t dims[IR_MAX_RANK];
    int64_t str[IR_MAX_RANK];   /* byte stride of each axis (blocked: the channel axis' lane stride, 4) */
    int chan;                   /* blocked: the channel axis; -1 plain (NCHW) */
    int64_t cb_str;             /* blocked: bytes from one channel block to the next */
    int64_t off;                /* added to every offset on this side */
} BkView;
/* The view of IR tensor t held as a (its physical form); -1 if a is a
 * blocked tensor whose geometry is not t's own (a flatten alias). */
int bk_view(const IrTensor *t, const BkAct *a, int opd, BkView *v);
/* Appends the moves of dst[j + start] = src[sa(j)] for j over cnt[] (one
 * entry per dst axis); sa[j] is the src axis read along dst axis j, -1
 * for a broadcast (stride 0). */
void bk_moves_copy(BkMoves *mv, const BkView *src, const BkView *dst, const int *sa, const int64_t *cnt,
                   const int64_t *start);
/* Appends moves that zero the padding lanes of a blocked dst (none if plain
 * or the channels fill their last block). */
void bk_moves_zero_pad(BkMoves *mv, const BkView *dst);
/* A layout conversion: activation `from` into `to` (the same geometry, the
 * other layout) at their DDR addresses (BK_OPD_ABS); blocked padding lanes
 * zeroed. */
void bk_moves_convert(BkMoves *mv, const BkAct *from, const BkAct *to);
/* After memplan: the moves of every conversion step (BkConvert.mv) and of
 * every TO_NCHW layer (BkSched.mv), at their DDR addresses. */
void bk_convert_moves(IrGraph *g);
/* The moves of a TO_NCHW layer: its blocked in[0] as NCHW at out.ddr. */
void bk_to_nchw_moves(const BkSched *s, BkMoves *mv);
void bk_moves_free(BkMoves *mv);

/* dma_schedule.c: the transfers one core issues for a conv layer. */
typedef struct {
    int64_t transfers, bytes;
    double cycles;
} BkDmaStats;
void bk_conv_dma(const BkConv *c, const M7Machine *m, int core, int ncores, BkDmaStats *st);

/* rt_weights.c: weights that are graph inputs, fed at run time (ONNX node
 * tests, a host updating weights).  The blob keeps their packed place (zero:
 * padding lanes stay zero); a step before the layer fills it on the machine
 * by DMA from the input's NCHW/OIHW copy (docs/backend.md). */
int bk_is_runtime(const IrGraph *g, int ti);        /* a graph input */
int bk_w_kmajor(const IrLayer *l);                  /* FC weights K x M (Gemm transB=0, MatMul) */
float bk_gemm_scale(const IrLayer *l, int k);       /* Gemm: alpha (k 1, weights), beta (k 2, bias); else 1 */
/* Gemm's C against the [N, M] output: 1 one value per column (or one in
 * all), 2 a value per row too (a matrix, [N, M] or [N, 1]), 0 not
 * broadcastable; MatMul / absent C: 1. */
int bk_gemm_c_form(const IrGraph *g, const IrLayer *l);
/* pack.c: every weight/bias element of a conv, depthwise or FC layer: fn(ctx, k,
 * dst, src) with k the layer input (1 weights, 2 bias), dst the float index
 * in the blob, src the float index in the input tensor. */
typedef void (*BkWeightFn)(void *ctx, int k, int64_t dst, int64_t src);
void bk_weight_map(const IrGraph *g, const IrLayer *l, BkWeightFn fn, void *ctx);
/* The transfers that pack layer l's run-time weights (conv, depthwise, FC);
 * *out is malloc'd (NULL if none); returns the count. */
int64_t bk_rt_pack_dma(const IrGraph *g, const IrLayer *l, M7kDmaDesc **out);
/* 1 if layer l has a packing step (run-time conv/FC weights or BN params). */
int bk_has_rt_pack(const IrGraph *g, const IrLayer *l);

/* plan.c: the kernel plans of a layer, every address resolved (after
 * backend_run); codegen prints them.  bk_rt_scaled: a Gemm whose alpha or
 * beta applies to run-time weights (an M7kPackScale step after packing). */
void bk_plan_act(const IrLayer *l, M7kAct *a);
void bk_plan_conv(const IrLayer *l, const BkSched *s, M7kConv *p);
void bk_plan_dw(const IrLayer *l, const BkSched *s, M7kDw *p);
void bk_plan_pool(const BkSched *s, M7kPool *p);
/* The table M7kPool.recip points to: recip[k] = 1/k for k = 1..kh*kw
 * (average pooling; recip[0] = 0); returns its length, *recip malloc'd. */
int bk_plan_pool_recip(const BkSched *s, float **recip);
void bk_plan_gpool(const BkSched *s, M7kGPool *p);
void bk_plan_ew(const IrLayer *l, const BkSched *s, M7kEw *p);
void bk_plan_softmax(const BkSched *s, M7kSoftmax *p);
void bk_plan_lrn(const BkSched *s, M7kLrn *p);
void bk_plan_softmax_rows(const BkSched *s, M7kSoftmaxRows *p);
void bk_plan_softmax_axis(const BkSched *s, M7kSoftmaxAxis *p);
void bk_plan_move(const BkSched *s, const BkMove *m, M7kMove *p);
void bk_plan_pad(const BkSched *s, M7kPad *p);
void bk_plan_copy(const BkSched *s, M7kCopy *p);
void bk_plan_pack_bn(const IrGraph *g, const IrLayer *l, const BkSched *s, M7kPackBn *p);
int bk_rt_scaled(const IrGraph *g, const IrLayer *l);
void bk_plan_pack_scale(const IrGraph *g, const IrLayer *l, const BkSched *s, M7kPackScale *p);
void bk_plan_upsample(const IrLayer *l, const BkSched *s, M7kUpsample *p);
void bk_plan_train(const IrGraph *g, const IrLayer *l, const BkSched *s, M7kTrain *p);

#endif
