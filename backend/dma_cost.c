/* dma_cost.c: the price of one DMA transfer (docs/machine.md, section 3):
 * setup + rows x row overhead + bytes / bandwidth, the DDR bandwidth shared
 * by the cores (a broadcast reads once at the whole chip's). */
#include "backend/backend.h"

double bk_dma_cycles(const M7Machine *m, int64_t rows, int64_t bytes, int bcast) {
    double bw = bcast ? m->ddr_bw : m->ddr_bw / m->cores;
    return m->dma_setup + (double)rows * m->dma_row_overhead + (double)bytes / bw;
}


double bk_gsm_cycles(const M7Machine *m, int64_t rows, int64_t bytes) {
    return m->dma_setup + (double)rows * m->dma_row_overhead + (double)bytes / m->gsm_bw;
}

double bk_dma_stream_cycles(const M7Machine *m, double transfers, double bytes) {
    return m->dma_setup + transfers * m->dma_row_overhead + bytes / (m->ddr_bw / m->cores);
}
