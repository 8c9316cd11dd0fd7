/* m7sim.h: the host side of the M7004 simulator (libm7sim).
 *
 * libm7sim implements runtime/m7rt.h.  A host program (the harness, a test,
 * a benchmark) creates a simulator, puts data into machine memory through
 * m7sim_host_ptr, runs a kernel on every core with m7sim_run, and reads the
 * timing report.  Results and cycle counts do not depend on the number of
 * host threads or their scheduling.
 */
#ifndef M7SIM_H
#define M7SIM_H

#include <stdint.h>
#include <stdio.h>

#include "m7_machine.h"
#include "m7rt.h"

typedef struct M7Sim M7Sim;

/* Memory levels, indexed by M7_MEM_* (0 unused). */
enum { M7SIM_LEVELS = 5 };

/* Kinds of errors a run can stop with. */
enum {
    M7SIM_ERR_NONE,
    M7SIM_ERR_ACCESS,  /* outside its memory, wrong memory kind, misaligned */
    M7SIM_ERR_DMA,     /* AM<->SM, bad channel, bad broadcast */
    M7SIM_ERR_RACE,    /* touching data an unwaited DMA on this core moves */
    M7SIM_ERR_PROGRAM, /* regions, barriers, unwaited DMA at kernel end */
    M7SIM_ERR_INTERNAL,
};

typedef struct {
    int kind;            /* M7SIM_ERR_* */
    int core;
    char region[96];     /* the open m7_region_begin name, "" outside */
    m7_addr addr;
    uint64_t cycle;      /* the core's cycle when it happened */
    char msg[512];       /* one line: everything above in words */
} M7SimError;

/* One region's (or the whole run's) figures, merged over cores. */
typedef struct {
    char name[96];
    uint64_t begin, end, cycles;   /* earliest begin, latest end, end-begin */
    uint64_t useful_flops;         /* as declared by m7_region_begin */
    uint64_t exec_flops;           /* executed by VMAC instructions */
    double efficiency;             /* useful / (cycles * cores * peak) */
    double bound;                  /* roofline: max achievable efficiency */
    double compute_cycles, dma_cycles; /* the two roofline terms */
    double dma_bytes[M7SIM_LEVELS];    /* bytes moved to or from each level */
    uint64_t core_compute[64], core_dma_wait[64], core_barrier[64];
    uint64_t vec_ops;              /* vector/scalar instructions issued */
} M7SimRegion;

/* Creates a simulator of machine m whose DDR holds ddr_bytes (the program's
 * declared use; accesses beyond are errors).  NULL with a message on error. */
M7Sim *m7sim_new(const M7Machine *m, uint64_t ddr_bytes, char *err, size_t errlen);
void m7sim_free(M7Sim *s);

const M7Machine *m7sim_machine(const M7Sim *s);

/* Host threads used to run the cores (default: M7SIM_THREADS or 2). */
void m7sim_set_threads(M7Sim *s, int n);
/* Record a trace for m7sim_write_trace (costs memory per DMA). */
void m7sim_set_trace(M7Sim *s, int on);
/* Print a progress line on stderr at region starts (when it is a tty). */
void m7sim_set_progress(M7Sim *s, int on);

/* Host view of len bytes at machine address a (AM/SM: of core `core`);
 * NULL when out of range.  For loading inputs and reading results. */
uint8_t *m7sim_host_ptr(M7Sim *s, m7_addr a, int core, uint64_t len);

/* Runs kernel on every core from cycle 0.  Returns 0, or -1 when a check
 * fired: the run stopped and m7sim_error says why.  Memory persists across
 * runs; timing and statistics start afresh. */
int m7sim_run(M7Sim *s, void (*kernel)(void));
const M7SimError *m7sim_error(const M7Sim *s);

/* Results of the last run. */
uint64_t m7sim_cycles(const M7Sim *s);              /* latest core's end */
uint64_t m7sim_core_cycles(const M7Sim *s, int core);
int m7sim_region_count(const M7Sim *s);
const M7SimRegion *m7sim_region(const M7Sim *s, int i);
const M7SimRegion *m7sim_total(const M7Sim *s);
uint64_t m7sim_vec_ops(const M7Sim *s);              /* instructions, all cores */

/* Report: a table, JSON, a Chrome/Perfetto trace. */
void m7sim_report(const M7Sim *s, FILE *out);
int m7sim_write_json(const M7Sim *s, const char *path, char *err, size_t errlen);
int m7sim_write_trace(const M7Sim *s, const char *path, char *err, size_t errlen);

/* The harness: everything main() of a generated program does (see --help). */
int m7sim_main(int argc, char **argv, const m7_program *p);

#endif
