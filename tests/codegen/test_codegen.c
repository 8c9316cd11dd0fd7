/* End-to-end tests of the backend and code generator: small graphs built by
 * hand, compiled to C, the C compiled with the host cc against the
 * simulator, run with its checks on, and compared with plain C loops.
 *
 * argv: RUNTIME_INC SIM_INC DRIVER_C LIBSIM LIBRUNTIME [slow]
 */
#include <CUnit/Basic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/common/cunit_run.h"
#include "tests/common/tgraph.h"
#include "codegen/codegen.h"
#include "ir/dump.h"
#include "ir/eval.h"
#include "validate/validate.h"

static const char *runtime_inc, *sim_inc, *driver_c, *libsim, *libruntime;
static char tmpdir[256];

/* ---- graphs: tests/common/tgraph.h; input data from here -------------------- */
static unsigned rng = 12345;
static float frand(void) {
    rng = rng * 1103515245u + 12345u;
    return (float)((rng >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* ---- compile, run, compare ------------------------------------------------------ */
static void default_machine(M7Machine *m) { m7_machine_default(m); }

static int write_raw(const char *path, const float *p, int64_t n) {
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t k = fwrite(p, sizeof(float), (size_t)n, f);
    return fclose(f) || k != (size_t)n ? -1 : 0;
}

/* Compiles g with backend options o (NULL: defaults), runs it on the
 * simulator; returns the max relative error of output 0 against the
 * reference (or -1 on failure).  Region lines of the run go to *report
 * (malloc'd) when report is not NULL. */
static double run_case_opts(IrGraph *g, const char *tag, const char *mach, const BkOptions *o, char **report) {
    M7Machine m;
    default_machine(&m);
    char merr[256];
    if (mach && m7_machine_apply_list(&m, mach, merr, sizeof merr)) {
        fprintf(stderr, "%s\n", merr);
        return -1;
    }
    IrDiag d = {0};
    BkOptions def;
    bk_options_default(&def);
    if (backend_run_opts(g, &m, o ? o : &def, &d)) {
        ir_diag_print(&d, stderr);
        ir_diag_free(&d);
        return -1;
    }
    char c[512], h[512], wts[512], exe[512], cmd[4096], in[512], out[512], rep[512];
    snprintf(c, sizeof c, "%s/%s.c", tmpdir, tag);
    snprintf(h, sizeof h, "%s/%s.h", tmpdir, tag);
    snprintf(wts, sizeof wts, "%s/%s.weights", tmpdir, tag);
    snprintf(exe, sizeof exe, "%s/%s", tmpdir, tag);
    snprintf(in, sizeof in, "%s/%s.in", tmpdir, tag);
    snprintf(out, sizeof out, "%s/%s.out", tmpdir, tag);
    snprintf(rep, sizeof rep, "%s/%s.report", tmpdir, tag);
    if (getenv("M7CC_TEST_DUMP")) /* the backend's decisions, for whoever debugs */
        for (int li = 0; li < g->n_l; li++)
            if (g->l[li].sched) {
                printf("  layer %s:\n", g->l[li].name);
                g->l[li].dump_sched(g->l[li].sched, stdout);
            }
    if (codegen_emit(g, &m, c, h, wts, &d)) {
        ir_diag_print(&d, stderr);
        ir_diag_free(&d);
        return -1;
    }
    ValidateLimits lim; /* libclang: the device rules the C compiler does not check */
    validate_limits(&lim, &m);
    if (validate_c_file(c, &lim, stderr))
        return -1;
    const char *cflags = getenv("M7CC_TEST_CFLAGS");
    snprintf(cmd, sizeof cmd, "cc -std=c11 -O1 -Wall -Wextra -Werror -Wno-unused-function %s -I%s -I%s -I%s "
                              "%s %s %s %s -lm -lpthread -o %s",
             cflags ? cflags : "", tmpdir, runtime_inc, sim_inc, c, driver_c, libsim, libruntime, exe);
    if (system(cmd)) {
        fprintf(stderr, "failed: %s\n", cmd);
        return -1;
    }
    /* every graph input: random, or the values a weight had before it
     * became an input (to_input); fed to the program and the executor */
    float **vals = calloc((size_t)g->n_t, sizeof *vals);
    const float *ins[16] = {0};
    int n = snprintf(cmd, sizeof cmd, "%s %s", exe, wts);
    for (int i = 0; i < g->n_inputs && i < 16; i++) {
        IrTensor *t = &g->t[g->inputs[i]];
        int64_t nx = ir_numel(t);
        vals[g->inputs[i]] = malloc((size_t)nx * sizeof(float));
        for (int64_t k = 0; k < nx; k++)
            vals[g->inputs[i]][k] = t->f32 ? t->f32[k] : frand();
        ins[i] = vals[g->inputs[i]];
        snprintf(in, sizeof in, "%s/%s.in%d", tmpdir, tag, i);
        write_raw(in, ins[i], nx);
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, " %s", in);
    }
    snprintf(cmd + n, sizeof cmd - (size_t)n, " %s > %s", out, rep);
    double err = -1;
    if (g->n_inputs <= 16 && system(cmd) == 0) {
        int y = g->outputs[0];
        int64_t ny = ir_numel(&g->t[y]);
        float *outs[8] = {0}, *got = malloc((size_t)ny * sizeof(float));
        IrDiag ed = {0};
        if (g->n_outputs > 8 || ir_eval(g, ins, outs, &ed)) { /* the reference executor is the oracle */
            ir_diag_print(&ed, stderr);
            ir_diag_free(&ed);
        }
        float *ref = outs[0];
        FILE *f = fopen(out, "rb");
        if (ref && f && fread(got, sizeof(float), (size_t)ny, f) == (size_t)ny) {
            /* normwise: the largest error relative to the largest value, so
             * outputs near zero (after cancellation) are judged fairly */
            double scale = 0, worst = 0;
            for (int64_t i = 0; i < ny; i++)
                scale = fabs(ref[i]) > scale ? fabs(ref[i]) : scale;
            for (int64_t i = 0; i < ny; i++) {
                double e = fabs((double)got[i] - ref[i]);
                if (!(e <= worst)) /* NaN counts */
                    worst = isnan(e) ? 1e30 : e;
            }
            err = worst / (scale > 0 ? scale : 1);
        }
        if (f)
            fclose(f);
        free(got);
        for (int i = 0; i < g->n_outputs && i < 8; i++)
            free(outs[i]);
    } else {
        fprintf(stderr, "run failed: %s\n", cmd);
    }
    if (report) {
        FILE *f = fopen(rep, "rb");
        *report = calloc(1, 1 << 16);
        if (f) {
            size_t k = fread(*report, 1, (1 << 16) - 1, f);
            (*report)[k] = 0;
            fclose(f);
        }
    }
    for (int i = 0; i < g->n_t; i++)
        free(vals[i]);
    free(vals);
    return err;
}

static double run_case(IrGraph *g, const char *tag, const char *mach, char **report) {
    return run_case_opts(g, tag, mach, NULL, report);
}

/* conv(3->13, planar NCHW input) + relu, maxpool, conv(13->37) + relu,
 * global avgpool, flatten, fc(37->10), softmax: odd channels and sizes. */
static void test_small_cnn(void) {
    IrGraph *g = ir_graph_new("small_cnn");
    int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){1, 3, 11, 9});
    ir_graph_add_input(g, x);
    int t = tg_add_conv(g, "conv1", x, 13, 3, 1, 1, IR_ACT_RELU, 1);
    t = tg_add_pool(g, "pool1", IR_MAXPOOL, t, 2, 2, 0);
    t = tg_add_conv(g, "conv2", t, 37, 3, 1, 1, IR_ACT_RELU, 1);
    t = tg_add_unary(g, "gap", IR_GLOBAL_AVGPOOL, t, 4, (int64_t[]){1, 37, 1, 1});
    t = tg_add_unary(g, "flat", IR_FLATTEN, t, 2, (int64_t[]){1, 37});
    t = tg_add_fc(g, "fc", t, 10, IR_ACT_NONE);
    t = tg_add_unary(g, "prob", IR_SOFTMAX, t, 2, (int64_t[]){1, 10});
    ir_graph_add_output(g, t);
    double err = run_case(g, "small_cnn", NULL, NULL);
    printf("\n  small_cnn: max relative error %.3g\n", err);
    CU_ASSERT(err >= 0 && err < 1e-4);
    ir_graph_free(g);
}

/* Batch 2, strided conv, residual add with relu, avgpool with padding, a
 * 4-D output (converted back to NCHW) and an FC on a flattened conv. */
static void test_batch_add_avgpool(void) {
    IrGraph *g = ir_graph_new("resid");
    int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 5, 13, 10});
    ir_graph_add_input(g, x);
    int a = tg_add_conv(g, "c1", x, 40, 3, 2, 1, IR_ACT_RELU, 1);
    int b = tg_add_conv(g, "c2", a, 40, 3, 1, 1, IR_ACT_NONE, 1);
    int64_t dims[4] = {2, 40, 7, 5};
    char nm[] = "add_y";
    int s = tg_tensor(g, nm, IR_T_ACT, 4, dims);
    int li = ir_add_layer(g, IR_ADD, "add", "Add", (int[]){a, b}, 2, (int[]){s}, 1);
    g->l[li].act.kind = IR_ACT_RELU;
    int p = tg_add_pool(g, "avg", IR_AVGPOOL, s, 3, 2, 1);
    ir_graph_add_output(g, p);
    double err = run_case(g, "resid", NULL, NULL);
    printf("\n  resid: max relative error %.3g\n", err);
    CU_ASSERT(err >= 0 && err < 1e-4);
    ir_graph_free(g);
}

static void test_fc_batch(void) {
    IrGraph *g = ir_graph_new("mlp");
    int x = tg_tensor(g, "x", IR_T_INPUT, 2, (int64_t[]){3, 50});
    ir_graph_add_input(g, x);
    int t = tg_add_fc(g, "fc1", x, 70, IR_ACT_RELU);
    t = tg_add_fc(g, "fc2", t, 9, IR_ACT_NONE);
    t = tg_add_unary(g, "sig", IR_SIGMOID, t, 2, (int64_t[]){3, 9});
    ir_graph_add_output(g, t);
    double err = run_case(g, "mlp", NULL, NULL);
    printf("\n  mlp: max relative error %.3g\n", err);
    CU_ASSERT(err >= 0 && err < 1e-4);
    ir_graph_free(g);
}

/* A graph input read by a pool (converted to blocked first), then an FC
 * over the flattened blocked pool output. */
static void test_convert_pool_fc(void) {
    IrGraph *g = ir_graph_new("pool_fc");
    int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 37, 6, 5});
    ir_graph_add_input(g, x);
    int t = tg_add_pool(g, "mp", IR_MAXPOOL, x, 3, 2, 1);
    t = tg_add_unary(g, "flat", IR_FLATTEN, t, 2, (int64_t[]){2, 37 * 3 * 3});
    t = tg_add_fc(g, "fc", t, 33, IR_ACT_RELU);
    ir_graph_add_output(g, t);
    double err = run_case(g, "pool_fc", NULL, NULL);
    printf("\n  pool_fc: max relative error %.3g\n", err);
    CU_ASSERT(err >= 0 && err < 1e-4);
    ir_graph_free(g);
}

/* A max pool with a dilated window (kh x kw taps dh x dw apart). */
static int dpool(IrGraph *g, const char *name, int x, int kh, int kw, int sh, int sw, int dh, int dw, int ph,
                 int pw) {
    const IrTensor *xt = &g->t[x];
    int64_t ho = (xt->dims[2] + 2 * ph - (kh - 1) * dh - 1) / sh + 1;
    int64_t wo = (xt->dims[3] + 2 * pw - (kw - 1) * dw - 1) / sw + 1;
    char nm[64];
    snprintf(nm, sizeof nm, "%s_y", name);
    int y = tg_tensor(g, nm, IR_T_ACT, 4, (int64_t[]){xt->dims[0], xt->dims[1], ho, wo});
    int li = ir_add_layer(g, IR_MAXPOOL, name, "MaxPool", (int[]){x}, 1, (int[]){y}, 1);
    IrPoolAttr *a = &g->l[li].a.pool;
    a->kernel[0] = kh, a->kernel[1] = kw, a->stride[0] = sh, a->stride[1] = sw;
    a->dilation[0] = dh, a->dilation[1] = dw;
    a->pad[0] = a->pad[2] = ph, a->pad[1] = a->pad[3] = pw;
    return y;
}

/* Dilated max pools: the window brings every gcd(stride, dilation)-th row
 * and column only (stride 2, dilation 2: every other one; stride 1: all),
 * clipped at padded borders; then a wide row tiled along W (AM of 64 KB:
 * one full-width row of windows does not fit) with a dilated window, and an
 * average pool counting its padding, tiled along W too. */
static void test_pool_dilated(void) {
    IrGraph *g = ir_graph_new("pool_dil");
    int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 40, 11, 13});
    ir_graph_add_input(g, x);
    int t = tg_add_conv(g, "c1", x, 40, 1, 1, 0, IR_ACT_NONE, 1);
    t = dpool(g, "p1", t, 3, 2, 2, 2, 2, 4, 1, 2);
    t = dpool(g, "p2", t, 2, 3, 1, 1, 3, 2, 0, 1);
    ir_graph_add_output(g, t);
    double err = run_case(g, "pool_dil", NULL, NULL);
    printf("\n  pool_dil: max relative error %.3g\n", err);
    CU_ASSERT(err >= 0 && err < 1e-4);
    const BkPool *p = &g->l[1].sched->u.pool;
    CU_ASSERT(p->gh == 2 && p->gw == 2 && p->dh == 2 && p->dw == 4);
    ir_graph_free(g);
    g = ir_graph_new("pool_wide");
    x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){1, 3, 3, 700});
    ir_graph_add_input(g, x);
    t = dpool(g, "p", x, 2, 4, 1, 3, 2, 3, 1, 5);
    t = tg_add_pool(g, "avg", IR_AVGPOOL, t, 3, 2, 1); /* padding counted, across column tiles */
    g->l[1].a.pool.count_include_pad = 1;
    ir_graph_add_output(g, t);
    err = run_case(g, "pool_wide", "am_bytes=65536", NULL);
    printf("\n  pool_wide: max relative error %.3g\n", err);
    CU_ASSERT(err >= 0 && err < 1e-4);
    p = &g->l[0].sched->u.pool;
    CU_ASSERT(p->tw < p->wo && p->gw == 3);
    p = &g->l[1].sched->u.pool;
    CU_ASSERT(p->tw < p->wo && p->gw == 1);
    ir_graph_free(g);
}

/* Weights fed at run time: the constant t becomes a graph input (its
 * values are what run_case feeds). */
static void to_input(IrGraph *g, int t) {
    g->t[t].role = IR_T_INPUT;
    ir_graph_add_input(g, t);
}

/* Layer l's weights (and bias) as graph inputs. */
static void weights_to_inputs(IrGraph *g, int l) {
    for (int k = 1; k < g->l[l].n_in; k++)
        to_input(g, g->l[l].in[k]);
}

static int producer(const IrGraph *g, int t) { return g->t[t].producer; }

/* Grouped convs at batch 2: from NCHW (planar, 6 channels in 2 groups) and
 * from blocked data (20 channels in 2 groups of 10, starting mid-vector);
 * then depthwise 3x3 (stride 1 and 2) and 5x5 on 40 channels.  Then the
 * regression of a group whose 20 channels start mid-vector (20 of 40): its
 * input window spans two SM sub-tiles, more than a 20-channel chunk needs,
 * and once overran the other input slot while a DMA filled it (SM race). */
static void test_grouped(void) {
    IrGraph *g = ir_graph_new("grouped");
    int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 6, 9, 8});
    ir_graph_add_input(g, x);
    int t = tg_add_conv(g, "g1", x, 64, 3, 1, 1, IR_ACT_RELU, 2);
    t = tg_add_conv(g, "c2", t, 20, 1, 1, 0, IR_ACT_NONE, 1);
    t = tg_add_conv(g, "g3", t, 64, 3, 2, 1, IR_ACT_NONE, 2);
    t = tg_add_conv(g, "dw1", t, 64, 3, 1, 1, IR_ACT_RELU, 64);
    t = tg_add_conv(g, "dw2", t, 64, 3, 2, 1, IR_ACT_NONE, 64);
    t = tg_add_conv(g, "c3", t, 40, 1, 1, 0, IR_ACT_NONE, 1);
    t = tg_add_conv(g, "dw3", t, 40, 5, 1, 2, IR_ACT_NONE, 40);
    ir_graph_add_output(g, t);
    double err = run_case(g, "grouped", NULL, NULL);
    printf("\n  grouped: max relative error %.3g\n", err);
    CU_ASSERT(err >= 0 && err < 1e-4);
    ir_graph_free(g);
    g = ir_graph_new("grouped_mid");
    x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 5, 5, 4});
    ir_graph_add_input(g, x);
    t = tg_add_conv(g, "c1", x, 40, 1, 1, 0, IR_ACT_NONE, 1);
    t = tg_add_conv(g, "g2", t, 64, 3, 1, 1, IR_ACT_NONE, 2);
    ir_graph_add_output(g, t);
    err = run_case(g, "grouped_mid", NULL, NULL);
    printf("\n  grouped_mid: max relative error %.3g\n", err);
    CU_ASSERT(err >= 0 && err < 1e-4);
    ir_graph_free(g);
    /* outputs per group not a multiple of 32: runs of k groups whose outputs
     * fill vectors (or all: dense), weights zero across groups, k chosen by
     * the cost model: depthwise with multiplier 2 from NCHW (4 groups: only
     * k = 4), 6 groups of 8 -> 16 (k 2, 6), 48 groups of 2 -> 2 (k 16, 48),
     * the last with weights fed at run time */
    g = ir_graph_new("grouped_merged");
    x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 4, 7, 6});
    ir_graph_add_input(g, x);
    t = tg_add_conv(g, "m1", x, 8, 3, 1, 1, IR_ACT_RELU, 4);
    t = tg_add_conv(g, "c2", t, 48, 1, 1, 0, IR_ACT_NONE, 1);
    t = tg_add_conv(g, "m3", t, 96, 3, 1, 1, IR_ACT_NONE, 6);
    t = tg_add_conv(g, "m4", t, 96, 3, 2, 1, IR_ACT_NONE, 48);
    weights_to_inputs(g, producer(g, t));
    ir_graph_add_output(g, t);
    err = run_case(g, "grouped_merged", NULL, NULL);
    printf("\n  grouped_merged: max relative error %.3g\n", err);
    CU_ASSERT(err >= 0 && err < 1e-4);
    const int merged[][3] = {{0, 4, 4}, {2, 2, 6}, {3, 16, 48}}; /* layer, the k allowed */
    for (int i = 0; i < 3; i++) {
        const BkSched *bs = g->l[merged[i][0]].sched;
        CU_ASSERT(bs && bs->kind == BK_KIND_CONV &&
                  (bs->u.conv.merge == merged[i][1] || bs->u.conv.merge == merged[i][2]));
    }
    CU_ASSERT(bk_conv_merge_ok(6, 16, 2) && bk_conv_merge_ok(6, 16, 6) && !bk_conv_merge_ok(6, 16, 3) &&
              !bk_conv_merge_ok(6, 16, 1) && bk_conv_merge_ok(2, 32, 1) && !bk_conv_merge_ok(4, 3, 3));
    ir_graph_free(g);
}

/* Run-time weights packed on the machine: a planar conv (40 outputs,
 * padding lanes), a conv whose 96 outputs are split over the cores, a
 * depthwise conv, a standalone BatchNorm and an FC on blocked data (its
 * weights permuted), all with weights and biases as graph inputs; the
 * packing steps are regions of their own with no useful FLOPs. */
static void test_runtime_weights(void) {
    IrGraph *g = ir_graph_new("rtw");
    int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 5, 9, 8});
    ir_graph_add_input(g, x);
    int t = tg_add_conv(g, "c1", x, 40, 3, 2, 1, IR_ACT_RELU, 1);
    weights_to_inputs(g, producer(g, t));
    t = tg_add_conv(g, "c2", t, 96, 3, 1, 1, IR_ACT_NONE, 1);
    weights_to_inputs(g, producer(g, t));
    t = tg_add_conv(g, "dw", t, 96, 3, 1, 1, IR_ACT_NONE, 96);
    weights_to_inputs(g, producer(g, t));
    int64_t d4[4] = {2, 96, 5, 4};
    int p[4];
    for (int k = 0; k < 4; k++)
        p[k] = tg_tensor(g, "bn_p", IR_T_CONST, 1, (int64_t[]){96});
    for (int c = 0; c < 96; c++) /* a positive variance */
        g->t[p[3]].f32[c] = 0.5f + g->t[p[3]].f32[c] * g->t[p[3]].f32[c];
    int y = tg_tensor(g, "bn_y", IR_T_ACT, 4, d4);
    int li = ir_add_layer(g, IR_BATCHNORM, "bn", "BatchNormalization", (int[]){t, p[0], p[1], p[2], p[3]}, 5,
                          (int[]){y}, 1);
    g->l[li].a.bn.eps = 1e-3f;
    weights_to_inputs(g, li);
    t = tg_add_unary(g, "flat", IR_FLATTEN, y, 2, (int64_t[]){2, 96 * 5 * 4});
    t = tg_add_fc(g, "fc", t, 11, IR_ACT_NONE);
    weights_to_inputs(g, producer(g, t));
    ir_graph_add_output(g, t);
    char *rep = NULL;
    double err = run_case(g, "rtw", NULL, &rep);
    printf("\n  rtw: max relative error %.3g\n", err);
    CU_ASSERT(err >= 0 && err < 1e-4);
    const char *names[] = {"c1", "c2", "dw", "bn", "fc"};
    for (int i = 0; i < 5; i++) { /* "region NAME:pack_weights CYCLES EFF BOUND" with no FLOPs */
        char key[64];
        snprintf(key, sizeof key, "region %s:pack_weights ", names[i]);
        const char *r = rep ? strstr(rep, key) : NULL;
        unsigned long long cyc = 0;
        double eff = -1;
        CU_ASSERT(r && sscanf(r + strlen(key), "%llu %lf", &cyc, &eff) == 2 && cyc > 0 && eff == 0);
    }
    free(rep);
    ir_graph_free(g);
    /* grouped convs, from NCHW and from blocked data */
    g = ir_graph_new("rtgroup");
    x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 6, 9, 8});
    ir_graph_add_input(g, x);
    t = tg_add_conv(g, "g1", x, 64, 3, 1, 1, IR_ACT_RELU, 2);
    weights_to_inputs(g, producer(g, t));
    t = tg_add_conv(g, "g2", t, 64, 3, 2, 1, IR_ACT_NONE, 2);
    weights_to_inputs(g, producer(g, t));
    ir_graph_add_output(g, t);
    err = run_case(g, "rtgroup", NULL, NULL);
    printf("\n  rtgroup: max relative error %.3g\n", err);
    CU_ASSERT(err >= 0 && err < 1e-4);
    ir_graph_free(g);
}

/* Gemm as make_fc leaves it (B a graph input, or alpha/beta != 1): B is
 * K x M (transB=0, packed transposed) or M x K; C is [1, M] or [1]; rt:
 * bit 0 B, bit 1 C are graph inputs (else constants). */
static int gemm(IrGraph *g, const char *name, int a, int m, int trans_b, int cdims, int rt, float alpha,
                float beta) {
    int64_t n = g->t[a].dims[0], k = g->t[a].dims[1];
    char nm[64];
    snprintf(nm, sizeof nm, "%s_B", name);
    int b = tg_tensor(g, nm, IR_T_CONST, 2, trans_b ? (int64_t[]){m, k} : (int64_t[]){k, m});
    if (rt & 1)
        to_input(g, b);
    snprintf(nm, sizeof nm, "%s_C", name);
    int c = tg_tensor(g, nm, IR_T_CONST, cdims == 1 ? 1 : 2, cdims == 1 ? (int64_t[]){1} : (int64_t[]){1, m});
    if (rt & 2)
        to_input(g, c);
    snprintf(nm, sizeof nm, "%s_y", name);
    int y = tg_tensor(g, nm, IR_T_ACT, 2, (int64_t[]){n, m});
    int li = ir_add_layer(g, IR_GEMM, name, "Gemm", (int[]){a, b, c}, 3, (int[]){y}, 1);
    g->l[li].a.gemm = (IrGemmAttr){alpha, beta, 0, trans_b};
    return y;
}

/* alpha on run-time B^T with a constant bias; beta on a run-time one-value
 * bias; alpha and beta on constants (scaled at compile time). */
static void test_runtime_gemm(void) {
    IrGraph *g = ir_graph_new("rtgemm");
    int x = tg_tensor(g, "a", IR_T_INPUT, 2, (int64_t[]){3, 45});
    ir_graph_add_input(g, x);
    int t = gemm(g, "g1", x, 37, 0, 2, 1, 0.5f, 1.0f);
    t = gemm(g, "g2", t, 9, 1, 1, 3, 1.0f, 3.0f);
    t = gemm(g, "g3", t, 6, 0, 2, 0, 0.75f, 0.5f);
    ir_graph_add_output(g, t);
    double err = run_case(g, "rtgemm", NULL, NULL);
    printf("\n  rtgemm: max relative error %.3g\n", err);
    CU_ASSERT(err >= 0 && err < 1e-4);
    ir_graph_free(g);
}

/* Gemm in its other forms: A transposed (a [K, N] tensor) and/or C a
 * [cr, cc] matrix broadcast to [N, M]; rt as gemm(). */
static int gemm_t(IrGraph *g, const char *name, int a, int m, int trans_a, int64_t cr, int64_t cc, int rt,
                  float alpha, float beta) {
    int64_t n = g->t[a].dims[trans_a ? 1 : 0], k = g->t[a].dims[trans_a ? 0 : 1];
    char nm[64];
    snprintf(nm, sizeof nm, "%s_B", name);
    int b = tg_tensor(g, nm, IR_T_CONST, 2, (int64_t[]){k, m});
    if (rt & 1)
        to_input(g, b);
    snprintf(nm, sizeof nm, "%s_C", name);
    int c = tg_tensor(g, nm, IR_T_CONST, 2, (int64_t[]){cr, cc});
    if (rt & 2)
        to_input(g, c);
    snprintf(nm, sizeof nm, "%s_y", name);
    int y = tg_tensor(g, nm, IR_T_ACT, 2, (int64_t[]){n, m});
    int li = ir_add_layer(g, IR_GEMM, name, "Gemm", (int[]){a, b, c}, 3, (int[]){y}, 1);
    g->l[li].a.gemm = (IrGemmAttr){alpha, beta, trans_a, 0};
    return y;
}

/* transA on a graph input (A^T read as a planar image: channel k = row k)
 * with a run-time [N, M] C and alpha, beta; transA on a computed [5, 37]
 * (blocked rows padded to 64 floats) with a [N, 1] C; a constant [N, M] C
 * on an untransposed A: the bias is per sample and column (bias_px); its
 * [37, 64] output needs no conversion to NCHW. */
static void test_gemm_forms(void) {
    IrGraph *g = ir_graph_new("gemmforms");
    int x = tg_tensor(g, "a", IR_T_INPUT, 2, (int64_t[]){45, 5});
    ir_graph_add_input(g, x);
    int t = gemm_t(g, "g1", x, 37, 1, 5, 37, 3, 0.5f, 2.0f);
    t = gemm_t(g, "g2", t, 9, 1, 37, 1, 0, 1.0f, 1.0f);
    t = gemm_t(g, "g3", t, 64, 0, 37, 64, 0, 1.0f, 0.5f);
    ir_graph_add_output(g, t);
    double err = run_case(g, "gemmforms", NULL, NULL);
    printf("\n  gemmforms: max relative error %.3g\n", err);
    CU_ASSERT(err >= 0 && err < 1e-4);
    for (int i = 0; i < 3; i++) {
        const BkSched *bs = g->l[i].sched;
        CU_ASSERT(bs && bs->kind == BK_KIND_CONV && bs->u.conv.bias_px == 1);
        CU_ASSERT(bs && bs->u.conv.sub_ci == (i < 2 ? 1 : bs->u.conv.ci_chunk));
    }
    /* [37, 64] blocked is NCHW: the graph output is written in place */
    CU_ASSERT(!g->l[2].sched->post.present);
    ir_graph_free(g);
}

/* Standalone BatchNorm, Add of a per-channel constant, Mul by a scalar
 * constant given first, on 45 channels. */
static void test_affine(void) {
    IrGraph *g = ir_graph_new("affine");
    int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 45, 5, 7});
    ir_graph_add_input(g, x);
    int64_t d4[4] = {2, 45, 5, 7};
    int p[4];
    for (int k = 0; k < 4; k++)
        p[k] = tg_tensor(g, "bn_p", IR_T_CONST, 1, (int64_t[]){45});
    for (int c = 0; c < 45; c++) /* a positive variance */
        g->t[p[3]].f32[c] = 0.5f + g->t[p[3]].f32[c] * g->t[p[3]].f32[c];
    int y = tg_tensor(g, "bn_y", IR_T_ACT, 4, d4);
    int li = ir_add_layer(g, IR_BATCHNORM, "bn", "BatchNormalization", (int[]){x, p[0], p[1], p[2], p[3]}, 5,
                          (int[]){y}, 1);
    g->l[li].a.bn.eps = 1e-5f;
    int cadd = tg_tensor(g, "cadd", IR_T_CONST, 4, (int64_t[]){1, 45, 1, 1});
    int y2 = tg_tensor(g, "add_y", IR_T_ACT, 4, d4);
    ir_add_layer(g, IR_ADD, "add", "Add", (int[]){y, cadd}, 2, (int[]){y2}, 1);
    int cmul = tg_tensor(g, "cmul", IR_T_CONST, 1, (int64_t[]){1});
    int y3 = tg_tensor(g, "mul_y", IR_T_ACT, 4, d4);
    li = ir_add_layer(g, IR_MUL, "mul", "Mul", (int[]){cmul, y2}, 2, (int[]){y3}, 1);
    g->l[li].act.kind = IR_ACT_RELU;
    ir_graph_add_output(g, y3);
    double err = run_case(g, "affine", NULL, NULL);
    printf("\n  affine: max relative error %.3g\n", err);
    CU_ASSERT(err >= 0 && err < 1e-4);
    ir_graph_free(g);
}

/* Concat of 40 + 24 + 33 channels (inputs starting on and off block
 * boundaries), a zero pad and a pad of 1.5, then a conv reading it all. */
static void test_concat_pad(void) {
    IrGraph *g = ir_graph_new("concat");
    int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 3, 6, 5});
    ir_graph_add_input(g, x);
    int a = tg_add_conv(g, "a", x, 40, 3, 1, 1, IR_ACT_NONE, 1);
    int b = tg_add_conv(g, "b", x, 24, 1, 1, 0, IR_ACT_NONE, 1);
    int c = tg_add_conv(g, "c", x, 33, 3, 1, 1, IR_ACT_RELU, 1);
    int y = tg_tensor(g, "cat_y", IR_T_ACT, 4, (int64_t[]){2, 97, 6, 5});
    int li = ir_add_layer(g, IR_CONCAT, "cat", "Concat", (int[]){a, b, c}, 3, (int[]){y}, 1);
    g->l[li].a.axis = 1;
    int p = tg_tensor(g, "pad_y", IR_T_ACT, 4, (int64_t[]){2, 97, 9, 7});
    li = ir_add_layer(g, IR_PAD, "pad", "Pad", (int[]){y}, 1, (int[]){p}, 1);
    int64_t pads[8] = {0, 0, 2, 1, 0, 0, 1, 1};
    memcpy(g->l[li].a.pad.pads, pads, sizeof pads);
    g->l[li].a.pad.value = 1.5f;
    int p2 = tg_tensor(g, "pad2_y", IR_T_ACT, 4, (int64_t[]){2, 97, 10, 7});
    li = ir_add_layer(g, IR_PAD, "pad2", "Pad", (int[]){p}, 1, (int[]){p2}, 1);
    int64_t pads2[8] = {0, 0, 0, 0, 0, 0, 1, 0};
    memcpy(g->l[li].a.pad.pads, pads2, sizeof pads2);
    int t = tg_add_conv(g, "d", p2, 35, 3, 1, 0, IR_ACT_NONE, 1);
    ir_graph_add_output(g, t);
    double err = run_case(g, "concat", NULL, NULL);
    printf("\n  concat: max relative error %.3g\n", err);
    CU_ASSERT(err >= 0 && err < 1e-4);
    ir_graph_free(g);
}

/* Reflect and edge Pad of computed (blocked, 2 channel blocks) data, batch
 * 2, pads up to size - 1 on every side, then a conv reading the borders. */
/* Convs with output rows that read only padding (a stride larger than the
 * image leaves whole input windows below or above it): the window's DMAs
 * stay inside its SM slot (they once wrote before it, a DMA race). */
static void test_padding_rows(void) {
    static const struct {
        int64_t h, w;
        int sh, sw, pad[4];
    } cases[] = {{2, 8, 4, 1, {2, 0, 1, 0}}, {8, 8, 4, 4, {0, 0, 5, 0}}, {3, 6, 3, 1, {4, 1, 2, 0}}};
    for (int i = 0; i < 3; i++) {
        IrGraph *g = ir_graph_new("padding_rows");
        int64_t h = cases[i].h, w = cases[i].w;
        const int *pd = cases[i].pad;
        int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){1, 3, h, w});
        ir_graph_add_input(g, x);
        int64_t ho = (h + pd[0] + pd[2] - 1) / cases[i].sh + 1, wo = (w + pd[1] + pd[3] - 1) / cases[i].sw + 1;
        int wt = tg_tensor(g, "w", IR_T_CONST, 4, (int64_t[]){4, 3, 1, 1});
        int b = tg_tensor(g, "b", IR_T_CONST, 1, (int64_t[]){4});
        int y = tg_act(g, "y", 4, (int64_t[]){1, 4, ho, wo});
        int li = tg_conv(g, "c", x, wt, b, y, 1, pd, 1);
        g->l[li].a.conv.stride[0] = cases[i].sh, g->l[li].a.conv.stride[1] = cases[i].sw;
        ir_graph_add_output(g, y);
        double err = run_case(g, "padding_rows", NULL, NULL);
        CU_ASSERT(err >= 0 && err < 1e-5);
        ir_graph_free(g);
    }
}

static void test_pad_modes(void) {
    IrGraph *g = ir_graph_new("padmodes");
    int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 3, 4, 5});
    ir_graph_add_input(g, x);
    int a = tg_add_conv(g, "a", x, 40, 3, 1, 1, IR_ACT_NONE, 1);
    int r = tg_tensor(g, "reflect_y", IR_T_ACT, 4, (int64_t[]){2, 40, 7, 12});
    int li = ir_add_layer(g, IR_PAD, "reflect", "Pad", (int[]){a}, 1, (int[]){r}, 1);
    int64_t pads[8] = {0, 0, 2, 4, 0, 0, 1, 3};
    memcpy(g->l[li].a.pad.pads, pads, sizeof pads);
    g->l[li].a.pad.mode = IR_PAD_REFLECT;
    int e = tg_tensor(g, "edge_y", IR_T_ACT, 4, (int64_t[]){2, 40, 10, 13});
    li = ir_add_layer(g, IR_PAD, "edge", "Pad", (int[]){r}, 1, (int[]){e}, 1);
    int64_t pads2[8] = {0, 0, 0, 1, 0, 0, 3, 0};
    memcpy(g->l[li].a.pad.pads, pads2, sizeof pads2);
    g->l[li].a.pad.mode = IR_PAD_EDGE;
    ir_graph_add_output(g, tg_add_conv(g, "d", e, 8, 3, 1, 0, IR_ACT_NONE, 1));
    double err = run_case(g, "padmodes", NULL, NULL);
    printf("\n  pad modes: max relative error %.3g\n", err);
    CU_ASSERT(err >= 0 && err < 1e-4);
    ir_graph_free(g);
}

/* A squeeze-and-excitation gate: [N, C, 1, 1] activations broadcast over
 * the pixels by Mul and Add (batch 2, 40 channels). */
static void test_broadcast(void) {
    IrGraph *g = ir_graph_new("se");
    int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 5, 7, 6});
    ir_graph_add_input(g, x);
    int c1 = tg_add_conv(g, "c1", x, 40, 3, 1, 1, IR_ACT_RELU, 1);
    int gp = tg_add_unary(g, "gap", IR_GLOBAL_AVGPOOL, c1, 4, (int64_t[]){2, 40, 1, 1});
    int sg = tg_add_unary(g, "sig", IR_SIGMOID, gp, 4, (int64_t[]){2, 40, 1, 1});
    int64_t d4[4] = {2, 40, 7, 6};
    int y = tg_tensor(g, "mul_y", IR_T_ACT, 4, d4);
    ir_add_layer(g, IR_MUL, "mul", "Mul", (int[]){sg, c1}, 2, (int[]){y}, 1);
    int y2 = tg_tensor(g, "add_y", IR_T_ACT, 4, d4);
    ir_add_layer(g, IR_ADD, "add", "Add", (int[]){y, gp}, 2, (int[]){y2}, 1);
    ir_graph_add_output(g, y2);
    double err = run_case(g, "se", NULL, NULL);
    printf("\n  se: max relative error %.3g\n", err);
    CU_ASSERT(err >= 0 && err < 1e-4);
    ir_graph_free(g);
}

/* Transpose to NHWC, softmax over the last axis, transpose back (the
 * opset-11 export of a channel softmax), then a conv on the NCHW result. */
static void test_transpose_softmax(void) {
    IrGraph *g = ir_graph_new("transpose");
    int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 3, 5, 6});
    ir_graph_add_input(g, x);
    int c = tg_add_conv(g, "c1", x, 37, 3, 1, 1, IR_ACT_NONE, 1);
    int t1 = tg_tensor(g, "t1", IR_T_ACT, 4, (int64_t[]){2, 5, 6, 37});
    int li = ir_add_layer(g, IR_TRANSPOSE, "tr1", "Transpose", (int[]){c}, 1, (int[]){t1}, 1);
    g->l[li].a.perm.n = 4;
    memcpy(g->l[li].a.perm.v, (int[]){0, 2, 3, 1}, 4 * sizeof(int));
    int sm = tg_tensor(g, "sm", IR_T_ACT, 4, (int64_t[]){2, 5, 6, 37});
    li = ir_add_layer(g, IR_SOFTMAX, "softmax", "Softmax", (int[]){t1}, 1, (int[]){sm}, 1);
    g->l[li].a.softmax.axis = 3;
    int t2 = tg_tensor(g, "t2", IR_T_ACT, 4, (int64_t[]){2, 37, 5, 6});
    li = ir_add_layer(g, IR_TRANSPOSE, "tr2", "Transpose", (int[]){sm}, 1, (int[]){t2}, 1);
    g->l[li].a.perm.n = 4;
    memcpy(g->l[li].a.perm.v, (int[]){0, 3, 1, 2}, 4 * sizeof(int));
    int y = tg_add_conv(g, "c2", t2, 10, 1, 1, 0, IR_ACT_NONE, 1);
    ir_graph_add_output(g, y);
    double err = run_case(g, "transpose", NULL, NULL);
    printf("\n  transpose: max relative error %.3g\n", err);
    CU_ASSERT(err >= 0 && err < 1e-4);
    ir_graph_free(g);
}

/* An FC output reshaped to an image (blocked data converted to NCHW), a
 * conv on it, squeezed back to 2-D. */
static void test_reshape(void) {
    IrGraph *g = ir_graph_new("reshape");
    int x = tg_tensor(g, "x", IR_T_INPUT, 2, (int64_t[]){2, 20});
    ir_graph_add_input(g, x);
    int f = tg_add_fc(g, "fc", x, 60, IR_ACT_RELU);
    int r = tg_add_unary(g, "unflatten", IR_RESHAPE, f, 4, (int64_t[]){2, 15, 2, 2});
    int c = tg_add_conv(g, "c", r, 33, 2, 1, 0, IR_ACT_NONE, 1);
    int q = tg_add_unary(g, "squeeze", IR_SQUEEZE, c, 2, (int64_t[]){2, 33});
    int l = g->t[q].producer;
    g->l[l].a.axes.n = 2, g->l[l].a.axes.v[0] = 2, g->l[l].a.axes.v[1] = 3;
    ir_graph_add_output(g, q);
    double err = run_case(g, "reshape", NULL, NULL);
    printf("\n  reshape: max relative error %.3g\n", err);
    CU_ASSERT(err >= 0 && err < 1e-4);
    ir_graph_free(g);
}

/* ---- general tensor ops: moves (strided DMA), plain element-wise ---------- */

/* Runs g on the simulator (machine overrides mach) against the reference
 * executor, and checks that the backend's --dump-ir text names every
 * string of want (the decision the case is about). */
static void check_case(IrGraph *g, const char *tag, const char *mach, const char *const *want) {
    double err = run_case(g, tag, mach, NULL);
    printf("\n  %s: max relative error %.3g", tag, err);
    CU_ASSERT(err >= 0 && err < 1e-4);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ir_dump(g, f);
    fclose(f);
    for (int i = 0; want[i]; i++)
        if (!buf || !strstr(buf, want[i])) {
            printf("\n  %s: the dump lacks '%s'", tag, want[i]);
            CU_FAIL("decision missing from the dump");
        }
    free(buf);
    ir_graph_free(g);
}

static int transpose(IrGraph *g, const char *name, int x, const int *perm) {
    const IrTensor *xt = &g->t[x];
    int r = xt->rank;
    int64_t d[IR_MAX_RANK];
    for (int j = 0; j < r; j++)
        d[j] = g->t[x].dims[perm[j]];
    char nm[64];
    snprintf(nm, sizeof nm, "%s_y", name);
    int y = tg_tensor(g, nm, IR_T_ACT, r, d);
    int li = ir_add_layer(g, IR_TRANSPOSE, name, "Transpose", (int[]){x}, 1, (int[]){y}, 1);
    g->l[li].a.perm.n = r;
    memcpy(g->l[li].a.perm.v, perm, (size_t)r * sizeof *perm);
    return y;
}

static int binary(IrGraph *g, const char *name, IrOp op, int a, int b, int rank, const int64_t *dims) {
    char nm[64];
    snprintf(nm, sizeof nm, "%s_y", name);
    int y = tg_tensor(g, nm, IR_T_ACT, rank, dims);
    ir_add_layer(g, op, name, op == IR_ADD ? "Add" : op == IR_MUL ? "Mul" : op == IR_SUB ? "Sub" : "Div", (int[]){a, b}, 2,
                 (int[]){y}, 1);
    return y;
}

static int concat(IrGraph *g, const char *name, const int *x, int n, int axis) {
    int64_t d[IR_MAX_RANK];
    int r = g->t[x[0]].rank;
    memcpy(d, g->t[x[0]].dims, sizeof d);
    for (int k = 1; k < n; k++)
        d[axis] += g->t[x[k]].dims[axis];
    char nm[64];
    snprintf(nm, sizeof nm, "%s_y", name);
    int y = tg_tensor(g, nm, IR_T_ACT, r, d);
    int li = ir_add_layer(g, IR_CONCAT, name, "Concat", x, n, (int[]){y}, 1);
    g->l[li].a.axis = axis;
    return y;
}

static int softmax(IrGraph *g, const char *name, int x, int axis) {
    int y = tg_add_unary(g, name, IR_SOFTMAX, x, g->t[x].rank, g->t[x].dims);
    g->l[g->t[y].producer].a.softmax.axis = axis;
    return y;
}

/* Transposes of rank 6, 8 and 3 (element rows, and whole contiguous rows), of
 * blocked data with a partial channel block, on 4, 3 and 2 cores. */
static void test_moves_transpose(void) {
    static const char *const elem[] = {"moves (strided DMA)", "4-byte rows", NULL};
    static const char *const rows[] = {"moves (strided DMA)", "contiguous rows", NULL};
    IrGraph *g = ir_graph_new("tr6");
    int x = tg_tensor(g, "x", IR_T_INPUT, 6, (int64_t[]){2, 3, 1, 4, 5, 2});
    ir_graph_add_input(g, x);
    ir_graph_add_output(g, transpose(g, "t", x, (int[]){0, 3, 1, 5, 2, 4}));
    check_case(g, "tr6", NULL, elem);

    g = ir_graph_new("tr8"); /* IR_MAX_RANK */
    x = tg_tensor(g, "x", IR_T_INPUT, 8, (int64_t[]){2, 1, 3, 2, 2, 3, 1, 2});
    ir_graph_add_input(g, x);
    ir_graph_add_output(g, transpose(g, "t", x, (int[]){7, 0, 6, 1, 5, 2, 4, 3}));
    check_case(g, "tr8", NULL, elem);

    g = ir_graph_new("tr3");
    x = tg_tensor(g, "x", IR_T_INPUT, 3, (int64_t[]){4, 6, 33});
    ir_graph_add_input(g, x);
    ir_graph_add_output(g, transpose(g, "t", x, (int[]){1, 0, 2}));
    check_case(g, "tr3", "cores=3", rows);

    g = ir_graph_new("trblk"); /* blocked source, channels last: a block's lanes are one DMA row */
    x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 3, 5, 6});
    ir_graph_add_input(g, x);
    int c = tg_add_conv(g, "c", x, 37, 3, 1, 1, IR_ACT_NONE, 1);
    ir_graph_add_output(g, transpose(g, "t", c, (int[]){2, 0, 3, 1}));
    check_case(g, "trblk", NULL, rows);

    g = ir_graph_new("trblk2"); /* channels moved inward but not last: a DMA row per value */
    x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 3, 5, 6});
    ir_graph_add_input(g, x);
    c = tg_add_conv(g, "c", x, 37, 3, 1, 1, IR_ACT_NONE, 1);
    ir_graph_add_output(g, transpose(g, "t", c, (int[]){0, 2, 1, 3}));
    check_case(g, "trblk2", "cores=2", elem);
}

/* Concat of a graph input and a computed (blocked) tensor on channels,
 * of two blocked tensors along H, of rank-1 inputs; a conv reads the first
 * result (NCHW, planar). */
static void test_moves_concat(void) {
    static const char *const want[] = {"moves (strided DMA)", NULL};
    IrGraph *g = ir_graph_new("catmix");
    int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 5, 6, 7});
    ir_graph_add_input(g, x);
    int c = tg_add_conv(g, "c", x, 40, 3, 1, 1, IR_ACT_RELU, 1);
    int cat = concat(g, "cat", (int[]){x, c}, 2, 1);
    ir_graph_add_output(g, tg_add_conv(g, "c2", cat, 9, 1, 1, 0, IR_ACT_NONE, 1));
    check_case(g, "catmix", NULL, want);

    g = ir_graph_new("cath");
    x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 3, 7, 6});
    ir_graph_add_input(g, x);
    int a = tg_add_conv(g, "a", x, 37, 3, 1, 1, IR_ACT_NONE, 1), b = tg_add_conv(g, "b", x, 37, 1, 1, 0, IR_ACT_RELU, 1);
    ir_graph_add_output(g, concat(g, "cat", (int[]){a, b, a}, 3, 2));
    check_case(g, "cath", "cores=3", want);

    g = ir_graph_new("cat1");
    int u = tg_tensor(g, "u", IR_T_INPUT, 1, (int64_t[]){3}), v = tg_tensor(g, "v", IR_T_INPUT, 1, (int64_t[]){5});
    ir_graph_add_input(g, u);
    ir_graph_add_input(g, v);
    ir_graph_add_output(g, concat(g, "cat", (int[]){v, u, v}, 3, 0));
    check_case(g, "cat1", NULL, want);
}

/* Numpy broadcasting: a [5, 1] graph input over a blocked [2, 37, 5, 6]
 * conv output (expanded into a blocked temporary, the broadcast operand
 * first); a computed one-channel gate over it; [3, 1, 5] * [4, 1] (both
 * expanded, plain); plain operands repeated inside the kernel (a row in AM,
 * values in SM) or, when a repeat is not whole vectors, expanded; Add of
 * two graph inputs and a Relu of one (plain, no conversion). */
static void test_broadcast_general(void) {
    static const char *const blk[] = {"in1 broadcast first by", "out: blocked", NULL};
    static const char *const both[] = {"in0 broadcast first by", "in1 broadcast first by", "out: NCHW", NULL};
    static const char *const plain[] = {"backend: eltwise", "out: NCHW", NULL};
    IrGraph *g = ir_graph_new("bcblk");
    int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 3, 5, 6});
    int y = tg_tensor(g, "y", IR_T_INPUT, 2, (int64_t[]){5, 1});
    ir_graph_add_input(g, x);
    ir_graph_add_input(g, y);
    int c = tg_add_conv(g, "c", x, 37, 3, 1, 1, IR_ACT_NONE, 1);
    int m = binary(g, "mul", IR_MUL, y, c, 4, (int64_t[]){2, 37, 5, 6});
    ir_graph_add_output(g, tg_add_conv(g, "c2", m, 8, 1, 1, 0, IR_ACT_NONE, 1));
    check_case(g, "bcblk", NULL, blk);

    g = ir_graph_new("gate"); /* a computed [N, 1, H, W] gate over every channel: blocked to blocked */
    x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 3, 5, 6});
    ir_graph_add_input(g, x);
    c = tg_add_conv(g, "c", x, 37, 3, 1, 1, IR_ACT_NONE, 1);
    int gt = tg_add_conv(g, "gc", x, 1, 1, 1, 0, IR_ACT_SIGMOID, 1);
    ir_graph_add_output(g, binary(g, "mul", IR_MUL, c, gt, 4, (int64_t[]){2, 37, 5, 6}));
    check_case(g, "gate", NULL, blk);

    g = ir_graph_new("bc2");
    x = tg_tensor(g, "x", IR_T_INPUT, 3, (int64_t[]){3, 1, 5});
    y = tg_tensor(g, "y", IR_T_INPUT, 2, (int64_t[]){4, 1});
    ir_graph_add_input(g, x);
    ir_graph_add_input(g, y);
    ir_graph_add_output(g, binary(g, "mul", IR_MUL, x, y, 3, (int64_t[]){3, 4, 5}));
    check_case(g, "bc2", "cores=3", both);

    static const char *const row[] = {"in1 broadcast in the kernel", "row in AM", NULL};
    static const char *const splat[] = {"in1 broadcast in the kernel", "in1 in SM", NULL};
    static const char *const expand[] = {"in1 broadcast first by", NULL};
    struct {
        const char *tag, *mach;
        int rx, ry;
        int64_t dx[4], dy[4];
        const char *const *want;
    } rc[] = {
        {"bcrow", "cores=3", 3, 1, {3, 4, 37}, {37}, row},            /* b repeats over the outer axes */
        {"bcscalar", NULL, 3, 0, {3, 4, 5}, {0}, row},                /* a rank-0 b */
        {"bcsplat", NULL, 4, 3, {2, 6, 8, 8}, {6, 1, 1}, splat},      /* per channel, 64 pixels each */
        {"bcmid", "cores=2", 4, 2, {2, 3, 4, 32}, {4, 1}, splat},     /* b in the middle, 32 values each */
        {"bcodd", NULL, 4, 3, {2, 6, 5, 5}, {6, 1, 1}, expand},       /* 25 pixels: not a whole vector */
    };
    for (int i = 0; i < (int)(sizeof rc / sizeof rc[0]); i++) {
        g = ir_graph_new(rc[i].tag);
        x = tg_tensor(g, "x", IR_T_INPUT, rc[i].rx, rc[i].dx);
        y = tg_tensor(g, "y", IR_T_INPUT, rc[i].ry, rc[i].dy);
        ir_graph_add_input(g, x);
        ir_graph_add_input(g, y);
        ir_graph_add_output(g, binary(g, i % 2 ? "mul" : "add", i % 2 ? IR_MUL : IR_ADD, y, x, rc[i].rx, rc[i].dx));
        check_case(g, rc[i].tag, rc[i].mach, rc[i].want);
    }

    g = ir_graph_new("ewplain");
    int64_t d[3] = {3, 4, 37};
    x = tg_tensor(g, "x", IR_T_INPUT, 3, d);
    y = tg_tensor(g, "y", IR_T_INPUT, 3, d);
    ir_graph_add_input(g, x);
    ir_graph_add_input(g, y);
    int r = tg_add_unary(g, "relu", IR_RELU, y, 3, d);
    ir_graph_add_output(g, binary(g, "add", IR_ADD, x, r, 3, d));
    check_case(g, "ewplain", NULL, plain);
}

/* Sub and Div (operand order kept): of two graph inputs (plain), with the
 * first operand broadcast (expanded), dividing by a repeated row (in the
 * kernel), and of blocked conv outputs. */
static void test_sub_div(void) {
    static const char *const want[] = {"in0 broadcast first by", "in1 broadcast in the kernel", NULL};
    static const char *const blk[] = {"out: blocked", NULL};
    IrGraph *g = ir_graph_new("subdiv");
    int64_t d[3] = {3, 4, 37};
    int x = tg_tensor(g, "x", IR_T_INPUT, 3, d), y = tg_tensor(g, "y", IR_T_INPUT, 3, d);
    int z = tg_tensor(g, "z", IR_T_INPUT, 1, (int64_t[]){37});
    ir_graph_add_input(g, x);
    ir_graph_add_input(g, y);
    ir_graph_add_input(g, z);
    int a = binary(g, "sub", IR_SUB, x, y, 3, d);
    int b = binary(g, "div", IR_DIV, a, tg_add_unary(g, "sy", IR_SIGMOID, y, 3, d), 3, d);
    int c = binary(g, "rsub", IR_SUB, z, b, 3, d);
    ir_graph_add_output(g, binary(g, "rdiv", IR_DIV, c, tg_add_unary(g, "sz", IR_SIGMOID, z, 1, (int64_t[]){37}), 3, d));
    check_case(g, "subdiv", NULL, want);

    g = ir_graph_new("subdivblk");
    x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 3, 5, 6});
    ir_graph_add_input(g, x);
    int64_t d4[4] = {2, 37, 5, 6};
    int c1 = tg_add_conv(g, "c1", x, 37, 3, 1, 1, IR_ACT_NONE, 1), c2 = tg_add_conv(g, "c2", x, 37, 1, 1, 0, IR_ACT_NONE, 1);
    int c3 = tg_add_conv(g, "c3", x, 37, 1, 1, 0, IR_ACT_SIGMOID, 1);
    ir_graph_add_output(g, binary(g, "div", IR_DIV, binary(g, "sub", IR_SUB, c2, c1, 4, d4), c3, 4, d4));
    check_case(g, "subdivblk", "cores=3", blk);
}

/* Softmax down the rows: over H of a blocked conv output, over the
 * channels of an NCHW input (no conversion), over axis 0; over the
 * flattened tail of a conv output (opset < 13: converted, then rows). */
static void test_softmax_axes(void) {
    static const char *const want[] = {"softmax down the rows", NULL};
    IrGraph *g = ir_graph_new("smh");
    int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 3, 5, 6});
    ir_graph_add_input(g, x);
    int c = tg_add_conv(g, "c", x, 37, 3, 1, 1, IR_ACT_NONE, 1);
    ir_graph_add_output(g, softmax(g, "sm", c, 2));
    check_case(g, "smh", NULL, want);

    g = ir_graph_new("smc");
    x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 40, 3, 3});
    ir_graph_add_input(g, x);
    ir_graph_add_output(g, softmax(g, "sm", x, 1));
    check_case(g, "smc", NULL, want);

    g = ir_graph_new("smflat"); /* opset < 13 over a conv output: the flattened C*H*W per image */
    static const char *const flat[] = {"in0 converted to NCHW first by", NULL};
    x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 3, 3, 4});
    ir_graph_add_input(g, x);
    c = tg_add_conv(g, "c", x, 37, 3, 1, 1, IR_ACT_NONE, 1);
    int sm = softmax(g, "sm", c, 1);
    g->l[g->t[sm].producer].a.softmax.coerce_2d = 1;
    ir_graph_add_output(g, sm);
    check_case(g, "smflat", "cores=3", flat);

    g = ir_graph_new("sm0");
    x = tg_tensor(g, "x", IR_T_INPUT, 3, (int64_t[]){3, 4, 50});
    ir_graph_add_input(g, x);
    ir_graph_add_output(g, softmax(g, "sm", x, 0));
    check_case(g, "sm0", "cores=3", want);
}

/* A flatten of a conv output read by a softmax and by an FC: the FC may
 * read the blocked data in place, the softmax needs the flat order (the
 * flatten converts to NCHW; it once stayed an alias and the softmax ran
 * over each pixel's channels). */
static void test_flatten_readers(void) {
    static const char *const want[] = {"backend: to NCHW", NULL};
    IrGraph *g = ir_graph_new("flatsm");
    int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 3, 4, 4});
    ir_graph_add_input(g, x);
    int c = tg_add_conv(g, "c", x, 5, 1, 1, 0, IR_ACT_NONE, 1);
    int f = tg_add_unary(g, "flat", IR_FLATTEN, c, 2, (int64_t[]){2, 80});
    int sm = softmax(g, "sm", f, 1);
    int y = tg_add_fc(g, "fc", f, 7, IR_ACT_NONE);
    int64_t d[2] = {2, 7};
    ir_graph_add_output(g, binary(g, "add", IR_ADD, y, tg_add_fc(g, "fc2", sm, 7, IR_ACT_NONE), 2, d));
    check_case(g, "flatsm", NULL, want);
}

/* Many kernels in one graph, on 1, 2 and 7 cores (uneven splits, cores
 * without work) and a small AM. */
static void test_core_counts(void) {
    static const char *mach[] = {"cores=1", "cores=2", "cores=7,am_bytes=98304,sm_bytes=16384"};
    for (int i = 0; i < 3; i++) {
        IrGraph *g = ir_graph_new("cores");
        int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 3, 11, 13});
        ir_graph_add_input(g, x);
        int a = tg_add_conv(g, "a", x, 45, 3, 2, 1, IR_ACT_RELU, 1);
        int b = tg_add_conv(g, "dw", a, 45, 3, 1, 1, IR_ACT_NONE, 45);
        int64_t d4[4] = {2, 45, 6, 7};
        int s1 = tg_tensor(g, "sum", IR_T_ACT, 4, d4);
        ir_add_layer(g, IR_ADD, "add", "Add", (int[]){a, b}, 2, (int[]){s1}, 1);
        int p = tg_add_pool(g, "mp", IR_MAXPOOL, s1, 2, 2, 0);
        int c = tg_add_conv(g, "c", p, 20, 1, 1, 0, IR_ACT_NONE, 1);
        int cat = tg_tensor(g, "cat", IR_T_ACT, 4, (int64_t[]){2, 65, 3, 3});
        int li = ir_add_layer(g, IR_CONCAT, "concat", "Concat", (int[]){p, c}, 2, (int[]){cat}, 1);
        g->l[li].a.axis = 1;
        int gp = tg_add_unary(g, "gap", IR_GLOBAL_AVGPOOL, cat, 4, (int64_t[]){2, 65, 1, 1});
        int fl = tg_add_unary(g, "flat", IR_FLATTEN, gp, 2, (int64_t[]){2, 65});
        int f = tg_add_fc(g, "fc", fl, 17, IR_ACT_NONE);
        int y = tg_add_unary(g, "prob", IR_SOFTMAX, f, 2, (int64_t[]){2, 17});
        ir_graph_add_output(g, y);
        double err = run_case(g, "cores", mach[i], NULL);
        printf("\n  cores (%s): max relative error %.3g\n", mach[i], err);
        CU_ASSERT(err >= 0 && err < 1e-4);
        ir_graph_free(g);
    }
}

/* Six long rows of 128 channels: 4 row parts would be uneven (2,1,2,1),
 * 4 channel parts leave one vector per core; the cores split both (2 x 2,
 * private weights). */
static void test_split_2d(void) {
    IrGraph *g = ir_graph_new("split2d");
    int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){1, 8, 6, 224});
    ir_graph_add_input(g, x);
    int t = tg_add_conv(g, "c0", x, 128, 1, 1, 0, IR_ACT_NONE, 1);
    t = tg_add_conv(g, "c1", t, 128, 3, 1, 1, IR_ACT_RELU, 1);
    ir_graph_add_output(g, t);
    double err = run_case(g, "split2d", NULL, NULL);
    const BkConv *c = &g->l[1].sched->u.conv;
    printf("\n  split2d: %d row parts, max relative error %.3g\n", c->row_parts, err);
    CU_ASSERT(err >= 0 && err < 1e-4);
    CU_ASSERT_EQUAL(c->row_parts, 2);
    ir_graph_free(g);
}

/* Memories so small that every dimension of the conv is split (weight
 * chunks of output and input channels, partial sums resident in AM, tiles
 * of rows and columns), on 3 cores. */
static void test_split_everything(void) {
    IrGraph *g = ir_graph_new("split");
    int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){1, 70, 19, 23});
    ir_graph_add_input(g, x);
    int t = tg_add_conv(g, "c1", x, 96, 3, 1, 1, IR_ACT_RELU, 1);
    t = tg_add_conv(g, "c2", t, 100, 3, 1, 1, IR_ACT_NONE, 1);
    ir_graph_add_output(g, t);
    double err = run_case(g, "split", "am_bytes=131072,sm_bytes=4096,cores=3", NULL);
    printf("\n  split: max relative error %.3g\n", err);
    CU_ASSERT(err >= 0 && err < 1e-4);
    const BkConv *c = &g->l[1].sched->u.conv;
    CU_ASSERT(c->ci_chunk < 96 && c->th < 19 && c->tw < 23);
    ir_graph_free(g);
}

/* Double buffering and weight sharing off, apart and together: convs from
 * NCHW and blocked data with rows split (weights broadcast by default), a
 * depthwise conv, a pool, an FC; on the default machine and on one so small that weight chunks
 * alternate and partial sums stay resident.  The simulator fails a run on
 * any race, so the single slots must be waited for properly. */
static void test_options_off(void) {
    static const char *mach[] = {NULL, "am_bytes=131072,sm_bytes=4096,cores=3"};
    for (int i = 0; i < 2; i++)
        for (int v = 1; v < 4; v++) {
            BkOptions o = {.double_buffer = !(v & 1), .weight_sharing = !(v & 2)};
            IrGraph *g = ir_graph_new("options");
            int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){1, 5, 19, 23});
            ir_graph_add_input(g, x);
            int t = tg_add_conv(g, "c1", x, 70, 3, 1, 1, IR_ACT_RELU, 1);
            t = tg_add_conv(g, "dw", t, 70, 3, 1, 1, IR_ACT_NONE, 70);
            t = tg_add_conv(g, "c2", t, 100, 3, 1, 1, IR_ACT_NONE, 1);
            t = tg_add_pool(g, "mp", IR_MAXPOOL, t, 3, 2, 1); /* padded: a pool of its own */
            t = tg_add_unary(g, "flat", IR_FLATTEN, t, 2, (int64_t[]){1, 100 * 10 * 12});
            t = tg_add_fc(g, "fc", t, 40, IR_ACT_NONE);
            ir_graph_add_output(g, t);
            char tag[32];
            snprintf(tag, sizeof tag, "options%d_%d", i, v);
            double err = run_case_opts(g, tag, mach[i], &o, NULL);
            printf("\n  %s (double buffer %d, weight sharing %d, %s): max relative error %.3g\n", tag,
                   o.double_buffer, o.weight_sharing, mach[i] ? mach[i] : "default machine", err);
            CU_ASSERT(err >= 0 && err < 1e-4);
            for (int li = 0; li < g->n_l; li++) { /* the plans say what was asked */
                const BkSched *s = g->l[li].sched;
                if (s && s->kind == BK_KIND_DW && !o.double_buffer)
                    CU_ASSERT_EQUAL(s->u.conv.am_in1, s->u.conv.am_in0);
                if (s && s->kind == BK_KIND_POOL && !o.double_buffer)
                    CU_ASSERT(s->u.pool.am_in1 == s->u.pool.am_in0 && s->u.pool.am_out1 == s->u.pool.am_out0);
                if (!s || s->kind != BK_KIND_CONV)
                    continue;
                const BkConv *c = &s->u.conv;
                CU_ASSERT_EQUAL(c->single_buf, !o.double_buffer);
                CU_ASSERT_EQUAL(c->no_share, !o.weight_sharing);
                if (!o.double_buffer)
                    CU_ASSERT(c->sm_in1 == c->sm_in0 && c->am_w1 == c->am_w0);
                for (int k = 0; k < s->cores && !o.weight_sharing; k++)
                    CU_ASSERT_EQUAL(bk_conv_share(c, k, s->cores).bcast, 0);
            }
            ir_graph_free(g);
        }
}

/* Efficiency of a layer's region in a driver report; -1 if absent. */
static double region_eff(const char *rep, const char *name) {
    char key[128];
    snprintf(key, sizeof key, "region %s ", name);
    const char *p = rep ? strstr(rep, key) : NULL;
    unsigned long long cyc;
    double eff;
    if (!p || sscanf(p + strlen(key), "%llu %lf", &cyc, &eff) != 2)
        return -1;
    return eff;
}

/* The 3x3 conv layers of VGG-16 (one per stage), each fed by a 1x1 conv so
 * it reads blocked data as inside the network, followed by the stage's max
 * pool (fused into it) and a small 1x1 conv; reports cycles/efficiency and
 * checks the results. */
static void test_vgg_layers(void) {
    static const int cfg[][2] = {{64, 224}, {128, 112}, {256, 56}, {512, 28}, {512, 14}};
    double sum = 0;
    int n = (int)(sizeof cfg / sizeof cfg[0]);
    for (int i = 0; i < n; i++) {
        int c = cfg[i][0], hw = cfg[i][1];
        char tag[64];
        snprintf(tag, sizeof tag, "vgg_%d_%d", c, hw);
        IrGraph *g = ir_graph_new(tag);
        int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){1, c, hw, hw});
        ir_graph_add_input(g, x);
        int t = tg_add_conv(g, "pre", x, c, 1, 1, 0, IR_ACT_NONE, 1);
        t = tg_add_conv(g, "conv3x3", t, c, 3, 1, 1, IR_ACT_RELU, 1);
        t = tg_add_pool(g, "pool", IR_MAXPOOL, t, 2, 2, 0); /* fused into conv3x3 */
        t = tg_add_conv(g, "post", t, 32, 1, 1, 0, IR_ACT_NONE, 1);
        ir_graph_add_output(g, t);
        char *rep = NULL;
        double err = run_case(g, tag, NULL, &rep);
        double eff = region_eff(rep, "conv3x3");
        const BkSched *s = g->l[1].sched;
        printf("\n  %s: 3x3 conv %d->%d on %dx%d + 2x2 max pool: efficiency %.2f%% (predicted %.2f%%), "
               "error %.3g\n", tag, c, c, hw, hw, 100 * eff, 100 * s->eff_pred, err);
        if (getenv("M7CC_TEST_DUMP") && rep)
            fputs(rep, stdout);
        CU_ASSERT(err >= 0 && err < 1e-4);
        CU_ASSERT(eff > 0 && eff <= 1);
        sum += eff;
        free(rep);
        ir_graph_free(g);
    }
    printf("  average 3x3 conv efficiency on 4 cores: %.2f%%\n", 100 * sum / n);
}

/* VGG's FC 4096 -> 4096 at batch 1 (weight streaming, DDR-bound) and at
 * batch 64 (weights reused across the batch as pixels). */
static void test_fc_layers(void) {
    static const int batch[] = {1, 64};
    for (int i = 0; i < 2; i++) {
        char tag[64];
        snprintf(tag, sizeof tag, "fc_b%d", batch[i]);
        IrGraph *g = ir_graph_new(tag);
        int x = tg_tensor(g, "x", IR_T_INPUT, 2, (int64_t[]){batch[i], 4096});
        ir_graph_add_input(g, x);
        int t = tg_add_fc(g, "fc", x, 4096, IR_ACT_RELU);
        t = tg_add_fc(g, "fc2", t, 10, IR_ACT_NONE);
        ir_graph_add_output(g, t);
        char *rep = NULL;
        double err = run_case(g, tag, NULL, &rep);
        const BkSched *s = g->l[0].sched;
        printf("\n  %s: FC 4096->4096 batch %d: efficiency %.2f%% (predicted %.2f%%), error %.3g\n", tag,
               batch[i], 100 * region_eff(rep, "fc"), 100 * s->eff_pred, err);
        CU_ASSERT(err >= 0 && err < 1e-4);
        free(rep);
        ir_graph_free(g);
    }
}

/* Emission fails cleanly: an unwritable weights path leaves none of the
 * three files (nor temporaries) behind; --dump-ir shows the decisions. */
static void test_emit_errors_and_dump(void) {
    IrGraph *g = ir_graph_new("emit");
    int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){1, 3, 8, 8});
    ir_graph_add_input(g, x);
    int t = tg_add_conv(g, "c1", x, 32, 3, 1, 1, IR_ACT_RELU, 1);
    ir_graph_add_output(g, t);
    M7Machine m;
    default_machine(&m);
    IrDiag d = {0};
    CU_ASSERT_EQUAL_FATAL(backend_run(g, &m, &d), 0);
    char c[300], h[300], cmd[700];
    snprintf(c, sizeof c, "%s/emit.c", tmpdir);
    snprintf(h, sizeof h, "%s/emit.h", tmpdir);
    CU_ASSERT_EQUAL(codegen_emit(g, &m, c, h, "/nonexistent_dir/emit.weights", &d), -1);
    CU_ASSERT(d.n == 1 && strstr(d.msg[0], "/nonexistent_dir/emit.weights"));
    CU_ASSERT(access(c, F_OK) != 0 && access(h, F_OK) != 0);
    snprintf(cmd, sizeof cmd, "ls %s | grep -q tmp", tmpdir);
    CU_ASSERT(system(cmd) != 0); /* no temporaries left */
    ir_diag_free(&d);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ir_dump(g, f);
    fclose(f);
    CU_ASSERT(buf && strstr(buf, "backend: conv, channels-in-lanes") && strstr(buf, "tiles: block") &&
              strstr(buf, "predicted"));
    free(buf);
    ir_graph_free(g);
}


int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s RUNTIME_INC SIM_INC DRIVER_C LIBSIM LIBRUNTIME [slow]\n", argv[0]);
        return 2;
    }
    runtime_inc = argv[1], sim_inc = argv[2], driver_c = argv[3], libsim = argv[4], libruntime = argv[5];
    int slow = argc > 6 && !strcmp(argv[6], "slow");
    snprintf(tmpdir, sizeof tmpdir, "/tmp/m7cc_codegen_XXXXXX");
    if (!mkdtemp(tmpdir))
        return 2;
    static const TestCase slow_tests[] = {
        {"VGG-16 conv layers", test_vgg_layers},
        {"FC layers", test_fc_layers},
        {NULL, NULL},
    };
    static const TestCase tests[] = {
        {"emission errors, dump", test_emit_errors_and_dump},
        {"small CNN, odd sizes", test_small_cnn},
        {"batch 2, add, avgpool, NCHW output", test_batch_add_avgpool},
        {"FC batch 3 + sigmoid", test_fc_batch},
        {"every dimension split", test_split_everything},
        {"NCHW input to pool, FC on blocked", test_convert_pool_fc},
        {"grouped conv", test_grouped},
        {"gemm: transA, C matrix", test_gemm_forms},
        {"dilated and W-tiled max pool", test_pool_dilated},
        {"batchnorm, constant add/mul", test_affine},
        {"weights as graph inputs", test_runtime_weights},
        {"Gemm with B a graph input", test_runtime_gemm},
        {"concat and pad", test_concat_pad},
        {"reflect and edge pad", test_pad_modes},
        {"conv rows that read only padding", test_padding_rows},
        {"broadcast mul/add (SE gate)", test_broadcast},
        {"transpose, softmax over the last axis", test_transpose_softmax},
        {"reshape of blocked data, squeeze", test_reshape},
        {"transpose of any rank (moves)", test_moves_transpose},
        {"concat on any axis, mixed layouts (moves)", test_moves_concat},
        {"numpy broadcasting, plain element-wise", test_broadcast_general},
        {"Sub and Div", test_sub_div},
        {"softmax over other axes", test_softmax_axes},
        {"flatten of blocked data, other readers than FC", test_flatten_readers},
        {"1, 2 and 7 cores", test_core_counts},
        {"rows and channels split over the cores", test_split_2d},
        {"double buffering, weight sharing off", test_options_off},
        {NULL, NULL},
    };
    int fails = cunit_run("codegen", slow ? slow_tests : tests);
    if (!fails) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
        if (system(cmd))
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
    return fails ? 1 : 0;
}
