/* ir.c: construction, queries and diagnostics of the layer IR. */
#include "ir/ir.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void *ir_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fputs("m7cc: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

void *ir_xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fputs("m7cc: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

void *ir_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("m7cc: out of memory\n", stderr);
        exit(1);
    }
    return q;
}

char *ir_strdup(const char *s) {
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = ir_xmalloc(n);
    memcpy(d, s, n);
    return d;
}

IrGraph *ir_graph_new(const char *name) {
    IrGraph *g = ir_xcalloc(1, sizeof *g);
    g->name = ir_strdup(name ? name : "graph");
    return g;
}

static void free_layer(IrLayer *l) {
    free(l->name);
    free(l->onnx_op);
    free(l->in);
    free(l->out);
    if (l->sched && l->free_sched)
        l->free_sched(l->sched);
}

void ir_graph_free(IrGraph *g) {
    if (!g)
        return;
    for (int i = 0; i < g->n_t; i++) {
        IrTensor *t = &g->t[i];
        free(t->name);
        free(t->f32);
        free(t->i64);
        for (int k = 0; k < IR_MAX_RANK; k++)
            free(t->dim_param[k]);
    }
    for (int i = 0; i < g->n_l; i++)
        free_layer(&g->l[i]);
    free(g->t);
    free(g->l);
    free(g->inputs);
    free(g->outputs);
    free(g->name);
    free(g->program);
    free(g);
}

int ir_add_tensor(IrGraph *g, const char *name, IrDType dt, IrTensorRole role) {
    if (g->n_t == g->cap_t) {
        g->cap_t = g->cap_t ? 2 * g->cap_t : 64;
        g->t = ir_xrealloc(g->t, (size_t)g->cap_t * sizeof *g->t);
    }
    IrTensor *t = &g->t[g->n_t];
    memset(t, 0, sizeof *t);
    t->name = ir_strdup(name ? name : "");
    t->dtype = dt;
    t->role = role;
    t->rank = -1;
    t->producer = -1;
    t->ddr_offset = -1;
    return g->n_t++;
}

int ir_find_tensor(const IrGraph *g, const char *name) {
    for (int i = g->n_t - 1; i >= 0; i--)
        if (strcmp(g->t[i].name, name) == 0)
            return i;
    return -1;
}

int ir_add_layer(IrGraph *g, IrOp op, const char *name, const char *onnx_op,
                 const int *in, int n_in, const int *out, int n_out) {
    if (g->n_l == g->cap_l) {
        g->cap_l = g->cap_l ? 2 * g->cap_l : 64;
        g->l = ir_xrealloc(g->l, (size_t)g->cap_l * sizeof *g->l);
    }
    int li = g->n_l++;
    IrLayer *l = &g->l[li];
    memset(l, 0, sizeof *l);
    l->op = op;
    l->name = ir_strdup(name ? name : "");
    l->onnx_op = ir_strdup(onnx_op ? onnx_op : ir_op_name(op));
    l->n_in = n_in;
    l->n_out = n_out;
    l->in = ir_xmalloc((size_t)(n_in ? n_in : 1) * sizeof(int));
    l->out = ir_xmalloc((size_t)(n_out ? n_out : 1) * sizeof(int));
    if (n_in)
        memcpy(l->in, in, (size_t)n_in * sizeof(int));
    if (n_out)
        memcpy(l->out, out, (size_t)n_out * sizeof(int));
    for (int k = 0; k < n_out; k++)
        if (out[k] >= 0)
            g->t[out[k]].producer = li;
    l->act.lo = -__builtin_inff();
    l->act.hi = __builtin_inff();
    return li;
}

void ir_set_shape(IrTensor *t, int rank, const int64_t *dims) {
    t->rank = rank;
    for (int i = 0; i < rank && i < IR_MAX_RANK; i++)
        t->dims[i] = dims[i];
}

static void push_index(int **arr, int *n, int v) {
    *arr = ir_xrealloc(*arr, (size_t)(*n + 1) * sizeof(int));
    (*arr)[(*n)++] = v;
}

void ir_graph_add_input(IrGraph *g, int tensor) {
    push_index(&g->inputs, &g->n_inputs, tensor);
    g->t[tensor].is_graph_input = 1;
}

void ir_graph_add_output(IrGraph *g, int tensor) {
    push_index(&g->outputs, &g->n_outputs, tensor);
    g->t[tensor].is_graph_output = 1;
}

/* ops.h as an array, indexed by op. */
static const struct {
    const char *name;
    IrActKind act;
    unsigned flags;
    int n_in;
} op_table[IR_OP_COUNT] = {
#define IR_OP_ROW(name, str, act, flags, n_in) [IR_##name] = {str, IR_ACT_##act, flags, n_in},
    IR_OPS(IR_OP_ROW)
#undef IR_OP_ROW
};

static int valid_op(IrOp op) { return (int)op >= 0 && op < IR_OP_COUNT; }

const char *ir_op_name(IrOp op) { return valid_op(op) ? op_table[op].name : "?"; }
IrActKind ir_op_act(IrOp op) { return valid_op(op) ? op_table[op].act : IR_ACT_NONE; }
unsigned ir_op_flags(IrOp op) { return valid_op(op) ? op_table[op].flags : 0; }
int ir_op_n_in(IrOp op) { return valid_op(op) ? op_table[op].n_in : 0; }

int ir_mul_i64(int64_t a, int64_t b, int64_t *out) {
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return -1;
    *out = r;
    return 0;
}

int ir_add_i64(int64_t a, int64_t b, int64_t *out) {
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return -1;
    *out = r;
    return 0;
}

int64_t ir_numel(const IrTensor *t) {
    if (t->rank < 0)
        return -1;
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++) {
        if (t->dims[i] < 0 || ir_mul_i64(n, t->dims[i], &n))
            return -1;
    }
    return n;
}

int ir_dims_2d(const IrTensor *t, int64_t d[4]) {
    if (t->rank == 4) {
        memcpy(d, t->dims, 4 * sizeof *d);
        return 0;
    }
    if (t->rank != 3)
        return -1;
    d[0] = t->dims[0], d[1] = t->dims[1], d[2] = 1, d[3] = t->dims[2];
    return 0;
}

int ir_consumer_count(const IrGraph *g, int ti) {
    int n = 0;
    for (int i = 0; i < g->n_l; i++) {
        const IrLayer *l = &g->l[i];
        if (l->dead)
            continue;
        for (int k = 0; k < l->n_in; k++)
            if (l->in[k] == ti)
                n++;
    }
    return n;
}

/* Saturating helpers: FLOP counts are reported, never used for sizes. */
static int64_t sat_mul(int64_t a, int64_t b) {
    int64_t r;
    return ir_mul_i64(a, b, &r) ? INT64_MAX : r;
}

int64_t ir_layer_flops(const IrGraph *g, const IrLayer *l) {
    if (l->dead || l->n_out < 1 || l->out[0] < 0)
        return 0;
    const IrTensor *y = &g->t[l->out[0]];
    int64_t ny = ir_numel(y);
    if (ny < 0 || (ir_op_flags(l->op) & IR_OPF_NOFLOP))
        return 0;
    switch (l->op) {
    case IR_CONV: {
        if (l->n_in < 2 || l->in[1] < 0)
            return 0;
        const IrTensor *w = &g->t[l->in[1]];
        if (w->rank < 2)
            return 0;
        int64_t per_out = 1; /* MACs per output element: Cin/group * kH * kW */
        for (int i = 1; i < w->rank; i++)
            per_out = sat_mul(per_out, w->dims[i]);
        return sat_mul(2, sat_mul(ny, per_out));
    }
    case IR_FC:
    case IR_GEMM:
    case IR_MATMUL: {
        /* K = the reduced dimension; take it from the weight matrix. */
        const IrTensor *a = &g->t[l->in[0]];
        int64_t k;
        if (l->n_in < 2 || l->in[0] < 0 || l->in[1] < 0)
            return 0;
        if (l->op == IR_FC) {
            const IrTensor *w = &g->t[l->in[1]];
            k = w->rank == 2 ? w->dims[1] : 0;
        } else if (l->op == IR_GEMM) {
            k = a->rank == 2 ? a->dims[l->a.gemm.trans_a ? 0 : 1] : 0;
        } else {
            k = a->rank >= 1 ? a->dims[a->rank - 1] : 0;
        }
        return sat_mul(2, sat_mul(ny, k));
    }
    case IR_CONV_GRAD_X: /* the forward conv's MACs: dY elements x Cin/group * kH * kW */
    case IR_CONV_GRAD_W:
    case IR_FC_GRAD_X:   /* dY elements x K */
    case IR_FC_GRAD_W: {
        int w_in = l->op == IR_CONV_GRAD_X || l->op == IR_FC_GRAD_X ? 1 : -1;
        const IrTensor *w = w_in > 0 && l->n_in > 1 && l->in[1] >= 0 ? &g->t[l->in[1]] : y;
        int64_t ndy = l->n_in > 0 && l->in[0] >= 0 ? ir_numel(&g->t[l->in[0]]) : -1;
        if (ndy < 0 || w->rank < 2)
            return 0;
        int64_t per_out = 1;
        for (int i = 1; i < w->rank; i++)
            per_out = sat_mul(per_out, w->dims[i]);
        return sat_mul(2, sat_mul(ndy, per_out));
    }
    case IR_MAXPOOL:
    case IR_AVGPOOL:
        return sat_mul(ny, (int64_t)l->a.pool.kernel[0] * l->a.pool.kernel[1]);
    case IR_GLOBAL_AVGPOOL:
    case IR_GLOBAL_MAXPOOL: {
        if (l->n_in < 1 || l->in[0] < 0)
            return 0;
        int64_t nx = ir_numel(&g->t[l->in[0]]);
        return nx < 0 ? 0 : nx;
    }
    default:
        return ny;
    }
}

int64_t ir_layer_param_bytes(const IrGraph *g, const IrLayer *l) {
    int64_t bytes = 0;
    if (l->dead)
        return 0;
    for (int k = 0; k < l->n_in; k++) {
        if (l->in[k] < 0)
            continue;
        const IrTensor *t = &g->t[l->in[k]];
        if (t->role != IR_T_CONST && t->role != IR_T_PARAM)
            continue;
        if (t->dtype != IR_F32)
            continue;
        int64_t n = ir_numel(t);
        if (n > 0)
            bytes += sat_mul(n, 4);
    }
    return bytes;
}

void ir_diag_add(IrDiag *d, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 8;
        d->msg = ir_xrealloc(d->msg, (size_t)d->cap * sizeof *d->msg);
    }
    d->msg[d->n++] = ir_strdup(buf);
}

int ir_diag_layer(IrDiag *d, const char *stage, const IrLayer *l, const char *fmt, ...) {
    char buf[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ir_diag_add(d, "%s%slayer '%s' (%s): %s", stage ? stage : "", stage ? ": " : "", l->name, l->onnx_op,
                buf);
    return -1;
}

void ir_diag_print(const IrDiag *d, FILE *f) {
    for (int i = 0; i < d->n; i++)
        fprintf(f, "%s\n", d->msg[i]);
}

void ir_diag_free(IrDiag *d) {
    for (int i = 0; i < d->n; i++)
        free(d->msg[i]);
    free(d->msg);
    d->msg = NULL;
    d->n = d->cap = 0;
}
