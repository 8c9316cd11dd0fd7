/* mk_print.c: prints a layer's micro-kernels (a conv's, or a weight
 * gradient's): per block shape the layer's kernel calls, one function of
 * straight-line runtime calls in the order of the backend's modulo schedule
 * (backend/mk_sched.c), as a prologue, a kernel loop and an epilogue; then
 * a dispatcher that the plan's `mk` names.  The order printed is the order
 * the machine issues, and the order the cost model priced; nothing here
 * chooses it. */
#include "codegen/mk_print.h"

#include <stdint.h>

typedef struct {
    FILE *f;
    const BkMkLoop *L;
    int kk;
    const char *ch0, *per; /* the loop's first channel (dW: pixel) and channels a step (C expressions) */
} Loop;

/* The ops of one pass: those for which step(o) >= 0; the step of stage s
 * is printed by step_expr. */
typedef enum { PASS_PROLOGUE, PASS_KERNEL, PASS_EPILOGUE } PassKind;

static void step_expr(char *b, size_t n, PassKind k, int s, int pe, int stages) {
    if (k == PASS_PROLOGUE)
        snprintf(b, n, "%d", pe - s);
    else if (k == PASS_KERNEL)
        snprintf(b, n, "k + %d", stages - 1 - s);
    else
        snprintf(b, n, "n + %d", pe - s);
}

static int op_runs(const BkMkOp *o, PassKind k, int pe) {
    if (k == PASS_PROLOGUE)
        return bk_mk_prologue_step(o, pe) >= 0;
    if (k == PASS_EPILOGUE)
        return o->stage > pe;
    return 1;
}

/* dW: the ops of one pixel-step of vb dY vectors x pb channel pairs. */
static void print_gw_op(const Loop *lp, const BkMkOp *o, const char *ind) {
    FILE *f = lp->f;
    const BkMkLoop *L = lp->L;
    switch (o->kind) {
    case BK_MK_VLD:
        fprintf(f, "%sw0_%d_%d = m7_vld(da%d_%d + %d * c->dj);\n", ind, o->j, o->q, o->stage,
                bk_gw_group_pixel(L, o->q), o->j);
        break;
    case BK_MK_SLD:
        fprintf(f, "%sm7_sld2(xa%d_%d + %du, &s0_%d, &s1_%d);\n", ind, o->stage, bk_gw_pixel(L, o->q),
                o->q % L->pb * 8, o->q, o->q);
        break;
    case BK_MK_BCAST: fprintf(f, "%sx%d_%d = m7_vbcast(s%d_%d);\n", ind, o->h, o->q, o->h, o->q); break;
    default: {
        int col = bk_mk_col(L, o->h, o->q);
        fprintf(f, "%sa%d_%d = m7_vfma(w0_%d_%d, x%d_%d, a%d_%d);\n", ind, o->j, col, o->j, bk_mk_wgroup(L, o->q),
                o->h, o->q, o->j, col);
        break;
    }
    }
}

static void print_op(const Loop *lp, const BkMkOp *o, const char *ind) {
    FILE *f = lp->f;
    if (lp->L->gw) {
        print_gw_op(lp, o, ind);
        return;
    }
    switch (o->kind) {
    case BK_MK_VLD:
        fprintf(f, "%sw%d_%d_%d = m7_vld(wa%d + %d * c->wj + %du);\n", ind, o->h, o->j, o->q, o->stage, o->j,
                o->h * lp->kk * 128);
        break;
    case BK_MK_SLD:
        if (lp->L->two)
            fprintf(f, "%sm7_sld2(xa%d + %d * c->px_step, &s0_%d, &s1_%d);\n", ind, o->stage, o->q, o->q, o->q);
        else
            fprintf(f, "%ss0_%d = m7_sld(xa%d + %d * c->px_step);\n", ind, o->q, o->stage, o->q);
        break;
    case BK_MK_BCAST:
        fprintf(f, "%sx%d_%d = m7_vbcast(s%d_%d);\n", ind, o->h, o->q, o->h, o->q);
        break;
    default:
        fprintf(f, "%sa%d_%d = m7_vfma(w%d_%d_%d, x%d_%d, a%d_%d);\n", ind, o->j, o->q, o->h, o->j,
                bk_mk_wgroup(lp->L, o->q), o->h, o->q, o->j, o->q);
        break;
    }
}

/* The pixel of the step (dW; 0 for a conv) whose addresses a load uses. */
static int load_pixel(const BkMkLoop *L, const BkMkOp *o) {
    if (!L->gw)
        return 0;
    return o->kind == BK_MK_VLD ? bk_gw_group_pixel(L, o->q) : bk_gw_pixel(L, o->q);
}

/* Whether an op of stage s loads with the addresses of pixel p. */
static int stage_loads(const BkMkLoop *L, int s, int p) {
    for (int i = 0; i < L->n; i++)
        if (L->op[i].stage == s && L->op[i].kind >= BK_MK_SLD && load_pixel(L, &L->op[i]) == p)
            return 1;
    return 0;
}

/* One pass: the addresses of each stage (and dW pixel) that loads, then
 * the ops. */
static void print_pass(const Loop *lp, PassKind k, int pe, const char *ind) {
    const BkMkLoop *L = lp->L;
    FILE *f = lp->f;
    for (int s = 0; s < L->stages; s++)
        for (int px = 0; px < L->px; px++) {
            int loads = 0;
            for (int i = 0; i < L->n; i++)
                if (L->op[i].stage == s && L->op[i].kind >= BK_MK_SLD && load_pixel(L, &L->op[i]) == px &&
                    op_runs(&L->op[i], k, pe))
                    loads = 1;
            if (!loads)
                continue;
            char st[48];
            step_expr(st, sizeof st, k, s, pe, L->stages);
            if (!L->gw)
                fprintf(f, "%sm7k_mk_at(c, %s, %s, %s, &xa%d, &wa%d);\n", ind, lp->ch0, lp->per, st, s, s);
            else if (L->px == 1)
                fprintf(f, "%sm7k_gw_at(c, %s + %s, &xa%d_0, &da%d_0);\n", ind, lp->ch0, st, s, s);
            else
                fprintf(f, "%sm7k_gw_at(c, %s * (%s) + %d, &xa%d_%d, &da%d_%d);\n", ind, lp->per, st, px, s, px, s,
                        px);
        }
    int slot = -1;
    for (int i = 0; i < L->n; i++) {
        const BkMkOp *o = &L->op[i];
        if (!op_runs(o, k, pe))
            continue;
        if (k == PASS_KERNEL && o->slot != slot)
            fprintf(f, "%s/* cycle %d */\n", ind, o->slot);
        slot = o->slot;
        int step = bk_mk_prologue_step(o, pe);
        if (k == PASS_PROLOGUE && step >= 1) { /* a step the loop may not have */
            char g[32];
            snprintf(g, sizeof g, "%sif (n > %d) ", ind, step);
            print_op(lp, o, g);
        } else {
            print_op(lp, o, ind);
        }
    }
}

/* The loop over n steps (n a C expression, >= 1), after `head`. */
static void print_loop(const Loop *lp, const char *head, const char *n) {
    const BkMkLoop *L = lp->L;
    FILE *f = lp->f;
    int S = L->stages;
    fprintf(f, "    %s{\n        const int n = %s;\n", head, n);
    for (int p = 0; p < S - 1; p++) {
        fprintf(f, "        /* prologue %d */\n", p + 1);
        print_pass(lp, PASS_PROLOGUE, p, "        ");
    }
    fprintf(f, "        for (int k = 0; k <= n - %d; k++) { /* kernel: a step every %d cycles */\n", S, L->ii);
    print_pass(lp, PASS_KERNEL, 0, "            ");
    fputs("        }\n", f);
    for (int e = 0; e < S - 1; e++) {
        fprintf(f, "        if (n >= %d) { /* epilogue %d */\n", S - 1 - e, e + 1);
        print_pass(lp, PASS_EPILOGUE, e, "            ");
        fputs("        }\n", f);
    }
    fputs("    }\n", f);
}

static void declare(FILE *f, const char *type, const char *fmt, int na, int nb) {
    fprintf(f, "    %s", type);
    for (int a = 0; a < na; a++)
        for (int b = 0; b < nb; b++) {
            fprintf(f, a + b ? ", " : " ");
            fprintf(f, fmt, a, b);
        }
    fputs(";\n", f);
}

static void print_shape(FILE *f, const char *id, const BkConv *c, const M7kConv *p, const M7Machine *m, int vb,
                        int pb) {
    const BkMkLoop *L = bk_mk_loop(m, vb, pb, c->pairs), *L1 = bk_mk_loop(m, vb, pb, 0);
    int kk = c->kh * c->kw, H = 1 + L->two, tail = L->two && c->cin % 2;
    fprintf(f, "\n/* %d output vectors x %d pixels; a step is one of %d taps of %s:\n"
               " * %d FMAs, %d weight loads, %d scalar loads, %d broadcasts.  Modulo-scheduled:\n"
                " * a step every %d cycles, %d stage%s; %d vector registers%s. */\n",
            vb, pb, kk, L->two ? "a channel pair" : "a channel", H * vb * pb, H * vb * L->wg, pb, H * pb, L->ii,
            L->stages, L->stages > 1 ? "s" : "", L->vregs,
            L->wg > 1 ? " (each weight loaded once per pixel group)" : "");
    fprintf(f, "static void %s_mk%dx%d(const M7kMkCall *c) {\n", id, vb, pb);
    declare(f, "m7_vec", "a%d_%d", vb, pb);
    fputs("    m7_vec", f);
    for (int h = 0, k = 0; h < H; h++)
        for (int j = 0; j < vb; j++)
            for (int g = 0; g < (h == 0 && tail && L1->wg > L->wg ? L1->wg : L->wg); g++)
                fprintf(f, "%s w%d_%d_%d", k++ ? "," : "", h, j, g);
    fputs(";\n", f);
    declare(f, "m7_vec", "x%d_%d", H, pb);
    declare(f, "m7_scalar", "s%d_%d", H, pb);
    fputs("    m7_addr", f); /* a step's addresses, per stage that loads */
    for (int s = 0, k = 0; s < (tail && L1->stages > L->stages ? L1->stages : L->stages); s++)
        if (stage_loads(L, s, 0) || (tail && stage_loads(L1, s, 0)))
            fprintf(f, "%s xa%d, wa%d", k++ ? "," : "", s, s);
    fputs(";\n", f);
    if (p->bias) { /* the bias (a pixel's own for FC), or the partial sums so far */
        fputs("    m7_addr src = c->first ? c->bias : c->o0;\n"
              "    uint64_t sj = c->first ? 128 : c->ovj, sq = c->first ? c->bias_q : 128;\n", f);
        for (int j = 0; j < vb; j++)
            for (int q = 0; q < pb; q++)
                fprintf(f, "    a%d_%d = m7_vld(src + %d * sj + %d * sq);\n", j, q, j, q);
    } else {
        fputs("    if (c->first) {\n        m7_vec z = m7_vzero();\n", f);
        for (int j = 0; j < vb; j++)
            for (int q = 0; q < pb; q++)
                fprintf(f, "        a%d_%d = z;\n", j, q);
        fputs("    } else {\n", f);
        for (int j = 0; j < vb; j++)
            for (int q = 0; q < pb; q++)
                fprintf(f, "        a%d_%d = m7_vld(c->o0 + %d * c->ovj + %du);\n", j, q, j, q * 128);
        fputs("    }\n", f);
    }
    char n[64];
    Loop lp = {f, L, kk, "0", L->two ? "2" : "1"};
    snprintf(n, sizeof n, L->two ? "c->nci / 2 * %d" : "c->nci * %d", kk);
    print_loop(&lp, L->two ? "if (c->nci >= 2) " : "", n);
    if (tail) {
        Loop lt = {f, L1, kk, "c->nci - 1", "1"};
        snprintf(n, sizeof n, "%d", kk);
        fprintf(f, "    /* an odd channel count: the last channel alone, a step every %d cycles */\n", L1->ii);
        print_loop(&lt, "if (c->nci & 1) ", n);
    }
    if (p->act.act == M7K_ACT_NONE) {
        for (int j = 0; j < vb; j++)
            for (int q = 0; q < pb; q++)
                fprintf(f, "    m7_vst(c->o0 + %d * c->ovj + %du, a%d_%d);\n", j, q * 128, j, q);
    } else {
        int relu = p->act.act == M7K_ACT_RELU;
        fprintf(f, "    if (c->last) {\n%s", relu ? "        m7_vec z = m7_vzero();\n" : "");
        for (int j = 0; j < vb; j++)
            for (int q = 0; q < pb; q++) {
                fprintf(f, "        m7_vst(c->o0 + %d * c->ovj + %du, ", j, q * 128);
                if (relu)
                    fprintf(f, "m7_vmax(a%d_%d, z));\n", j, q);
                else
                    fprintf(f, "m7k_act(&%s_plan.act, a%d_%d));\n", id, j, q);
            }
        fputs("    } else {\n", f);
        for (int j = 0; j < vb; j++)
            for (int q = 0; q < pb; q++)
                fprintf(f, "        m7_vst(c->o0 + %d * c->ovj + %du, a%d_%d);\n", j, q * 128, j, q);
        fputs("    }\n", f);
    }
    fputs("}\n", f);
}

/* The dispatcher ID_KIND(int vb, int N, const CALL *c) over the shapes
 * (shapes[vb] has bit N set) whose functions ID_KIND<vb>x<N> were printed. */
static void print_dispatch(FILE *f, const char *id, const char *kind, const char *n, const char *call,
                           const char *who, const uint32_t shapes[M7K_MAXV + 1]) {
    fprintf(f, "\n/* The block shapes %s. */\nstatic void %s_%s(int vb, int %s, const %s *c) {\n"
               "    switch (vb * 16 + %s) {\n", who, id, kind, n, call, n);
    for (int vb = 1; vb <= M7K_MAXV; vb++)
        for (int k = 1; k <= M7K_MAXP; k++)
            if (shapes[vb] >> k & 1)
                fprintf(f, "    case %d: %s_%s%dx%d(c); break;\n", vb * 16 + k, id, kind, vb, k);
    fputs("    }\n}\n", f);
}

void cg_print_conv_mk_decl(FILE *f, const char *id) {
    fprintf(f, "static void %s_mk(int vb, int pb, const M7kMkCall *c);\n", id);
}

void cg_print_conv_mk(FILE *f, const char *id, const BkConv *c, const M7kConv *p, const M7Machine *m, int cores) {
    uint32_t shapes[M7K_MAXV + 1];
    bk_conv_mk_shapes(c, cores, shapes);
    for (int vb = 1; vb <= M7K_MAXV; vb++)
        for (int pb = 1; pb <= M7K_MAXP; pb++)
            if (shapes[vb] >> pb & 1)
                print_shape(f, id, c, p, m, vb, pb);
    print_dispatch(f, id, "mk", "pb", "M7kMkCall", "the driver calls (backend: bk_conv_mk_shapes)", shapes);
}

/* ---- weight gradients (target/kernels_train.c, m7k_gw_block) ---- */

static void print_gw_shape(FILE *f, const char *id, const M7Machine *m, int vb, int pp) {
    const BkMkLoop *L = bk_gw_loop(m, vb, pp, 2), *L1 = bk_gw_loop(m, vb, pp, 1);
    int cols = 2 * pp, nq = bk_mk_nq(L);
    fprintf(f, "\n/* dW of %d dY vectors x %d channels (%d channel pairs at one tap); a step is\n"
               " * two pixels: %d FMAs, %d dY loads, %d SLDDWs, %d broadcasts.  Modulo-scheduled:\n"
               " * a step every %d cycles, %d stage%s; %d vector registers.  An odd last pixel\n"
               " * alone: a step every %d cycles. */\n",
            vb, cols, pp, 2 * vb * nq, vb * L->wg, nq, 2 * nq, L->ii, L->stages, L->stages > 1 ? "s" : "", L->vregs,
            L1->ii);
    fprintf(f, "static void %s_gw%dx%d(const M7kGwCall *c) {\n", id, vb, pp);
    declare(f, "m7_vec", "a%d_%d", vb, cols);
    declare(f, "m7_vec", "w0_%d_%d", vb, L->wg > L1->wg ? L->wg : L1->wg);
    declare(f, "m7_vec", "x%d_%d", 2, nq);
    declare(f, "m7_scalar", "s%d_%d", 2, nq);
    fputs("    m7_addr", f); /* the addresses of each stage and pixel that loads */
    for (int s = 0, k = 0; s < (L1->stages > L->stages ? L1->stages : L->stages); s++)
        for (int px = 0; px < 2; px++)
            if (stage_loads(L, s, px) || (px == 0 && stage_loads(L1, s, 0)))
                fprintf(f, "%s xa%d_%d, da%d_%d", k++ ? "," : "", s, px, s, px);
    fputs(";\n", f);
    for (int j = 0; j < vb; j++)
        for (int q = 0; q < cols; q++)
            fprintf(f, "    a%d_%d = m7_vld(c->a0 + %d * c->aj + %d * c->ac);\n", j, q, j, q);
    Loop lp = {f, L, 1, "0", "2"}, lt = {f, L1, 1, "c->npix - 1", "1"};
    print_loop(&lp, "if (c->npix >= 2) ", "c->npix / 2");
    fprintf(f, "    /* an odd pixel count: the last pixel alone */\n");
    print_loop(&lt, "if (c->npix & 1) ", "1");
    for (int j = 0; j < vb; j++)
        for (int q = 0; q < cols; q++)
            fprintf(f, "    m7_vst(c->a0 + %d * c->aj + %d * c->ac, a%d_%d);\n", j, q, j, q);
    fputs("}\n", f);
}

void cg_print_gw_mk_decl(FILE *f, const char *id) {
    fprintf(f, "static void %s_gw(int vb, int pp, const M7kGwCall *c);\n", id);
}

void cg_print_gw_mk(FILE *f, const char *id, const BkTrain *t, const M7Machine *m) {
    uint32_t shapes[M7K_MAXV + 1];
    bk_gw_mk_shapes(t, shapes);
    for (int vb = 1; vb <= M7K_MAXV; vb++)
        for (int pp = 1; pp <= M7K_MAXP; pp++)
            if (shapes[vb] >> pp & 1)
                print_gw_shape(f, id, m, vb, pp);
    print_dispatch(f, id, "gw", "pp", "M7kGwCall", "the kernel calls (backend: bk_gw_mk_shapes)", shapes);
}
