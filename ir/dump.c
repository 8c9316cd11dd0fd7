/* dump.c: the --dump-ir printer.
 *
 *   graph "<name>" opset <n>
 *   input <tensor>          one line per graph input / output
 *   output <tensor>
 *
 *   layer <index> <op> "<node name>" (<ONNX op>)
 *     <attributes>          only for ops that have them
 *     act <activation>      fused activation, when there is one
 *     in <tensor>           one line per input; "-" for an absent one
 *     out <tensor>
 *     params <bytes> B, flops <n>
 *     <backend annotations> from l->dump_sched
 *
 *   totals: <n> layers, params <bytes> B, flops <n>, activations <bytes> B
 *
 * where <tensor> is "name dtype [d0,d1,...] role" (unknown dims print as
 * their ONNX symbol or ?).  Layer indices are the IR's own, so they stay put
 * when passes kill layers.  Parameter and activation totals count every
 * tensor once, however many layers read it. */
#include "ir/dump.h"

#include <stdlib.h>

/* Names come from the model file: control characters and quotes are
 * escaped so every item stays on its line. */
static void put_name(const char *s, FILE *f) {
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\')
            fprintf(f, "\\x%02x", ch);
        else
            fputc(ch, f);
    }
}

static void put_shape(const IrTensor *t, FILE *f) {
    if (t->rank < 0) {
        fputs("[?]", f);
        return;
    }
    fputc('[', f);
    for (int i = 0; i < t->rank && i < IR_MAX_RANK; i++) {
        if (i)
            fputc(',', f);
        if (t->dims[i] >= 0)
            fprintf(f, "%lld", (long long)t->dims[i]);
        else if (t->dim_param[i])
            put_name(t->dim_param[i], f);
        else
            fputc('?', f);
    }
    fputc(']', f);
}

static void put_tensor(const IrGraph *g, int ti, FILE *f) {
    if (ti < 0 || ti >= g->n_t) {
        fputs("-\n", f);
        return;
    }
    static const char *roles[] = {
        [IR_T_ACT] = "", [IR_T_INPUT] = " input", [IR_T_CONST] = " const",
        [IR_T_PARAM] = " param", [IR_T_GRAD] = " grad",
    };
    const IrTensor *t = &g->t[ti];
    put_name(t->name, f);
    fprintf(f, " %s ", t->dtype == IR_I64 ? "i64" : "f32");
    put_shape(t, f);
    if ((unsigned)t->role < sizeof roles / sizeof roles[0])
        fputs(roles[t->role], f);
    if (t->ddr_offset >= 0)
        fprintf(f, " @ddr %lld", (long long)t->ddr_offset);
    fputc('\n', f);
}

static void put_act(const IrAct *a, FILE *f) {
    switch (a->kind) {
    case IR_ACT_RELU: fputs("relu", f); break;
    case IR_ACT_LEAKY_RELU: fprintf(f, "leaky_relu alpha %g", a->alpha); break;
    case IR_ACT_CLIP: fprintf(f, "clip lo %g hi %g", a->lo, a->hi); break;
    case IR_ACT_SIGMOID: fputs("sigmoid", f); break;
    case IR_ACT_TANH: fputs("tanh", f); break;
    default: fputs("none", f); break;
    }
}

static void put_pool(const IrLayer *l, FILE *f) {
    const IrPoolAttr *p = &l->a.pool;
    fprintf(f, "  kernel %dx%d stride %dx%d pad %d,%d,%d,%d ceil_mode %d", p->kernel[0],
            p->kernel[1], p->stride[0], p->stride[1], p->pad[0], p->pad[1], p->pad[2], p->pad[3],
            p->ceil_mode);
    if (l->op == IR_AVGPOOL || l->op == IR_AVGPOOL_GRAD)
        fprintf(f, " count_include_pad %d", p->count_include_pad);
    else
        fprintf(f, " dilation %dx%d", p->dilation[0], p->dilation[1]);
    fputc('\n', f);
}

static void put_attrs(const IrGraph *g, const IrLayer *l, FILE *f) {
    switch (l->op) {
    case IR_CONV:
    case IR_CONV_GRAD_X:
    case IR_CONV_GRAD_W: {
        const IrConvAttr *c = &l->a.conv;
        fprintf(f, "  kernel %dx%d stride %dx%d dilation %dx%d pad %d,%d,%d,%d group %d\n",
                c->kernel[0], c->kernel[1], c->stride[0], c->stride[1], c->dilation[0],
                c->dilation[1], c->pad[0], c->pad[1], c->pad[2], c->pad[3], c->group);
        break;
    }
    case IR_MAXPOOL:
    case IR_AVGPOOL:
    case IR_MAXPOOL_GRAD:
    case IR_AVGPOOL_GRAD:
        put_pool(l, f);
        break;
    case IR_LOSS_GRAD:
        fprintf(f, "  loss %s\n", l->a.train.loss == IR_LOSS_MSE ? "mse" : "cross-entropy (softmax)");
        break;
    case IR_SGD:
        fprintf(f, "  lr %g\n", l->a.train.lr);
        break;
    case IR_GEMM:
        fprintf(f, "  alpha %g beta %g trans_a %d trans_b %d\n", l->a.gemm.alpha, l->a.gemm.beta,
                l->a.gemm.trans_a, l->a.gemm.trans_b);
        break;
    case IR_BATCHNORM:
        if (l->a.bn.training)
            fprintf(f, "  eps %g training (batch statistics) momentum %g\n", l->a.bn.eps, l->a.bn.momentum);
        else
            fprintf(f, "  eps %g\n", l->a.bn.eps);
        break;
    case IR_LRN:
        fprintf(f, "  size %d alpha %g beta %g bias %g\n", l->a.lrn.size, l->a.lrn.alpha,
                l->a.lrn.beta, l->a.lrn.bias);
        break;
    case IR_SOFTMAX:
        fprintf(f, "  axis %d coerce_2d %d\n", l->a.softmax.axis, l->a.softmax.coerce_2d);
        break;
    case IR_CONCAT:
    case IR_FLATTEN:
    case IR_GATHER:
        fprintf(f, "  axis %d\n", l->a.axis);
        break;
    case IR_PAD: {
        /* ONNX order: all begins, then all ends, of the input's rank. */
        int r = l->n_in > 0 && l->in[0] >= 0 && g->t[l->in[0]].rank >= 0 ? g->t[l->in[0]].rank
                                                                          : IR_MAX_RANK;
        fputs("  pads", f);
        for (int i = 0; i < 2 * r; i++)
            fprintf(f, "%c%lld", i ? ',' : ' ', (long long)l->a.pad.pads[i]);
        if (l->a.pad.mode == IR_PAD_CONSTANT)
            fprintf(f, " value %g\n", l->a.pad.value);
        else
            fprintf(f, " mode %s\n", l->a.pad.mode == IR_PAD_REFLECT ? "reflect" : "edge");
        break;
    }
    case IR_LEAKY_RELU:
        fprintf(f, "  alpha %g\n", l->act.alpha);
        break;
    case IR_CLIP:
        fprintf(f, "  lo %g hi %g\n", l->act.lo, l->act.hi);
        break;
    case IR_UNSQUEEZE:
    case IR_SQUEEZE:
        fputs("  axes", f);
        for (int i = 0; i < l->a.axes.n && i < IR_MAX_RANK; i++)
            fprintf(f, "%c%lld", i ? ',' : ' ', (long long)l->a.axes.v[i]);
        fputc('\n', f);
        break;
    case IR_CAST:
        fprintf(f, "  to %d\n", l->a.cast_to);
        break;
    case IR_TRANSPOSE:
        fputs("  perm", f);
        for (int i = 0; i < l->a.perm.n && i < IR_MAX_RANK; i++)
            fprintf(f, "%c%d", i ? ',' : ' ', l->a.perm.v[i]);
        fputc('\n', f);
        break;
    default:
        break;
    }
}

/* Bytes of a tensor's contents; 0 when its shape is unknown. */
static int64_t tensor_bytes(const IrTensor *t) {
    int64_t n = ir_numel(t), b;
    if (n < 0 || ir_mul_i64(n, t->dtype == IR_I64 ? 8 : 4, &b))
        return 0;
    return b;
}

void ir_dump(const IrGraph *g, FILE *f) {
    fputs("graph \"", f);
    put_name(g->name, f);
    fprintf(f, "\" opset %lld\n", (long long)g->opset);
    for (int i = 0; i < g->n_inputs; i++) {
        fputs("input ", f);
        put_tensor(g, g->inputs[i], f);
    }
    for (int i = 0; i < g->n_outputs; i++) {
        fputs("output ", f);
        put_tensor(g, g->outputs[i], f);
    }
    /* counted[t]: 1 once t's bytes are in a total. */
    char *counted = ir_xcalloc((size_t)(g->n_t ? g->n_t : 1), 1);
    int64_t layers = 0, params = 0, flops = 0, acts = 0;
    for (int li = 0; li < g->n_l; li++) {
        const IrLayer *l = &g->l[li];
        if (l->dead)
            continue;
        layers++;
        fprintf(f, "\nlayer %d %s \"", li, ir_op_name(l->op));
        put_name(l->name, f);
        fputs("\" (", f);
        put_name(l->onnx_op, f);
        fputs(")\n", f);
        put_attrs(g, l, f);
        if (l->act.kind != IR_ACT_NONE && ir_op_act(l->op) == IR_ACT_NONE) {
            fputs("  act ", f);
            put_act(&l->act, f);
            fputc('\n', f);
        }
        for (int k = 0; k < l->n_in; k++) {
            fputs("  in ", f);
            put_tensor(g, l->in[k], f);
            int ti = l->in[k];
            if (ti >= 0 && ti < g->n_t && !counted[ti] && g->t[ti].dtype == IR_F32 &&
                (g->t[ti].role == IR_T_CONST || g->t[ti].role == IR_T_PARAM)) {
                counted[ti] = 1;
                params += tensor_bytes(&g->t[ti]);
            }
        }
        for (int k = 0; k < l->n_out; k++) {
            fputs("  out ", f);
            put_tensor(g, l->out[k], f);
            int ti = l->out[k];
            if (ti >= 0 && ti < g->n_t && !counted[ti]) {
                counted[ti] = 1;
                acts += tensor_bytes(&g->t[ti]);
            }
        }
        int64_t fl = ir_layer_flops(g, l);
        fprintf(f, "  params %lld B, flops %lld\n", (long long)ir_layer_param_bytes(g, l),
                (long long)fl);
        if (ir_add_i64(flops, fl, &flops))
            flops = INT64_MAX;
        if (l->dump_sched)
            l->dump_sched(l->sched, f);
    }
    free(counted);
    fprintf(f, "\ntotals: %lld layers, params %lld B, flops %lld, activations %lld B\n",
            (long long)layers, (long long)params, (long long)flops, (long long)acts);
}
