/* microkernels.h: kernels with analytically known timing (microkernels.c),
 * shared by the timing tests and the simulator benchmark. */
#ifndef MICROKERNELS_H
#define MICROKERNELS_H

#include "runtime/m7rt.h"

enum {
    MK_NACC = 18,        /* accumulators that keep 3 VMACs busy (6 x 3) */
    MK_NB = 12,          /* accumulators of the broadcast loop */
    MK_TILE = 16384,     /* bytes per tile of mk_tiles */
    MK_TILES = 12,
    MK_PER_VEC = 24,     /* FMAs per loaded vector in mk_tiles */
};

extern long mk_n, mk_param;     /* loop count; a second knob */
extern m7_addr mk_dst, mk_src;  /* mk_dma, mk_dma_bcast */
extern int mk_double, mk_do_dma, mk_do_compute; /* mk_tiles variants */

void mk_chain(void);        /* mk_n dependent FMAs */
void mk_indep(void);        /* mk_n rounds of MK_NACC independent FMAs */
void mk_loads(void);        /* mk_n steps of 4 loads + 2 FMAs */
void mk_bcast(void);        /* mk_n steps of 1 SM pair load, 2 broadcasts, 2 FMAs */
void mk_dma(void);          /* core 0: mk_param bytes in mk_n rows, mk_src -> mk_dst */
void mk_dma_bcast(void);    /* every core: the same as a broadcast */
void mk_bcast_private(void); /* core 1 a private 64 KiB DMA, then all a 32 KiB broadcast, then core 2 a private one */
void mk_two_channels(void); /* two 32 KiB DDR->AM transfers at once */
void mk_small_rows(void);   /* core 0: 16 transfers of 1024 x 16-B rows DDR->AM over mk_param channels */
void mk_tiles(void);        /* MK_TILES tiles: DMA then compute, single or double buffered */
void mk_imbalance(void);    /* core c: (c+1) x mk_n chained FMAs, then a barrier if mk_param */
void mk_stream(void);       /* mk_n steps of a load and an FMA using it */
void mk_gemm(void);         /* mk_n steps of a conv inner loop (38 instructions) */
void mk_am_chain(void);     /* mk_n steps of load, FMA, store back to the same AM line */
void mk_sm_chain(void);     /* mk_n steps of an SM word loaded and stored back */

#endif
