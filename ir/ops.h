/* ops.h: the one table of IR ops (QBE's ops.h style).
 *
 * Each row holds what the code needs to know about an op as data, once:
 *   X(NAME, printed name, act, flags, n_in)
 * NAME     the enum constant is IR_##NAME (ir.h generates enum IrOp from
 *          this table, in this order)
 * printed  the op's name in --dump-ir, messages and synthesised layer names
 * act      a standalone activation's IrActKind (IR_ACT_##act), else NONE
 * flags    IR_OPF_* below, or 0
 * n_in     inputs every layer of the op has (trailing optional ones not
 *          counted); 0 when it takes any number (Concat)
 * The operand and attribute comments are the op's contract.  Read the facts
 * through ir_op_name, ir_op_act, ir_op_is_* and ir_op_n_in (ir.h), never by
 * listing ops again.  docs/adding-an-op.md says what else a new op needs. */
#ifndef M7CC_IR_OPS_H
#define M7CC_IR_OPS_H

enum {
    /* the output is the input's data, reinterpreted in the output's shape */
    IR_OPF_ALIAS = 1 << 0,
    /* the output is the input itself, shape and all: a removable no-op */
    IR_OPF_NOOP = 1 << 1,
    /* no arithmetic on the values (data movement, shape arithmetic): 0 FLOPs */
    IR_OPF_NOFLOP = 1 << 2,
    /* a training op (passes/autodiff.c): a backward layer or the update */
    IR_OPF_TRAIN = 1 << 3,
};

#define IR_OPF_RESHAPE (IR_OPF_ALIAS | IR_OPF_NOFLOP)
#define IR_OPF_COPY (IR_OPF_ALIAS | IR_OPF_NOOP | IR_OPF_NOFLOP)

#define IR_OPS(X) \
    /* compute layers */ \
    X(CONV,           "conv",           NONE,       0,              2) /* in: X, W, [B]  attr: conv */ \
    X(MAXPOOL,        "maxpool",        NONE,       0,              1) /* in: X  attr: pool */ \
    X(AVGPOOL,        "avgpool",        NONE,       0,              1) /* in: X  attr: pool */ \
    X(GLOBAL_AVGPOOL, "global_avgpool", NONE,       0,              1) /* in: X */ \
    X(GLOBAL_MAXPOOL, "global_maxpool", NONE,       0,              1) /* in: X */ \
    X(GEMM,           "gemm",           NONE,       0,              2) /* in: A, B, [C]  attr: gemm (ONNX Gemm) */ \
    X(MATMUL,         "matmul",         NONE,       0,              2) /* in: A, B (2-D) */ \
    /* in: X (N x K, or N x ... flattened), W (M x K), [B (M)]; Y = X W^T + B;
       made by canonicalisation from Gemm/MatMul/Flatten */ \
    X(FC,             "fc",             NONE,       0,              2) \
    /* in: X, scale, B, mean, var  attr: bn; training: out Y, [running mean, var] */ \
    X(BATCHNORM,      "batchnorm",      NONE,       0,              5) \
    X(LRN,            "lrn",            NONE,       0,              1) /* in: X  attr: lrn */ \
    X(SOFTMAX,        "softmax",        NONE,       0,              1) /* in: X  attr: softmax */ \
    X(ADD,            "add",            NONE,       0,              2) /* in: A, B (broadcast) */ \
    X(MUL,            "mul",            NONE,       0,              2) /* in: A, B (broadcast) */ \
    /* in: A, B (broadcast); by a constant: lowered to Add */ \
    X(SUB,            "sub",            NONE,       0,              2) \
    X(DIV,            "div",            NONE,       0,              2) /* in: A, B (broadcast) */ \
    X(CONCAT,         "concat",         NONE,       IR_OPF_NOFLOP,  0) /* in: X0..Xn  attr: axis */ \
    X(PAD,            "pad",            NONE,       IR_OPF_NOFLOP,  1) /* in: X  attr: pad (constant mode) */ \
    /* element-wise activations (also fusable into conv/fc, see IrAct) */ \
    X(RELU,           "relu",           RELU,       0,              1) \
    X(LEAKY_RELU,     "leaky_relu",     LEAKY_RELU, 0,              1) /* attr: act.alpha */ \
    X(CLIP,           "clip",           CLIP,       0,              1) /* attr: act.lo, act.hi */ \
    X(SIGMOID,        "sigmoid",        SIGMOID,    0,              1) \
    X(TANH,           "tanh",           TANH,       0,              1) \
    /* data movement / no-ops */ \
    /* in: X, [shape (const I64)]; out shape in tensor */ \
    X(RESHAPE,        "reshape",        NONE,       IR_OPF_RESHAPE, 1) \
    X(FLATTEN,        "flatten",        NONE,       IR_OPF_RESHAPE, 1) /* in: X  attr: axis */ \
    X(IDENTITY,       "identity",       NONE,       IR_OPF_COPY,    1) \
    X(DROPOUT,        "dropout",        NONE,       IR_OPF_COPY,    1) /* inference: identity */ \
    X(TRANSPOSE,      "transpose",      NONE,       IR_OPF_NOFLOP,  1) /* attr: perm */ \
    /* shape arithmetic on I64 constants; folded away by shape inference */ \
    X(SHAPE,          "shape",          NONE,       IR_OPF_NOFLOP,  1) \
    X(GATHER,         "gather",         NONE,       IR_OPF_NOFLOP,  2) /* attr: axis */ \
    X(UNSQUEEZE,      "unsqueeze",      NONE,       IR_OPF_RESHAPE, 1) /* attr: axes */ \
    X(SQUEEZE,        "squeeze",        NONE,       IR_OPF_RESHAPE, 1) /* attr: axes */ \
    /* attr: cast_to (ONNX TensorProto elem type) */ \
    X(CAST,           "cast",           NONE,       IR_OPF_NOFLOP,  1) \
    /* training (passes/autodiff.c): backward layers and the update; dY is
       the gradient of the loss w.r.t. the forward layer's output Y */ \
    /* in: Y, T (target)  out: dY, loss [1]  attr: train.loss */ \
    X(LOSS_GRAD,      "loss_grad",      NONE,       IR_OPF_TRAIN,   2) \
    X(ACT_GRAD,       "act_grad",       NONE,       IR_OPF_TRAIN,   2) /* in: dY, Y  out: dX  act: the activation */ \
    /* in: dY, W  out: dX (X's shape)  attr: conv (forward's) */ \
    X(CONV_GRAD_X,    "conv_grad_x",    NONE,       IR_OPF_TRAIN,   2) \
    X(CONV_GRAD_W,    "conv_grad_w",    NONE,       IR_OPF_TRAIN,   2) /* in: dY, X  out: dW, [dB]  attr: conv */ \
    X(FC_GRAD_X,      "fc_grad_x",      NONE,       IR_OPF_TRAIN,   2) /* in: dY, W  out: dX (X's shape) */ \
    X(FC_GRAD_W,      "fc_grad_w",      NONE,       IR_OPF_TRAIN,   2) /* in: dY, X  out: dW, [dB] */ \
    /* in: dY, X  out: dX  attr: pool (forward's) */ \
    X(MAXPOOL_GRAD,   "maxpool_grad",   NONE,       IR_OPF_TRAIN,   2) \
    /* in: dY, X  out: dX  attr: pool (global: whole plane) */ \
    X(AVGPOOL_GRAD,   "avgpool_grad",   NONE,       IR_OPF_TRAIN,   2) \
    /* in: dY, X, scale  out: dX, dscale, dB  attr: bn (batch statistics) */ \
    X(BATCHNORM_GRAD, "batchnorm_grad", NONE,       IR_OPF_TRAIN,   3) \
    X(SGD,            "sgd",            NONE,       IR_OPF_TRAIN,   2) /* in: W, dW  out: W - lr dW  attr: train.lr */

#endif
