/* autodiff.c: turns an inference graph into one training step.
 *
 * After canonicalisation the graph is a chain of conv / FC / pooling /
 * activation / reshape / add layers ending in the model's prediction.  This
 * pass appends, in order: a target graph input and the loss with its
 * gradient (IR_LOSS_GRAD); the backward layers, visiting the forward layers
 * last to first (reverse-mode differentiation: when a layer is visited every
 * reader of its output has been, so the output's gradient is complete); and
 * an SGD update of every conv and FC weight and bias and BatchNormalization
 * scale and bias (BatchNormalization uses batch statistics in the step).  The graph outputs
 * become: the loss, the updated parameters, then their gradients, each in
 * forward order.  Backward layers are ordinary layers (ir.h), so the
 * reference executor runs them and later stages can map them like any other.
 *
 * Forward activations the backward layers read (X of a conv for dW, Y of an
 * activation for its slope, X of a pool for its argmax) stay alive until
 * then: the executor frees a tensor after its last reader. */
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"

/* A gradient tensor shaped like tensor `like`. */
static int grad_like(IrGraph *g, int like) {
    return canon_new_tensor(g, g->t[like].name, ".grad", IR_T_GRAD, g->t[like].rank, g->t[like].dims);
}

typedef struct {
    IrGraph *g;
    int *grad;       /* forward tensor -> its gradient tensor, -1 none yet */
    int n_fwd_t;     /* tensors before the pass: the ones grad covers */
    int *params, n_params; /* trainable tensors (each once) */
    int *pgrad;      /* their gradients */
    int *player;     /* the forward layer that reads each: outputs go in forward order */
} Ad;

/* Adds a backward layer named after forward layer fl; returns its index. */
static int add_bwd(Ad *a, int fl, IrOp op, const int *in, int n_in, const int *out, int n_out) {
    IrGraph *g = a->g;
    size_t n = strlen(g->l[fl].name) + 16;
    char *name = ir_xmalloc(n);
    snprintf(name, n, "%s:%s", g->l[fl].name, ir_op_name(op));
    int li = ir_add_layer(g, op, name, ir_op_name(op), in, n_in, out, n_out);
    free(name);
    return li;
}

/* Adds gradient gx to what tensor t has (sums when t has several readers). */
static void accumulate(Ad *a, int fl, int t, int gx) {
    if (a->grad[t] < 0) {
        a->grad[t] = gx;
        return;
    }
    int sum = grad_like(a->g, t);
    add_bwd(a, fl, IR_ADD, (int[]){a->grad[t], gx}, 2, &sum, 1);
    a->grad[t] = sum;
}

/* An activation's input needs a gradient; a graph input or constant does not. */
static int needs_grad(const IrGraph *g, int t) { return t >= 0 && g->t[t].producer >= 0; }

/* Weights and biases get gradients and updates: once each, in forward order. */
static int param_slot(Ad *a, int fl, int t) {
    for (int i = 0; i < a->n_params; i++)
        if (a->params[i] == t) {
            a->player[i] = fl; /* the earliest reader (layers are visited last to first) */
            return i;
        }
    size_t n = (size_t)(a->n_params + 1);
    a->params = ir_xrealloc(a->params, n * sizeof *a->params);
    a->pgrad = ir_xrealloc(a->pgrad, n * sizeof *a->pgrad);
    a->player = ir_xrealloc(a->player, n * sizeof *a->player);
    a->params[a->n_params] = t;
    a->pgrad[a->n_params] = -1;
    a->player[a->n_params] = fl;
    return a->n_params++;
}

/* Parameters in forward order: by reading layer, then weight before bias. */
static void sort_params(Ad *a) {
    for (int i = 1; i < a->n_params; i++)
        for (int j = i; j > 0 && a->player[j - 1] > a->player[j]; j--) {
            int t;
            t = a->params[j], a->params[j] = a->params[j - 1], a->params[j - 1] = t;
            t = a->pgrad[j], a->pgrad[j] = a->pgrad[j - 1], a->pgrad[j - 1] = t;
            t = a->player[j], a->player[j] = a->player[j - 1], a->player[j - 1] = t;
        }
}

static void param_grad(Ad *a, int fl, int t, int gt) {
    int k = param_slot(a, fl, t);
    if (a->pgrad[k] < 0) {
        a->pgrad[k] = gt;
        return;
    }
    int sum = grad_like(a->g, t); /* a weight shared by two layers */
    add_bwd(a, fl, IR_ADD, (int[]){a->pgrad[k], gt}, 2, &sum, 1);
    a->pgrad[k] = sum;
}

/* dY of y through activation act: a new gradient tensor. */
static int act_grad(Ad *a, int fl, IrAct act, int gy, int y) {
    int gx = grad_like(a->g, y);
    int li = add_bwd(a, fl, IR_ACT_GRAD, (int[]){gy, y}, 2, &gx, 1);
    a->g->l[li].act = act;
    return gx;
}

/* Conv or FC: dX (if X needs it), dW and dB. */
static int linear_grad(Ad *a, int fl, int gy, IrDiag *d) {
    IrGraph *g = a->g;
    int x = g->l[fl].in[0], w = g->l[fl].in[1], b = g->l[fl].n_in > 2 ? g->l[fl].in[2] : -1;
    int conv = g->l[fl].op == IR_CONV;
    if (needs_grad(g, w) || needs_grad(g, b)) {
        ir_diag_add(d, "training: layer '%s' computes its weights; only weights that are "
                       "initializers or graph inputs are trained", g->l[fl].name);
        return -1;
    }
    if (needs_grad(g, x)) {
        int gx = grad_like(g, x);
        int li = add_bwd(a, fl, conv ? IR_CONV_GRAD_X : IR_FC_GRAD_X, (int[]){gy, w}, 2, &gx, 1);
        if (conv)
            g->l[li].a.conv = g->l[fl].a.conv;
        accumulate(a, fl, x, gx);
    }
    int gw = grad_like(g, w), gb = b >= 0 ? grad_like(g, b) : -1;
    int li = add_bwd(a, fl, conv ? IR_CONV_GRAD_W : IR_FC_GRAD_W, (int[]){gy, x}, 2, (int[]){gw, gb},
                     b >= 0 ? 2 : 1);
    if (conv)
        g->l[li].a.conv = g->l[fl].a.conv;
    param_grad(a, fl, w, gw);
    if (b >= 0)
        param_grad(a, fl, b, gb);
    return 0;
}

/* The backward layers of forward layer fl, whose output gradient is gy. */
static int layer_grad(Ad *a, int fl, int gy, IrDiag *d) {
    IrGraph *g = a->g;
    IrLayer *l = &g->l[fl];
    int x = l->in[0], y = l->out[0];
    IrOp op = l->op;
    if (l->act.kind != IR_ACT_NONE && ir_op_act(op) == IR_ACT_NONE) {
        gy = act_grad(a, fl, l->act, gy, y); /* the fused activation first */
        l = &g->l[fl];                       /* adding a layer moved g->l */
    }
    switch (op) {
    case IR_CONV:
    case IR_FC:
        return linear_grad(a, fl, gy, d);
    case IR_MAXPOOL:
    case IR_AVGPOOL:
    case IR_GLOBAL_MAXPOOL:
    case IR_GLOBAL_AVGPOOL: {
        if (!needs_grad(g, x))
            return 0;
        IrPoolAttr pa = l->a.pool;
        int64_t xd[4];
        if (op == IR_GLOBAL_MAXPOOL || op == IR_GLOBAL_AVGPOOL) { /* one window: the plane */
            if (ir_dims_2d(&g->t[x], xd) || xd[2] > 65535 || xd[3] > 65535) {
                ir_diag_add(d, "training: layer '%s': global pooling of %d-D data", l->name, g->t[x].rank - 2);
                return -1;
            }
            memset(&pa, 0, sizeof pa);
            pa.kernel[0] = (int)xd[2], pa.kernel[1] = (int)xd[3];
            pa.stride[0] = pa.stride[1] = pa.dilation[0] = pa.dilation[1] = 1;
        }
        int is_max = op == IR_MAXPOOL || op == IR_GLOBAL_MAXPOOL;
        int gx = grad_like(g, x);
        int li = add_bwd(a, fl, is_max ? IR_MAXPOOL_GRAD : IR_AVGPOOL_GRAD, (int[]){gy, x}, 2, &gx, 1);
        g->l[li].a.pool = pa;
        accumulate(a, fl, x, gx);
        return 0;
    }
    case IR_BATCHNORM: { /* batch statistics (passes_train_prepare) */
        int s = l->in[1], b = l->in[2];
        if (needs_grad(g, s) || needs_grad(g, b)) {
            ir_diag_add(d, "training: layer '%s' computes its scale or bias", l->name);
            return -1;
        }
        IrBnAttr bn = l->a.bn;
        int gx = grad_like(g, x), gs = grad_like(g, s), gb = grad_like(g, b);
        int li = add_bwd(a, fl, IR_BATCHNORM_GRAD, (int[]){gy, x, s}, 3, (int[]){gx, gs, gb}, 3);
        g->l[li].a.bn = bn;
        if (needs_grad(g, x))
            accumulate(a, fl, x, gx);
        param_grad(a, fl, s, gs);
        param_grad(a, fl, b, gb);
        return 0;
    }
    case IR_ADD: {
        for (int k = 0; k < 2; k++) { /* a constant operand (a bias) needs no gradient */
            const IrTensor *t = &g->t[l->in[k]], *yt = &g->t[y];
            if (needs_grad(g, l->in[k]) && ir_numel(t) != ir_numel(yt)) {
                ir_diag_add(d, "training: layer '%s' (Add) broadcasts '%s'; only Add of same-shaped "
                               "tensors has a backward yet", l->name, t->name);
                return -1;
            }
        }
        for (int k = 0; k < 2; k++)
            if (needs_grad(g, g->l[fl].in[k]))
                accumulate(a, fl, g->l[fl].in[k], gy);
        return 0;
    }
    default:
        if (ir_op_act(op) != IR_ACT_NONE) {
            IrAct act = l->act;
            act.kind = ir_op_act(op);
            if (needs_grad(g, x))
                accumulate(a, fl, x, act_grad(a, fl, act, gy, y));
            return 0;
        }
        if (ir_op_is_alias(op)) {
            if (needs_grad(g, x)) { /* the same values, back in X's shape */
                int gx = grad_like(g, x);
                add_bwd(a, fl, IR_RESHAPE, &gy, 1, &gx, 1);
                accumulate(a, fl, x, gx);
            }
            return 0;
        }
        ir_diag_add(d, "training: layer '%s' (%s) has no backward yet (conv, FC, pooling, BatchNormalization, "
                       "activations, reshapes and Add do)", l->name, l->onnx_op);
        return -1;
    }
}

int passes_train_prepare(IrGraph *g, IrDiag *d) {
    int bad = 0;
    for (int i = 0; i < g->n_l; i++) {
        IrLayer *l = &g->l[i];
        if (l->dead)
            continue;
        switch (l->op) {
        case IR_BATCHNORM: /* batch statistics, as PyTorch's model.train(); so it is not folded either */
            if (l->n_out > 1 && l->out[1] >= 0) {
                ir_diag_add(d, "training: layer '%s' (%s) already gives running statistics (training_mode=1); "
                               "export the model for inference", l->name, l->onnx_op);
                bad = 1;
            }
            l->a.bn.training = 1;
            l->a.bn.momentum = 0.9f;
            break;
        case IR_LRN:
        case IR_MUL:
        case IR_CONCAT:
        case IR_TRANSPOSE:
            ir_diag_add(d, "training: layer '%s' (%s) has no backward yet (conv, FC, pooling, BatchNormalization, "
                           "activations, reshapes and Add do)", l->name, l->onnx_op);
            bad = 1;
            break;
        default: /* the rest either has a backward or canonicalisation removes it; autodiff says */
            break;
        }
    }
    return bad ? -1 : 0;
}

int passes_autodiff(IrGraph *g, const TrainOptions *o, IrDiag *d) {
    if (g->n_outputs != 1 || g->t[g->outputs[0]].dtype != IR_F32) {
        ir_diag_add(d, "training: the model must have one float output (its prediction); it has %d outputs",
                    g->n_outputs);
        return -1;
    }
    int y = g->outputs[0], pred = y, p = g->t[y].producer;
    if (o->loss == IR_LOSS_CROSS_ENTROPY) {
        /* a final Softmax is part of the loss: the loss reads its logits */
        if (p >= 0 && g->l[p].op == IR_SOFTMAX && g->t[y].rank == 2 && g->l[p].a.softmax.axis == 1) {
            pred = g->l[p].in[0];
            g->l[p].dead = 1;
        }
        if (g->t[pred].rank != 2) {
            ir_diag_add(d, "training: cross-entropy needs a [N, K] prediction; '%s' is %d-D (use --loss mse)",
                        g->t[pred].name, g->t[pred].rank);
            return -1;
        }
    }
    if (!needs_grad(g, pred)) {
        ir_diag_add(d, "training: the prediction '%s' is not computed from anything trainable", g->t[pred].name);
        return -1;
    }
    Ad a = {.g = g, .n_fwd_t = g->n_t};
    a.grad = ir_xmalloc((size_t)g->n_t * sizeof *a.grad);
    for (int t = 0; t < g->n_t; t++)
        a.grad[t] = -1;
    int n_fwd = g->n_l, rc = 0;

    int tgt = canon_new_tensor(g, "target", "", IR_T_INPUT, g->t[pred].rank, g->t[pred].dims);
    ir_graph_add_input(g, tgt);
    int dpred = grad_like(g, pred), loss = canon_new_tensor(g, "loss", "", IR_T_ACT, 1, (int64_t[]){1});
    int li = ir_add_layer(g, IR_LOSS_GRAD, "loss", "loss", (int[]){pred, tgt}, 2, (int[]){dpred, loss}, 2);
    g->l[li].a.train.loss = o->loss;
    a.grad[pred] = dpred;

    for (int fl = n_fwd - 1; fl >= 0; fl--) {
        if (g->l[fl].dead || g->l[fl].n_out < 1 || g->l[fl].out[0] < 0 || a.grad[g->l[fl].out[0]] < 0)
            continue;
        if (layer_grad(&a, fl, a.grad[g->l[fl].out[0]], d))
            rc = -1; /* go on: every layer without a backward is listed */
    }
    if (rc == 0 && a.n_params == 0) {
        ir_diag_add(d, "training: the model has no conv or FC weights to train");
        rc = -1;
    }
    if (rc == 0) {
        sort_params(&a);
        for (int k = 0; k < g->n_outputs; k++)
            g->t[g->outputs[k]].is_graph_output = 0;
        g->n_outputs = 0;
        ir_graph_add_output(g, loss);
        int *upd = ir_xmalloc((size_t)a.n_params * sizeof *upd);
        for (int k = 0; k < a.n_params; k++) {
            int w = a.params[k];
            if (g->t[w].role == IR_T_CONST)
                g->t[w].role = IR_T_PARAM;
            upd[k] = canon_new_tensor(g, g->t[w].name, ".updated", IR_T_ACT, g->t[w].rank, g->t[w].dims);
            char name[64];
            snprintf(name, sizeof name, "sgd.%d", k);
            li = ir_add_layer(g, IR_SGD, name, "SGD", (int[]){w, a.pgrad[k]}, 2, &upd[k], 1);
            g->l[li].a.train.lr = o->lr;
        }
        for (int k = 0; k < a.n_params; k++)
            ir_graph_add_output(g, upd[k]);
        for (int k = 0; k < a.n_params; k++)
            ir_graph_add_output(g, a.pgrad[k]);
        free(upd);
    }
    free(a.grad);
    free(a.params);
    free(a.pgrad);
    free(a.player);
    return rc;
}
