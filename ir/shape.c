/* shape.c: static shape inference and folding of constant shape arithmetic.
 * See shape.h for the conventions.  Every size goes through the checked
 * arithmetic of ir.h; every mismatch names the layer, its op and shapes. */
#include "ir/shape.h"

#include <stdlib.h>
#include <string.h>

const char *ir_shape_str(const IrTensor *t, char *buf, size_t n) {
    if (t->rank < 0) {
        snprintf(buf, n, "[?]");
        return buf;
    }
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < t->rank && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? "x" : "", (long long)t->dims[i]);
    if (k < n)
        snprintf(buf + k, n - k, "]");
    return buf;
}

static int64_t elem_size(IrDType dt) { return dt == IR_I64 ? 8 : 4; }

int ir_check_tensor_size(const IrTensor *t, IrDiag *d) {
    char s[160];
    if (t->rank < 0 || t->rank > IR_MAX_RANK) {
        ir_diag_add(d, "tensor '%s' has no known shape", t->name);
        return -1;
    }
    int64_t bytes = elem_size(t->dtype);
    for (int i = 0; i < t->rank; i++) {
        if (t->dims[i] < 0) {
            ir_diag_add(d, "tensor '%s' has negative dimension %d in %s", t->name, i,
                        ir_shape_str(t, s, sizeof s));
            return -1;
        }
        if (ir_mul_i64(bytes, t->dims[i], &bytes) || bytes > IR_MAX_TENSOR_BYTES) {
            ir_diag_add(d, "tensor '%s' is too large: shape %s exceeds %lld bytes (the DDR size)", t->name,
                        ir_shape_str(t, s, sizeof s), (long long)IR_MAX_TENSOR_BYTES);
            return -1;
        }
    }
    return 0;
}

/* ---- helpers ------------------------------------------------------------ */

#define fail(d, l, ...) ir_diag_layer(d, NULL, l, __VA_ARGS__)

static IrTensor *input(IrGraph *g, const IrLayer *l, int k) {
    return k < l->n_in && l->in[k] >= 0 ? &g->t[l->in[k]] : NULL;
}

static int is_const(const IrTensor *t) {
    return t && t->role == IR_T_CONST && (t->f32 || t->i64 || ir_numel(t) == 0);
}

/* Normalises an axis against rank (ONNX allows [-r, r-1]); -1 if out of range. */
static int norm_axis(int64_t axis, int rank) {
    if (axis < -rank || axis >= rank)
        return -1;
    return (int)(axis < 0 ? axis + rank : axis);
}

/* Sets the output shape and dtype and checks its size. */
static int set_out(IrGraph *g, const IrLayer *l, int rank, const int64_t *dims, IrDType dt,
                   IrDiag *d) {
    IrTensor *y = &g->t[l->out[0]];
    if (rank > IR_MAX_RANK)
        return fail(d, l, "output '%s' would have rank %d (max %d)", y->name, rank, IR_MAX_RANK);
    for (int i = 0; i < rank; i++)
        if (dims[i] < 1)
            return fail(d, l, "output '%s' would have dimension %d of size %lld", y->name, i,
                        (long long)dims[i]);
    ir_set_shape(y, rank, dims);
    y->dtype = dt;
    IrDiag sd = {0};
    int r = ir_check_tensor_size(y, &sd);
    if (r)
        fail(d, l, "%s", sd.msg[0]);
    ir_diag_free(&sd);
    return r;
}

static int same_shape_out(IrGraph *g, const IrLayer *l, const IrTensor *x, IrDiag *d) {
    return set_out(g, l, x->rank, x->dims, x->dtype, d);
}

/* Turns the layer's output into a constant owning data (numel elements of
 * the output's dtype) and retires the layer. */
static void make_const(IrGraph *g, IrLayer *l, void *data) {
    IrTensor *y = &g->t[l->out[0]];
    free(y->f32);
    free(y->i64);
    y->f32 = NULL;
    y->i64 = NULL;
    if (y->dtype == IR_I64)
        y->i64 = data;
    else
        y->f32 = data;
    y->role = IR_T_CONST;
    y->producer = -1;
    l->dead = 1;
}

static void *const_data(const IrTensor *t) {
    return t->dtype == IR_I64 ? (void *)t->i64 : (void *)t->f32;
}

/* Output keeps the input's data under a new shape (Reshape and friends). */
static void fold_copy(IrGraph *g, IrLayer *l, const IrTensor *x) {
    size_t n = (size_t)ir_numel(x) * (size_t)elem_size(x->dtype);
    void *p = ir_xmalloc(n);
    if (n)
        memcpy(p, const_data(x), n);
    make_const(g, l, p);
}

static int64_t prod(const int64_t *d, int from, int to) {
    int64_t p = 1;
    for (int i = from; i < to; i++)
        p *= d[i]; /* callers pass dims of size-checked tensors: no overflow */
    return p;
}

static int need_f32(IrDiag *d, const IrLayer *l, const IrTensor *t) {
    if (t->dtype != IR_F32)
        return fail(d, l, "input '%s' must be float32 (it holds int64 shape data)", t->name);
    return 0;
}

/* ---- per-op inference --------------------------------------------------- */

static int conv_out(int64_t in, int k, int s, int dil, int pb, int pe, int ceil_mode, int64_t *out) {
    int64_t eff = (int64_t)(k - 1) * dil + 1;
    int64_t span = in + pb + pe - eff;
    if (s < 1 || k < 1 || dil < 1 || span < 0)
        return -1;
    int64_t o = ceil_mode ? (span + s - 1) / s + 1 : span / s + 1;
    /* The last window must start inside the input or its left padding. */
    if (ceil_mode && (o - 1) * s >= in + pb)
        o--;
    *out = o;
    return 0;
}

/* The output of a conv or pool: y (in the 2-D view) back to x's rank. */
static int set_out_2d(IrGraph *g, IrLayer *l, const IrTensor *x, const int64_t y[4], IrDiag *d) {
    int64_t y3[3] = {y[0], y[1], y[3]};
    return x->rank == 3 ? set_out(g, l, 3, y3, IR_F32, d) : set_out(g, l, 4, y, IR_F32, d);
}

static int infer_conv(IrGraph *g, IrLayer *l, IrDiag *d) {
    IrTensor *x = input(g, l, 0), *w = input(g, l, 1), *b = input(g, l, 2);
    char sx[160], sw[160];
    int64_t xd[4], wd[4];
    if (!w)
        return fail(d, l, "missing weight input");
    if (ir_dims_2d(x, xd))
        return fail(d, l, "only 1-D and 2-D convolution (input [N,C,L] or NCHW) is supported; "
                    "input '%s' is %s", x->name, ir_shape_str(x, sx, sizeof sx));
    if (w->rank != x->rank || ir_dims_2d(w, wd))
        return fail(d, l, "weight '%s' must be of the input's rank %d (OIHW or OIL), got %s", w->name,
                    x->rank, ir_shape_str(w, sw, sizeof sw));
    if (need_f32(d, l, x) || need_f32(d, l, w))
        return -1;
    IrConvAttr *a = &l->a.conv;
    if (a->group < 1 || wd[0] % a->group)
        return fail(d, l, "group %d does not divide the %lld output channels of '%s'", a->group,
                    (long long)wd[0], w->name);
    int64_t cin;
    if (ir_mul_i64(wd[1], a->group, &cin) || cin != xd[1])
        return fail(d, l, "input '%s' %s has %lld channels but weight '%s' %s with group %d expects %lld",
                    x->name, ir_shape_str(x, sx, sizeof sx), (long long)xd[1], w->name,
                    ir_shape_str(w, sw, sizeof sw), a->group, (long long)cin);
    for (int i = 0; i < 2; i++) {
        if (a->kernel[i] == 0)
            a->kernel[i] = (int)wd[2 + i];
        if (a->kernel[i] != wd[2 + i])
            return fail(d, l, "kernel_shape %dx%d does not match weight '%s' %s", a->kernel[0],
                        a->kernel[1], w->name, ir_shape_str(w, sw, sizeof sw));
    }
    if (b && (b->rank != 1 || b->dims[0] != wd[0]))
        return fail(d, l, "bias '%s' %s must be [%lld]", b->name, ir_shape_str(b, sx, sizeof sx),
                    (long long)wd[0]);
    int64_t y[4] = {xd[0], wd[0], 0, 0};
    for (int i = 0; i < 2; i++)
        if (conv_out(xd[2 + i], a->kernel[i], a->stride[i], a->dilation[i], a->pad[i],
                     a->pad[2 + i], 0, &y[2 + i]))
            return fail(d, l, "kernel %dx%d (dilation %dx%d, stride %dx%d) does not fit input '%s' %s "
                        "with pads %d,%d,%d,%d", a->kernel[0], a->kernel[1], a->dilation[0],
                        a->dilation[1], a->stride[0], a->stride[1], x->name,
                        ir_shape_str(x, sx, sizeof sx), a->pad[0], a->pad[1], a->pad[2], a->pad[3]);
    return set_out_2d(g, l, x, y, d);
}

static int infer_pool(IrGraph *g, IrLayer *l, IrDiag *d) {
    IrTensor *x = input(g, l, 0);
    char sx[160];
    int64_t xd[4];
    if (ir_dims_2d(x, xd))
        return fail(d, l, "only 1-D and 2-D pooling (input [N,C,L] or NCHW) is supported; input '%s' "
                    "is %s", x->name, ir_shape_str(x, sx, sizeof sx));
    if (need_f32(d, l, x))
        return -1;
    int64_t y[4] = {xd[0], xd[1], 1, 1};
    if (l->op == IR_MAXPOOL || l->op == IR_AVGPOOL) {
        IrPoolAttr *a = &l->a.pool;
        for (int i = 0; i < 2; i++) {
            if (a->dilation[i] == 0)
                a->dilation[i] = 1;
            if (a->pad[i] >= a->kernel[i] || a->pad[2 + i] >= a->kernel[i])
                return fail(d, l, "pads %d,%d,%d,%d must be smaller than kernel %dx%d", a->pad[0],
                            a->pad[1], a->pad[2], a->pad[3], a->kernel[0], a->kernel[1]);
            if (conv_out(xd[2 + i], a->kernel[i], a->stride[i], a->dilation[i], a->pad[i],
                         a->pad[2 + i], a->ceil_mode, &y[2 + i]))
                return fail(d, l, "kernel %dx%d (stride %dx%d) does not fit input '%s' %s", a->kernel[0],
                            a->kernel[1], a->stride[0], a->stride[1], x->name,
                            ir_shape_str(x, sx, sizeof sx));
        }
    }
    return set_out_2d(g, l, x, y, d);
}

/* Unidirectional check: can c broadcast to [m, n]? */
static int bcast_to_2d(const IrTensor *c, int64_t m, int64_t n) {
    if (c->rank > 2)
        return 0;
    int64_t want[2] = {m, n};
    for (int i = 0; i < c->rank; i++) {
        int64_t cd = c->dims[c->rank - 1 - i];
        if (cd != 1 && cd != want[1 - i])
            return 0;
    }
    return 1;
}

static int infer_matmul(IrGraph *g, IrLayer *l, IrDiag *d) {
    IrTensor *a = input(g, l, 0), *b = input(g, l, 1), *c = input(g, l, 2);
    char sa[160], sb[160];
    if (!b)
        return fail(d, l, "missing second input");
    if (need_f32(d, l, a) || need_f32(d, l, b))
        return -1;
    int64_t m, k, k2, n;
    if (l->op == IR_FC) {
        if (a->rank < 2 || b->rank != 2)
            return fail(d, l, "expects X of rank >= 2 and W [M x K]; got '%s' %s and '%s' %s", a->name,
                        ir_shape_str(a, sa, sizeof sa), b->name, ir_shape_str(b, sb, sizeof sb));
        m = a->dims[0];
        k = prod(a->dims, 1, a->rank);
        n = b->dims[0];
        k2 = b->dims[1];
    } else {
        if (a->rank != 2 || b->rank != 2)
            return fail(d, l, "only 2-D operands are supported; got '%s' %s and '%s' %s", a->name,
                        ir_shape_str(a, sa, sizeof sa), b->name, ir_shape_str(b, sb, sizeof sb));
        int ta = l->op == IR_GEMM && l->a.gemm.trans_a, tb = l->op == IR_GEMM && l->a.gemm.trans_b;
        m = a->dims[ta ? 1 : 0];
        k = a->dims[ta ? 0 : 1];
        k2 = b->dims[tb ? 1 : 0];
        n = b->dims[tb ? 0 : 1];
    }
    if (k != k2)
        return fail(d, l, "inner dimensions differ: '%s' %s vs '%s' %s (K %lld vs %lld)", a->name,
                    ir_shape_str(a, sa, sizeof sa), b->name, ir_shape_str(b, sb, sizeof sb),
                    (long long)k, (long long)k2);
    if (c && l->op == IR_GEMM && !bcast_to_2d(c, m, n))
        return fail(d, l, "bias '%s' %s does not broadcast to [%lldx%lld]", c->name,
                    ir_shape_str(c, sa, sizeof sa), (long long)m, (long long)n);
    if (c && l->op == IR_FC && (c->rank != 1 || c->dims[0] != n))
        return fail(d, l, "bias '%s' %s must be [%lld]", c->name, ir_shape_str(c, sa, sizeof sa),
                    (long long)n);
    int64_t y[2] = {m, n};
    return set_out(g, l, 2, y, IR_F32, d);
}

static int infer_batchnorm(IrGraph *g, IrLayer *l, IrDiag *d) {
    IrTensor *x = input(g, l, 0);
    char sx[160], sp[160];
    if (x->rank < 2)
        return fail(d, l, "input '%s' %s must have a channel dimension", x->name,
                    ir_shape_str(x, sx, sizeof sx));
    if (need_f32(d, l, x))
        return -1;
    for (int k = 1; k <= 4; k++) {
        IrTensor *p = input(g, l, k);
        if (!p)
            return fail(d, l, "missing input %d (scale, B, mean, var)", k);
        if (p->rank != 1 || p->dims[0] != x->dims[1])
            return fail(d, l, "parameter '%s' %s must be [%lld] for input '%s' %s", p->name,
                        ir_shape_str(p, sp, sizeof sp), (long long)x->dims[1], x->name,
                        ir_shape_str(x, sx, sizeof sx));
    }
    for (int k = 1; k < l->n_out && k < 3; k++) /* training: running mean, var */
        if (l->out[k] >= 0) {
            ir_set_shape(&g->t[l->out[k]], 1, &x->dims[1]);
            g->t[l->out[k]].dtype = IR_F32;
        }
    return same_shape_out(g, l, x, d);
}

/* Per output axis, the element step of t broadcast to rank r (0 where t
 * has size 1 or no such axis). */
static void bcast_steps(const IrTensor *t, int r, int64_t *step) {
    int64_t st = 1;
    for (int i = r - 1; i >= 0; i--) {
        int it = t->rank - r + i;
        step[i] = it >= 0 && t->dims[it] != 1 ? st : 0;
        if (it >= 0)
            st *= t->dims[it];
    }
}

/* int64 Add/Sub/Mul/Div of constants (shape arithmetic such as C*H*W);
 * Div truncates, as C and the ONNX reference for integers. */
static int fold_i64_binary(IrGraph *g, IrLayer *l, const IrTensor *a, const IrTensor *b, IrDiag *d) {
    IrTensor *y = &g->t[l->out[0]];
    int64_t n = ir_numel(y), sa[IR_MAX_RANK], sb[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
    bcast_steps(a, y->rank, sa);
    bcast_steps(b, y->rank, sb);
    int64_t *v = ir_xmalloc((size_t)(n ? n : 1) * sizeof *v);
    for (int64_t i = 0; i < n; i++) {
        int64_t ia = 0, ib = 0;
        for (int k = 0; k < y->rank; k++) {
            ia += idx[k] * sa[k];
            ib += idx[k] * sb[k];
        }
        int64_t x = a->i64[ia], z = b->i64[ib];
        int ovf = 0;
        switch (l->op) {
        case IR_ADD: ovf = ir_add_i64(x, z, &v[i]); break;
        case IR_SUB: ovf = z == INT64_MIN || ir_add_i64(x, -z, &v[i]); break;
        case IR_MUL: ovf = ir_mul_i64(x, z, &v[i]); break;
        default: /* IR_DIV */
            if (z == 0) {
                free(v);
                return fail(d, l, "int64 division by zero");
            }
            ovf = x == INT64_MIN && z == -1;
            if (!ovf)
                v[i] = x / z;
            break;
        }
        if (ovf) {
            free(v);
            return fail(d, l, "int64 result overflows");
        }
        for (int k = y->rank - 1; k >= 0 && ++idx[k] == y->dims[k]; k--)
            idx[k] = 0;
    }
    make_const(g, l, v);
    return 0;
}

static int infer_broadcast(IrGraph *g, IrLayer *l, IrDiag *d) {
    IrTensor *a = input(g, l, 0), *b = input(g, l, 1);
    char sa[160], sb[160];
    if (!b)
        return fail(d, l, "missing second input");
    int shape_math = a->dtype == IR_I64 || b->dtype == IR_I64;
    if (shape_math && (a->dtype != b->dtype || !is_const(a) || !is_const(b)))
        return fail(d, l, "int64 inputs '%s' and '%s' must both be compile-time constants", a->name,
                    b->name);
    int r = a->rank > b->rank ? a->rank : b->rank;
    int64_t y[IR_MAX_RANK];
    for (int i = 0; i < r; i++) {
        int ia = a->rank - r + i, ib = b->rank - r + i;
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return fail(d, l, "shapes do not broadcast: '%s' %s and '%s' %s", a->name,
                        ir_shape_str(a, sa, sizeof sa), b->name, ir_shape_str(b, sb, sizeof sb));
        y[i] = da == 1 ? db : da;
    }
    if (set_out(g, l, r, y, shape_math ? IR_I64 : IR_F32, d))
        return -1;
    return shape_math ? fold_i64_binary(g, l, a, b, d) : 0;
}

static int infer_concat(IrGraph *g, IrLayer *l, IrDiag *d) {
    IrTensor *x0 = input(g, l, 0);
    char s0[160], sk[160];
    int axis = norm_axis(l->a.axis, x0->rank);
    if (axis < 0)
        return fail(d, l, "axis %d out of range for rank %d", l->a.axis, x0->rank);
    l->a.axis = axis;
    int64_t y[IR_MAX_RANK];
    memcpy(y, x0->dims, sizeof y);
    int all_const = 1;
    for (int k = 0; k < l->n_in; k++) {
        IrTensor *xk = input(g, l, k);
        if (!xk)
            return fail(d, l, "input %d is absent", k);
        all_const &= is_const(xk);
        if (xk->dtype != x0->dtype)
            return fail(d, l, "inputs '%s' and '%s' have different element types", x0->name, xk->name);
        int ok = xk->rank == x0->rank;
        for (int i = 0; ok && i < x0->rank; i++)
            ok = i == axis || xk->dims[i] == x0->dims[i];
        if (!ok)
            return fail(d, l, "input '%s' %s does not match '%s' %s outside axis %d", xk->name,
                        ir_shape_str(xk, sk, sizeof sk), x0->name, ir_shape_str(x0, s0, sizeof s0),
                        axis);
        if (k > 0 && ir_add_i64(y[axis], xk->dims[axis], &y[axis]))
            return fail(d, l, "concatenated axis %d overflows", axis);
    }
    if (x0->dtype == IR_F32 && !all_const) {
        if (set_out(g, l, x0->rank, y, IR_F32, d))
            return -1;
        return 0;
    }
    /* Folded constants may be empty (e.g. an empty shape list). */
    IrTensor *out = &g->t[l->out[0]];
    ir_set_shape(out, x0->rank, y);
    out->dtype = x0->dtype;
    if (ir_check_tensor_size(out, d))
        return -1;
    if (!all_const)
        return fail(d, l, "int64 inputs must be compile-time constants");
    int64_t es = elem_size(x0->dtype), outer = prod(y, 0, axis), inner = prod(y, axis + 1, x0->rank);
    char *p = ir_xmalloc((size_t)(ir_numel(out) * es)), *q = p;
    for (int64_t o = 0; o < outer; o++)
        for (int k = 0; k < l->n_in; k++) {
            IrTensor *xk = input(g, l, k);
            size_t chunk = (size_t)(xk->dims[axis] * inner * es);
            memcpy(q, (char *)const_data(xk) + (size_t)o * chunk, chunk);
            q += chunk;
        }
    make_const(g, l, p);
    return 0;
}

static int infer_reshape(IrGraph *g, IrLayer *l, IrDiag *d) {
    IrTensor *x = input(g, l, 0), *s = input(g, l, 1), *y = &g->t[l->out[0]];
    char sx[160], ss[160];
    int64_t dims[IR_MAX_RANK];
    int rank;
    if (!s) { /* a pass fixed the output shape */
        if (y->rank < 0)
            return fail(d, l, "no target shape");
        rank = y->rank;
        memcpy(dims, y->dims, sizeof dims);
    } else {
        if (!is_const(s) || s->dtype != IR_I64 || s->rank != 1)
            return fail(d, l, "target shape '%s' must be a constant 1-D int64 tensor", s->name);
        if (s->dims[0] > IR_MAX_RANK)
            return fail(d, l, "target shape '%s' has %lld dims (max %d)", s->name,
                        (long long)s->dims[0], IR_MAX_RANK);
        rank = (int)s->dims[0];
        int infer = -1;
        int64_t known = 1;
        for (int i = 0; i < rank; i++) {
            int64_t v = s->i64[i];
            if (v == 0) {
                if (i >= x->rank)
                    return fail(d, l, "target shape copies dim %d but input '%s' has rank %d", i,
                                x->name, x->rank);
                v = x->dims[i];
            } else if (v == -1) {
                if (infer >= 0)
                    return fail(d, l, "target shape '%s' has more than one -1", s->name);
                infer = i;
                v = 1;
            } else if (v < 0) {
                return fail(d, l, "target shape '%s' has invalid dim %lld", s->name, (long long)v);
            }
            dims[i] = v;
            if (ir_mul_i64(known, v, &known))
                return fail(d, l, "target shape '%s' overflows", s->name);
        }
        int64_t n = ir_numel(x);
        if (infer >= 0) {
            if (known == 0 || n % known)
                return fail(d, l, "cannot infer -1: input '%s' %s has %lld elements, not a multiple of %lld",
                            x->name, ir_shape_str(x, sx, sizeof sx), (long long)n, (long long)known);
            dims[infer] = n / known;
            known = n;
        }
        if (known != n) {
            IrTensor tmp = {.rank = rank};
            memcpy(tmp.dims, dims, sizeof dims);
            return fail(d, l, "cannot reshape '%s' %s (%lld elements) to %s", x->name,
                        ir_shape_str(x, sx, sizeof sx), (long long)n, ir_shape_str(&tmp, ss, sizeof ss));
        }
    }
    if (ir_numel(y) != ir_numel(x) && !s)
        return fail(d, l, "output shape does not hold the input's elements");
    if (set_out(g, l, rank, dims, x->dtype, d))
        return -1;
    if (is_const(x))
        fold_copy(g, l, x);
    return 0;
}

static int infer_flatten(IrGraph *g, IrLayer *l, IrDiag *d) {
    IrTensor *x = input(g, l, 0);
    /* Flatten's axis may equal the rank. */
    int axis = l->a.axis == x->rank ? x->rank : norm_axis(l->a.axis, x->rank);
    if (axis < 0)
        return fail(d, l, "axis %d out of range for rank %d", l->a.axis, x->rank);
    l->a.axis = axis;
    int64_t y[2] = {prod(x->dims, 0, axis), prod(x->dims, axis, x->rank)};
    if (set_out(g, l, 2, y, x->dtype, d))
        return -1;
    if (is_const(x))
        fold_copy(g, l, x);
    return 0;
}

static int infer_softmax(IrGraph *g, IrLayer *l, IrDiag *d) {
    IrTensor *x = input(g, l, 0);
    int axis = norm_axis(l->a.softmax.axis, x->rank);
    if (axis < 0)
        return fail(d, l, "axis %d out of range for rank %d", l->a.softmax.axis, x->rank);
    l->a.softmax.axis = axis;
    if (need_f32(d, l, x))
        return -1;
    return same_shape_out(g, l, x, d);
}

static int infer_pad(IrGraph *g, IrLayer *l, IrDiag *d) {
    IrTensor *x = input(g, l, 0);
    if (need_f32(d, l, x))
        return -1;
    int64_t y[IR_MAX_RANK];
    for (int i = 0; i < x->rank; i++) {
        int64_t b = l->a.pad.pads[i], e = l->a.pad.pads[x->rank + i];
        if (b < 0 || e < 0)
            return fail(d, l, "negative pads (cropping) are not supported");
        /* reflect mirrors once (about the edge element), edge repeats it */
        if (l->a.pad.mode == IR_PAD_REFLECT && (b >= x->dims[i] || e >= x->dims[i]))
            return fail(d, l, "reflect pads %lld,%lld of axis %d must be smaller than its size %lld",
                        (long long)b, (long long)e, i, (long long)x->dims[i]);
        if (l->a.pad.mode == IR_PAD_EDGE && (b || e) && x->dims[i] == 0)
            return fail(d, l, "edge pads of axis %d, which is empty", i);
        if (ir_add_i64(x->dims[i], b, &y[i]) || ir_add_i64(y[i], e, &y[i]))
            return fail(d, l, "padded dimension %d overflows", i);
    }
    return set_out(g, l, x->rank, y, IR_F32, d);
}

static int infer_shape_op(IrGraph *g, IrLayer *l) {
    IrTensor *x = input(g, l, 0);
    int64_t start = 0, end = x->rank;
    if (l->a.axes.n == 2) { /* opset 15 slice, clamped like ONNX */
        start = l->a.axes.v[0] < 0 ? l->a.axes.v[0] + x->rank : l->a.axes.v[0];
        end = l->a.axes.v[1] < 0 ? l->a.axes.v[1] + x->rank : l->a.axes.v[1];
        start = start < 0 ? 0 : start > x->rank ? x->rank : start;
        end = end < 0 ? 0 : end > x->rank ? x->rank : end;
        if (end < start)
            end = start;
    }
    IrTensor *y = &g->t[l->out[0]];
    int64_t n = end - start;
    ir_set_shape(y, 1, &n);
    y->dtype = IR_I64;
    int64_t *v = ir_xmalloc((size_t)(n ? n : 1) * sizeof *v);
    for (int64_t i = 0; i < n; i++)
        v[i] = x->dims[start + i];
    make_const(g, l, v);
    return 0;
}

static int infer_gather(IrGraph *g, IrLayer *l, IrDiag *d) {
    IrTensor *x = input(g, l, 0), *idx = input(g, l, 1);
    if (!idx)
        return fail(d, l, "missing indices input");
    if (idx->dtype != IR_I64)
        return fail(d, l, "indices '%s' must be int64", idx->name);
    int axis = norm_axis(l->a.axis, x->rank);
    if (axis < 0)
        return fail(d, l, "axis %d out of range for rank %d", l->a.axis, x->rank);
    l->a.axis = axis;
    int r = x->rank - 1 + idx->rank;
    if (r > IR_MAX_RANK)
        return fail(d, l, "output rank %d exceeds %d", r, IR_MAX_RANK);
    int64_t y[IR_MAX_RANK];
    int k = 0;
    for (int i = 0; i < axis; i++)
        y[k++] = x->dims[i];
    for (int i = 0; i < idx->rank; i++)
        y[k++] = idx->dims[i];
    for (int i = axis + 1; i < x->rank; i++)
        y[k++] = x->dims[i];
    IrTensor *out = &g->t[l->out[0]];
    if (!is_const(x) || !is_const(idx))
        return set_out(g, l, r, y, x->dtype, d);
    ir_set_shape(out, r, y);
    out->dtype = x->dtype;
    if (ir_check_tensor_size(out, d))
        return -1;
    int64_t es = elem_size(x->dtype), n_idx = ir_numel(idx), len = x->dims[axis];
    int64_t outer = prod(x->dims, 0, axis), inner = prod(x->dims, axis + 1, x->rank);
    for (int64_t j = 0; j < n_idx; j++)
        if (idx->i64[j] < -len || idx->i64[j] >= len)
            return fail(d, l, "index %lld out of range for axis %d of size %lld",
                        (long long)idx->i64[j], axis, (long long)len);
    char *p = ir_xmalloc((size_t)(ir_numel(out) * es)), *q = p;
    const char *src = const_data(x);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < n_idx; j++) {
            int64_t ix = idx->i64[j] < 0 ? idx->i64[j] + len : idx->i64[j];
            memcpy(q, src + (size_t)(((o * len) + ix) * inner * es), (size_t)(inner * es));
            q += inner * es;
        }
    make_const(g, l, p);
    return 0;
}

static int infer_squeeze(IrGraph *g, IrLayer *l, IrDiag *d) {
    IrTensor *x = input(g, l, 0);
    int64_t y[IR_MAX_RANK];
    int r = 0;
    int mark[IR_MAX_RANK + 1] = {0};
    if (l->op == IR_UNSQUEEZE) {
        int out_rank = x->rank + l->a.axes.n;
        if (out_rank > IR_MAX_RANK)
            return fail(d, l, "output rank %d exceeds %d", out_rank, IR_MAX_RANK);
        for (int i = 0; i < l->a.axes.n; i++) {
            int a = norm_axis(l->a.axes.v[i], out_rank);
            if (a < 0 || mark[a])
                return fail(d, l, "axis %lld invalid or repeated for output rank %d",
                            (long long)l->a.axes.v[i], out_rank);
            mark[a] = 1;
            l->a.axes.v[i] = a;
        }
        for (int i = 0, k = 0; i < out_rank; i++)
            y[r++] = mark[i] ? 1 : x->dims[k++];
    } else {
        for (int i = 0; i < l->a.axes.n; i++) {
            int a = norm_axis(l->a.axes.v[i], x->rank);
            if (a < 0 || mark[a])
                return fail(d, l, "axis %lld invalid or repeated for input rank %d",
                            (long long)l->a.axes.v[i], x->rank);
            if (x->dims[a] != 1)
                return fail(d, l, "cannot squeeze axis %d of size %lld", a, (long long)x->dims[a]);
            mark[a] = 1;
            l->a.axes.v[i] = a;
        }
        for (int i = 0; i < x->rank; i++)
            if (l->a.axes.n ? !mark[i] : x->dims[i] != 1)
                y[r++] = x->dims[i];
    }
    if (set_out(g, l, r, y, x->dtype, d))
        return -1;
    if (is_const(x))
        fold_copy(g, l, x);
    return 0;
}

/* ONNX TensorProto element types the IR has. */
enum { ONNX_FLOAT = 1, ONNX_INT64 = 7 };

static int infer_cast(IrGraph *g, IrLayer *l, IrDiag *d) {
    IrTensor *x = input(g, l, 0);
    IrDType to;
    if (l->a.cast_to == ONNX_FLOAT)
        to = IR_F32;
    else if (l->a.cast_to == ONNX_INT64)
        to = IR_I64;
    else
        return fail(d, l, "cast to element type %d is not supported (float32 or int64 only)",
                    l->a.cast_to);
    if (set_out(g, l, x->rank, x->dims, to, d))
        return -1;
    if (!is_const(x))
        return 0;
    int64_t n = ir_numel(x);
    void *p = ir_xmalloc((size_t)(n * elem_size(to)));
    for (int64_t i = 0; i < n; i++) {
        if (to == IR_F32)
            ((float *)p)[i] = x->dtype == IR_F32 ? x->f32[i] : (float)x->i64[i];
        else
            ((int64_t *)p)[i] = x->dtype == IR_I64 ? x->i64[i] : (int64_t)x->f32[i];
    }
    make_const(g, l, p);
    return 0;
}

/* Output axis k is input axis perm[k]. */
static int infer_transpose(IrGraph *g, IrLayer *l, IrDiag *d) {
    IrTensor *x = input(g, l, 0);
    int r = x->rank, seen[IR_MAX_RANK] = {0};
    if (l->a.perm.n != r)
        return fail(d, l, "perm has %d axes for input '%s' of rank %d", l->a.perm.n, x->name, r);
    int64_t y[IR_MAX_RANK];
    for (int k = 0; k < r; k++) {
        int p = l->a.perm.v[k];
        if (p < 0 || p >= r || seen[p])
            return fail(d, l, "perm is not a permutation of 0..%d", r - 1);
        seen[p] = 1;
        y[k] = x->dims[p];
    }
    if (set_out(g, l, r, y, x->dtype, d))
        return -1;
    if (!is_const(x))
        return 0;
    /* Fold: walk the output in order, tracking the input offset. */
    int64_t es = elem_size(x->dtype), n = ir_numel(x), xs[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
    xs[r - 1 < 0 ? 0 : r - 1] = 1;
    for (int k = r - 2; k >= 0; k--)
        xs[k] = xs[k + 1] * x->dims[k + 1];
    char *p = ir_xmalloc((size_t)(n * es));
    const char *src = const_data(x);
    for (int64_t i = 0; i < n; i++) {
        int64_t off = 0;
        for (int k = 0; k < r; k++)
            off += idx[k] * xs[l->a.perm.v[k]];
        memcpy(p + i * es, src + off * es, (size_t)es);
        for (int k = r - 1; k >= 0 && ++idx[k] == y[k]; k--)
            idx[k] = 0;
    }
    make_const(g, l, p);
    return 0;
}

static int infer_passthrough(IrGraph *g, IrLayer *l, IrDiag *d) {
    IrTensor *x = input(g, l, 0);
    if (same_shape_out(g, l, x, d))
        return -1;
    if (is_const(x) && ir_op_is_noop(l->op))
        fold_copy(g, l, x);
    return 0;
}

static int infer_unary_f32(IrGraph *g, IrLayer *l, IrDiag *d) {
    IrTensor *x = input(g, l, 0);
    if (need_f32(d, l, x))
        return -1;
    return same_shape_out(g, l, x, d);
}

int ir_infer_layer(IrGraph *g, int li, IrDiag *d) {
    IrLayer *l = &g->l[li];
    if (l->dead)
        return 0;
    if (l->n_out < 1 || l->out[0] < 0)
        return fail(d, l, "has no output");
    if (l->n_in < 1 || l->in[0] < 0)
        return fail(d, l, "first input is absent");
    for (int k = 0; k < l->n_in; k++) {
        IrTensor *t = input(g, l, k);
        if (t && t->rank < 0)
            return fail(d, l, "input '%s' has no known shape", t->name);
    }
    switch (l->op) {
    case IR_CONV:
        return infer_conv(g, l, d);
    case IR_MAXPOOL:
    case IR_AVGPOOL:
    case IR_GLOBAL_AVGPOOL:
    case IR_GLOBAL_MAXPOOL:
        return infer_pool(g, l, d);
    case IR_GEMM:
    case IR_MATMUL:
    case IR_FC:
        return infer_matmul(g, l, d);
    case IR_BATCHNORM:
        return infer_batchnorm(g, l, d);
    case IR_ADD:
    case IR_MUL:
    case IR_SUB:
    case IR_DIV:
        return infer_broadcast(g, l, d);
    case IR_CONCAT:
        return infer_concat(g, l, d);
    case IR_PAD:
        return infer_pad(g, l, d);
    case IR_SOFTMAX:
        return infer_softmax(g, l, d);
    case IR_LRN:
    case IR_RELU:
    case IR_LEAKY_RELU:
    case IR_CLIP:
    case IR_SIGMOID:
    case IR_TANH:
        return infer_unary_f32(g, l, d);
    case IR_TRANSPOSE:
        return infer_transpose(g, l, d);
    case IR_RESHAPE:
        return infer_reshape(g, l, d);
    case IR_FLATTEN:
        return infer_flatten(g, l, d);
    case IR_IDENTITY:
    case IR_DROPOUT:
        return infer_passthrough(g, l, d);
    case IR_SHAPE:
        return infer_shape_op(g, l);
    case IR_GATHER:
        return infer_gather(g, l, d);
    case IR_UNSQUEEZE:
    case IR_SQUEEZE:
        return infer_squeeze(g, l, d);
    case IR_CAST:
        return infer_cast(g, l, d);
    case IR_LOSS_GRAD:
    case IR_ACT_GRAD:
    case IR_CONV_GRAD_X:
    case IR_CONV_GRAD_W:
    case IR_FC_GRAD_X:
    case IR_FC_GRAD_W:
    case IR_MAXPOOL_GRAD:
    case IR_AVGPOOL_GRAD:
    case IR_BATCHNORM_GRAD:
    case IR_SGD:
        /* training layers are made with their shapes (passes/autodiff.c) */
        for (int k = 0; k < l->n_out; k++)
            if (l->out[k] >= 0 && g->t[l->out[k]].rank < 0)
                return fail(d, l, "output '%s' has no shape", g->t[l->out[k]].name);
        return 0;
    case IR_OP_COUNT:
        break;
    }
    return fail(d, l, "no shape inference for op %d", (int)l->op);
}

int ir_infer_shapes(IrGraph *g, IrDiag *d) {
    /* Tensors nobody computes must come with a shape (and data if const). */
    int bad = 0;
    for (int i = 0; i < g->n_t; i++) {
        IrTensor *t = &g->t[i];
        int live_producer = t->producer >= 0 && t->producer < g->n_l && !g->l[t->producer].dead;
        if (live_producer)
            continue;
        if (t->role == IR_T_ACT && t->rank < 0) {
            ir_diag_add(d, "tensor '%s' is used but nothing computes it", t->name);
            bad = 1;
            continue;
        }
        if (t->rank >= 0 && ir_check_tensor_size(t, d))
            bad = 1;
        else if (t->role == IR_T_CONST && !is_const(t)) {
            ir_diag_add(d, "constant tensor '%s' has no data", t->name);
            bad = 1;
        }
    }
    if (bad)
        return -1;
    for (int li = 0; li < g->n_l; li++)
        if (ir_infer_layer(g, li, d))
            return -1;
    return 0;
}
