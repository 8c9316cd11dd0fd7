/* prog_tiny.c: a program as the code generator would emit it, for
 * y = x * w + 1 (x: a 1x64 input, w: 64 weights), split over the cores one
 * vector each.  Linked with the harness (sim_main_dep) it is a complete
 * simulator executable; test_harness.c drives it through m7sim_main. */
#include "runtime/m7rt.h"

int tiny_bug; /* for the tests: plants a race */

static void kernel(void) {
    int me = m7_core_id();
    m7_region_begin("mul_add", 2 * 64);
    if (me < 2) {
        uint64_t off = 128 * (uint64_t)me;
        m7_dma(0, M7_AM(0), M7_DDR(4096 + off), 1, 128, 0, 0);
        m7_dma(1, M7_AM(128), M7_DDR(0 + off), 1, 128, 0, 0);
        m7_dma_wait(0);
        if (!tiny_bug)
            m7_dma_wait(1);
        m7_vec y = m7_vfma(m7_vld(M7_AM(0)), m7_vld(M7_AM(128)), m7_vsplat(1.0f));
        m7_dma_wait(1);
        m7_vst(M7_AM(256), y);
        m7_dma(2, M7_DDR(8192 + off), M7_AM(256), 1, 128, 0, 0);
        m7_dma_wait(2);
    }
    m7_barrier();
    m7_region_end();
}

static const m7_io inputs[] = {{"x", 2, {1, 64}, 4096}};
static const m7_io outputs[] = {{"y", 2, {1, 64}, 8192}};
char tiny_weights[64] = "tiny_weights.bin";
const m7_program m7_main_program = {
    "tiny", "cores=4", tiny_weights, 0, 256, 16384, 1, 1, inputs, outputs, kernel,
};

