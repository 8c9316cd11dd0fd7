/* onnx_ops.c: one ONNX node -> IR layer (or constant).
 *
 * Attribute forms of opsets 1..18 are read here (attribute vs input forms,
 * defaults that changed between opsets); everything past this file is
 * opset-free.  Each layer's shapes are inferred as soon as it is added, so
 * a later node sees folded shape arithmetic (Reshape targets, Pad pads,
 * Unsqueeze axes) and the input shapes it needs to resolve auto_pad. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx_load.h"
#include "frontend/onnx_ops.h"
#include "ir/shape.h"

static int node_err(Ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int node_err(Ctx *c, const char *fmt, ...) {
    char buf[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ir_diag_add(c->d, "%s: node %d '%s' (%s): %s", c->path, c->idx, c->name, c->n->op_type, buf);
    return -1;
}

/* ---- tensor names ---------------------------------------------------------- */

static uint32_t hash_name(const char *s) {
    uint32_t h = 2166136261u; /* FNV-1a */
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

static void hash_insert(Ctx *c, int ti) {
    const char *name = c->g->t[ti].name;
    uint32_t mask = (uint32_t)c->hash_cap - 1;
    for (uint32_t i = hash_name(name) & mask;; i = (i + 1) & mask) {
        int *slot = &c->hash[i];
        if (*slot < 0 || !strcmp(c->g->t[*slot].name, name)) {
            *slot = ti; /* a later tensor of the same name shadows the earlier */
            return;
        }
    }
}

int onnx_lookup(Ctx *c, const char *name) {
    if (2 * c->g->n_t >= c->hash_cap) { /* keep the load under 1/2 */
        int cap = c->hash_cap ? c->hash_cap : 256;
        while (2 * c->g->n_t >= cap)
            cap *= 2;
        free(c->hash);
        c->hash = ir_xmalloc((size_t)cap * sizeof *c->hash);
        memset(c->hash, 0xff, (size_t)cap * sizeof *c->hash);
        c->hash_cap = cap;
        c->hashed = 0;
    }
    for (; c->hashed < c->g->n_t; c->hashed++)
        hash_insert(c, c->hashed);
    uint32_t mask = (uint32_t)c->hash_cap - 1;
    for (uint32_t i = hash_name(name) & mask; c->hash[i] >= 0; i = (i + 1) & mask)
        if (!strcmp(c->g->t[c->hash[i]].name, name))
            return c->hash[i];
    return -1;
}

/* ---- attributes ----------------------------------------------------------- */

static Onnx__AttributeProto *attr(Ctx *c, const char *name) {
    for (size_t i = 0; i < c->n->n_attribute; i++)
        if (c->n->attribute[i]->name && !strcmp(c->n->attribute[i]->name, name))
            return c->n->attribute[i];
    return NULL;
}

static int attr_type_ok(Ctx *c, const Onnx__AttributeProto *a, Onnx__AttributeProto__AttributeType t,
                        const char *what) {
    if (a->has_type && a->type != t)
        return node_err(c, "attribute '%s' must be %s", a->name, what);
    return 0;
}

static int get_int(Ctx *c, const char *name, int64_t def, int64_t *out) {
    Onnx__AttributeProto *a = attr(c, name);
    *out = def;
    if (!a)
        return 0;
    if (attr_type_ok(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, "an int"))
        return -1;
    *out = a->i;
    return 0;
}

/* An int attribute that must fit an int and lie in [lo, hi]. */
static int get_int_in(Ctx *c, const char *name, int64_t def, int64_t lo, int64_t hi, int *out) {
    int64_t v;
    if (get_int(c, name, def, &v))
        return -1;
    if (v < lo || v > hi)
        return node_err(c, "attribute '%s' = %lld is out of range [%lld, %lld]", name, (long long)v,
                        (long long)lo, (long long)hi);
    *out = (int)v;
    return 0;
}

static int get_float(Ctx *c, const char *name, float def, float *out) {
    Onnx__AttributeProto *a = attr(c, name);
    *out = def;
    if (!a)
        return 0;
    if (attr_type_ok(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT, "a float"))
        return -1;
    *out = a->f;
    return 0;
}

/* Returns the count (0 when absent) or -1. */
static int get_ints(Ctx *c, const char *name, int64_t *out, int max) {
    Onnx__AttributeProto *a = attr(c, name);
    if (!a)
        return 0;
    if (attr_type_ok(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS, "a list of ints"))
        return -1;
    if (a->n_ints > (size_t)max)
        return node_err(c, "attribute '%s' has %zu values (at most %d expected)", name, a->n_ints, max);
    if (a->n_ints) /* an empty list has ints == NULL */
        memcpy(out, a->ints, a->n_ints * sizeof *out);
    return (int)a->n_ints;
}

static const char *get_string(Ctx *c, const char *name, const char *def) {
    Onnx__AttributeProto *a = attr(c, name);
    if (!a)
        return def;
    if (attr_type_ok(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING, "a string"))
        return NULL;
    size_t n = a->s.len < sizeof c->sbuf - 1 ? a->s.len : sizeof c->sbuf - 1;
    if (n)
        memcpy(c->sbuf, a->s.data, n);
    c->sbuf[n] = 0;
    return c->sbuf;
}

/* ---- inputs and outputs ----------------------------------------------------- */

static IrTensor *in_t(Ctx *c, int k) {
    return k < c->n_in && c->in[k] >= 0 ? &c->g->t[c->in[k]] : NULL;
}

static int need_input(Ctx *c, int k, const char *what) {
    if (!in_t(c, k))
        return node_err(c, "missing input %d (%s)", k, what);
    return 0;
}

/* Input k as a compile-time int64 constant (initializer, Constant node or
 * folded shape arithmetic); NULL with a message otherwise. */
static IrTensor *const_i64(Ctx *c, int k, const char *what) {
    IrTensor *t = in_t(c, k);
    if (!t) {
        node_err(c, "missing input %d (%s)", k, what);
        return NULL;
    }
    if (t->role != IR_T_CONST || t->dtype != IR_I64 || t->rank > 1) {
        node_err(c, "input '%s' (%s) must be a compile-time constant int64 list", t->name, what);
        return NULL;
    }
    return t;
}

/* Optional scalar float constant input k; *v untouched when absent. */
static int const_f32_scalar(Ctx *c, int k, const char *what, float *v) {
    IrTensor *t = in_t(c, k);
    if (!t)
        return 0;
    if (t->role != IR_T_CONST || t->dtype != IR_F32 || ir_numel(t) != 1)
        return node_err(c, "input '%s' (%s) must be a compile-time constant float scalar", t->name,
                        what);
    *v = t->f32[0];
    return 0;
}

static int name_used(Ctx *c, const char *name) {
    for (size_t i = 0; i < c->gp->n_node; i++)
        for (size_t k = 0; k < c->gp->node[i]->n_input; k++)
            if (!strcmp(c->gp->node[i]->input[k], name))
                return 1;
    for (size_t i = 0; i < c->gp->n_output; i++)
        if (c->gp->output[i]->name && !strcmp(c->gp->output[i]->name, name))
            return 1;
    return 0;
}

/* Only the first output of every supported op is computed; a used extra
 * output (Dropout mask, MaxPool Indices, BatchNorm running stats) is not. */
static int check_extra_outputs(Ctx *c) {
    for (size_t k = 1; k < c->n->n_output; k++)
        if (c->n->output[k][0] && name_used(c, c->n->output[k]))
            return node_err(c, "output %zu ('%s') is used; only the first output is supported "
                            "(inference form)", k, c->n->output[k]);
    return 0;
}

/* Adds the layer computing output 0 from the given inputs. */
static int add_layer(Ctx *c, IrOp op, const int *ins, int n_ins) {
    if (c->n->n_output < 1 || !c->n->output[0][0]) {
        node_err(c, "has no output");
        return -1;
    }
    if (check_extra_outputs(c))
        return -1;
    int y = ir_add_tensor(c->g, c->n->output[0], IR_F32, IR_T_ACT);
    return ir_add_layer(c->g, op, c->name, c->n->op_type, ins, n_ins, &y, 1);
}

/* Infers the new layer's shapes; messages get the file and node index. */
static int infer(Ctx *c, int li) {
    IrDiag tmp = {0};
    int r = ir_infer_layer(c->g, li, &tmp);
    for (int i = 0; i < tmp.n; i++)
        ir_diag_add(c->d, "%s: node %d: %s", c->path, c->idx, tmp.msg[i]);
    ir_diag_free(&tmp);
    return r;
}

/* Layer on the first k inputs as given (absent ones stay -1). */
static int simple(Ctx *c, IrOp op, int k) {
    int n = c->n_in < k ? c->n_in : k;
    int li = add_layer(c, op, c->in, n);
    return li < 0 ? -1 : infer(c, li);
}

/* ---- conv and pooling windows ------------------------------------------------- */

/* Spatial axes of a conv/pool input: 2 (NCHW), or 1 ([N, C, L]): a 1-D
 * window is run as a 2-D one, 1 high (ir_dims_2d), so the attributes of a
 * 1-D node are stored with H = 1 (kernel 1, stride 1, no pad). */
static int spatial_axes(Ctx *c, const IrTensor *x, const char *what) {
    char sx[160];
    if (x->rank == 3 || x->rank == 4)
        return x->rank - 2;
    return node_err(c, "only 1-D and 2-D %s is supported; input '%s' is %s", what, x->name,
                    ir_shape_str(x, sx, sizeof sx));
}

/* Resolves pads from auto_pad (shapes are known at this point); pad is
 * top, left, bottom, right. */
static int window_pads(Ctx *c, const IrTensor *x, const int *k, const int *s, const int *dil,
                       int *pad) {
    int nsp = spatial_axes(c, x, "windows");
    const char *ap = get_string(c, "auto_pad", "NOTSET");
    if (nsp < 0 || !ap)
        return -1;
    int64_t p[4] = {0}, xd[4];
    int np = get_ints(c, "pads", p, 2 * nsp);
    if (np < 0)
        return -1;
    if (np != 0 && np != 2 * nsp)
        return node_err(c, "pads has %d values; %d expected for %d-D", np, 2 * nsp, nsp);
    if (!strcmp(ap, "NOTSET")) {
        int64_t tlbr[4] = {0, 0, 0, 0};
        if (nsp == 1)
            tlbr[1] = p[0], tlbr[3] = p[1];
        else
            memcpy(tlbr, p, sizeof tlbr);
        for (int i = 0; i < 4; i++) {
            if (tlbr[i] < 0 || tlbr[i] > 65535)
                return node_err(c, "pad %lld out of range", (long long)tlbr[i]);
            pad[i] = (int)tlbr[i];
        }
        return 0;
    }
    if (np)
        return node_err(c, "pads given together with auto_pad %s", ap);
    int upper = !strcmp(ap, "SAME_UPPER"), lower = !strcmp(ap, "SAME_LOWER");
    if (!upper && !lower) {
        if (strcmp(ap, "VALID"))
            return node_err(c, "auto_pad '%s' is not supported", ap);
        memset(pad, 0, 4 * sizeof *pad);
        return 0;
    }
    ir_dims_2d(x, xd);
    for (int i = 0; i < 2; i++) {
        int64_t in = xd[2 + i], out = (in + s[i] - 1) / s[i];
        int64_t total = (out - 1) * s[i] + (int64_t)(k[i] - 1) * dil[i] + 1 - in;
        if (total < 0)
            total = 0;
        if (total > 65535)
            return node_err(c, "auto_pad needs pad %lld", (long long)total);
        int small = (int)(total / 2), big = (int)(total - total / 2);
        pad[i] = upper ? small : big;
        pad[2 + i] = upper ? big : small;
    }
    return 0;
}

/* kernel_shape (or kdef, H and W, when absent), strides, dilations: one
 * positive int per spatial axis, stored as H, W. */
static int window_attrs(Ctx *c, const IrTensor *x, const int64_t *kdef, int *k, int *s, int *dil) {
    int nsp = spatial_axes(c, x, kdef ? "convolution" : "pooling");
    if (nsp < 0)
        return -1;
    int64_t kv[2] = {1, 1}, sv[2] = {1, 1}, dv[2] = {1, 1};
    int64_t *kin = kv + 2 - nsp, *sin = sv + 2 - nsp, *din = dv + 2 - nsp; /* 1-D: the W slot */
    int nk = get_ints(c, "kernel_shape", kin, nsp);
    if (nk < 0)
        return -1;
    if (nk == 0 && !kdef)
        return node_err(c, "attribute kernel_shape is required");
    if (nk == 0)
        memcpy(kv, kdef, sizeof kv);
    else if (nk != nsp)
        return node_err(c, "kernel_shape has %d values; %d expected for %d-D", nk, nsp, nsp);
    int ns = get_ints(c, "strides", sin, nsp), nd = get_ints(c, "dilations", din, nsp);
    if (ns < 0 || nd < 0)
        return -1;
    if ((ns && ns != nsp) || (nd && nd != nsp))
        return node_err(c, "strides/dilations must have %d values", nsp);
    for (int i = 0; i < 2; i++) {
        if (kv[i] < 1 || kv[i] > 65535 || sv[i] < 1 || sv[i] > 65535 || dv[i] < 1 || dv[i] > 65535)
            return node_err(c, "kernel_shape, strides and dilations must be in 1..65535 (got "
                            "kernel %lld, stride %lld, dilation %lld)",
                            (long long)kv[i], (long long)sv[i], (long long)dv[i]);
        k[i] = (int)kv[i];
        s[i] = (int)sv[i];
        dil[i] = (int)dv[i];
    }
    return 0;
}

static int imp_conv(Ctx *c) {
    if (need_input(c, 0, "X") || need_input(c, 1, "W"))
        return -1;
    IrTensor *x = in_t(c, 0), *w = in_t(c, 1);
    char sw[160];
    int64_t wd[4];
    if (spatial_axes(c, x, "convolution") < 0)
        return -1;
    if (w->rank != x->rank || ir_dims_2d(w, wd))
        return node_err(c, "weight '%s' is %s; a 1-D or 2-D convolution needs one of the input's "
                        "rank (%d)", w->name, ir_shape_str(w, sw, sizeof sw), x->rank);
    IrConvAttr a = {0};
    int64_t kdef[2] = {wd[2], wd[3]};
    if (window_attrs(c, x, kdef, a.kernel, a.stride, a.dilation) ||
        window_pads(c, x, a.kernel, a.stride, a.dilation, a.pad) ||
        get_int_in(c, "group", 1, 1, INT32_MAX, &a.group))
        return -1;
    /* any group: shape inference checks that it divides the channels; the
     * backend maps depthwise and grouped forms or says which it cannot */
    int li = add_layer(c, IR_CONV, c->in, c->n_in < 3 ? c->n_in : 3);
    if (li < 0)
        return -1;
    c->g->l[li].a.conv = a;
    return infer(c, li);
}

static int imp_pool(Ctx *c, IrOp op) {
    IrTensor *x = in_t(c, 0);
    IrPoolAttr a = {0};
    if (window_attrs(c, x, NULL, a.kernel, a.stride, a.dilation) ||
        window_pads(c, x, a.kernel, a.stride, a.dilation, a.pad) ||
        get_int_in(c, "ceil_mode", 0, 0, 1, &a.ceil_mode))
        return -1;
    if (op == IR_AVGPOOL && get_int_in(c, "count_include_pad", 0, 0, 1, &a.count_include_pad))
        return -1;
    if (op == IR_AVGPOOL && (a.dilation[0] != 1 || a.dilation[1] != 1))
        return node_err(c, "dilated AveragePool is not supported");
    int li = add_layer(c, op, c->in, 1);
    if (li < 0)
        return -1;
    c->g->l[li].a.pool = a;
    return infer(c, li);
}

static int imp_maxpool(Ctx *c) { return imp_pool(c, IR_MAXPOOL); }
static int imp_avgpool(Ctx *c) { return imp_pool(c, IR_AVGPOOL); }
static int imp_gavgpool(Ctx *c) { return simple(c, IR_GLOBAL_AVGPOOL, 1); }
static int imp_gmaxpool(Ctx *c) { return simple(c, IR_GLOBAL_MAXPOOL, 1); }

/* ---- the other ops ------------------------------------------------------------- */

static int imp_gemm(Ctx *c) {
    IrGemmAttr a;
    if (need_input(c, 1, "B") || get_float(c, "alpha", 1.0f, &a.alpha) ||
        get_float(c, "beta", 1.0f, &a.beta) || get_int_in(c, "transA", 0, 0, 1, &a.trans_a) ||
        get_int_in(c, "transB", 0, 0, 1, &a.trans_b))
        return -1;
    int li = add_layer(c, IR_GEMM, c->in, c->n_in < 3 ? c->n_in : 3);
    if (li < 0)
        return -1;
    c->g->l[li].a.gemm = a;
    return infer(c, li);
}

static int imp_matmul(Ctx *c) {
    if (need_input(c, 1, "B"))
        return -1;
    return simple(c, IR_MATMUL, 2);
}

static int imp_batchnorm(Ctx *c) {
    int spatial;
    IrBnAttr a = {0};
    if (get_float(c, "epsilon", 1e-5f, &a.eps) || get_int_in(c, "spatial", 1, 0, 1, &spatial) ||
        get_int_in(c, "training_mode", 0, 0, 1, &a.training) || get_float(c, "momentum", 0.9f, &a.momentum))
        return -1;
    if (c->opset < 7) { /* is_test=0 (the default) is the training form */
        int is_test;
        if (get_int_in(c, "is_test", 0, 0, 1, &is_test))
            return -1;
        a.training = !is_test;
        for (size_t k = 3; k < c->n->n_output; k++)
            if (c->n->output[k][0] && name_used(c, c->n->output[k]))
                return node_err(c, "output %zu ('%s', the saved statistics of opset 6) is used; not supported",
                                k, c->n->output[k]);
    }
    if (!spatial)
        return node_err(c, "spatial=0 is not supported");
    for (int k = 1; k <= 4; k++)
        if (need_input(c, k, "scale, B, mean, var"))
            return -1;
    int li;
    if (a.training) { /* Y, and the running mean and var when asked for */
        if (c->n->n_output < 1 || !c->n->output[0][0])
            return node_err(c, "has no output");
        int out[3] = {-1, -1, -1};
        for (size_t k = 0; k < c->n->n_output && k < 3; k++)
            if (c->n->output[k][0])
                out[k] = ir_add_tensor(c->g, c->n->output[k], IR_F32, IR_T_ACT);
        if (c->n->n_output > 3 && c->opset >= 7)
            return node_err(c, "has %zu outputs; training mode gives 3", c->n->n_output);
        int nout = c->n->n_output < 3 ? (int)c->n->n_output : 3;
        li = ir_add_layer(c->g, IR_BATCHNORM, c->name, c->n->op_type, c->in, 5, out, nout);
    } else {
        li = add_layer(c, IR_BATCHNORM, c->in, 5);
    }
    if (li < 0)
        return -1;
    c->g->l[li].a.bn = a;
    return infer(c, li);
}

static int imp_lrn(Ctx *c) {
    IrLrnAttr a;
    if (!attr(c, "size"))
        return node_err(c, "attribute size is required");
    if (get_int_in(c, "size", 1, 1, 65535, &a.size) || get_float(c, "alpha", 1e-4f, &a.alpha) ||
        get_float(c, "beta", 0.75f, &a.beta) || get_float(c, "bias", 1.0f, &a.bias))
        return -1;
    int li = add_layer(c, IR_LRN, c->in, 1);
    if (li < 0)
        return -1;
    c->g->l[li].a.lrn = a;
    return infer(c, li);
}

static int imp_softmax(Ctx *c) {
    /* Before opset 13 Softmax flattened to 2-D at axis (default 1). */
    int old = c->opset < 13, axis;
    if (get_int_in(c, "axis", old ? 1 : -1, -IR_MAX_RANK, IR_MAX_RANK, &axis))
        return -1;
    int li = add_layer(c, IR_SOFTMAX, c->in, 1);
    if (li < 0)
        return -1;
    c->g->l[li].a.softmax.axis = axis;
    c->g->l[li].a.softmax.coerce_2d = old;
    return infer(c, li);
}

/* Add/Mul before opset 7: B broadcasts only with broadcast=1, and then
 * lines up with A from A's axis `axis` when that is given (else from the
 * end, as numpy).  Rewritten to numpy broadcasting: an Unsqueeze gives B the
 * trailing 1s (folded when B is a constant). */
static int legacy_broadcast(Ctx *c) {
    int bc;
    int64_t axis;
    IrTensor *a = in_t(c, 0), *b = in_t(c, 1);
    char sa[160], sb[160];
    if (get_int_in(c, "broadcast", 0, 0, 1, &bc) || get_int(c, "axis", 0, &axis))
        return -1;
    if (!bc) {
        if (a->rank != b->rank || memcmp(a->dims, b->dims, (size_t)a->rank * sizeof *a->dims))
            return node_err(c, "broadcast=0 but '%s' %s and '%s' %s differ", a->name,
                            ir_shape_str(a, sa, sizeof sa), b->name, ir_shape_str(b, sb, sizeof sb));
        return 0;
    }
    if (!attr(c, "axis"))
        return 0;
    if (axis < 0)
        axis += a->rank;
    int64_t extra = a->rank - axis - b->rank;
    if (axis < 0 || axis > a->rank || extra < 0)
        return node_err(c, "axis %lld does not place '%s' %s inside '%s' %s", (long long)axis, b->name,
                        ir_shape_str(b, sb, sizeof sb), a->name, ir_shape_str(a, sa, sizeof sa));
    if (extra == 0)
        return 0;
    size_t n = strlen(c->name) + 16;
    char *name = ir_xmalloc(n);
    snprintf(name, n, "%s:broadcast", c->name);
    int y = ir_add_tensor(c->g, name, IR_F32, IR_T_ACT);
    int li = ir_add_layer(c->g, IR_UNSQUEEZE, name, "Unsqueeze", &c->in[1], 1, &y, 1);
    free(name);
    c->g->l[li].a.axes.n = (int)extra;
    for (int k = 0; k < extra; k++)
        c->g->l[li].a.axes.v[k] = b->rank + k;
    c->in[1] = y;
    return infer(c, li);
}

static int imp_binary(Ctx *c, IrOp op) {
    if (need_input(c, 1, "B") || (c->opset < 7 && legacy_broadcast(c)))
        return -1;
    return simple(c, op, 2);
}
static int imp_add(Ctx *c) { return imp_binary(c, IR_ADD); }
static int imp_mul(Ctx *c) { return imp_binary(c, IR_MUL); }
static int imp_sub(Ctx *c) { return imp_binary(c, IR_SUB); }
static int imp_div(Ctx *c) { return imp_binary(c, IR_DIV); }

static int imp_concat(Ctx *c) {
    int axis;
    if (!attr(c, "axis"))
        return node_err(c, "attribute axis is required");
    if (get_int_in(c, "axis", 0, -IR_MAX_RANK, IR_MAX_RANK, &axis))
        return -1;
    for (int k = 0; k < c->n_in; k++)
        if (need_input(c, k, "data"))
            return -1;
    int li = add_layer(c, IR_CONCAT, c->in, c->n_in);
    if (li < 0)
        return -1;
    c->g->l[li].a.axis = axis;
    return infer(c, li);
}

static int imp_pad(Ctx *c) {
    IrTensor *x = in_t(c, 0);
    IrPadAttr a = {{0}, 0.0f, IR_PAD_CONSTANT};
    const char *mode = get_string(c, "mode", "constant");
    if (!mode)
        return -1;
    if (!strcmp(mode, "reflect"))
        a.mode = IR_PAD_REFLECT;
    else if (!strcmp(mode, "edge"))
        a.mode = IR_PAD_EDGE;
    else if (strcmp(mode, "constant"))
        return node_err(c, "pad mode '%s' is not supported (constant, reflect or edge)", mode);
    int64_t pads[2 * IR_MAX_RANK];
    int np;
    if (c->opset < 11) {
        if ((np = get_ints(c, "pads", pads, 2 * IR_MAX_RANK)) < 0 || get_float(c, "value", 0.0f, &a.value))
            return -1;
    } else {
        IrTensor *p = const_i64(c, 1, "pads");
        if (!p || const_f32_scalar(c, 2, "constant_value", &a.value))
            return -1;
        if (in_t(c, 3))
            return node_err(c, "the axes input is not supported");
        np = (int)ir_numel(p);
        if (np > 2 * IR_MAX_RANK)
            return node_err(c, "pads has %d values", np);
        memcpy(pads, p->i64, (size_t)np * sizeof *pads);
    }
    if (np != 2 * x->rank)
        return node_err(c, "pads has %d values but input '%s' has rank %d (expected %d)", np,
                        x->name, x->rank, 2 * x->rank);
    memcpy(a.pads, pads, (size_t)np * sizeof *pads);
    int li = add_layer(c, IR_PAD, c->in, 1);
    if (li < 0)
        return -1;
    c->g->l[li].a.pad = a;
    return infer(c, li);
}

/* Relu, Sigmoid, LeakyRelu and Clip carry their parameters in act. */
static int imp_act(Ctx *c, IrOp op) {
    IrActKind kind = ir_op_act(op);
    IrAct act = {kind, 0.0f, -INFINITY, INFINITY};
    if (kind == IR_ACT_LEAKY_RELU && get_float(c, "alpha", 0.01f, &act.alpha))
        return -1;
    if (kind == IR_ACT_CLIP) {
        if (c->opset < 11) {
            if (get_float(c, "min", -INFINITY, &act.lo) || get_float(c, "max", INFINITY, &act.hi))
                return -1;
        } else if (const_f32_scalar(c, 1, "min", &act.lo) || const_f32_scalar(c, 2, "max", &act.hi)) {
            return -1;
        }
    }
    int li = add_layer(c, op, c->in, 1);
    if (li < 0)
        return -1;
    c->g->l[li].act = act;
    return infer(c, li);
}
static int imp_relu(Ctx *c) { return imp_act(c, IR_RELU); }
static int imp_leaky(Ctx *c) { return imp_act(c, IR_LEAKY_RELU); }
static int imp_clip(Ctx *c) { return imp_act(c, IR_CLIP); }
static int imp_sigmoid(Ctx *c) { return imp_act(c, IR_SIGMOID); }
static int imp_tanh(Ctx *c) { return imp_act(c, IR_TANH); }

static int imp_transpose(Ctx *c) {
    IrTensor *x = in_t(c, 0);
    int64_t perm[IR_MAX_RANK];
    int n = get_ints(c, "perm", perm, IR_MAX_RANK);
    if (n < 0)
        return -1;
    if (n == 0) /* default: reverse the axes */
        for (n = 0; n < x->rank; n++)
            perm[n] = x->rank - 1 - n;
    int li = add_layer(c, IR_TRANSPOSE, c->in, 1);
    if (li < 0)
        return -1;
    IrLayer *l = &c->g->l[li];
    l->a.perm.n = n;
    for (int k = 0; k < n; k++)
        l->a.perm.v[k] = perm[k] < 0 || perm[k] >= IR_MAX_RANK ? -1 : (int)perm[k];
    return infer(c, li);
}

static int imp_reshape(Ctx *c) {
    int allowzero;
    if (get_int_in(c, "allowzero", 0, 0, 1, &allowzero))
        return -1;
    IrTensor *s = const_i64(c, 1, "shape");
    if (!s)
        return -1;
    for (int64_t i = 0; allowzero && i < ir_numel(s); i++)
        if (s->i64[i] == 0)
            return node_err(c, "allowzero=1 with a zero in the target shape is not supported");
    return simple(c, IR_RESHAPE, 2);
}

static int imp_flatten(Ctx *c) {
    int axis;
    if (get_int_in(c, "axis", 1, -IR_MAX_RANK, IR_MAX_RANK, &axis))
        return -1;
    int li = add_layer(c, IR_FLATTEN, c->in, 1);
    if (li < 0)
        return -1;
    c->g->l[li].a.axis = axis;
    return infer(c, li);
}

static int imp_identity(Ctx *c) { return simple(c, IR_IDENTITY, 1); }

static int imp_dropout(Ctx *c) {
    /* opset >= 12: ratio and training_mode are inputs; only inference. */
    IrTensor *tm = in_t(c, 2);
    if (tm && (tm->role != IR_T_CONST || ir_numel(tm) != 1 ||
               (tm->f32 && tm->f32[0] != 0.0f) || (tm->i64 && tm->i64[0] != 0)))
        return node_err(c, "training_mode input '%s' must be a constant false", tm->name);
    return simple(c, IR_DROPOUT, 1);
}

static int imp_shape(Ctx *c) {
    Onnx__AttributeProto *s = attr(c, "start"), *e = attr(c, "end");
    int64_t start, end;
    if (get_int(c, "start", 0, &start) || get_int(c, "end", IR_MAX_RANK, &end))
        return -1;
    int li = add_layer(c, IR_SHAPE, c->in, 1);
    if (li < 0)
        return -1;
    if (s || e) {
        IrLayer *l = &c->g->l[li];
        l->a.axes.n = 2;
        l->a.axes.v[0] = start;
        l->a.axes.v[1] = end;
    }
    return infer(c, li);
}

static int imp_gather(Ctx *c) {
    int axis;
    if (need_input(c, 1, "indices") || get_int_in(c, "axis", 0, -IR_MAX_RANK, IR_MAX_RANK, &axis))
        return -1;
    int li = add_layer(c, IR_GATHER, c->in, 2);
    if (li < 0)
        return -1;
    c->g->l[li].a.axis = axis;
    if (infer(c, li))
        return -1;
    if (!c->g->l[li].dead)
        return node_err(c, "Gather on run-time data is not supported (only constant shape arithmetic)");
    return 0;
}

static int imp_squeeze(Ctx *c, IrOp op) {
    int64_t axes[IR_MAX_RANK];
    int n;
    if (c->opset < 13) {
        if ((n = get_ints(c, "axes", axes, IR_MAX_RANK)) < 0)
            return -1;
    } else if (in_t(c, 1)) {
        IrTensor *a = const_i64(c, 1, "axes");
        if (!a)
            return -1;
        n = (int)ir_numel(a);
        if (n > IR_MAX_RANK)
            return node_err(c, "axes has %d values", n);
        memcpy(axes, a->i64, (size_t)n * sizeof *axes);
    } else {
        n = 0;
    }
    if (op == IR_UNSQUEEZE && n == 0)
        return node_err(c, "axes are required");
    int li = add_layer(c, op, c->in, 1);
    if (li < 0)
        return -1;
    IrLayer *l = &c->g->l[li];
    l->a.axes.n = n;
    memcpy(l->a.axes.v, axes, (size_t)n * sizeof *axes);
    if (infer(c, li))
        return -1;
    /* On run-time data it only renames dims: a Reshape to the inferred
     * shape, so later stages see one op for it. */
    if (!l->dead)
        l->op = IR_RESHAPE;
    return 0;
}
static int imp_unsqueeze(Ctx *c) { return imp_squeeze(c, IR_UNSQUEEZE); }
static int imp_squeeze_(Ctx *c) { return imp_squeeze(c, IR_SQUEEZE); }

static int imp_cast(Ctx *c) {
    int to;
    if (!attr(c, "to"))
        return node_err(c, "attribute to is required");
    if (get_int_in(c, "to", 0, 0, 64, &to))
        return -1;
    IrTensor *x = in_t(c, 0);
    int run_time = x->role != IR_T_CONST;
    if (run_time && to != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        return node_err(c, "cast of run-time tensor '%s' to %s is not supported (float32 only)",
                        x->name, onnx_type_name(to));
    /* A run-time float -> float cast is a copy. */
    int li = add_layer(c, run_time ? IR_IDENTITY : IR_CAST, c->in, 1);
    if (li < 0)
        return -1;
    c->g->l[li].a.cast_to = to;
    return infer(c, li);
}

/* A Constant node becomes a constant tensor, no layer. */
static int imp_constant(Ctx *c) {
    if (c->n->n_output != 1 || !c->n->output[0][0])
        return node_err(c, "must have one output");
    const char *y = c->n->output[0];
    Onnx__AttributeProto *a;
    if ((a = attr(c, "value"))) {
        if (!a->t)
            return node_err(c, "attribute value holds no tensor");
        IrDiag tmp = {0};
        int ti = onnx_add_const(c->g, a->t, y, c->path, &tmp);
        size_t pl = strlen(c->path);
        for (int i = 0; i < tmp.n; i++) /* drop the file name node_err adds again */
            node_err(c, "%s", strncmp(tmp.msg[i], c->path, pl) || strncmp(tmp.msg[i] + pl, ": ", 2)
                                  ? tmp.msg[i] : tmp.msg[i] + pl + 2);
        ir_diag_free(&tmp);
        return ti < 0 ? -1 : 0;
    }
    int isf = 0, n = 0, rank = 1;
    const void *src = NULL;
    if ((a = attr(c, "value_float"))) {
        isf = 1, n = 1, rank = 0, src = &a->f;
    } else if ((a = attr(c, "value_floats"))) {
        isf = 1, n = (int)a->n_floats, src = a->floats;
    } else if ((a = attr(c, "value_int"))) {
        n = 1, rank = 0, src = &a->i;
    } else if ((a = attr(c, "value_ints"))) {
        n = (int)a->n_ints, src = a->ints;
    } else {
        return node_err(c, "only value, value_float(s) and value_int(s) are supported");
    }
    int ti = ir_add_tensor(c->g, y, isf ? IR_F32 : IR_I64, IR_T_CONST);
    IrTensor *t = &c->g->t[ti];
    int64_t dim = n;
    ir_set_shape(t, rank, &dim);
    size_t bytes = (size_t)n * (isf ? 4 : 8);
    void *p = ir_xmalloc(bytes);
    if (bytes)
        memcpy(p, src, bytes);
    if (isf)
        t->f32 = p;
    else
        t->i64 = p;
    return 0;
}

/* since: the first opset whose form of the op we read (opset 7 unless the
 * op has not changed since an earlier version). */
static const struct {
    const char *op;
    ImportFn fn;
    int since;
} ops[] = {
    {"Conv", imp_conv, 1},
    {"MaxPool", imp_maxpool, 1},
    {"AveragePool", imp_avgpool, 1},
    {"GlobalAveragePool", imp_gavgpool, 1},
    {"GlobalMaxPool", imp_gmaxpool, 1},
    {"Gemm", imp_gemm, 6},     /* opset 6's broadcast attribute: C broadcasts as in 7 */
    {"MatMul", imp_matmul, 1},
    {"BatchNormalization", imp_batchnorm, 6}, /* opset 6: is_test */
    {"LRN", imp_lrn, 1},
    {"Softmax", imp_softmax, 1},
    {"Add", imp_add, 6},       /* opset 6: broadcast, axis (legacy_broadcast) */
    {"Mul", imp_mul, 6},
    {"Sub", imp_sub, 6},
    {"Div", imp_div, 6},
    {"Concat", imp_concat, 4},
    {"Pad", imp_pad, 2},
    {"Relu", imp_relu, 1},
    {"LeakyRelu", imp_leaky, 1},
    {"Clip", imp_clip, 6},
    {"Sigmoid", imp_sigmoid, 1},
    {"Tanh", imp_tanh, 1},
    {"Transpose", imp_transpose, 1},
    {"Reshape", imp_reshape, 5},
    {"Flatten", imp_flatten, 1},
    {"Identity", imp_identity, 1},
    {"Dropout", imp_dropout, 7},
    {"Shape", imp_shape, 1},
    {"Gather", imp_gather, 1},
    {"Unsqueeze", imp_unsqueeze, 1},
    {"Squeeze", imp_squeeze_, 1},
    {"Cast", imp_cast, 6},
    {"Constant", imp_constant, 1},
};

ImportFn onnx_find_op(const Onnx__NodeProto *n, int *since) {
    const char *dom = n->domain ? n->domain : "";
    if (dom[0] && strcmp(dom, "ai.onnx"))
        return NULL;
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (n->op_type && !strcmp(n->op_type, ops[i].op)) {
            *since = ops[i].since;
            return ops[i].fn;
        }
    return NULL;
}

int onnx_import_node(Ctx *c, ImportFn fn) {
    Onnx__NodeProto *n = c->n;
    if (n->n_input > MAX_NODE_INPUTS)
        return node_err(c, "has %zu inputs (at most %d supported)", n->n_input, MAX_NODE_INPUTS);
    c->n_in = (int)n->n_input;
    for (int k = 0; k < c->n_in; k++) {
        c->in[k] = -1;
        if (!n->input[k][0])
            continue; /* optional input left out */
        c->in[k] = onnx_lookup(c, n->input[k]);
        if (c->in[k] < 0)
            return node_err(c, "input '%s' is not defined by any initializer, graph input or earlier "
                            "node (missing initializer?)", n->input[k]);
    }
    if (fn != imp_constant && need_input(c, 0, "data"))
        return -1;
    for (size_t k = 0; k < n->n_output; k++)
        if (n->output[k][0] && onnx_lookup(c, n->output[k]) >= 0)
            return node_err(c, "output '%s' is already defined", n->output[k]);
    return fn(c);
}
