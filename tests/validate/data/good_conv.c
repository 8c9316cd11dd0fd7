/* good_conv.c: a program as the code generator writes it, for the validator
 * tests (it must pass cleanly) and run on the simulator by test_validate.c
 * (it must also be right).
 *
 * conv1: 3x3 convolution, padding 1, 4 -> 32 channels on an 8x8 image, then
 * ReLU.  Channels in lanes: the 36 weight vectors (32 output channels each)
 * are broadcast by DMA to every core's AM and kept in registers; input
 * pixels are loaded from SM and broadcast to the lanes.  Core c computes
 * output rows c, c + cores, ...; the 3-row input window of the next row is
 * fetched DDR -> SM while the current one is computed (double buffering).
 */
#include "m7rt.h"

#define CONV1_C 4
#define CONV1_H 8
#define CONV1_W 8
#define CONV1_K 32
#define CONV1_TAPS (CONV1_C * 9)

/* DDR: weights [ci][ky][kx][co], input 1x4x8x8, output 1x32x8x8 (NCHW). */
#define W_DDR 0
#define W_BYTES (CONV1_TAPS * M7_VEC_BYTES)
#define X_DDR (W_DDR + W_BYTES)
#define Y_DDR (X_DDR + CONV1_C * CONV1_H * CONV1_W * 4)
#define DDR_BYTES (Y_DDR + CONV1_K * CONV1_H * CONV1_W * 4)

/* On-chip layout of conv1, per core (validate/validate.h's convention). */
#define CONV1_W_AM 0                                 /* 36 weight vectors */
#define CONV1_OUT_AM 4608                            /* 2 x 8 output pixels */
#define CONV1_AM_BYTES (4608 + 2 * 8 * 128)
#define CONV1_IN_SM 0                                /* 2 x 4 channels x 3 rows */
#define CONV1_SM_BYTES (2 * 4 * 3 * 8 * 4)

/* Channels: input window buffer b, channel c on b * CONV1_C + c; output rows
 * from buffer b on 8 + b; weights on 15. */
static void conv1_fetch(int y, int buf) {
    int y0 = y > 0 ? y - 1 : 0, y1 = y < CONV1_H - 1 ? y + 1 : CONV1_H - 1;
    for (int c = 0; c < CONV1_C; c++) {
        uint64_t row = (uint64_t)((buf * CONV1_C + c) * 3 + (y0 - y + 1));
        m7_dma(buf * CONV1_C + c, M7_SM(CONV1_IN_SM + row * CONV1_W * 4),
               M7_DDR(X_DDR + (uint64_t)((c * CONV1_H + y0) * CONV1_W * 4)),
               (uint32_t)(y1 - y0 + 1), CONV1_W * 4, CONV1_W * 4, CONV1_W * 4);
    }
}

static void conv1_wait(int buf) {
    for (int c = 0; c < CONV1_C; c++)
        m7_dma_wait(buf * CONV1_C + c);
}

static void conv1(void) {
    int me = m7_core_id(), n = m7_core_count();
    m7_region_begin("conv1", UINT64_C(2) * CONV1_K * CONV1_TAPS * CONV1_H * CONV1_W);
    m7_dma_bcast(15, M7_AM(CONV1_W_AM), M7_DDR(W_DDR), 1, W_BYTES, 0, 0);
    m7_dma_wait(15);
    m7_vec w[CONV1_TAPS];
    for (int t = 0; t < CONV1_TAPS; t++)
        w[t] = m7_vld(M7_AM(CONV1_W_AM + (uint64_t)t * M7_VEC_BYTES));
    m7_vec zero = m7_vzero();
    if (me < CONV1_H)
        conv1_fetch(me, 0);
    for (int y = me, j = 0; y < CONV1_H; y += n, j++) {
        int buf = j % 2;
        if (y + n < CONV1_H)
            conv1_fetch(y + n, 1 - buf);
        conv1_wait(buf);
        m7_vec acc[CONV1_W];
        for (int x = 0; x < CONV1_W; x++)
            acc[x] = m7_vzero();
        for (int c = 0; c < CONV1_C; c++)
            for (int ky = 0; ky < 3; ky++) {
                int iy = y + ky - 1;
                if (iy < 0 || iy >= CONV1_H)
                    continue;
                uint64_t row = CONV1_IN_SM + (uint64_t)(((buf * CONV1_C + c) * 3 + ky) * CONV1_W * 4);
                for (int x = 0; x < CONV1_W; x++)
                    for (int kx = 0; kx < 3; kx++) {
                        int ix = x + kx - 1;
                        if (ix < 0 || ix >= CONV1_W)
                            continue;
                        m7_scalar s = m7_sld(M7_SM(row + (uint64_t)ix * 4));
                        acc[x] = m7_vfma(w[(c * 3 + ky) * 3 + kx], m7_vbcast(s), acc[x]);
                    }
            }
        /* the row stored from this buffer two rows ago must have left */
        m7_dma_wait(8 + buf);
        uint64_t out = CONV1_OUT_AM + (uint64_t)buf * CONV1_W * M7_VEC_BYTES;
        for (int x = 0; x < CONV1_W; x++)
            m7_vst(M7_AM(out + (uint64_t)x * M7_VEC_BYTES), m7_vmax(acc[x], zero));
        for (int k = 0; k < CONV1_K; k++)
            m7_dma(8 + buf, M7_DDR(Y_DDR + (uint64_t)((k * CONV1_H + y) * CONV1_W) * 4),
                   M7_AM(out + (uint64_t)k * 4), CONV1_W, 4, 4, M7_VEC_BYTES);
    }
    m7_dma_wait(8);
    m7_dma_wait(9);
    m7_barrier();
    m7_region_end();
}

static void kernel(void) {
    conv1();
}

static const m7_io inputs[] = {{"x", 4, {1, CONV1_C, CONV1_H, CONV1_W}, X_DDR}};
static const m7_io outputs[] = {{"y", 4, {1, CONV1_K, CONV1_H, CONV1_W}, Y_DDR}};
const m7_program m7_main_program = {
    .name = "good_conv",
    .machine = "",
    .weights_file = "good_conv.weights",
    .weights_ddr_offset = W_DDR,
    .weights_bytes = W_BYTES,
    .ddr_bytes = DDR_BYTES,
    .n_inputs = 1,
    .n_outputs = 1,
    .inputs = inputs,
    .outputs = outputs,
    .kernel = kernel,
};
