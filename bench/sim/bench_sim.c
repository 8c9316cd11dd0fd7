/* bench_sim.c: the simulator's timing model on micro-kernels (case,
 * expected by MACHINE.md's rules, measured) and the simulator's own speed
 * (simulated instructions per host second, 1 and 2 host threads).
 * Usage: bench_sim [steps-for-speed]   (default 300000 per core) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "simulator/m7sim.h"
#include "tests/simulator/microkernels.h"

static M7Sim *make(const char *overrides, uint64_t ddr) {
    M7Machine m;
    char err[256];
    m7_machine_default(&m);
    if (m7_machine_apply_list(&m, overrides, err, sizeof err) < 0) {
        fprintf(stderr, "bench_sim: %s\n", err);
        exit(2);
    }
    M7Sim *s = m7sim_new(&m, ddr, err, sizeof err);
    if (!s) {
        fprintf(stderr, "bench_sim: %s\n", err);
        exit(2);
    }
    return s;
}

static double run(M7Sim *s, void (*k)(void)) {
    if (m7sim_run(s, k) < 0) {
        fprintf(stderr, "bench_sim: %s\n", m7sim_error(s)->msg);
        exit(1);
    }
    return (double)m7sim_cycles(s);
}

/* Cycles per step of kernel k: the difference of two loop counts. */
static double per_step(M7Sim *s, void (*k)(void), long n1, long n2) {
    mk_n = n1;
    double a = run(s, k);
    mk_n = n2;
    double b = run(s, k);
    return (b - a) / (double)(n2 - n1);
}

static int bad;
/* A row is flagged when measured is off by more than tol (relative). */
static void row(const char *name, double expected, double measured, const char *unit, double tol) {
    int ok = fabs(measured - expected) <= tol * fabs(expected) + 1e-9;
    bad += !ok;
    printf("%-44s %14.2f %14.2f  %-18s %s\n", name, expected, measured, unit, ok ? "" : "  <-- off");
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    long speed_steps = argc > 1 ? atol(argv[1]) : 300000;
    if (speed_steps < 1000) {
        fprintf(stderr, "usage: bench_sim [steps-for-speed >= 1000]\n");
        return 2;
    }
    printf("%-44s %14s %14s  %s\n", "case", "expected", "measured", "unit");

    M7Sim *s = make("cores=1", 1 << 20);
    row("dependent FMA chain", 6, per_step(s, mk_chain, 1000, 2000), "cycles/FMA", 0);
    row("18 independent accumulators", 3, MK_NACC / per_step(s, mk_indep, 1000, 2000), "FMAs/cycle", 0);
    row("load-bound loop (4 loads + 2 FMAs)", 2, 4 / per_step(s, mk_loads, 1000, 3000), "loads/cycle", 0);
    row("broadcast-bound loop (2 bcast + 2 FMAs)", 2, 2 / per_step(s, mk_bcast, 1200, 3600), "broadcasts/cycle", 0);
    row("stream, window 1 (load + FMA)", 9, per_step(s, mk_stream, 180, 360), "cycles/step", 0);
    m7sim_free(s);
    /* the same two kernels, not software-pipelined, on a machine that issues
     * up to 48 instructions ahead (a what-if: docs/machine.md 5.3) */
    s = make("cores=1,window=48", 1 << 20);
    row("conv inner loop, window 48 (24 FMAs a step)", 8, per_step(s, mk_gemm, 1000, 3000), "cycles/step", 0);
    row("stream, window 48 (load + FMA)", 0.5, per_step(s, mk_stream, 1800, 3600), "cycles/step", 0);
    m7sim_free(s);

    /* DMA: setup 200 + 4/row + bytes / bandwidth (a core's DDR share is 1/4) */
    s = make("", 1 << 20);
    double share = 32e9 / 1.8e9 / 4;
    long dma_cases[][2] = {{1, 65536}, {64, 65536}, {512, 131072}};
    for (int i = 0; i < 3; i++) {
        char name[64];
        mk_n = dma_cases[i][0], mk_param = dma_cases[i][1];
        mk_dst = M7_AM(0), mk_src = M7_DDR(0);
        snprintf(name, sizeof name, "DMA DDR->AM %ld B in %ld rows", mk_param, mk_n);
        row(name, 200 + 4.0 * mk_n + ceil((double)mk_param / share), run(s, mk_dma), "cycles", 0);
        mk_src = M7_GSM(0);
        snprintf(name, sizeof name, "DMA GSM->AM %ld B in %ld rows", mk_param, mk_n);
        row(name, 200 + 4.0 * mk_n + ceil((double)mk_param / 64), run(s, mk_dma), "cycles", 0);
        mk_src = M7_DDR(0);
        snprintf(name, sizeof name, "broadcast DDR->AM %ld B in %ld rows", mk_param, mk_n);
        row(name, 200 + 4.0 * mk_n + ceil((double)mk_param / (4 * share)), run(s, mk_dma_bcast), "cycles", 0);
    }
    /* a broadcast waits for the last core's link (core 1's private 64 KiB),
     * then a private transfer after it on core 2 waits for its bytes */
    double go = 204 + ceil(65536 / share), bend = go + 4 + ceil(32768 / (4 * share));
    run(s, mk_bcast_private);
    row("broadcast after core 1's private 64 KiB: core 0", bend, (double)m7sim_core_cycles(s, 0), "cycles", 0);
    row("... core 2's private 32 KiB after it", bend + 4 + ceil(32768 / share), (double)m7sim_core_cycles(s, 2),
        "cycles", 0);
    mk_n = 1, mk_param = 65536, mk_dst = M7_DDR(0), mk_src = M7_DDR(1 << 19);
    row("DMA DDR->DDR 65536 B (both directions)", 204 + ceil(2 * 65536 / share), run(s, mk_dma), "cycles", 0);
    m7sim_free(s);

    /* tiles: single buffering costs DMA + compute, double max(DMA, compute) */
    s = make("cores=1", MK_TILE * MK_TILES);
    double dma = 204 + ceil(MK_TILE / (32e9 / 1.8e9));
    mk_do_dma = 0, mk_double = 0;
    double compute = run(s, mk_tiles) / MK_TILES;
    mk_do_dma = 1;
    row("tile loop, single-buffered", dma + compute, run(s, mk_tiles) / MK_TILES, "cycles/tile", 0.01);
    mk_double = 1;
    /* the first tile's DMA and the fence after the previous tile show */
    row("tile loop, double-buffered", fmax(dma, compute), run(s, mk_tiles) / MK_TILES, "cycles/tile", 0.05);
    m7sim_free(s);

    /* barrier: every core ends at the slowest core's cycle + 100 (+ a store) */
    s = make("", 4096);
    mk_n = 500, mk_param = 0;
    double last = run(s, mk_imbalance) - 4;
    mk_param = 1;
    run(s, mk_imbalance);
    row("barrier: core 0 end (cores 1..4x work)", last + 104, (double)m7sim_core_cycles(s, 0), "cycles", 0);
    m7sim_free(s);

    /* speed: the conv inner loop on 4 cores */
    printf("\n%-10s %14s %12s %12s %14s %10s\n", "threads", "instructions", "seconds", "cpu seconds",
           "instr/second", "ns/instr");
    s = make("", 4096);
    double rate[4] = {0};
    for (int t = 1; t <= 3; t++) {
        m7sim_set_threads(s, t < 3 ? t : 1);
        mk_n = speed_steps;
        mk_param = t == 3; /* a DMA in flight: every access is race-checked */
        double t0 = now();
        clock_t c0 = clock();
        run(s, mk_gemm);
        double sec = now() - t0, ops = (double)m7sim_vec_ops(s);
        double cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
        rate[t] = ops / sec;
        printf("%-10s %14.0f %12.3f %12.3f %14.3g %10.1f\n", t == 3 ? "1 (+DMA)" : t == 1 ? "1" : "2",
               ops, sec, cpu, rate[t], 1e9 * sec / ops);
    }
    m7sim_free(s);
    /* VGG-16 batch 1 issues 769M instructions (the sum of the regions'
     * `instructions` in bench/vgg16.py's report, 2026-12-04): micro-kernels
     * and their address arithmetic, DMAs, the rest. */
    double vgg = 769e6;
    printf("VGG16 estimate (%.0fM instructions): %.1f s with 1 thread, %.1f s with 2\n", vgg / 1e6,
           vgg / rate[1], vgg / rate[2]);
    return bad ? 1 : 0;
}
