/* Unit tests of the backend passes: tiling under capacities (exact fit,
 * every dimension split, cannot fit), the cost model, the memory plan. */
#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

#include "tests/common/cunit_run.h"
#include "tests/common/tgraph.h"
#include "backend/backend.h"

/* MACHINE.md defaults, by hand (the tests do not need the simulator). */
static void machine(M7Machine *m) {
    memset(m, 0, sizeof *m);
    m->cores = 4, m->clock_ghz = 1.8, m->lanes = 32, m->vregs = 64, m->issue_width = 11;
    m->window = 1, m->n_vmac = 3, m->n_vls = 2, m->n_bcast = 2, m->n_sld = 1, m->n_vieu = 1;
    m->lat_vload = 9, m->lat_vstore = 4, m->lat_fma = 6, m->lat_bcast = 4, m->lat_sload = 6;
    m->lat_vint = 2, m->lat_reduce = 20, m->reduce_busy = 5;
    m->am_bytes = 768 * 1024, m->sm_bytes = 64 * 1024, m->gsm_bytes = 6 << 20;
    m->ddr_bytes = (int64_t)16 << 30;
    m->dma_channels = 16, m->dma_setup = 200, m->dma_row_overhead = 4;
    m->ddr_bw = 32e9 / 1.8e9, m->gsm_bw = 64, m->barrier_cycles = 100;
}

/* x -> conv(cout, k x k, pad k/2, no bias) -> next; returns the output tensor. */
static int conv(IrGraph *g, int x, int cout, int k) {
    const IrTensor *xt = &g->t[x];
    int64_t n = xt->dims[0], cin = xt->dims[1], h = xt->dims[2], w = xt->dims[3];
    int wt = tg_tensor(g, "w", IR_T_CONST, 4, (int64_t[]){cout, cin, k, k});
    int y = tg_act(g, "y", 4, (int64_t[]){n, cout, h, w});
    tg_conv(g, "conv", x, wt, -1, y, 1, (int[]){k / 2, k / 2, k / 2, k / 2}, 1);
    return y;
}

static IrGraph *one_conv(int cin, int cout, int h, int w, int k) {
    IrGraph *g = ir_graph_new("t");
    int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){1, cin, h, w});
    ir_graph_add_input(g, x);
    /* a first conv makes the layer under test read blocked data */
    int y = conv(g, conv(g, x, cin, 1), cout, k);
    ir_graph_add_output(g, y);
    return g;
}

/* A layer planned for a machine with exactly the AM it asked for gets the
 * same plan; 128 bytes less forces a different, smaller one. */
static void test_fits_exactly(void) {
    M7Machine m;
    machine(&m);
    m.cores = 1;
    IrGraph *g = one_conv(64, 64, 8, 8, 3);
    IrDiag d = {0};
    CU_ASSERT_EQUAL_FATAL(backend_run(g, &m, &d), 0);
    BkSched s = *g->l[1].sched;
    BkConv *c = &s.u.conv;
    CU_ASSERT(s.am_bytes <= m.am_bytes && s.sm_bytes <= m.sm_bytes);
    /* AM = bias + weight slots (2 when chunks alternate) + output slots
     * (2 tiles, or every tile of the core when partial sums stay) */
    int nchunks = (2 + c->co_chunk - 1) / c->co_chunk * ((64 + c->ci_chunk - 1) / c->ci_chunk);
    int64_t tiles = c->resident ? (int64_t)((8 + c->th - 1) / c->th) * ((8 + c->tw - 1) / c->tw) : 2;
    CU_ASSERT_EQUAL(s.am_bytes, 2 * 128 + (nchunks > 1 ? 2 : 1) * c->w_slot_bytes + tiles * c->out_tile_bytes);
    CU_ASSERT_EQUAL(c->w_slot_bytes, (int64_t)c->co_chunk * c->ci_chunk * 9 * 128);
    ir_graph_free(g);

    g = one_conv(64, 64, 8, 8, 3);
    m.am_bytes = s.am_bytes;
    CU_ASSERT_EQUAL_FATAL(backend_run(g, &m, &d), 0);
    BkSched *t = g->l[1].sched;
    CU_ASSERT_EQUAL(t->am_bytes, s.am_bytes);
    CU_ASSERT_EQUAL(memcmp(&t->u.conv, &s.u.conv, sizeof s.u.conv), 0);
    ir_graph_free(g);

    g = one_conv(64, 64, 8, 8, 3);
    m.am_bytes = s.am_bytes - 128;
    CU_ASSERT_EQUAL_FATAL(backend_run(g, &m, &d), 0);
    t = g->l[1].sched;
    CU_ASSERT(t->am_bytes <= m.am_bytes);
    CU_ASSERT(t->u.conv.co_chunk < 2 || t->u.conv.ci_chunk < 64 || t->u.conv.th * t->u.conv.tw < 64);
    ir_graph_free(g);
    CU_ASSERT_EQUAL(d.n, 0);
    ir_diag_free(&d);
}

/* 256 -> 256 channels, 3x3, 40x40 on a machine with 160 KB AM and 8 KB SM:
 * output channels, input channels, rows and columns must all be split. */
static void test_split_every_dimension(void) {
    M7Machine m;
    machine(&m);
    m.am_bytes = 160 * 1024, m.sm_bytes = 8 * 1024;
    IrGraph *g = one_conv(256, 256, 40, 40, 3);
    IrDiag d = {0};
    CU_ASSERT_EQUAL_FATAL(backend_run(g, &m, &d), 0);
    const BkSched *s = g->l[1].sched;
    const BkConv *c = &s->u.conv;
    /* a core's share: 40 rows in row_parts, 8 vectors in 4 / row_parts */
    int rows = (40 + c->row_parts - 1) / c->row_parts, vecs = (8 + 4 / c->row_parts - 1) / (4 / c->row_parts);
    CU_ASSERT(c->co_chunk < vecs);
    CU_ASSERT(c->ci_chunk < 256);
    CU_ASSERT(c->th < rows);
    CU_ASSERT(c->tw < 40);
    CU_ASSERT(s->am_bytes <= m.am_bytes);
    CU_ASSERT(s->sm_bytes <= m.sm_bytes);
    CU_ASSERT(s->cyc_pred > 0 && s->eff_pred > 0 && s->eff_pred <= 1);
    ir_graph_free(g);
    ir_diag_free(&d);
}

/* With 8 KB of AM not even one weight vector chunk fits: a clear error. */
static void test_cannot_fit(void) {
    M7Machine m;
    machine(&m);
    m.am_bytes = 8 * 1024;
    IrGraph *g = one_conv(64, 64, 16, 16, 3);
    IrDiag d = {0};
    CU_ASSERT_EQUAL(backend_run(g, &m, &d), -1);
    CU_ASSERT_FATAL(d.n >= 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(d.msg[0], "no tiling fits"));
    CU_ASSERT_PTR_NOT_NULL(strstr(d.msg[0], "AM"));
    ir_graph_free(g);
    ir_diag_free(&d);
}

/* The micro-kernel schedules reach their bounds: 4x6 and 4x7 with channel
 * pairs are FMA-bound (48 / 3 and 56 / 3 cycles a step), 1x12 is bound by
 * its scalar loads and broadcasts (12 a step, 1 and 2 a cycle), 2x2 by the
 * accumulator chain (two dependent FMAs of 6 cycles).  A call costs ii
 * cycles per step more for every step more, and beyond its steps little more
 * than loading and storing its accumulators (two a cycle) and the pipeline
 * fill; every block fits the registers. */
static void test_mk_cost(void) {
    M7Machine m;
    machine(&m);
    static const int want[][3] = {{4, 6, 16}, {4, 7, 19}, {1, 12, 12}, {2, 2, 12}};
    for (int i = 0; i < 4; i++) {
        const BkMkLoop *L = bk_mk_loop(&m, want[i][0], want[i][1], 1);
        CU_ASSERT_EQUAL(L->ii, want[i][2]);
        double c32 = bk_mk_call_cycles(&m, L->vb, L->pb, 1, 32, 9, BK_MK_INIT_LOAD, BK_MK_ACT_RELU);
        double c64 = bk_mk_call_cycles(&m, L->vb, L->pb, 1, 64, 9, BK_MK_INIT_LOAD, BK_MK_ACT_RELU);
        CU_ASSERT_DOUBLE_EQUAL(c64 - c32, 16.0 * 9 * L->ii, 1e-9);
        CU_ASSERT(c32 >= 16.0 * 9 * L->ii && c32 <= 16.0 * 9 * L->ii + 2 * L->vb * L->pb + 40);
    }
    for (int vb = 1; vb <= M7K_MAXV; vb++)
        for (int pb = 1; pb <= M7K_MAXP && vb * pb <= M7K_MAXACC; pb++)
            for (int two = 0; two < 2; two++)
                CU_ASSERT(bk_mk_loop(&m, vb, pb, two)->vregs <= m.vregs - 2);
}

/* The weight-gradient schedules reach their bounds too, two pixels a
 * step: 2 dY vectors x 6 channel pairs and 4 x 3 are FMA-bound (48 FMAs, 3
 * a cycle: 16 cycles a step), 1 x 6 by its twelve SLDDWs (one a cycle),
 * 1 x 1 by the chain of each accumulator (two FMAs of 6 cycles a step).
 * A call costs ii cycles per two pixels more, and beyond them little more
 * than its accumulators' loads and stores; an odd pixel count costs one
 * pixel's step more.  Blocks beyond 28 accumulators or the registers have
 * no schedule, and every block of two pixels a step has a one-pixel one. */
static void test_gw_cost(void) {
    M7Machine m;
    machine(&m);
    static const int want[][3] = {{2, 6, 16}, {4, 3, 16}, {1, 6, 12}, {1, 1, 12}};
    for (int i = 0; i < 4; i++) {
        const BkMkLoop *L = bk_gw_loop(&m, want[i][0], want[i][1], 2);
        CU_ASSERT_FATAL(L != NULL);
        CU_ASSERT_EQUAL(L->ii, want[i][2]);
        double c64 = bk_gw_call_cycles(&m, L->vb, L->pb, 64), c96 = bk_gw_call_cycles(&m, L->vb, L->pb, 96);
        double c65 = bk_gw_call_cycles(&m, L->vb, L->pb, 65);
        CU_ASSERT_DOUBLE_EQUAL(c96 - c64, 16.0 * L->ii, 1e-9);
        CU_ASSERT(c64 >= 32.0 * L->ii && c64 <= 32.0 * L->ii + 2 * L->vb * L->pb + 40);
        CU_ASSERT(c65 > c64 && c65 <= c64 + bk_gw_loop(&m, L->vb, L->pb, 1)->ii + 40);
    }
    for (int vb = 1; vb <= M7K_MAXV; vb++)
        for (int pp = 1; pp <= M7K_MAXP; pp++)
            for (int px = 1; px <= 2; px++) {
                const BkMkLoop *L = bk_gw_loop(&m, vb, pp, px);
                CU_ASSERT(!L || (2 * vb * pp <= M7K_MAXACC && L->vregs <= m.vregs - 2));
                CU_ASSERT(!L || px == 1 || bk_gw_loop(&m, vb, pp, 1)); /* an odd pixel's loop */
            }
}

/* A chain of convs: buffers are reused, so the arena peak is two buffers
 * while the total is one per layer. */
static void test_memplan_reuse(void) {
    M7Machine m;
    machine(&m);
    IrGraph *g = ir_graph_new("chain");
    int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){1, 32, 8, 8});
    ir_graph_add_input(g, x);
    int t = x;
    for (int i = 0; i < 5; i++)
        t = conv(g, t, 32, 3);
    ir_graph_add_output(g, t);
    IrDiag d = {0};
    CU_ASSERT_EQUAL_FATAL(backend_run(g, &m, &d), 0);
    BkProgram p;
    bk_program(g, &p);
    int64_t buf = 32 * 8 * 8 * 4;
    /* five conv outputs (the last converted to the NCHW graph output) */
    CU_ASSERT_EQUAL(p.act_total, 5 * buf);
    CU_ASSERT_EQUAL(p.act_peak, 2 * buf);
    const BkSched *s0 = g->l[0].sched, *s2 = g->l[2].sched;
    CU_ASSERT_EQUAL(s0->out.ddr, s2->out.ddr);
    CU_ASSERT(g->l[1].sched->out.ddr != s0->out.ddr);
    CU_ASSERT(p.weights_bytes >= 5 * 32 * 32 * 9 * 4);
    CU_ASSERT(p.ddr_bytes >= p.weights_bytes + p.act_peak);
    ir_graph_free(g);
    ir_diag_free(&d);
}

/* Unsupported layers are named, all of them. */
static void test_unsupported(void) {
    M7Machine m;
    machine(&m);
    IrGraph *g = ir_graph_new("bad");
    int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){1, 8, 4, 4});
    ir_graph_add_input(g, x);
    int y = tg_tensor(g, "y", IR_T_ACT, 4, (int64_t[]){1, 8, 4, 4});
    ir_add_layer(g, IR_LRN, "norm1", "LRN", (int[]){x}, 1, (int[]){y}, 1);
    int z = tg_tensor(g, "z", IR_T_ACT, 4, (int64_t[]){1, 8, 4, 4});
    ir_add_layer(g, IR_LRN, "norm2", "LRN", (int[]){y}, 1, (int[]){z}, 1);
    ir_graph_add_output(g, z);
    IrDiag d = {0};
    CU_ASSERT_EQUAL(backend_run(g, &m, &d), -1);
    CU_ASSERT_EQUAL(d.n, 2);
    CU_ASSERT(d.n == 2 && strstr(d.msg[0], "norm1") && strstr(d.msg[1], "norm2"));
    ir_graph_free(g);
    ir_diag_free(&d);
}

/* Run-time weights: the packing DMAs move every weight once, in far fewer
 * transfers than elements; weights that are neither constants nor graph
 * inputs, a Gemm with transA, BatchNorm with mixed parameters are refused
 * by name. */
static void test_runtime_weights(void) {
    M7Machine m;
    machine(&m);
    IrGraph *g = ir_graph_new("rt");
    int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){1, 5, 6, 6});
    int w = tg_tensor(g, "w", IR_T_INPUT, 4, (int64_t[]){40, 5, 3, 3});
    ir_graph_add_input(g, x);
    ir_graph_add_input(g, w);
    int y = tg_tensor(g, "y", IR_T_ACT, 4, (int64_t[]){1, 40, 6, 6});
    int li = ir_add_layer(g, IR_CONV, "conv", "Conv", (int[]){x, w}, 2, (int[]){y}, 1);
    IrConvAttr *a = &g->l[li].a.conv;
    a->kernel[0] = a->kernel[1] = 3;
    a->stride[0] = a->stride[1] = a->dilation[0] = a->dilation[1] = a->group = 1;
    a->pad[0] = a->pad[1] = a->pad[2] = a->pad[3] = 1;
    ir_graph_add_output(g, y);
    IrDiag d = {0};
    CU_ASSERT_EQUAL_FATAL(backend_run(g, &m, &d), 0);
    CU_ASSERT(bk_has_rt_pack(g, &g->l[li]));
    M7kDmaDesc *dm;
    int64_t n = bk_rt_pack_dma(g, &g->l[li], &dm), bytes = 0;
    for (int64_t i = 0; i < n; i++)
        bytes += (int64_t)dm[i].rows * dm[i].row_bytes;
    CU_ASSERT_EQUAL(bytes, 40 * 5 * 9 * 4);
    CU_ASSERT(n > 0 && n <= 2 * 5 * 9); /* at most one per output vector and (ci, tap) */
    free(dm);
    ir_graph_free(g);

    /* refusals */
    g = ir_graph_new("rt_bad");
    int xa = tg_tensor(g, "xa", IR_T_INPUT, 2, (int64_t[]){4, 3});
    int b = tg_tensor(g, "b", IR_T_INPUT, 2, (int64_t[]){4, 5});
    int c = tg_tensor(g, "c", IR_T_INPUT, 4, (int64_t[]){1, 5, 2, 2});
    ir_graph_add_input(g, xa);
    ir_graph_add_input(g, b);
    ir_graph_add_input(g, c);
    int ya = tg_tensor(g, "ya", IR_T_ACT, 2, (int64_t[]){3, 5});
    int cm = tg_tensor(g, "cm", IR_T_INPUT, 2, (int64_t[]){2, 5}); /* 2 rows: not broadcastable to 3 */
    ir_graph_add_input(g, cm);
    li = ir_add_layer(g, IR_GEMM, "gemm_c", "Gemm", (int[]){xa, b, cm}, 3, (int[]){ya}, 1);
    g->l[li].a.gemm = (IrGemmAttr){1.0f, 1.0f, 1, 0};
    int p[4] = {tg_tensor(g, "s", IR_T_INPUT, 1, (int64_t[]){5}), tg_tensor(g, "t", IR_T_CONST, 1, (int64_t[]){5}),
                tg_tensor(g, "mu", IR_T_CONST, 1, (int64_t[]){5}), tg_tensor(g, "var", IR_T_CONST, 1, (int64_t[]){5})};
    ir_graph_add_input(g, p[0]);
    int yb = tg_tensor(g, "yb", IR_T_ACT, 4, (int64_t[]){1, 5, 2, 2});
    ir_add_layer(g, IR_BATCHNORM, "bn_mixed", "BatchNormalization", (int[]){c, p[0], p[1], p[2], p[3]}, 5,
                 (int[]){yb}, 1);
    int wr = tg_tensor(g, "wr", IR_T_ACT, 4, (int64_t[]){5, 5, 1, 1}); /* weights computed by a layer */
    int w0 = tg_tensor(g, "w0", IR_T_INPUT, 4, (int64_t[]){5, 5, 1, 1});
    ir_graph_add_input(g, w0);
    ir_add_layer(g, IR_RELU, "relu_w", "Relu", (int[]){w0}, 1, (int[]){wr}, 1);
    int yc = tg_tensor(g, "yc", IR_T_ACT, 4, (int64_t[]){1, 5, 2, 2});
    li = ir_add_layer(g, IR_CONV, "conv_wr", "Conv", (int[]){yb, wr}, 2, (int[]){yc}, 1);
    a = &g->l[li].a.conv;
    a->kernel[0] = a->kernel[1] = 1;
    a->stride[0] = a->stride[1] = a->dilation[0] = a->dilation[1] = a->group = 1;
    ir_graph_add_output(g, ya);
    ir_graph_add_output(g, yc);
    CU_ASSERT_EQUAL(backend_run(g, &m, &d), -1);
    CU_ASSERT_EQUAL(d.n, 3);
    CU_ASSERT(d.n == 3 && strstr(d.msg[0], "gemm_c") && strstr(d.msg[0], "broadcastable"));
    CU_ASSERT(d.n == 3 && strstr(d.msg[1], "bn_mixed") && strstr(d.msg[1], "all graph inputs"));
    CU_ASSERT(d.n == 3 && strstr(d.msg[2], "conv_wr") && strstr(d.msg[2], "constants or graph inputs"));
    ir_graph_free(g);
    ir_diag_free(&d);
}

/* Options off, priced: a DMA-heavy layer (512 channels at 7x7: every
 * weight used by 49 pixels only) costs more without double buffering, as
 * compute and DMA no longer overlap, and its single-buffered plan has one
 * slot per stream; without weight sharing no core takes part in a
 * broadcast and the DMA bytes do not shrink. */
static void test_options_cost(void) {
    M7Machine m;
    machine(&m);
    BkOptions o[3];
    for (int k = 0; k < 3; k++) {
        bk_options_default(&o[k]);
        o[k].double_buffer = k != 1;
        o[k].weight_sharing = k != 2;
    }
    BkSched s[3];
    IrDiag d = {0};
    for (int k = 0; k < 3; k++) {
        IrGraph *g = one_conv(512, 512, 7, 7, 3);
        CU_ASSERT_EQUAL_FATAL(backend_run_opts(g, &m, &o[k], &d), 0);
        s[k] = *g->l[1].sched;
        ir_graph_free(g);
    }
    printf("\n  512x512 3x3 at 7x7: predicted %.0f cycles (dma %.0f), no double buffering %.0f, "
           "no weight sharing %.0f (dma %.0f)\n", s[0].cyc_pred, s[0].cyc_dma, s[1].cyc_pred, s[2].cyc_pred,
           s[2].cyc_dma);
    CU_ASSERT(s[0].cyc_dma > 0.3 * s[0].cyc_compute); /* DMA-heavy indeed */
    CU_ASSERT(s[1].cyc_pred > s[0].cyc_pred);
    CU_ASSERT(s[1].cyc_pred >= s[1].cyc_compute + s[1].cyc_dma);
    const BkConv *c = &s[1].u.conv;
    CU_ASSERT(c->single_buf && c->sm_in1 == c->sm_in0 && c->am_w1 == c->am_w0);
    CU_ASSERT_EQUAL(s[1].sm_bytes, c->sm_slot_bytes);
    CU_ASSERT_EQUAL(s[0].sm_bytes, 2 * s[0].u.conv.sm_slot_bytes);
    for (int k = 0; k < m.cores; k++)
        CU_ASSERT_EQUAL(bk_conv_share(&s[2].u.conv, k, m.cores).bcast, 0);
    CU_ASSERT(s[2].dma_bytes >= s[0].dma_bytes);
    CU_ASSERT(s[2].cyc_pred >= s[0].cyc_pred);
    CU_ASSERT_EQUAL(d.n, 0);
    ir_diag_free(&d);
}

/* An output folded to a constant (Shape of an input) is refused with its
 * name; a program without layers still has the blob's fixed head, which
 * bk_pack_weights always writes (fuzz finding: heap overflow). */
static void test_constant_output(void) {
    M7Machine m;
    machine(&m);
    IrGraph *g = ir_graph_new("const");
    int x = tg_tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){1, 8, 4, 4});
    ir_graph_add_input(g, x);
    int y = tg_tensor(g, "shape_of_x", IR_T_CONST, 1, (int64_t[]){4});
    ir_graph_add_output(g, y);
    IrDiag d = {0};
    CU_ASSERT_EQUAL(backend_run(g, &m, &d), -1);
    CU_ASSERT(d.n == 1 && strstr(d.msg[0], "'shape_of_x' is a constant"));
    BkProgram p;
    bk_program(g, &p);
    CU_ASSERT(p.weights_bytes >= BK_BLOB_IOTA + 32 * 4);
    ir_graph_free(g);
    ir_diag_free(&d);
}

int main(void) {
    static const TestCase tests[] = {
        {"tiles fit exactly", test_fits_exactly},
        {"every dimension split", test_split_every_dimension},
        {"cannot fit", test_cannot_fit},
        {"options off, priced", test_options_cost},
        {"micro-kernel cost", test_mk_cost},
        {"weight-gradient micro-kernel cost", test_gw_cost},
        {"memory plan reuses buffers", test_memplan_reuse},
        {"unsupported layers named", test_unsupported},
        {"run-time weights: packing DMAs, refusals", test_runtime_weights},
        {"constant output refused", test_constant_output},
        {NULL, NULL},
    };
    return cunit_run("backend", tests);
}
