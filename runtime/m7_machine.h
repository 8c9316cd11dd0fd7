/* m7_machine.h: the one description of the M7004 (docs/machine.md says
 * which figures are published and which are assumptions).
 *
 * The compiler's cost model reads it for capacities and throughputs, the
 * simulator reads it for timing.  A user overrides any field by name:
 * `--machine am_bytes=524288,cores=8` or a file of key=value lines.
 * Depends on nothing but libc.
 */
#ifndef M7_MACHINE_H
#define M7_MACHINE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    /* organisation */
    int cores;              /* DSP cores sharing one GSM */
    double clock_ghz;       /* only to turn cycles into seconds */
    int lanes;              /* FP32 values per vector register (32) */
    int vregs;              /* vector registers per core */
    int issue_width;        /* instructions issued per cycle (VLIW) */
    int window;             /* scheduling window W (timing model 5.3c) */
    /* units per class */
    int n_vmac;             /* vector FMA/mul/add units */
    int n_vls;              /* vector load/store units */
    int n_bcast;            /* scalar->vector broadcast (SMAC1/2) */
    int n_sld;              /* scalar load/store unit */
    int n_vieu;             /* vector integer/logic/select/max, reductions */
    /* latencies, cycles from issue to a dependent issue */
    int lat_vload, lat_vstore, lat_fma, lat_bcast, lat_sload, lat_vint;
    int lat_reduce, reduce_busy;
    /* memories, bytes */
    int64_t am_bytes, sm_bytes, gsm_bytes, ddr_bytes;
    /* DMA */
    int dma_channels;       /* per core */
    int dma_setup;          /* cycles per transfer */
    int dma_row_overhead;   /* cycles per row */
    double ddr_bw;          /* bytes/cycle for the whole chip, shared by the cores */
    double gsm_bw;          /* bytes/cycle per core */
    int barrier_cycles;
} M7Machine;

/* The defaults of MACHINE.md. */
void m7_machine_default(M7Machine *m);

/* Sets one field by name.  Returns 0, or -1 with a message in err naming
 * the key and the reason (unknown key, not a number, out of range). */
int m7_machine_set(M7Machine *m, const char *key, const char *value, char *err, size_t errlen);

/* Applies "key=value,key=value".  Same contract as m7_machine_set. */
int m7_machine_apply_list(M7Machine *m, const char *list, char *err, size_t errlen);

/* Applies a file of "key = value" lines ('#' starts a comment). */
int m7_machine_apply_file(M7Machine *m, const char *path, char *err, size_t errlen);

/* Writes every field as "key=value,..." (round-trips through apply_list). */
void m7_machine_format(const M7Machine *m, char *buf, size_t len);

/* Derived figures. */
static inline double m7_machine_peak_flops_per_cycle(const M7Machine *m) {
    return 2.0 * m->n_vmac * m->lanes; /* per core */
}

#endif
