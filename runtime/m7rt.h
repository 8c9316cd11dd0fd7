/* m7rt.h: the M7004 programming model that m7cc's generated code is written
 * against (MACHINE.md section 4).  It does not depend on any implementation:
 * the simulator (simulator/) implements it on the host; a port to the real
 * chip would map each operation to one instruction or device-API call.
 *
 * Rules that keep the timing honest:
 *  - Machine addresses are integers (m7_addr), never host pointers.  Data on
 *    the machine is reached only through the operations below.
 *  - Register values (m7_vec, m7_scalar) are opaque: produced and consumed
 *    only by operations.  Kernels never touch their members and do no float
 *    arithmetic in plain C.  Integer loop and address arithmetic is free.
 *  - Every core runs the same kernel with its own m7_core_id().
 *
 * Each operation is one instruction of one unit class; its cost is what
 * docs/machine.md and the machine description say.
 */
#ifndef M7RT_H
#define M7RT_H

#include <stdint.h>

/* ---- machine addresses ------------------------------------------------- */
typedef uint64_t m7_addr;
/* The memory an address belongs to sits in the top four bits. */
#define M7_MEM_SHIFT 60
enum { M7_MEM_DDR = 1, M7_MEM_GSM = 2, M7_MEM_AM = 3, M7_MEM_SM = 4 };
#define M7_ADDR(mem, off) (((uint64_t)(mem) << M7_MEM_SHIFT) | (uint64_t)(off))
#define M7_DDR(off) M7_ADDR(M7_MEM_DDR, off)
#define M7_GSM(off) M7_ADDR(M7_MEM_GSM, off)
#define M7_AM(off) M7_ADDR(M7_MEM_AM, off)  /* this core's AM */
#define M7_SM(off) M7_ADDR(M7_MEM_SM, off)  /* this core's SM */
#define M7_ADDR_MEM(a) ((int)((a) >> M7_MEM_SHIFT))
#define M7_ADDR_OFF(a) ((a) & ((UINT64_C(1) << M7_MEM_SHIFT) - 1))

#define M7_LANES 32          /* FP32 values per vector register */
#define M7_VEC_BYTES 128

/* ---- opaque register values ------------------------------------------------
 * The members are the simulator's business (the value and the cycle it is
 * ready); generated code must not name them. */
typedef struct {
    float m7_private_lane[M7_LANES];
    uint64_t m7_private_ready;
} m7_vec;

typedef struct {
    float m7_private_value;
    uint64_t m7_private_ready;
} m7_scalar;

/* ---- vector unit (AM) --------------------------------------------------- */
m7_vec m7_vzero(void);                              /* VIEU */
m7_vec m7_vsplat(float imm);                        /* VIEU: an immediate in every lane */
m7_vec m7_vld(m7_addr am);                          /* VLS: 128 B, 128-B aligned */
void m7_vld2(m7_addr am, m7_vec *lo, m7_vec *hi);   /* VLS: 256 B pair, 256-B aligned */
m7_vec m7_vld_u(m7_addr am);                        /* VLS: 128 B at any 4-B aligned offset */
void m7_vst(m7_addr am, m7_vec v);                  /* VLS: 128 B, aligned */
void m7_vst2(m7_addr am, m7_vec lo, m7_vec hi);     /* VLS: 256 B pair, aligned */
void m7_vst_n(m7_addr am, m7_vec v, int n);         /* VLS: first n lanes, 4-B aligned */
m7_vec m7_vfma(m7_vec a, m7_vec b, m7_vec c);       /* VMAC: a*b+c, one rounding */
m7_vec m7_vmul(m7_vec a, m7_vec b);                 /* VMAC */
m7_vec m7_vadd(m7_vec a, m7_vec b);                 /* VMAC */
m7_vec m7_vsub(m7_vec a, m7_vec b);                 /* VMAC */
m7_vec m7_vmax(m7_vec a, m7_vec b);                 /* VIEU */
m7_vec m7_vmin(m7_vec a, m7_vec b);                 /* VIEU */
m7_vec m7_vcmpgt(m7_vec a, m7_vec b);               /* VIEU: lane mask a > b */
m7_vec m7_vsel(m7_vec mask, m7_vec a, m7_vec b);    /* VIEU: mask ? a : b per lane */
m7_scalar m7_vreduce_add(m7_vec v);                 /* VIEU, slow: sum of the lanes */
m7_scalar m7_vreduce_max(m7_vec v);                 /* VIEU, slow: max of the lanes */
/* Transcendental helpers: documented instruction sequences whose every
 * instruction is counted (docs/machine.md lists them). */
m7_vec m7_vexp(m7_vec v);
m7_vec m7_vrcp(m7_vec v);                           /* 1/v */
m7_vec m7_vrsqrt(m7_vec v);                         /* 1/sqrt(v) */
m7_vec m7_vlog(m7_vec v);                           /* natural log (v > 0) */

/* ---- scalar unit (SM) and broadcast --------------------------------------- */
m7_scalar m7_sld(m7_addr sm);                       /* SLD: one FP32 word */
void m7_sld2(m7_addr sm, m7_scalar *a, m7_scalar *b); /* SLD: a double word, 8-B aligned */
void m7_sst(m7_addr sm, m7_scalar s);               /* SLD */
m7_vec m7_vbcast(m7_scalar s);                      /* SMAC1/2: s in all 32 lanes */

/* ---- DMA ------------------------------------------------------------------
 * A 2-D transfer of `rows` rows of `row_bytes` bytes; strides in bytes.
 * Any two levels except AM<->SM.  Completes asynchronously; m7_dma_wait on
 * the channel before touching the destination (or overwriting the source). */
void m7_dma(int ch, m7_addr dst, m7_addr src, uint32_t rows, uint32_t row_bytes,
            uint64_t dst_stride, uint64_t src_stride);
/* Collective broadcast: every core calls it with the same arguments; the
 * source (DDR or GSM) is read once and delivered to dst (AM or SM) of every
 * core.  Each core waits on its own channel. */
void m7_dma_bcast(int ch, m7_addr dst, m7_addr src, uint32_t rows, uint32_t row_bytes,
                  uint64_t dst_stride, uint64_t src_stride);
void m7_dma_wait(int ch);

/* ---- cores ------------------------------------------------------------------- */
int m7_core_id(void);
int m7_core_count(void);
void m7_barrier(void);

/* ---- statistics ----------------------------------------------------------------
 * Every core brackets each layer with these; useful_flops is the whole
 * region's (all cores) useful work, 2 x MACs as the model defines it. */
void m7_region_begin(const char *name, uint64_t useful_flops);
void m7_region_end(void);

/* ---- the program a generated file describes ----------------------------------- */
typedef struct {
    const char *name;            /* ONNX tensor name */
    int rank;
    int64_t dims[8];
    uint64_t ddr_offset;         /* where the harness puts / finds it, NCHW FP32 */
} m7_io;

typedef struct {
    const char *name;            /* model name */
    const char *machine;         /* machine overrides it was compiled for, "k=v,..." ("" = defaults) */
    const char *weights_file;    /* default weights path (relative to the executable's cwd) */
    uint64_t weights_ddr_offset; /* the weights file is loaded here */
    uint64_t weights_bytes;
    uint64_t ddr_bytes;          /* DDR the program uses in all */
    int n_inputs, n_outputs;
    const m7_io *inputs, *outputs;
    void (*kernel)(void);        /* run on every core */
} m7_program;

/* A generated program defines this symbol; the simulator's harness main()
 * loads weights and inputs, runs it, writes outputs and the report. */
extern const m7_program m7_main_program;

#endif
