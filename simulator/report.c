/* report.c: a run's figures per region and in total (MACHINE.md 5.6):
 * merging the cores' records, the roofline bound, and the three outputs
 * (a table, JSON, a Chrome/Perfetto trace). */
#include <stdlib.h>
#include <string.h>

#include "simulator/sim_internal.h"

static double dmax(double a, double b) { return a > b ? a : b; }

/* The roofline terms and efficiencies of a merged region. */
static void finish(const M7Sim *s, M7SimRegion *r) {
    double peak = m7_machine_peak_flops_per_cycle(&s->m) * s->ncores;
    r->compute_cycles = (double)r->useful_flops / peak;
    r->dma_cycles = dmax(r->dma_bytes[M7_MEM_DDR] / s->m.ddr_bw,
                         r->dma_bytes[M7_MEM_GSM] / (s->m.gsm_bw * s->ncores));
    r->efficiency = r->cycles ? (double)r->useful_flops / ((double)r->cycles * peak) : 0;
    double b = dmax(r->compute_cycles, r->dma_cycles);
    r->bound = b > 0 ? r->compute_cycles / b : 0;
}

static void add_counters(M7SimRegion *r, int core, uint64_t span, const Counters *a,
                         const Counters *b) {
    uint64_t dw = b->dma_wait - a->dma_wait, bar = b->barrier - a->barrier;
    r->core_dma_wait[core] = dw;
    r->core_barrier[core] = bar;
    r->core_compute[core] = span > dw + bar ? span - dw - bar : 0;
    r->exec_flops += 2 * M7_LANES * (b->n_fma - a->n_fma) + M7_LANES * (b->n_muladd - a->n_muladd);
    r->vec_ops += b->ops - a->ops;
    for (int l = 0; l < M7SIM_LEVELS; l++)
        r->dma_bytes[l] += b->bytes[l] - a->bytes[l];
}

void m7sim_merge_results(M7Sim *s) {
    const Core *c0 = &s->core[0];
    for (int i = 1; i < s->ncores; i++) {
        const Core *c = &s->core[i];
        int bad = c->nreg != c0->nreg;
        for (size_t r = 0; !bad && r < c->nreg; r++)
            bad = strcmp(c->reg[r].name, c0->reg[r].name) || c->reg[r].flops != c0->reg[r].flops;
        if (bad) {
            s->err.kind = M7SIM_ERR_PROGRAM;
            s->err.core = i;
            snprintf(s->err.msg, sizeof s->err.msg,
                     "core %d and core 0 disagree on their regions (%zu vs %zu regions, or a name "
                     "or useful_flops differs): every core must bracket the same regions", i,
                     c->nreg, c0->nreg);
            return;
        }
    }
    s->nregions = (int)c0->nreg;
    s->regions = calloc(c0->nreg ? c0->nreg : 1, sizeof(M7SimRegion));
    if (!s->regions) {
        s->err.kind = M7SIM_ERR_INTERNAL;
        snprintf(s->err.msg, sizeof s->err.msg, "out of host memory");
        return;
    }
    static const Counters zero;
    M7SimRegion *t = &s->total;
    snprintf(t->name, sizeof t->name, "total");
    for (int i = 0; i < s->ncores; i++) {
        const Core *c = &s->core[i];
        for (size_t r = 0; r < c->nreg; r++) {
            M7SimRegion *R = &s->regions[r];
            const CoreRegion *cr = &c->reg[r];
            if (i == 0 || cr->begin < R->begin)
                R->begin = cr->begin;
            if (cr->end > R->end)
                R->end = cr->end;
            add_counters(R, i, cr->end - cr->begin, &cr->c0, &cr->c1);
        }
        if (c->end > t->end)
            t->end = c->end;
        add_counters(t, i, c->end, &zero, &c->k);
        s->ops += c->k.ops;
    }
    for (int r = 0; r < s->nregions; r++) {
        M7SimRegion *R = &s->regions[r];
        snprintf(R->name, sizeof R->name, "%s", c0->reg[r].name);
        R->useful_flops = c0->reg[r].flops;
        R->cycles = R->end - R->begin;
        t->useful_flops += R->useful_flops;
        finish(s, R);
    }
    t->cycles = t->end;
    s->cycles = t->end;
    finish(s, t);
}

uint64_t m7sim_cycles(const M7Sim *s) { return s->cycles; }
uint64_t m7sim_core_cycles(const M7Sim *s, int core) {
    return core >= 0 && core < s->ncores ? s->core[core].end : 0;
}
int m7sim_region_count(const M7Sim *s) { return s->nregions; }
const M7SimRegion *m7sim_region(const M7Sim *s, int i) {
    return i >= 0 && i < s->nregions ? &s->regions[i] : NULL;
}
const M7SimRegion *m7sim_total(const M7Sim *s) { return &s->total; }
uint64_t m7sim_vec_ops(const M7Sim *s) { return s->ops; }

/* ---- the table ----------------------------------------------------------- */

static void share(const M7Sim *s, const M7SimRegion *r, double *cmp, double *dw, double *bar) {
    double a = 0, b = 0, c = 0, all = (double)r->cycles * s->ncores;
    for (int i = 0; i < s->ncores; i++)
        a += (double)r->core_compute[i], b += (double)r->core_dma_wait[i], c += (double)r->core_barrier[i];
    *cmp = all > 0 ? 100 * a / all : 0;
    *dw = all > 0 ? 100 * b / all : 0;
    *bar = all > 0 ? 100 * c / all : 0;
}

/* Region names are ONNX node names: the first column is as wide as the
 * longest (up to 48); a longer name keeps its end, where names differ. */
static int name_width(const M7Sim *s) {
    int w = 6;
    for (int r = 0; r < s->nregions; r++) {
        int n = (int)strlen(s->regions[r].name);
        w = n > w ? n : w;
    }
    return w > 48 ? 48 : w;
}

static void row(const M7Sim *s, FILE *f, const M7SimRegion *r, int width) {
    double cmp, dw, bar;
    share(s, r, &cmp, &dw, &bar);
    int n = (int)strlen(r->name);
    const char *name = n > width ? r->name + (n - width) : r->name;
    fprintf(f, "%-*s %12llu %9.3f %9.3f %6.2f%c %6.2f %9.2f %9.2f %6.1f %6.1f %6.1f\n", width, name,
            (unsigned long long)r->cycles, (double)r->cycles / (s->m.clock_ghz * 1e6),
            (double)r->useful_flops / 1e9, 100 * r->efficiency,
            r->useful_flops > r->exec_flops ? '!' : ' ', 100 * r->bound,
            r->dma_bytes[M7_MEM_DDR] / 1e6, r->dma_bytes[M7_MEM_GSM] / 1e6, cmp, dw, bar);
}

void m7sim_report(const M7Sim *s, FILE *f) {
    fprintf(f, "M7004 simulation: %d cores at %.3g GHz, %llu cycles = %.3f ms, %llu instructions\n",
            s->ncores, s->m.clock_ghz, (unsigned long long)s->cycles,
            (double)s->cycles / (s->m.clock_ghz * 1e6), (unsigned long long)s->ops);
    int width = name_width(s);
    fprintf(f, "%-*s %12s %9s %9s %7s %6s %9s %9s %6s %6s %6s\n", width, "region", "cycles", "ms",
            "GFLOP", "eff%", "bound%", "DDR MB", "GSM MB", "comp%", "dma%", "bar%");
    for (int r = 0; r < s->nregions; r++)
        row(s, f, &s->regions[r], width);
    row(s, f, &s->total, width);
    int warn = s->total.useful_flops > s->total.exec_flops;
    for (int r = 0; r < s->nregions; r++)
        warn |= s->regions[r].useful_flops > s->regions[r].exec_flops;
    if (warn)
        fprintf(f, "! declared useful FLOPs exceed the FLOPs the VMAC instructions executed\n");
    fprintf(f, "eff = useful FLOPs / (cycles x cores x %.0f); bound = roofline max(compute, DMA) as "
            "efficiency; comp/dma/bar = share of core-cycles computing / waiting for DMA / at barriers\n",
            m7_machine_peak_flops_per_cycle(&s->m));
    fprintf(f, "%-6s %12s %12s %12s %12s\n", "core", "cycles", "compute", "dma-wait", "barrier");
    for (int i = 0; i < s->ncores; i++)
        fprintf(f, "%-6d %12llu %12llu %12llu %12llu\n", i, (unsigned long long)s->core[i].end,
                (unsigned long long)s->total.core_compute[i],
                (unsigned long long)s->total.core_dma_wait[i],
                (unsigned long long)s->total.core_barrier[i]);
}

/* ---- JSON ---------------------------------------------------------------- */

static void jstr(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void jcores(FILE *f, const char *key, const uint64_t *v, int n) {
    fprintf(f, ", \"%s\": [", key);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s%llu", i ? ", " : "", (unsigned long long)v[i]);
    fputc(']', f);
}

static void jregion(const M7Sim *s, FILE *f, const M7SimRegion *r) {
    fprintf(f, "{\"name\": ");
    jstr(f, r->name);
    fprintf(f, ", \"begin\": %llu, \"end\": %llu, \"cycles\": %llu, \"useful_flops\": %llu, "
            "\"exec_flops\": %llu, \"instructions\": %llu, \"efficiency\": %.6f, \"bound\": %.6f, "
            "\"compute_cycles\": %.1f, \"dma_cycles\": %.1f, \"dma_bytes\": {\"ddr\": %.0f, "
            "\"gsm\": %.0f, \"am\": %.0f, \"sm\": %.0f}",
            (unsigned long long)r->begin, (unsigned long long)r->end,
            (unsigned long long)r->cycles, (unsigned long long)r->useful_flops,
            (unsigned long long)r->exec_flops, (unsigned long long)r->vec_ops, r->efficiency,
            r->bound, r->compute_cycles, r->dma_cycles, r->dma_bytes[M7_MEM_DDR],
            r->dma_bytes[M7_MEM_GSM], r->dma_bytes[M7_MEM_AM], r->dma_bytes[M7_MEM_SM]);
    jcores(f, "core_compute", r->core_compute, s->ncores);
    jcores(f, "core_dma_wait", r->core_dma_wait, s->ncores);
    jcores(f, "core_barrier", r->core_barrier, s->ncores);
    fputc('}', f);
}

static int close_checked(FILE *f, const char *path, char *err, size_t errlen) {
    int bad = ferror(f);
    if (fclose(f) || bad) {
        snprintf(err, errlen, "%s: write failed", path);
        return -1;
    }
    return 0;
}

int m7sim_write_json(const M7Sim *s, const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: cannot create", path);
        return -1;
    }
    char mach[2048];
    m7_machine_format(&s->m, mach, sizeof mach);
    fprintf(f, "{\"machine\": ");
    jstr(f, mach);
    fprintf(f, ", \"cores\": %d, \"clock_ghz\": %.6g, \"cycles\": %llu, \"seconds\": %.9g,\n"
            " \"regions\": [", s->ncores, s->m.clock_ghz, (unsigned long long)s->cycles,
            (double)s->cycles / (s->m.clock_ghz * 1e9));
    for (int r = 0; r < s->nregions; r++) {
        fprintf(f, "%s\n  ", r ? "," : "");
        jregion(s, f, &s->regions[r]);
    }
    fprintf(f, "],\n \"total\": ");
    jregion(s, f, &s->total);
    fprintf(f, "}\n");
    return close_checked(f, path, err, errlen);
}

/* ---- trace: one track per core, one per DMA channel used ------------------ */

int m7sim_write_trace(const M7Sim *s, const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: cannot create", path);
        return -1;
    }
    double us = 1.0 / (s->m.clock_ghz * 1e3); /* microseconds per cycle */
    fprintf(f, "{\"displayTimeUnit\": \"ns\", \"traceEvents\": [\n"
            "{\"name\": \"process_name\", \"ph\": \"M\", \"pid\": 0, \"args\": {\"name\": \"M7004\"}}");
    for (int i = 0; i < s->ncores; i++) {
        const Core *c = &s->core[i];
        int tid = i * 1000;
        fprintf(f, ",\n{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": 0, \"tid\": %d, "
                "\"args\": {\"name\": \"core %d\"}}", tid, i);
        char *used = calloc((size_t)s->m.dma_channels, 1);
        for (size_t e = 0; e < c->nev; e++) {
            const Event *ev = &c->ev[e];
            int t = ev->kind == EV_DMA ? tid + 1 + ev->ch : tid;
            if (ev->kind == EV_DMA && used && !used[ev->ch]) {
                used[ev->ch] = 1;
                fprintf(f, ",\n{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": 0, \"tid\": %d, "
                        "\"args\": {\"name\": \"core %d DMA ch %d\"}}", t, i, ev->ch);
            }
            fprintf(f, ",\n{\"name\": ");
            jstr(f, ev->name);
            fprintf(f, ", \"ph\": \"X\", \"pid\": 0, \"tid\": %d, \"ts\": %.4f, \"dur\": %.4f", t,
                    (double)ev->t0 * us, (double)(ev->t1 - ev->t0) * us);
            if (ev->kind == EV_DMA)
                fprintf(f, ", \"args\": {\"bytes\": %llu}", (unsigned long long)ev->bytes);
            fputc('}', f);
        }
        free(used);
        if (c->trace_full)
            fprintf(f, ",\n{\"name\": \"trace truncated\", \"ph\": \"i\", \"pid\": 0, \"tid\": %d, "
                    "\"ts\": 0, \"s\": \"t\"}", tid);
    }
    fprintf(f, "\n]}\n");
    return close_checked(f, path, err, errlen);
}
