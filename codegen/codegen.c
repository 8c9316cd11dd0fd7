/* codegen.c: writes the generated program.  Every layer becomes a constant
 * plan (a struct of target/m7k.h filled with the backend's decisions) and a
 * kernel function bracketed by region markers and followed by a barrier;
 * layout conversions are regions of their own. */
#include "codegen/codegen.h"
#include "codegen/mk_print.h"
#include "codegen/plan_print.h"

#include <errno.h>
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

#define U(x) ((unsigned long long)(x))

/* "static const TYPE ID_SUFFIX", the declarator of a plan constant. */
static const char *decl(char *buf, size_t n, const char *type, const char *id, const char *suffix) {
    snprintf(buf, n, "static const %s %s_%s", type, id, suffix);
    return buf;
}

static void emit_conv(Gen *G, const char *id, const IrLayer *l, const BkSched *s) {
    M7kConv p;
    char d[160], mk[120];
    bk_plan_conv(l, s, &p);
    snprintf(mk, sizeof mk, "%s_mk", id);
    cg_print_conv_mk_decl(G->f, id);
    pp_conv(G->f, decl(d, sizeof d, "M7kConv", id, "plan"), &p, mk);
    cg_print_conv_mk(G->f, id, &s->u.conv, &p, G->m, s->cores);
}

static void emit_dw(Gen *G, const char *id, const IrLayer *l, const BkSched *s) {
    M7kDw p;
    char d[160];
    bk_plan_dw(l, s, &p);
    pp_dw(G->f, decl(d, sizeof d, "M7kDw", id, "plan"), &p, NULL);
}

static void emit_pool(Gen *G, const char *id, const BkSched *s) {
    FILE *f = G->f;
    float *recip;
    int n = bk_plan_pool_recip(s, &recip);
    fprintf(f, "static const float %s_recip[%d] = {", id, n);
    for (int k = 0; k < n; k++) {
        fputs(k ? ", " : "", f);
        pp_float(f, recip[k]);
    }
    fputs("};\n", f);
    free(recip);
    M7kPool p;
    char d[160], table[120];
    bk_plan_pool(s, &p);
    snprintf(table, sizeof table, "%s_recip", id);
    pp_pool(f, decl(d, sizeof d, "M7kPool", id, "plan"), &p, table);
}

static void emit_gpool(Gen *G, const char *id, const BkSched *s) {
    M7kGPool p;
    char d[160];
    bk_plan_gpool(s, &p);
    pp_gpool(G->f, decl(d, sizeof d, "M7kGPool", id, "plan"), &p, NULL);
}

static void emit_ew(Gen *G, const char *id, const IrLayer *l, const BkSched *s) {
    M7kEw p;
    char d[160];
    bk_plan_ew(l, s, &p);
    pp_ew(G->f, decl(d, sizeof d, "M7kEw", id, "plan"), &p, NULL);
}

/* A move list (backend/moves.c) as an M7kMoves named ID_SUFFIX. */
static void emit_moves(Gen *G, const char *id, const char *suffix, const BkSched *s, const BkMoves *mv) {
    FILE *f = G->f;
    fprintf(f, "static const M7kMove %s_%s_m[%d] = {\n", id, suffix, mv->n > 0 ? mv->n : 1);
    for (int k = 0; k < mv->n; k++) {
        M7kMove m;
        bk_plan_move(s, &mv->m[k], &m);
        fputs("    ", f);
        pp_move(f, &m);
        fputs(",\n", f);
    }
    if (mv->n == 0)
        fputs("    {0},\n", f);
    fputs("};\n", f);
    M7kMoves p = {mv->n, NULL};
    char d[160], table[120];
    snprintf(table, sizeof table, "%s_%s_m", id, suffix);
    pp_moves(f, decl(d, sizeof d, "M7kMoves", id, suffix), &p, table);
}

static void emit_softmax(Gen *G, const char *id, const BkSched *s) {
    char d[160];
    if (s->u.softmax.by_axis) {
        M7kSoftmaxAxis p;
        bk_plan_softmax_axis(s, &p);
        pp_softmax_axis(G->f, decl(d, sizeof d, "M7kSoftmaxAxis", id, "plan"), &p, NULL);
    } else if (s->u.softmax.by_rows) {
        M7kSoftmaxRows p;
        bk_plan_softmax_rows(s, &p);
        pp_softmax_rows(G->f, decl(d, sizeof d, "M7kSoftmaxRows", id, "plan"), &p, NULL);
    } else if (s->kind == BK_KIND_LRN) {
        M7kLrn p;
        bk_plan_lrn(s, &p);
        pp_lrn(G->f, decl(d, sizeof d, "M7kLrn", id, "plan"), &p, NULL);
    } else {
        M7kSoftmax p;
        bk_plan_softmax(s, &p);
        pp_softmax(G->f, decl(d, sizeof d, "M7kSoftmax", id, "plan"), &p, NULL);
    }
}

static void emit_pad(Gen *G, const char *id, const BkSched *s) {
    M7kPad p;
    char d[160];
    bk_plan_pad(s, &p);
    pp_pad(G->f, decl(d, sizeof d, "M7kPad", id, "plan"), &p, NULL);
}

/* The packing step of run-time weights (backend/pack.c): a table of DMAs,
 * or BatchNormalization's parameters folded on the machine. */
static void emit_pack(Gen *G, const char *id, const IrLayer *l, const BkSched *s) {
    FILE *f = G->f;
    const IrGraph *g = G->g;
    char d[160];
    if (s->kind == BK_KIND_EW) {
        M7kPackBn p;
        bk_plan_pack_bn(g, l, s, &p);
        pp_pack_bn(f, decl(d, sizeof d, "M7kPackBn", id, "pack"), &p, NULL);
        return;
    }
    M7kDmaDesc *dma;
    int64_t n = bk_rt_pack_dma(g, l, &dma);
    fprintf(f, "static const M7kDmaDesc %s_dmas[%lld] = {\n", id, (long long)(n > 0 ? n : 1));
    for (int64_t i = 0; i < n; i++) {
        fputs("    ", f);
        pp_dma_desc(f, &dma[i]);
        fputs(",\n", f);
    }
    if (n == 0)
        fputs("    {0},\n", f);
    fputs("};\n", f);
    free(dma);
    M7kPackDma p = {(int)n, NULL};
    char table[120];
    snprintf(table, sizeof table, "%s_dmas", id);
    pp_pack_dma(f, decl(d, sizeof d, "M7kPackDma", id, "pack"), &p, table);
    if (!bk_rt_scaled(g, l))
        return;
    M7kPackScale sc;
    bk_plan_pack_scale(g, l, s, &sc);
    pp_pack_scale(f, decl(d, sizeof d, "M7kPackScale", id, "scale"), &sc, NULL);
}

static void region(Gen *G, const char *name, const char *suffix, long long flops, const char *call) {
    FILE *f = G->f;
    fputs("    m7_region_begin(", f);
    char buf[1200];
    snprintf(buf, sizeof buf, "%s%s", name, suffix);
    cstr(f, buf);
    fprintf(f, ", %lluu);\n    %s;\n    m7_barrier();\n    m7_region_end();\n", U(flops), call);
}

/* ---- training layers (backend/map_train.c, target/kernels_train.c) ---- */

/* A strided conv's dX: dY spread into the conv's input buffer first. */
static void emit_upsample(Gen *G, const char *id, const IrLayer *l, const BkSched *s) {
    M7kUpsample p;
    char d[160];
    bk_plan_upsample(l, s, &p);
    pp_upsample(G->f, decl(d, sizeof d, "M7kUpsample", id, "pre"), &p, NULL);
}

static void emit_train(Gen *G, const char *id, const IrLayer *l, const BkSched *s) {
    M7kTrain p;
    char d[160], mk[120];
    bk_plan_train(G->g, l, s, &p);
    if (p.op != M7K_TR_GW) {
        pp_train(G->f, decl(d, sizeof d, "M7kTrain", id, "plan"), &p, NULL);
        return;
    }
    snprintf(mk, sizeof mk, "%s_gw", id);
    cg_print_gw_mk_decl(G->f, id);
    pp_train(G->f, decl(d, sizeof d, "M7kTrain", id, "plan"), &p, mk);
    cg_print_gw_mk(G->f, id, &s->u.train, G->m);
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
    case BK_KIND_MOVES:
    case BK_KIND_TO_NCHW: emit_moves(G, id, "plan", s, &s->mv); break;
    case BK_KIND_COPY: {
        M7kCopy p;
        char d[160];
        bk_plan_copy(s, &p);
        pp_copy(f, decl(d, sizeof d, "M7kCopy", id, "plan"), &p, NULL);
        break;
    }
    case BK_KIND_TRAIN: emit_train(G, id, l, s); break;
    case BK_KIND_ALIAS:
    case BK_KIND_FUSED: break;
    }
    int rt = bk_has_rt_pack(G->g, l);
    if (rt)
        emit_pack(G, id, l, s);
    if (s->pre.present && s->pre.kind == BK_CONVERT_UPSAMPLE)
        emit_upsample(G, id, l, s);
    else if (s->pre.present)
        emit_moves(G, id, "pre", s, &s->pre.mv);
    if (s->post.present)
        emit_moves(G, id, "post", s, &s->post.mv);
    for (int k = 0; k < 2; k++)
        if (s->expand[k].present)
            emit_moves(G, id, k ? "expand1" : "expand0", s, &s->expand[k].mv);
    fprintf(f, "static void %s(void) {\n", id);
    char call[400];
    if (rt) { /* before the layer: its kernel reads the packed copy as blob weights */
        if (s->kind != BK_KIND_EW && bk_rt_scaled(G->g, l))
            snprintf(call, sizeof call, "m7k_pack_dma(&%s_pack);\n    m7_barrier();\n    m7k_pack_scale(&%s_scale)",
                     id, id);
        else
            snprintf(call, sizeof call, "%s(&%s_pack)", s->kind == BK_KIND_EW ? "m7k_pack_bn" : "m7k_pack_dma", id);
        region(G, l->name, ":pack_weights", 0, call);
    }
    if (s->pre.present) {
        int up = s->pre.kind == BK_CONVERT_UPSAMPLE;
        snprintf(call, sizeof call, "%s(&%s_pre)", up ? "m7k_tr_upsample" : "m7k_moves", id);
        region(G, l->name, up ? ":upsample" : s->pre.kind == BK_CONVERT_NCHW_COPY ? ":to_nchw" : ":to_blocked", 0, call);
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
