/* memplan.c: DDR placement.
 *
 * DDR map: [weights blob][graph inputs and outputs, NCHW][activation arena].
 * The blob starts with constants (iota, a zero row for padding) followed by
 * each layer's weights in kernel order.  Arena buffers are placed first-fit
 * by liveness, so a buffer is reused once its last reader has run; aliases
 * (flatten, reshape) share their source's buffer and extend its life. */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"

static int64_t align(int64_t x, int64_t a) { return (x + a - 1) / a * a; }

typedef struct {
    int64_t size, off;
    int def, last;
} Buf;

/* First-fit placement of bufs (sorted by def) in one arena; returns peak. */
static int64_t place(Buf *b, int n) {
    int64_t peak = 0;
    for (int i = 0; i < n; i++) {
        int64_t off = 0;
        for (int again = 1; again;) {
            again = 0;
            for (int j = 0; j < i; j++) {
                if (b[j].last < b[i].def || b[j].def > b[i].last)
                    continue; /* lifetimes do not overlap */
                if (off < b[j].off + b[j].size && b[j].off < off + b[i].size) {
                    off = b[j].off + b[j].size;
                    again = 1;
                }
            }
        }
        b[i].off = off;
        if (off + b[i].size > peak)
            peak = off + b[i].size;
    }
    return peak;
}

static BkSched *sched(const IrLayer *l) { return l->dead ? NULL : l->sched; }

int bk_memplan(IrGraph *g, IrDiag *d) {
    (void)d;
    /* 1. the weights blob */
    int64_t zero = 128;
    for (int li = 0; li < g->n_l; li++) {
        BkSched *s = sched(&g->l[li]);
        if (s && (s->kind == BK_KIND_CONV || s->kind == BK_KIND_DW) && s->u.conv.zero_bytes > zero)
            zero = s->u.conv.zero_bytes;
        if (s && s->kind == BK_KIND_PAD && s->u.pad.value == 0 && s->u.pad.row_bytes > zero)
            zero = s->u.pad.row_bytes;
    }
    zero = bk_train_zero(g, zero);
    int64_t off = align(BK_BLOB_ZERO + zero, 256);
    for (int li = 0; li < g->n_l; li++) {
        BkSched *s = sched(&g->l[li]);
        if (!s || (s->kind != BK_KIND_CONV && s->kind != BK_KIND_DW))
            continue;
        BkConv *c = &s->u.conv;
        c->w_bytes = (int64_t)c->groups * c->nvco * c->cin * c->kh * c->kw * 128;
        c->w_off = off;
        off = align(off + c->w_bytes, 256);
        if (c->b_off >= 0) {
            c->b_off = off;
            off = align(off + (int64_t)c->groups * c->nvco * 128 * (c->bias_px ? c->wo : 1), 256);
        }
    }
    for (int li = 0; li < g->n_l; li++) { /* affine constants, pad value rows */
        BkSched *s = sched(&g->l[li]);
        if (s && s->kind == BK_KIND_PAD && s->u.pad.value != 0) {
            s->u.pad.row_off = off;
            off = align(off + s->u.pad.row_bytes, 256);
        }
        if (s && s->kind == BK_KIND_EW && s->u.ew.op == M7K_EW_AFFINE) {
            s->u.ew.st_off = off;
            off = align(off + (int64_t)s->u.ew.ncb * 256, 256);
        }
    }
    off = bk_train_blob(g, off); /* SGD master copies */
    int64_t blob = off;
    /* 2. graph inputs and outputs, NCHW where the harness expects them */
    off = align(off, 4096);
    int64_t *addr = ir_xmalloc((size_t)g->n_t * sizeof *addr); /* blocked data of a tensor */
    for (int i = 0; i < g->n_t; i++)
        addr[i] = -1, g->t[i].ddr_offset = -1;
    for (int i = 0; i < g->n_inputs; i++) {
        IrTensor *t = &g->t[g->inputs[i]];
        t->ddr_offset = off;
        addr[g->inputs[i]] = off;
        off = align(off + ir_numel(t) * 4, 4096);
    }
    for (int i = 0; i < g->n_outputs; i++) {
        IrTensor *t = &g->t[g->outputs[i]];
        if (t->ddr_offset >= 0)
            continue;
        int64_t size = ir_numel(t) * 4;
        BkSched *s = t->producer >= 0 ? sched(&g->l[t->producer]) : NULL;
        if (s && !s->post.present && s->kind != BK_KIND_ALIAS) { /* written in place, blocked */
            if (bk_act_bytes(&s->out) > size)
                size = bk_act_bytes(&s->out);
            addr[g->outputs[i]] = off;
        }
        t->ddr_offset = off;
        off = align(off + size, 4096);
    }
    int64_t arena = off;
    /* 3. the arena: one buffer per computed tensor and per conversion temp */
    int nb = 0;
    Buf *bufs = ir_xcalloc((size_t)(g->n_t + 3 * g->n_l) + 1, sizeof *bufs);
    int *buf_of = ir_xmalloc((size_t)g->n_t * sizeof *buf_of); /* tensor -> buffer, -1 */
    int *pre_buf = ir_xmalloc((size_t)g->n_l * sizeof *pre_buf);
    int *exp_buf = ir_xmalloc((size_t)g->n_l * 2 * sizeof *exp_buf); /* expand temps */
    for (int i = 0; i < g->n_t; i++)
        buf_of[i] = -1;
    for (int li = 0; li < g->n_l; li++) {
        IrLayer *l = &g->l[li];
        BkSched *s = sched(l);
        pre_buf[li] = exp_buf[2 * li] = exp_buf[2 * li + 1] = -1;
        if (!s)
            continue;
        for (int k = 0; k < l->n_in; k++) { /* extend the life of what it reads */
            int ti = l->in[k];
            if (ti >= 0 && buf_of[ti] >= 0)
                bufs[buf_of[ti]].last = li;
        }
        if (s->pre.present) {
            pre_buf[li] = nb;
            bufs[nb++] = (Buf){bk_act_bytes(&s->pre.to), 0, li, li};
        }
        for (int k = 0; k < 2; k++)
            if (s->expand[k].present) {
                exp_buf[2 * li + k] = nb;
                bufs[nb++] = (Buf){bk_act_bytes(&s->expand[k].buf), 0, li, li};
            }
        if (s->kind == BK_KIND_FUSED)
            continue; /* its output is the conv's */
        int y = s->out_tensor;
        if (s->kind == BK_KIND_ALIAS) {
            buf_of[y] = buf_of[l->in[0]];
            if (addr[l->in[0]] >= 0 && buf_of[y] < 0)
                addr[y] = addr[l->in[0]];
            continue;
        }
        if (addr[y] >= 0)
            continue; /* a graph output written in place */
        buf_of[y] = nb;
        bufs[nb++] = (Buf){bk_act_bytes(&s->out), 0, li, li};
    }
    int64_t total = 0;
    for (int i = 0; i < nb; i++) {
        bufs[i].size = align(bufs[i].size, 256);
        total += bufs[i].size;
    }
    int64_t peak = place(bufs, nb);
    for (int i = 0; i < g->n_t; i++)
        if (buf_of[i] >= 0) {
            addr[i] = arena + bufs[buf_of[i]].off;
            if (g->t[i].ddr_offset < 0)
                g->t[i].ddr_offset = addr[i];
        }
    /* 4. every layer's view of its operands */
    for (int li = 0; li < g->n_l; li++) {
        IrLayer *l = &g->l[li];
        BkSched *s = sched(l);
        if (!s)
            continue;
        for (int k = 0; k < s->n_in; k++)
            s->in[k].ddr = addr[l->in[s->src[k]]];
        if (s->cat_addr) /* concat, moves */
            for (int k = 0; k < l->n_in; k++)
                s->cat_addr[k] = l->in[k] >= 0 ? addr[l->in[k]] : -1;
        for (int k = 0; k < 2; k++)
            if (s->expand[k].present)
                s->in[k].ddr = s->expand[k].buf.ddr = arena + bufs[exp_buf[2 * li + k]].off;
        if (s->pre.present) {
            int k = s->pre.k;
            s->pre.from.ddr = addr[l->in[s->src[k]]]; /* a graph input, or an alias of one */
            s->pre.to.ddr = arena + bufs[pre_buf[li]].off;
            s->in[k].ddr = s->pre.to.ddr;
        }
        s->out.ddr = addr[s->out_tensor];
        if (s->post.present) {
            s->post.from.ddr = s->out.ddr;
            s->post.to.ddr = g->t[l->out[0]].ddr_offset;
        }
    }
    /* the program-wide figures, once */
    BkProgram *prog = g->program ? g->program : ir_xcalloc(1, sizeof *prog);
    *prog = (BkProgram){.weights_bytes = blob, .zero_bytes = zero, .ddr_bytes = arena + peak,
                        .act_peak = peak, .act_total = total};
    g->program = prog;
    free(addr);
    free(bufs);
    free(buf_of);
    free(pre_buf);
    free(exp_buf);
    return 0;
}
