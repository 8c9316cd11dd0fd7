/* ir.h: the layer IR of m7cc.
 *
 * A graph is a list of tensors and a list of layers in topological order.
 * Layers refer to tensors by index; tensors remember their producer.
 * The frontend builds it, shape inference fills in shapes, passes rewrite
 * it and annotate it (layout, placement, tiles, DMA schedule, core split),
 * the reference executor and the code generator read it.
 *
 * Semantic layout is always the ONNX one (NCHW for activations, OIHW for
 * conv weights); the machine layout a pass chooses is an annotation.
 * Backward layers and weight updates are ordinary layers (ops below) on
 * ordinary tensors whose role says what they are, so training needs no
 * redesign.  This header depends on nothing but libc.
 */
#ifndef M7CC_IR_H
#define M7CC_IR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ir/ops.h"

#define IR_MAX_RANK 8

typedef enum {
    IR_F32,   /* every activation and parameter */
    IR_I64,   /* shape arithmetic only (Reshape targets, Shape/Gather results) */
} IrDType;

/* What a tensor is in the program.  Backward passes add GRAD and friends. */
typedef enum {
    IR_T_ACT,      /* computed by a layer */
    IR_T_INPUT,    /* graph input supplied at run time */
    IR_T_CONST,    /* known at compile time (initializer, Constant, folded) */
    IR_T_PARAM,    /* trainable parameter (weights fed as graph inputs too) */
    IR_T_GRAD,     /* gradient of a loss w.r.t. some tensor (training) */
} IrTensorRole;

typedef struct IrTensor {
    char *name;
    IrDType dtype;
    IrTensorRole role;
    int rank;                 /* -1 while unknown (before shape inference) */
    int64_t dims[IR_MAX_RANK];
    /* Constant contents (role CONST, and PARAM when known at compile time).
     * Exactly one of f32/i64 is set, according to dtype; owned. */
    float *f32;
    int64_t *i64;
    int producer;             /* layer index, or -1 */
    int is_graph_input;
    int is_graph_output;
    /* A symbolic dimension name per axis as read from ONNX (NULL if fixed);
     * kept for diagnostics. Owned. */
    char *dim_param[IR_MAX_RANK];
    /* Annotations written by later passes. */
    int64_t ddr_offset;       /* memory planner: byte offset in DDR, -1 = unplaced */
} IrTensor;

/* Layer operations.  Names follow ONNX where there is one; their operands,
 * attributes and facts are rows of the table in ops.h. */
#define IR_OP_ENUM(name, str, act, flags, n_in) IR_##name,
typedef enum { IR_OPS(IR_OP_ENUM) IR_OP_COUNT } IrOp;
#undef IR_OP_ENUM

/* An activation applied to a layer's output (fused or standalone). */
typedef enum { IR_ACT_NONE, IR_ACT_RELU, IR_ACT_LEAKY_RELU, IR_ACT_CLIP, IR_ACT_SIGMOID, IR_ACT_TANH } IrActKind;
typedef struct {
    IrActKind kind;
    float alpha;            /* LeakyRelu slope */
    float lo, hi;           /* Clip bounds (-inf/+inf when absent) */
} IrAct;

typedef struct {
    int kernel[2];          /* kH, kW (from W's shape when absent) */
    int stride[2];
    int dilation[2];
    int pad[4];             /* top, left, bottom, right (auto_pad resolved) */
    int group;
} IrConvAttr;

typedef struct {
    int kernel[2];
    int stride[2];
    int pad[4];             /* top, left, bottom, right */
    int ceil_mode;
    int count_include_pad;  /* AveragePool only */
    int dilation[2];        /* MaxPool (opset >= 10) */
} IrPoolAttr;

typedef struct {
    float alpha, beta;
    int trans_a, trans_b;
} IrGemmAttr;

typedef struct {
    float eps;
    int training;           /* batch statistics (ONNX training_mode=1, and --train) */
    float momentum;         /* training: running = running * momentum + batch * (1 - momentum) */
} IrBnAttr;
typedef struct { int size; float alpha, beta, bias; } IrLrnAttr;

typedef struct {
    int axis;               /* normalised to >= 0 */
    int coerce_2d;          /* opset < 13: flatten to [prod(<axis), prod(>=axis)] */
} IrSoftmaxAttr;

/* Training: the loss of IR_LOSS_GRAD (both a mean, as PyTorch's defaults):
 * softmax + cross-entropy of [N, K] logits against [N, K] target
 * probabilities (one-hot labels), or the mean squared error. */
typedef enum { IR_LOSS_CROSS_ENTROPY, IR_LOSS_MSE } IrLossKind;
typedef struct {
    IrLossKind loss;
    float lr;               /* IR_SGD learning rate */
} IrTrainAttr;

typedef enum { IR_PAD_CONSTANT, IR_PAD_REFLECT, IR_PAD_EDGE } IrPadMode;
typedef struct {
    int64_t pads[2 * IR_MAX_RANK]; /* ONNX order: all begins, then all ends */
    float value;                   /* constant mode */
    IrPadMode mode;
} IrPadAttr;

/* Records of the backend (backend/backend.h) that ir/ only carries. */
struct BkSched;
struct BkProgram;

typedef struct {
    IrOp op;
    char *name;             /* ONNX node name (may be synthesised, never NULL) */
    char *onnx_op;          /* original ONNX op type, for messages */
    int n_in, n_out;
    int *in, *out;          /* tensor indices; an optional absent input is -1 */
    union {
        IrConvAttr conv;
        IrPoolAttr pool;
        IrGemmAttr gemm;
        IrBnAttr bn;
        IrLrnAttr lrn;
        IrSoftmaxAttr softmax;
        IrPadAttr pad;
        IrTrainAttr train;
        int axis;           /* Concat, Flatten, Gather */
        int cast_to;
        struct { int n; int64_t v[IR_MAX_RANK]; } axes; /* Squeeze/Unsqueeze */
        struct { int n; int v[IR_MAX_RANK]; } perm;     /* Transpose */
    } a;
    IrAct act;              /* fused activation (conv, fc, gemm, add) or the
                               op's own parameters for standalone activations */
    int dead;               /* removed by a pass; skipped by everyone */
    /* The backend's record of this layer (backend/backend.h; ir/ only
     * carries it): owned, freed with free_sched. */
    struct BkSched *sched;
    void (*free_sched)(struct BkSched *);
    /* Prints the record for --dump-ir (indented lines); set by the pass
     * that sets sched, so ir/ needs to know nothing of its fields. */
    void (*dump_sched)(const struct BkSched *sched, FILE *f);
} IrLayer;

typedef struct {
    IrTensor *t;
    int n_t, cap_t;
    IrLayer *l;
    int n_l, cap_l;
    int *inputs, n_inputs;    /* graph inputs supplied at run time, in ONNX order */
    int *outputs, n_outputs;  /* graph outputs, in ONNX order */
    char *name;
    int64_t opset;            /* default-domain opset of the model */
    /* The backend's program-wide figures (DDR size, blob layout; struct
     * BkProgram of backend/backend.h): plain data, freed with free(). */
    struct BkProgram *program;
} IrGraph;

/* ---- construction ---------------------------------------------------- */
IrGraph *ir_graph_new(const char *name);
void ir_graph_free(IrGraph *g);
/* Adds a tensor with unknown shape; returns its index. */
int ir_add_tensor(IrGraph *g, const char *name, IrDType dt, IrTensorRole role);
/* Finds a tensor by name; -1 when absent. Linear; fine for graph building. */
int ir_find_tensor(const IrGraph *g, const char *name);
/* Adds a layer; in/out arrays are copied; sets producer of outputs. */
int ir_add_layer(IrGraph *g, IrOp op, const char *name, const char *onnx_op,
                 const int *in, int n_in, const int *out, int n_out);
void ir_set_shape(IrTensor *t, int rank, const int64_t *dims);
void ir_graph_add_input(IrGraph *g, int tensor);
void ir_graph_add_output(IrGraph *g, int tensor);

/* ---- queries ------------------------------------------------------------ */
/* The facts of ops.h: printed name ("?" for no op); a standalone
 * activation's kind (IR_ACT_NONE for every other op); IR_OPF_* flags; inputs
 * every layer of the op has (0: any number). */
const char *ir_op_name(IrOp op);
IrActKind ir_op_act(IrOp op);
unsigned ir_op_flags(IrOp op);
int ir_op_n_in(IrOp op);
static inline int ir_op_is_alias(IrOp op) { return (ir_op_flags(op) & IR_OPF_ALIAS) != 0; }
static inline int ir_op_is_noop(IrOp op) { return (ir_op_flags(op) & IR_OPF_NOOP) != 0; }
static inline int ir_op_is_train(IrOp op) { return (ir_op_flags(op) & IR_OPF_TRAIN) != 0; }
/* Element count of a tensor with known shape; -1 on unknown shape or overflow. */
int64_t ir_numel(const IrTensor *t);
/* The 2-D view of a conv/pool operand: rank 4 as it is, rank 3 ([N, C, L],
 * a 1-D conv or pool) as [N, C, 1, L].  -1 for other ranks.  1-D layers are
 * 2-D layers with a 1-high window, so every stage handles them through this. */
int ir_dims_2d(const IrTensor *t, int64_t d[4]);
/* Number of live (non-dead) layers consuming tensor ti. */
int ir_consumer_count(const IrGraph *g, int ti);
/* Useful FLOPs of a layer (2 x MACs for conv/fc/gemm/matmul, 1 per output
 * element for element-wise work), the figure every efficiency is based on. */
int64_t ir_layer_flops(const IrGraph *g, const IrLayer *l);
/* Bytes of constant parameters read by a layer. */
int64_t ir_layer_param_bytes(const IrGraph *g, const IrLayer *l);

/* ---- checked arithmetic: every size computation goes through these ---- */
/* Return 0 and store the result, or -1 on overflow (no store). */
int ir_mul_i64(int64_t a, int64_t b, int64_t *out);
int ir_add_i64(int64_t a, int64_t b, int64_t *out);

/* ---- diagnostics ---------------------------------------------------------
 * Errors are collected, not printed where they happen: the frontend lists
 * every unsupported node in one message.  Each message is one line. */
typedef struct {
    char **msg;
    int n, cap;
} IrDiag;
void ir_diag_add(IrDiag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "STAGE: layer 'NAME' (OnnxOp): message" (no "STAGE: " when stage is
 * NULL), the form every per-layer message takes.  Returns -1. */
int ir_diag_layer(IrDiag *d, const char *stage, const IrLayer *l, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ir_diag_print(const IrDiag *d, FILE *f);
void ir_diag_free(IrDiag *d);

/* Allocation helpers used across the compiler: on exhaustion they print
 * "m7cc: out of memory" and exit(1) (never return NULL). */
void *ir_xmalloc(size_t n);
void *ir_xcalloc(size_t n, size_t size);
void *ir_xrealloc(void *p, size_t n);
char *ir_strdup(const char *s);

#endif
