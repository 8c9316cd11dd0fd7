/* sim_internal.h: the simulator's state, shared by its files (not by users:
 * they see m7sim.h).  One Core per simulated core, reached in the hot path
 * through a thread-local pointer. */
#ifndef SIM_INTERNAL_H
#define SIM_INTERNAL_H

#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdint.h>

#include "m7sim.h"

/* Unit classes; their per-cycle counts are packed 8 bits each into a Slot,
 * with the total issued in the byte at U_TOTAL. */
enum { U_VMAC, U_VLS, U_BCAST, U_SLD, U_VIEU, U_N, U_TOTAL = 5 };

/* One cycle's issue slots, valid when tag equals the cycle (a ring indexed
 * by cycle mod size, so stale entries need no clearing). */
typedef struct {
    uint64_t tag, cnt;
} Slot;

/* A DMA transfer not yet waited for: what it reads and writes. */
typedef struct {
    int ch;
    int dst_mem, src_mem;
    uint64_t dst, src, dst_stride, src_stride;
    uint32_t rows, row_bytes;
} Xfer;

/* Cumulative per-core counters; a region is the difference of two snapshots. */
typedef struct {
    uint64_t dma_wait, barrier;
    uint64_t n_fma, n_muladd, ops;
    double bytes[M7SIM_LEVELS];
} Counters;

typedef struct {
    char *name;
    uint64_t flops;
    uint64_t begin, end;
    Counters c0, c1;
} CoreRegion;

/* Trace events: spans on a core's or a DMA channel's track. */
enum { EV_REGION, EV_DMA, EV_WAIT, EV_BARRIER };
typedef struct {
    int kind, ch;
    const char *name; /* EV_REGION: the CoreRegion's name */
    uint64_t t0, t1, bytes;
} Event;

typedef struct Core {
    struct M7Sim *sim;
    int id;
    uint8_t *am, *sm;
    uint64_t am_bytes, sm_bytes;
    /* timing */
    uint64_t floor, last_complete;
    uint64_t first_issue; /* earliest issue since the region began */
    uint64_t *win;     /* issue cycles of the last W instructions */
    /* when the last store to each AM line (128 B) and SM word (4 B) completes:
     * a load of it issues no earlier (MACHINE.md 5.4) */
    uint64_t *am_line_done, *sm_word_done;
    int widx, W;
    Slot *ring;
    uint64_t ring_mask;
    uint64_t cap[U_N];
    uint64_t issue_width;
    int lat_vload, lat_vstore, lat_fma, lat_bcast, lat_sload, lat_vint, lat_reduce, reduce_busy;
    Counters k;
    /* DMA */
    uint64_t *ch_free;
    uint64_t link_free[2]; /* DDR share, GSM port */
    uint64_t dma_end_region;
    Xfer *act;
    size_t nact, cap_act;
    uint64_t act_lo[M7SIM_LEVELS], act_hi[M7SIM_LEVELS]; /* offsets the active ones span */
    /* regions */
    CoreRegion *reg;
    size_t nreg, capreg;
    int open, trace_full;
    /* trace */
    Event *ev;
    size_t nev, capev;
    /* run control */
    int failed;
    uint64_t bcast_hash; /* of m7_dma_bcast arguments so far: equal on every core */
    M7SimError err;
    uint64_t end;
    jmp_buf jb;
    pthread_t th;
} Core;

struct M7Sim {
    M7Machine m;
    int ncores, threads, trace, progress;
    uint64_t ddr_bytes;
    uint8_t *ddr, *gsm;
    Core *core;
    /* barrier and host-thread tokens */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sem_t tokens;
    int arrived, done, any_failed, gen, abort_all, bcast_mismatch;
    uint64_t bar_max, coll_max; /* a collective: the latest arrival so far, and its result */
    /* results */
    M7SimError err;
    M7SimRegion *regions;
    int nregions;
    M7SimRegion total;
    uint64_t cycles, ops;
    double last_progress;
};

extern _Thread_local Core *m7sim_cur __attribute__((tls_model("initial-exec")));

/* Stops the calling core's run with an error (does not return). */
_Noreturn void m7sim_fail(Core *c, int kind, m7_addr addr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The calling core, for operations outside the hot path: calling the
 * runtime outside m7sim_run is a usage error, reported and aborted. */
_Noreturn void m7sim_no_core(const char *fn);
static inline Core *m7sim_core(const char *fn) {
    Core *c = m7sim_cur;
    if (__builtin_expect(!c, 0))
        m7sim_no_core(fn);
    return c;
}

static inline uint64_t core_now(const Core *c) {
    return c->last_complete > c->floor ? c->last_complete : c->floor;
}

/* Grows *p (n used, *cap allocated, elements of size sz) to hold one more. */
void *m7sim_grow(Core *c, void *p, size_t n, size_t *cap, size_t sz);

/* Records a trace event (up to a limit per core; the trace says so). */
void m7sim_trace(Core *c, Event e);
/* sim.c: a collective (barrier, DDR broadcast): every core arrives with a
 * cycle, all return the latest. */
uint64_t m7sim_collective(Core *c, uint64_t t);

/* dma.c: stops the run when [a, a+len) is written (write=1) or read by an
 * instruction while an unwaited DMA of this core moves it. */
void m7sim_race_check(Core *c, m7_addr a, uint64_t len, int write, const char *what);
/* Forgets the span of the active transfers (none are active). */
void m7sim_span_reset(Core *c);

/* ops.c: picks the FMA lane routine for this host. */
void m7sim_detect_cpu(void);

/* report.c */
void m7sim_merge_results(M7Sim *s);

#endif
