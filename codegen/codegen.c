/* codegen.c: writes the generated program.  Every layer becomes a constant
 * plan (a struct of target/m7k.h filled with the backend's decisions) and a
 * kernel function bracketed by region markers and followed by a barrier;
 * layout conversions are regions of their own. */
#include "codegen/codegen.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const char codegen_kernels_src[]; /* target/ as one file */

typedef struct {
    const IrGraph *g;
    const M7Machine *m;
    FILE *f;
    BkProgram prog;
} Gen;

/* A C identifier made of s (letters, digits, '_'). */
static void ident(char *out, size_t n, const char *s) {
    size_t k = 0;
    if (!(s[0] >= 'a' && s[0] <= 'z') && !(s[0] >= 'A' && s[0] <= 'Z') && s[0] != '_' && n > 1)
        out[k++] = '_';
    for (; *s && k + 1 < n; s++)
        out[k++] = ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'))
                       ? *s
                       : '_';
    out[k] = 0;
}

/* A C string literal body: quotes, backslashes and non-printables escaped. */
static void cstr(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 32 || ch >= 127)
            fprintf(f, "\\%03o", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

/* Comments must not be closed by a name. */
static void comment_text(FILE *f, const char *s) {
    for (; *s; s++)
        fputc(s[0] == '*' && s[1] == '/' ? '+' : *s, f);
}

static void flt(FILE *f, float v) {
    if (isinf(v))
        fputs(v > 0 ? "INFINITY" : "-INFINITY", f);
    else {
        char b[64];
        snprintf(b, sizeof b, "%.9g", (double)v);
        fprintf(f, "%s%sf", b, strpbrk(b, ".en") ? "" : ".0"); /* 1 -> 1.0f */
    }
}

/* An M7kAct initialiser: {kind, alpha, lo, hi}. */
static void act_fields(FILE *f, int k, float alpha, float lo, float hi) {
    fprintf(f, "{%d, ", k);
    flt(f, alpha);
    fputs(", ", f);
    flt(f, lo);
    fputs(", ", f);
    flt(f, hi);
    fputs("}", f);
}

static void act(FILE *f, const IrAct *a, IrOp op) {
    int k;
    /* a standalone activation is its op; any other layer's is the fused one */
    IrActKind kind = ir_op_act(op) != IR_ACT_NONE ? ir_op_act(op) : a->kind;
    switch (kind) {
    case IR_ACT_RELU: k = 1; break;
    case IR_ACT_LEAKY_RELU: k = 2; break;
    case IR_ACT_CLIP: k = 3; break;
    case IR_ACT_SIGMOID: k = 4; break;
    case IR_ACT_TANH: k = 5; break;
    default: k = 0; break;
    }
    act_fields(f, k, a->alpha, a->lo, a->hi);
}

#define U(x) ((unsigned long long)(x))

/* The designated initialisers of an M7kConv. */
static void conv_fields(Gen *G, const IrLayer *l, const BkSched *s) {
    FILE *f = G->f;
    const BkConv *c = &s->u.conv;
    fprintf(f, "    .n = %d, .cin = %d, .h = %d, .w = %d, .ho = %d, .wo = %d, .nvco = %d,\n", c->n,
            c->cin, c->h, c->w, c->ho, c->wo, c->nvco);
    fprintf(f, "    .kh = %d, .kw = %d, .sh = %d, .sw = %d, .dh = %d, .dw = %d, .pt = %d, .pl = %d,\n",
            c->kh, c->kw, c->sh, c->sw, c->dh, c->dw, c->pt, c->pl);
    fputs("    .act = ", f);
    act(f, &l->act, l->op);
    fprintf(f, ",\n    .sub_ci = %d, .in = %lluu, .in_sn = %lluu, .in_ssub = %lluu, .in_sh = %lluu, "
               ".in_sw = %lluu,\n", c->sub_ci, U(c->in_gsm ? 0 : s->in[0].ddr), U(c->in_sn), U(c->in_ssub),
            U(c->in_sh), U(c->in_sw));
    fprintf(f, "    .out = %lluu, .out_sn = %lluu, .out_sv = %lluu, .out_sh = %lluu, .out_sw = %lluu,\n",
            U(s->out.ddr), U(c->out_sn), U(c->out_sv), U(c->out_sh), U(c->out_sw));
    fprintf(f, "    .wts = %lluu, .bias = %lluu, .zero = %lluu,\n", U(c->w_off),
            U(c->b_off >= 0 ? c->b_off : 0), U(BK_BLOB_ZERO));
    fprintf(f, "    .groups = %d, .g_out = %lluu, .g_wts = %lluu, .g_bias = %lluu, .bias_px = %d,\n", c->groups,
            U(c->g_out), U(c->g_wts), U(c->g_bias), c->bias_px);
    if (c->pool_k > 1) {
        fprintf(f, "    .pool_k = %d, .pool_max = %d, .pool_scale = ", c->pool_k, c->pool_max);
        flt(f, 1.0f / (float)(c->pool_k * c->pool_k));
        fputs(",\n", f);
    }
    if (c->in_gsm)
        fprintf(f, "    .in_gsm = 1, .stage_src = %lluu, .stage_bytes = %lluu,\n", U(s->in[0].ddr),
                U(c->in_bytes));
    fprintf(f, "    .vco = %d, .px = %d, .co_chunk = %d, .ci_chunk = %d, .th = %d, .tw = %d, "
               ".row_parts = %d, .slices = %d, .w_parts = %d, .resident = %d, .single_buf = %d, .no_share = %d,\n",
            c->vco, c->px, c->co_chunk, c->ci_chunk, c->th, c->tw, c->row_parts, c->slices, c->w_parts,
            c->resident, c->single_buf, c->no_share);
    fprintf(f, "    .am_bias = %lluu, .am_w0 = %lluu, .am_w1 = %lluu, .am_out = %lluu, .sm_in0 = %lluu, "
               ".sm_in1 = %lluu,\n", U(c->am_bias), U(c->am_w0), U(c->am_w1), U(c->am_out),
            U(c->sm_in0), U(c->sm_in1));
    fprintf(f, "    .out_tile_bytes = %lluu, .w_slot_bytes = %lluu, .sm_slot_bytes = %lluu,\n",
            U(c->out_tile_bytes), U(c->w_slot_bytes), U(c->sm_slot_bytes));
}

static void emit_conv(Gen *G, const char *id, const IrLayer *l, const BkSched *s) {
    fprintf(G->f, "static const M7kConv %s_plan = {\n", id);
    conv_fields(G, l, s);
    fputs("};\n", G->f);
}

static void emit_dw(Gen *G, const char *id, const IrLayer *l, const BkSched *s) {
    const BkConv *c = &s->u.conv;
    fprintf(G->f, "static const M7kDw %s_plan = {\n  .geo = {\n", id);
    conv_fields(G, l, s);
    fprintf(G->f, "  },\n  .ncb = %d, .px = %d, .am_w = %lluu, .am_b = %lluu, .am_in0 = %lluu, .am_in1 = %lluu,\n"
                  "  .am_out0 = %lluu, .am_out1 = %lluu,\n};\n",
            c->ncb, c->px, U(c->am_w0), U(c->am_bias), U(c->am_in0), U(c->am_in1), U(c->am_out),
            U(c->am_out + (c->am_in1 != c->am_in0 ? c->out_tile_bytes : 0))); /* one slot: single-buffered */
}

static void emit_pool(Gen *G, const char *id, const BkSched *s) {
    FILE *f = G->f;
    const BkPool *p = &s->u.pool;
    int kk = p->is_max ? 0 : p->kh * p->kw; /* 1/count for averages */
    fprintf(f, "static const float %s_recip[%d] = {0.0f", id, kk + 1);
    for (int k = 1; k <= kk; k++) {
        fputs(", ", f);
        flt(f, 1.0f / (float)k);
    }
    fputs("};\n", f);
    fprintf(f, "static const M7kPool %s_plan = {\n", id);
    fprintf(f, "    .n = %d, .ncb = %d, .h = %d, .w = %d, .ho = %d, .wo = %d,\n", p->n, p->ncb, p->h,
            p->w, p->ho, p->wo);
    fprintf(f, "    .kh = %d, .kw = %d, .sh = %d, .sw = %d, .dh = %d, .dw = %d, .pt = %d, .pl = %d, .pb = %d, "
               ".pr = %d,\n", p->kh, p->kw, p->sh, p->sw, p->dh, p->dw, p->pt, p->pl, p->pb, p->pr);
    fprintf(f, "    .is_max = %d, .count_include_pad = %d, .in = %lluu, .out = %lluu, .th = %d, .tw = %d,\n",
            p->is_max, p->count_include_pad, U(s->in[0].ddr), U(s->out.ddr), p->th, p->tw);
    fprintf(f, "    .gh = %d, .gw = %d, .cols_in = %d,\n", p->gh, p->gw, p->cols_in);
    fprintf(f, "    .am_in0 = %lluu, .am_in1 = %lluu, .am_out0 = %lluu, .am_out1 = %lluu, .recip = %s_recip,\n};\n",
            U(p->am_in0), U(p->am_in1), U(p->am_out0), U(p->am_out1), id);
}

static void emit_gpool(Gen *G, const char *id, const BkSched *s) {
    const BkGPool *p = &s->u.gpool;
    fprintf(G->f, "static const M7kGPool %s_plan = {\n", id);
    fprintf(G->f, "    .nb = %d, .hw = %d, .is_max = %d, .chunk = %d, .in = %lluu, .out = %lluu,\n",
            p->nb, p->hw, p->is_max, p->chunk, U(s->in[0].ddr), U(s->out.ddr));
    fprintf(G->f, "    .am_in0 = %lluu, .am_in1 = %lluu, .am_out = %lluu, .inv_hw = ", U(p->am_in0),
            U(p->am_in1), U(p->am_out));
    flt(G->f, 1.0f / (float)p->hw);
    fputs(",\n};\n", G->f);
}

static void emit_ew(Gen *G, const char *id, const IrLayer *l, const BkSched *s) {
    FILE *f = G->f;
    const BkEw *p = &s->u.ew;
    fprintf(f, "static const M7kEw %s_plan = {\n    .op = %d, .act = ", id, p->op);
    act(f, &l->act, l->op);
    fprintf(f, ", .nvec = %lld, .chunk = %d,\n", (long long)p->nvec, p->chunk);
    fprintf(f, "    .a = %lluu, .b = %lluu, .out = %lluu,\n", U(s->in[0].ddr),
            U(s->n_in > 1 && p->op < M7K_EW_AFFINE ? s->in[1].ddr : 0), U(s->out.ddr));
    fprintf(f, "    .am_a = {%lluu, %lluu}, .am_b = {%lluu, %lluu},\n", U(p->am_a0), U(p->am_a1),
            U(p->am_b0), U(p->am_b1));
    int bc = p->op > M7K_EW_AFFINE;
    fprintf(f, "    .hw = %d, .ncb = %d, .st = %lluu, .am_st = %lluu, .st_bytes = %lluu, .bytes = %lluu,\n", p->hw,
            p->ncb, U(bc ? s->in[1].ddr : p->st_off), U(p->am_st), U(bc ? p->bc_bytes : 0), U(p->bytes));
    fprintf(f, "    .rep = %lld, .period = %lld, .arith = %d,\n};\n", (long long)p->rep, (long long)p->period, p->arith);
}

/* The DDR address of a move operand (backend/backend.h, BK_OPD_*). */
static uint64_t opd_addr(const BkSched *s, int opd) {
    if (opd >= 0)
        return (uint64_t)s->cat_addr[opd];
    if (opd == BK_OPD_OUT)
        return (uint64_t)s->out.ddr;
    if (opd == BK_OPD_ZERO)
        return BK_BLOB_ZERO;
    if (opd == BK_OPD_ABS)
        return 0;
    return (uint64_t)s->expand[BK_OPD_TMP0 - opd].buf.ddr;
}

/* A move list (backend/moves.c) as an M7kMoves named ID_SUFFIX. */
static void emit_moves(Gen *G, const char *id, const char *suffix, const BkSched *s, const BkMoves *mv) {
    FILE *f = G->f;
    fprintf(f, "static const M7kMove %s_%s_m[%d] = {\n", id, suffix, mv->n > 0 ? mv->n : 1);
    for (int k = 0; k < mv->n; k++) {
        const BkMove *m = &mv->m[k];
        fprintf(f, "    {%lluu, %lluu, %lluu, %lluu, %uu, %uu, %d, {", U(opd_addr(s, m->src) + (uint64_t)m->src_off),
                U(opd_addr(s, m->dst) + (uint64_t)m->dst_off), U(m->src_stride), U(m->dst_stride), m->rows,
                m->row_bytes, m->nloop);
        for (int i = 0; i < m->nloop; i++)
            fprintf(f, "%s%lld", i ? ", " : "", (long long)m->cnt[i]);
        fputs("}, {", f);
        for (int i = 0; i < m->nloop; i++)
            fprintf(f, "%s%lluu", i ? ", " : "", U(m->sstr[i]));
        fputs("}, {", f);
        for (int i = 0; i < m->nloop; i++)
            fprintf(f, "%s%lluu", i ? ", " : "", U(m->dstr[i]));
        fputs("}},\n", f);
    }
    if (mv->n == 0)
        fputs("    {0},\n", f);
    fprintf(f, "};\nstatic const M7kMoves %s_%s = {%d, %s_%s_m};\n", id, suffix, mv->n, id, suffix);
}

static void emit_softmax(Gen *G, const char *id, const BkSched *s) {
    const BkSoftmax *p = &s->u.softmax;
    FILE *f = G->f;
    if (p->by_axis) {
        fprintf(f, "static const M7kSoftmaxAxis %s_plan = {\n    .len = %d, .cols = %d, .outer = %lld, .inner = %lld, "
                   ".in = %lluu, .out = %lluu, .pitch = %lluu, .am_x = %lluu,\n};\n",
                id, p->len, p->cols, (long long)p->outer, (long long)p->inner, U(s->in[0].ddr), U(s->out.ddr),
                U(p->pitch), U(p->am_x));
        return;
    }
    if (p->by_rows) {
        fprintf(f, "static const M7kSoftmaxRows %s_plan = {\n    .rows = %d, .len = %d, .chunk = %d, .in = %lluu, "
                   ".out = %lluu, .iota = %lluu, .pitch = %lluu,\n    .am_x = %lluu, .am_iota = %lluu,\n};\n",
                id, p->rows, p->len, p->chunk, U(s->in[0].ddr), U(s->out.ddr), U(BK_BLOB_IOTA),
                U(p->pitch), U(p->am_x), U(p->am_iota));
        return;
    }
    int lrn = s->kind == BK_KIND_LRN;
    fprintf(f, "static const %s %s_plan = {\n", lrn ? "M7kLrn" : "M7kSoftmax", id);
    fprintf(f, "    .n = %d, .nb = %d, .c = %d, .hw = %d, .np = %d, .in = %lluu, .out = %lluu, .iota = %lluu,\n",
            s->out.n, p->nb, s->out.c, p->hw, p->np, U(s->in[0].ddr), U(s->out.ddr), U(BK_BLOB_IOTA));
    fprintf(f, "    .am_x = %lluu, .am_iota = %lluu,\n", U(p->am_x), U(p->am_iota));
    if (lrn) {
        fprintf(f, "    .size = %d, .half = %d, .beta4 = %d, .alpha_over_size = ", p->size, p->half, p->beta4);
        flt(f, p->alpha_over_size);
        fputs(", .bias = ", f);
        flt(f, p->bias);
        fprintf(f, ", .am_sq = %lluu, .sq_row = %lluu,\n", U(p->am_sq), U(p->sq_row));
    }
    fputs("};\n", f);
}

static void emit_pad(Gen *G, const char *id, const BkSched *s) {
    const BkAct *x = &s->in[0], *y = &s->out;
    int ncb = (x->c + 31) / 32;
    int64_t blk = (int64_t)x->h * x->w * 128;
    fprintf(G->f, "static const M7kPad %s_plan = {\n", id);
    fprintf(G->f, "    .geo = {.n = %d, .h = %d, .w = %d, .in = %lluu, .in_sn = %lluu, .in_ssub = %lluu, "
                  ".in_sh = %lluu, .in_sw = 128, .zero = %lluu},\n",
            x->n, x->h, x->w, U(x->ddr), U(ncb * blk), U(blk), U((int64_t)x->w * 128), U(s->u.pad.row_off));
    fprintf(G->f, "    .ncb = %d, .ho = %d, .wo = %d, .pt = %d, .pl = %d, .mode = %d, .out = %lluu,\n};\n",
            ncb, y->h, y->w, s->u.pad.pt, s->u.pad.pl, s->u.pad.mode, U(y->ddr));
}

/* A layout conversion step: moves (backend/moves.c) between the NCHW and
 * the blocked copy. */
static void emit_convert(Gen *G, const char *id, const char *suffix, const BkSched *s, const BkConvert *cv) {
    BkAct plain = cv->nchw, blk = cv->blk;
    plain.layout = BK_LAYOUT_NCHW, blk.layout = BK_LAYOUT_BLOCKED;
    BkMoves mv = {0, NULL};
    bk_moves_convert(&mv, cv->to_blocked ? &plain : &blk, cv->to_blocked ? &blk : &plain);
    emit_moves(G, id, suffix, s, &mv);
    bk_moves_free(&mv);
}

/* Gemm with alpha or beta != 1 on a run-time B or C: a scaling pass after
 * the packing DMAs. */
static int rt_scaled(const IrGraph *g, const IrLayer *l) {
    return (bk_is_runtime(g, l->in[1]) && bk_gemm_scale(l, 1) != 1.0f) ||
           (l->n_in > 2 && bk_is_runtime(g, l->in[2]) && bk_gemm_scale(l, 2) != 1.0f);
}

/* The packing step of run-time weights (backend/rt_weights.c): a table of
 * DMAs, or BatchNormalization's parameters folded on the machine. */
static void emit_pack(Gen *G, const char *id, const IrLayer *l, const BkSched *s) {
    FILE *f = G->f;
    const IrGraph *g = G->g;
    if (s->kind == BK_KIND_EW) {
        fprintf(f, "static const M7kPackBn %s_pack = {\n    .c = %d, .ncb = %d, .eps = ", id, s->out.c,
                s->u.ew.ncb);
        flt(f, l->a.bn.eps);
        fprintf(f, ",\n    .scale = %lluu, .bias = %lluu, .mean = %lluu, .var = %lluu, .st = %lluu, .am = 0,\n};\n",
                U(g->t[l->in[1]].ddr_offset), U(g->t[l->in[2]].ddr_offset), U(g->t[l->in[3]].ddr_offset),
                U(g->t[l->in[4]].ddr_offset), U(s->u.ew.st_off));
        return;
    }
    BkDmaDesc *d;
    int64_t n = bk_rt_pack_dma(g, l, &d);
    fprintf(f, "static const M7kDmaDesc %s_dmas[%lld] = {\n", id, (long long)(n > 0 ? n : 1));
    for (int64_t i = 0; i < n; i++)
        fprintf(f, "    {%lluu, %lluu, %lluu, %lluu, %uu, %uu},\n", U(d[i].dst), U(d[i].src), U(d[i].dst_stride),
                U(d[i].src_stride), d[i].rows, d[i].row_bytes);
    if (n == 0)
        fputs("    {0},\n", f);
    fprintf(f, "};\nstatic const M7kPackDma %s_pack = {%lld, %s_dmas};\n", id, (long long)n, id);
    free(d);
    if (!rt_scaled(g, l))
        return;
    const BkConv *c = &s->u.conv; /* Gemm's alpha, beta on what was packed at run time */
    int sw = bk_is_runtime(g, l->in[1]), sb = c->b_off >= 0 && bk_is_runtime(g, l->in[2]);
    fprintf(f, "static const M7kPackScale %s_scale = {\n    .addr = {%lluu, %lluu}, .lines = {%lluu, %lluu}, .s = {",
            id, U(c->w_off), U(sb ? c->b_off : 0), U(sw ? c->w_bytes / 128 : 0),
            U(sb ? (int64_t)c->groups * c->nvco * (c->bias_px ? c->wo : 1) : 0));
    flt(f, bk_gemm_scale(l, 1));
    fputs(", ", f);
    flt(f, bk_gemm_scale(l, 2));
    fputs("}, .am = 0,\n};\n", f);
}

static void region(Gen *G, const char *name, const char *suffix, long long flops, const char *call) {
    FILE *f = G->f;
    fputs("    m7_region_begin(", f);
    char buf[1200];
    snprintf(buf, sizeof buf, "%s%s", name, suffix);
    cstr(f, buf);
    fprintf(f, ", %lluu);\n    %s;\n    m7_barrier();\n    m7_region_end();\n", U(flops), call);
}

/* ---- training layers (backend/map_train.c, kernels_train.c) ---- */

/* A strided conv's dX: dY spread into the conv's input buffer first. */
static void emit_upsample(Gen *G, const char *id, const IrLayer *l, const BkSched *s) {
    const BkConv *c = &s->u.conv;
    const BkAct *y = &s->pre.nchw, *u = &s->pre.blk;
    fprintf(G->f, "static const M7kUpsample %s_pre = {\n    .planes = %d, .ho = %d, .wo = %d, .hu = %d, .wu = %d, "
                  ".sh = %d, .sw = %d,\n    .in = %lluu, .out = %lluu, .zero = %lluu,\n};\n",
            id, y->n * ((y->c + 31) / 32), y->h, y->w, u->h, u->w, l->a.conv.stride[0], l->a.conv.stride[1],
            U(y->ddr), U(u->ddr), U(BK_BLOB_ZERO));
    (void)c;
}

static void emit_train(Gen *G, const char *id, const IrLayer *l, const BkSched *s) {
    FILE *f = G->f;
    const BkTrain *t = &s->u.train;
    const IrGraph *g = G->g;
    uint64_t out2 = l->n_out > 1 && l->out[1] >= 0 ? (uint64_t)g->t[l->out[1]].ddr_offset : 0;
    fprintf(f, "static const M7kTrain %s_plan = {\n    .op = %d, .a = %lluu, .b = %lluu, .out = %lluu, .out2 = %lluu, "
               ".zero = %lluu, .iota = %lluu,\n",
            id, t->op, U(s->in[t->swap ? 1 : 0].ddr),
            U(t->swap ? s->in[0].ddr : s->n_in > 1 ? s->in[1].ddr : t->op == M7K_TR_EW ? t->w_off : 0),
            U(s->out.ddr), U(out2), U(BK_BLOB_ZERO), U(BK_BLOB_IOTA));
    switch (t->op) {
    case M7K_TR_LOSS: {
        double numel = (double)t->n * t->k;
        fprintf(f, "    .loss_ce = %d, .n = %d, .k = %d, .kb = %d, .scale = ", t->loss_ce, t->n, t->k, t->kb);
        flt(f, (float)(1.0 / (t->loss_ce ? t->n : numel)));
        fputs(", .dscale = ", f);
        flt(f, (float)(t->loss_ce ? 1.0 / t->n : 2.0 / numel));
        fputs(",\n", f);
        break;
    }
    case M7K_TR_EW:
        fprintf(f, "    .ew_op = %d, .act = ", t->ew_op);
        act(f, &l->act, l->op);
        fputs(", .neg_lr = ", f);
        flt(f, -t->lr);
        fprintf(f, ", .nbytes = %lluu, .chunk = %lluu,\n", U(t->nbytes), U(t->chunk_bytes));
        break;
    case M7K_TR_POOL:
        fprintf(f, "    .n = %d, .ncb = %d, .h = %d, .w = %d, .ho = %d, .wo = %d, .kh = %d, .kw = %d, .sh = %d, "
                   ".sw = %d,\n    .pt = %d, .pl = %d, .is_max = %d, .span_h = %d, .inv_div = ",
                s->out.n, t->ncb, t->h, t->w, t->ho, t->wo, t->kh, t->kw, t->sh, t->sw, t->pt, t->pl, t->is_max,
                t->span_h);
        flt(f, t->inv_div);
        fputs(", .act = ", f); /* a fused act_grad: its slope */
        act_fields(f, t->act, t->alpha, t->lo, t->hi);
        fputs(",\n", f);
        break;
    case M7K_TR_GW:
        fprintf(f, "    .n = %d, .h = %d, .w = %d, .ho = %d, .wo = %d, .kh = %d, .kw = %d, .sh = %d, .sw = %d, "
                   ".pt = %d, .pl = %d,\n", t->n, t->h, t->w, t->ho, t->wo, t->kh, t->kw, t->sh, t->sw, t->pt, t->pl);
        fprintf(f, "    .cin = %d, .cout = %d, .cig = %d, .cog = %d, .dh = %d, .dw = %d, .vco = %d, .ci_chunk = %d, "
                   ".th = %d, .tw = %d, .vb = %d, .pp = %d,\n    .rows_in = %d, .cols_in = %d, .has_bias = %d, "
                   ".fc_hw = %d, .swap = %d,\n",
                t->cin, t->cout, t->cig, t->cog, t->dh, t->dw, t->vco, t->ci_chunk, t->th, t->tw, t->vb, t->pp,
                t->rows_in, t->cols_in, t->has_bias, t->fc_hw, t->swap);
        fprintf(f, "    .x_sn = %lluu, .x_sblk = %lluu, .x_sh = %lluu, .x_sw = %lluu, .dy_sn = %lluu, .dy_sblk = %lluu, "
                   ".dy_sh = %lluu, .dy_sw = %lluu,\n", U(t->x_sn), U(t->x_sblk), U(t->x_sh), U(t->x_sw),
                U(t->dy_sn), U(t->dy_sblk), U(t->dy_sh), U(t->dy_sw));
        fprintf(f, "    .am_a = {%lluu, %lluu}, .am_b = {%lluu, %lluu}, .am_c = %lluu, .sm_x = {%lluu, %lluu},\n",
                U(t->am_a[0]), U(t->am_a[1]), U(t->am_b[0]), U(t->am_b[1]), U(t->am_c), U(t->sm_x[0]), U(t->sm_x[1]));
        break;
    }
    fputs("};\n", f);
}

static const char *kind_fn[] = {
    [BK_KIND_CONV] = "m7k_conv",       [BK_KIND_DW] = "m7k_dw",           [BK_KIND_POOL] = "m7k_pool",
    [BK_KIND_GPOOL] = "m7k_gpool",     [BK_KIND_EW] = "m7k_ew",           [BK_KIND_SOFTMAX] = "m7k_softmax",
    [BK_KIND_LRN] = "m7k_lrn",         [BK_KIND_PAD] = "m7k_pad",
    [BK_KIND_MOVES] = "m7k_moves",     [BK_KIND_TO_NCHW] = "m7k_moves", [BK_KIND_COPY] = "m7k_copy",
    [BK_KIND_ALIAS] = "",              [BK_KIND_FUSED] = "",             [BK_KIND_TRAIN] = "m7k_train"};

static void emit_layer(Gen *G, int li, char *fnname, size_t fnlen) {
    const IrLayer *l = &G->g->l[li];
    const BkSched *s = l->sched;
    FILE *f = G->f;
    char id[96];
    char nm[64];
    ident(nm, sizeof nm, l->name);
    snprintf(id, sizeof id, "L%d_%s", li, nm);
    snprintf(fnname, fnlen, "%s", id);
    fputs("\n/* ", f);
    comment_text(f, l->name);
    fprintf(f, " (ONNX %s): ", l->onnx_op);
    if (s->kind == BK_KIND_CONV) {
        const BkConv *c = &s->u.conv;
        fprintf(f, "%d -> %d channels, %dx%d kernel, %dx%d -> %dx%d, batch %d.\n", c->cin, s->out.c,
                c->kh, c->kw, c->h, c->w, c->ho, c->wo, s->in[0].n);
        fprintf(f, " * Register block %d output vectors x %d pixels; weight chunk %d vectors x %d "
                   "channels;\n * output tile %d x %d; split over %s; %s.\n",
                c->vco, c->px, c->co_chunk, c->ci_chunk, c->th, c->tw,
                c->row_parts == s->cores ? (c->no_share ? "rows (weights read by each core)" : "rows (weights broadcast)")
                : c->row_parts == 1      ? "output channels"
                                         : "rows and output channels",
                c->resident ? "partial sums resident in AM"
                : c->single_buf ? "one slot per stream (no double buffering)" : "output tiles double-buffered");
        if (c->pool_k > 1)
            fprintf(f, " * Then %dx%d %s pooling of each tile in AM (the pooling layer after it).\n", c->pool_k,
                    c->pool_k, c->pool_max ? "max" : "average");
    } else {
        fprintf(f, "%s.\n", s->kind == BK_KIND_ALIAS   ? "no code, the data stays in place"
                           : s->kind == BK_KIND_FUSED ? "done by the conv before it, in AM"
                                                      : "channels in lanes");
    }
    fprintf(f, " * AM %lld B, SM %lld B per core; predicted %.0f cycles, %.1f%% efficiency. */\n",
            (long long)s->am_bytes, (long long)s->sm_bytes, s->cyc_pred, 100 * s->eff_pred);
    switch (s->kind) {
    case BK_KIND_CONV: emit_conv(G, id, l, s); break;
    case BK_KIND_DW: emit_dw(G, id, l, s); break;
    case BK_KIND_POOL: emit_pool(G, id, s); break;
    case BK_KIND_GPOOL: emit_gpool(G, id, s); break;
    case BK_KIND_EW: emit_ew(G, id, l, s); break;
    case BK_KIND_SOFTMAX:
    case BK_KIND_LRN: emit_softmax(G, id, s); break;
    case BK_KIND_PAD: emit_pad(G, id, s); break;
    case BK_KIND_MOVES: emit_moves(G, id, "plan", s, &s->mv); break;
    case BK_KIND_TO_NCHW: {
        BkConvert cv = {1, 0, 0, s->in[0], s->in[0]};
        cv.nchw.ddr = s->out.ddr;
        emit_convert(G, id, "plan", s, &cv);
        break;
    }
    case BK_KIND_COPY:
        fprintf(f, "static const M7kCopy %s_plan = {.in = %lluu, .out = %lluu, .bytes = %lluu};\n", id,
                U(s->in[0].ddr), U(s->out.ddr), U(bk_act_bytes(&s->in[0])));
        break;
    case BK_KIND_TRAIN: emit_train(G, id, l, s); break;
    case BK_KIND_ALIAS:
    case BK_KIND_FUSED: break;
    }
    int rt = bk_has_rt_pack(G->g, l);
    if (rt)
        emit_pack(G, id, l, s);
    if (s->pre.present && s->pre.to_blocked == 2) {
        emit_upsample(G, id, l, s);
    } else if (s->pre.present && s->pre.to_blocked == 3) { /* blocked input -> an NCHW copy */
        BkConvert cv = s->pre;
        cv.to_blocked = 0, cv.nchw = s->pre.blk, cv.blk = s->pre.nchw;
        emit_convert(G, id, "pre", s, &cv);
    } else if (s->pre.present) {
        emit_convert(G, id, "pre", s, &s->pre);
    }
    if (s->post.present)
        emit_convert(G, id, "post", s, &s->post);
    for (int k = 0; k < 2; k++)
        if (s->expand[k].present)
            emit_moves(G, id, k ? "expand1" : "expand0", s, &s->expand[k].mv);
    fprintf(f, "static void %s(void) {\n", id);
    char call[400];
    if (rt) { /* before the layer: its kernel reads the packed copy as blob weights */
        if (s->kind != BK_KIND_EW && rt_scaled(G->g, l))
            snprintf(call, sizeof call, "m7k_pack_dma(&%s_pack);\n    m7_barrier();\n    m7k_pack_scale(&%s_scale)",
                     id, id);
        else
            snprintf(call, sizeof call, "%s(&%s_pack)", s->kind == BK_KIND_EW ? "m7k_pack_bn" : "m7k_pack_dma", id);
        region(G, l->name, ":pack_weights", 0, call);
    }
    if (s->pre.present) {
        snprintf(call, sizeof call, "%s(&%s_pre)", s->pre.to_blocked == 2 ? "m7k_tr_upsample" : "m7k_moves", id);
        region(G, l->name, s->pre.to_blocked == 2 ? ":upsample" : s->pre.to_blocked == 3 ? ":to_nchw" : ":to_blocked", 0,
               call);
    }
    for (int k = 0; k < 2; k++)
        if (s->expand[k].present) {
            snprintf(call, sizeof call, "m7k_moves(&%s_expand%d)", id, k);
            region(G, l->name, s->kind != BK_KIND_EW ? ":to_nchw_in" : k ? ":broadcast_in1" : ":broadcast_in0", 0, call);
        }
    if (s->kind != BK_KIND_ALIAS && s->kind != BK_KIND_FUSED) {
        const char *fn = kind_fn[s->kind];
        if (s->kind == BK_KIND_SOFTMAX && s->u.softmax.by_rows)
            fn = "m7k_softmax_rows";
        if (s->kind == BK_KIND_SOFTMAX && s->u.softmax.by_axis)
            fn = "m7k_softmax_axis";
        snprintf(call, sizeof call, "%s(&%s_plan)", fn, id);
        region(G, l->name, "", (long long)s->flops, call);
    }
    if (s->post.present) {
        snprintf(call, sizeof call, "m7k_moves(&%s_post)", id);
        region(G, l->name, ":to_nchw", 0, call);
    }
    fputs("}\n", f);
}

static void emit_io(Gen *G, const char *what, const int *idx, int n) {
    FILE *f = G->f;
    fprintf(f, "static const m7_io m7_%s[%d] = {\n", what, n > 0 ? n : 1);
    for (int i = 0; i < n; i++) {
        const IrTensor *t = &G->g->t[idx[i]];
        fputs("    {", f);
        cstr(f, t->name);
        fprintf(f, ", %d, {", t->rank);
        for (int k = 0; k < t->rank; k++)
            fprintf(f, "%s%lld", k ? ", " : "", (long long)t->dims[k]);
        fprintf(f, "}, %lluu},\n", U(t->ddr_offset));
    }
    if (n == 0)
        fputs("    {0},\n", f);
    fputs("};\n", f);
}

static int emit_c(Gen *G, const char *h_name, const char *weights_name) {
    FILE *f = G->f;
    const IrGraph *g = G->g;
    fputs("/* Generated by m7cc for the M7004 from model ", f);
    comment_text(f, g->name);
    fputs(".\n * The kernel library (target/kernels.c) comes first, then one plan and one\n"
          " * kernel function per layer, then the program descriptor. */\n", f);
    fprintf(f, "#include <math.h>\n#include \"%s\"\n\n", h_name);
    fputs(codegen_kernels_src, f);
    int n = 0;
    char(*fns)[96] = ir_xcalloc((size_t)g->n_l + 1, sizeof *fns);
    for (int li = 0; li < g->n_l; li++) {
        if (g->l[li].dead || !g->l[li].sched)
            continue;
        emit_layer(G, li, fns[n], sizeof fns[n]);
        n++;
    }
    fputs("\n/* Every core runs the layers in order; barriers separate them. */\n"
          "static void m7_program_kernel(void) {\n", f);
    for (int i = 0; i < n; i++)
        fprintf(f, "    %s();\n", fns[i]);
    fputs("}\n\n", f);
    free(fns);
    emit_io(G, "inputs", g->inputs, g->n_inputs);
    emit_io(G, "outputs", g->outputs, g->n_outputs);
    char mach[1024];
    m7_machine_format(G->m, mach, sizeof mach);
    fputs("\nconst m7_program m7_main_program = {\n    .name = ", f);
    cstr(f, g->name);
    fputs(",\n    .machine = ", f);
    cstr(f, mach);
    fputs(",\n    .weights_file = ", f);
    cstr(f, weights_name);
    fprintf(f, ",\n    .weights_ddr_offset = 0,\n    .weights_bytes = %lluu,\n    .ddr_bytes = %lluu,\n",
            U(G->prog.weights_bytes), U(G->prog.ddr_bytes));
    fprintf(f, "    .n_inputs = %d, .n_outputs = %d,\n    .inputs = m7_inputs, .outputs = m7_outputs,\n"
               "    .kernel = m7_program_kernel,\n};\n", g->n_inputs, g->n_outputs);
    return 0;
}

static void emit_h(Gen *G, const char *guard) {
    FILE *f = G->f;
    const IrGraph *g = G->g;
    int64_t am = 0, sm = 0, gsm = 0;
    for (int li = 0; li < g->n_l; li++) {
        const BkSched *s = g->l[li].dead ? NULL : g->l[li].sched;
        if (!s)
            continue;
        am = s->am_bytes > am ? s->am_bytes : am;
        sm = s->sm_bytes > sm ? s->sm_bytes : sm;
        gsm = s->gsm_bytes > gsm ? s->gsm_bytes : gsm;
    }
    fprintf(f, "/* Generated by m7cc: sizes and shapes of the program in the .c file. */\n");
    fprintf(f, "#ifndef %s\n#define %s\n\n#include \"m7rt.h\"\n\n", guard, guard);
    fprintf(f, "#define M7_PROGRAM_WEIGHTS_BYTES %lluu\n", U(G->prog.weights_bytes));
    fprintf(f, "#define M7_PROGRAM_DDR_BYTES %lluu\n", U(G->prog.ddr_bytes));
    fprintf(f, "#define M7_PROGRAM_ACT_PEAK_BYTES %lluu /* activation arena, buffers reused */\n",
            U(G->prog.act_peak));
    fprintf(f, "#define M7_PROGRAM_GSM_BYTES %lluu\n#define M7_PROGRAM_AM_BYTES %lluu /* per core */\n"
               "#define M7_PROGRAM_SM_BYTES %lluu /* per core */\n", U(gsm), U(am), U(sm));
    fprintf(f, "#define M7_PROGRAM_N_INPUTS %d\n#define M7_PROGRAM_N_OUTPUTS %d\n", g->n_inputs,
            g->n_outputs);
    for (int io = 0; io < 2; io++) {
        const int *idx = io ? g->outputs : g->inputs;
        int n = io ? g->n_outputs : g->n_inputs;
        for (int i = 0; i < n; i++) {
            const IrTensor *t = &g->t[idx[i]];
            fprintf(f, "/* %s %d: ", io ? "output" : "input", i);
            comment_text(f, t->name);
            fprintf(f, " */\n#define M7_PROGRAM_%s%d_RANK %d\n#define M7_PROGRAM_%s%d_DIMS {",
                    io ? "OUTPUT" : "INPUT", i, t->rank, io ? "OUTPUT" : "INPUT", i);
            for (int k = 0; k < t->rank; k++)
                fprintf(f, "%s%lld", k ? ", " : "", (long long)t->dims[k]);
            fprintf(f, "}\n#define M7_PROGRAM_%s%d_DDR_OFFSET %lluu\n", io ? "OUTPUT" : "INPUT", i,
                    U(t->ddr_offset));
        }
    }
    fputs("\n/* The entry point: the harness runs m7_main_program.kernel on every core. */\n"
          "extern const m7_program m7_main_program;\n\n#endif\n", f);
}

static const char *base_name(const char *path) {
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

static char *tmp_name(const char *path) {
    size_t n = strlen(path) + 16;
    char *t = ir_xmalloc(n);
    snprintf(t, n, "%s.tmp%d", path, (int)getpid());
    return t;
}

/* Opens a temporary beside path; NULL with a message. */
static FILE *open_tmp(const char *path, char **tmp, IrDiag *d) {
    *tmp = tmp_name(path);
    FILE *f = fopen(*tmp, "wb");
    if (!f)
        ir_diag_add(d, "codegen: cannot write '%s': %s", *tmp, strerror(errno));
    return f;
}

static int close_ok(FILE *f, const char *tmp, IrDiag *d) {
    int bad = ferror(f);
    if (fclose(f) || bad) {
        ir_diag_add(d, "codegen: error writing '%s'", tmp);
        return -1;
    }
    return 0;
}

int codegen_emit(const IrGraph *g, const M7Machine *m, const char *c_path, const char *h_path,
                 const char *weights_path, IrDiag *d) {
    Gen G = {g, m, NULL, {0}};
    for (int li = 0; li < g->n_l; li++)
        if (!g->l[li].dead && !g->l[li].sched) {
            ir_diag_add(d, "codegen: layer '%s' has no backend decisions (run backend_run first)",
                        g->l[li].name);
            return -1;
        }
    bk_program(g, &G.prog);
    const char *paths[3] = {c_path, h_path, weights_path};
    char *tmps[3] = {NULL, NULL, NULL};
    int rc = 0;
    /* the header */
    if ((G.f = open_tmp(h_path, &tmps[1], d))) {
        char guard[128];
        ident(guard, sizeof guard, base_name(h_path));
        for (char *p = guard; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
        emit_h(&G, guard);
        rc |= close_ok(G.f, tmps[1], d);
    } else {
        rc = -1;
    }
    /* the program */
    if (!rc && (G.f = open_tmp(c_path, &tmps[0], d))) {
        emit_c(&G, base_name(h_path), base_name(weights_path));
        rc |= close_ok(G.f, tmps[0], d);
    } else {
        rc = -1;
    }
    /* the weights blob */
    if (!rc && (G.f = open_tmp(weights_path, &tmps[2], d))) {
        size_t nf = (size_t)(G.prog.weights_bytes / 4);
        float *blob = ir_xcalloc(nf ? nf : 1, sizeof(float));
        bk_pack_weights(g, blob);
        if (fwrite(blob, sizeof(float), nf, G.f) != nf)
            rc = -1;
        free(blob);
        rc |= close_ok(G.f, tmps[2], d);
    } else {
        rc = -1;
    }
    for (int i = 0; i < 3; i++) {
        if (!tmps[i])
            continue;
        if (!rc && rename(tmps[i], paths[i])) {
            ir_diag_add(d, "codegen: cannot rename '%s' to '%s': %s", tmps[i], paths[i], strerror(errno));
            rc = -1;
        }
        if (rc)
            remove(tmps[i]);
        free(tmps[i]);
    }
    return rc ? -1 : 0;
}
