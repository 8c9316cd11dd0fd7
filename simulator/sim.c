/* sim.c: the simulator's life cycle, the cores as host threads, barriers,
 * regions and errors.
 *
 * Each core is a host thread; at most `threads` of them run at once (a
 * semaphore of tokens, given back while a core waits at a collective).
 * Cores interact only at collectives (barriers and broadcasts from DDR),
 * whose result (max of the cores' cycles) does not depend on arrival
 * order, so results and cycles are the same for any thread count.  A
 * failing core stops at once; the others stop at their next collective,
 * so the set of errors (and the one reported: lowest core) is
 * deterministic too. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "simulator/sim_internal.h"

_Thread_local Core *m7sim_cur __attribute__((tls_model("initial-exec")));

enum { TRACE_LIMIT = 1 << 22 }; /* events per core */

static void set_error(Core *c, int kind, m7_addr addr, const char *fmt, va_list ap) {
    M7SimError *e = &c->err;
    e->kind = kind;
    e->core = c->id;
    e->addr = addr;
    e->cycle = core_now(c);
    snprintf(e->region, sizeof e->region, "%s", c->open ? c->reg[c->nreg - 1].name : "");
    char what[256];
    vsnprintf(what, sizeof what, fmt, ap);
    snprintf(e->msg, sizeof e->msg, "core %d, region '%s', cycle %llu: %s", c->id,
             e->region[0] ? e->region : "(none)", (unsigned long long)e->cycle, what);
    c->failed = 1;
}

static void record_error(Core *c, int kind, m7_addr addr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void record_error(Core *c, int kind, m7_addr addr, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    set_error(c, kind, addr, fmt, ap);
    va_end(ap);
}

_Noreturn void m7sim_fail(Core *c, int kind, m7_addr addr, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    set_error(c, kind, addr, fmt, ap);
    va_end(ap);
    longjmp(c->jb, 1);
}

_Noreturn void m7sim_no_core(const char *fn) {
    fprintf(stderr, "m7sim: %s called outside a kernel (only kernels run by m7sim_run may call "
            "the runtime)\n", fn);
    abort();
}

void *m7sim_grow(Core *c, void *p, size_t n, size_t *cap, size_t sz) {
    if (n < *cap)
        return p;
    size_t ncap = *cap ? 2 * *cap : 16;
    void *q = realloc(p, ncap * sz);
    if (!q)
        m7sim_fail(c, M7SIM_ERR_INTERNAL, 0, "out of host memory");
    *cap = ncap;
    return q;
}

void m7sim_trace(Core *c, Event e) {
    if (c->nev >= TRACE_LIMIT) {
        c->trace_full = 1;
        return;
    }
    c->ev = m7sim_grow(c, c->ev, c->nev, &c->capev, sizeof(Event));
    c->ev[c->nev++] = e;
}

/* ---- life cycle ---------------------------------------------------------- */

static uint64_t ring_size(const M7Machine *m) {
    int lat = m->lat_vload;
    int all[] = {m->lat_vstore, m->lat_fma, m->lat_bcast, m->lat_sload, m->lat_vint,
                 m->lat_reduce + m->reduce_busy};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i] > lat)
            lat = all[i];
    /* Instructions in flight span about W x (latency + stalls) cycles. */
    uint64_t want = 8 * (uint64_t)m->window * (uint64_t)(lat + 4), n = 4096;
    while (n < want && n < (1u << 22))
        n *= 2;
    return n;
}

M7Sim *m7sim_new(const M7Machine *m, uint64_t ddr_bytes, char *err, size_t errlen) {
    if (m->cores < 1 || m->cores > 64) {
        snprintf(err, errlen, "the simulator supports 1..64 cores, not %d", m->cores);
        return NULL;
    }
    if (ddr_bytes > (uint64_t)m->ddr_bytes) {
        snprintf(err, errlen, "the program needs %llu bytes of DDR, the machine has %lld",
                 (unsigned long long)ddr_bytes, (long long)m->ddr_bytes);
        return NULL;
    }
    m7sim_detect_cpu();
    M7Sim *s = calloc(1, sizeof *s);
    if (!s)
        goto oom;
    s->m = *m;
    s->ncores = m->cores;
    s->ddr_bytes = ddr_bytes;
    const char *env = getenv("M7SIM_THREADS");
    s->threads = env && atoi(env) > 0 ? atoi(env) : 2;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->ddr = calloc(1, ddr_bytes ? ddr_bytes : 1);
    s->gsm = calloc(1, m->gsm_bytes ? (size_t)m->gsm_bytes : 1);
    s->core = calloc((size_t)s->ncores, sizeof(Core));
    if (!s->ddr || !s->gsm || !s->core)
        goto oom;
    uint64_t rs = ring_size(m);
    for (int i = 0; i < s->ncores; i++) {
        Core *c = &s->core[i];
        c->sim = s;
        c->id = i;
        c->am_bytes = (uint64_t)m->am_bytes;
        c->sm_bytes = (uint64_t)m->sm_bytes;
        c->am = calloc(1, c->am_bytes);
        c->sm = calloc(1, c->sm_bytes);
        c->W = m->window;
        c->win = calloc((size_t)c->W, sizeof *c->win);
        c->am_line_done = calloc(c->am_bytes / M7_VEC_BYTES + 1, sizeof *c->am_line_done);
        c->sm_word_done = calloc(c->sm_bytes / 4 + 1, sizeof *c->sm_word_done);
        c->ring = calloc(rs, sizeof(Slot));
        c->ring_mask = rs - 1;
        c->ch_free = calloc((size_t)m->dma_channels, sizeof *c->ch_free);
        if (!c->am || !c->sm || !c->win || !c->am_line_done || !c->sm_word_done || !c->ring || !c->ch_free)
            goto oom;
        c->cap[U_VMAC] = (uint64_t)m->n_vmac;
        c->cap[U_VLS] = (uint64_t)m->n_vls;
        c->cap[U_BCAST] = (uint64_t)m->n_bcast;
        c->cap[U_SLD] = (uint64_t)m->n_sld;
        c->cap[U_VIEU] = (uint64_t)m->n_vieu;
        c->issue_width = (uint64_t)m->issue_width;
        c->lat_vload = m->lat_vload;
        c->lat_vstore = m->lat_vstore;
        c->lat_fma = m->lat_fma;
        c->lat_bcast = m->lat_bcast;
        c->lat_sload = m->lat_sload;
        c->lat_vint = m->lat_vint;
        c->lat_reduce = m->lat_reduce;
        c->reduce_busy = m->reduce_busy;
    }
    return s;
oom:
    snprintf(err, errlen, "out of host memory allocating the machine's memories (DDR %llu bytes, "
             "GSM %lld, %d x AM %lld)", (unsigned long long)ddr_bytes, (long long)m->gsm_bytes,
             m->cores, (long long)m->am_bytes);
    m7sim_free(s);
    return NULL;
}

static void free_results(M7Sim *s) {
    for (int i = 0; i < s->ncores; i++) {
        Core *c = &s->core[i];
        for (size_t r = 0; r < c->nreg; r++)
            free(c->reg[r].name);
        c->nreg = 0;
        c->nev = 0;
    }
    free(s->regions);
    s->regions = NULL;
    s->nregions = 0;
}

void m7sim_free(M7Sim *s) {
    if (!s)
        return;
    if (s->core) {
        free_results(s);
        for (int i = 0; i < s->ncores; i++) {
            Core *c = &s->core[i];
            free(c->am), free(c->sm), free(c->win), free(c->ring), free(c->ch_free);
            free(c->am_line_done), free(c->sm_word_done);
            free(c->act), free(c->reg), free(c->ev);
        }
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->core), free(s->ddr), free(s->gsm);
    free(s);
}

const M7Machine *m7sim_machine(const M7Sim *s) { return &s->m; }
void m7sim_set_threads(M7Sim *s, int n) { s->threads = n > 0 ? n : 1; }
void m7sim_set_trace(M7Sim *s, int on) { s->trace = on; }
void m7sim_set_progress(M7Sim *s, int on) { s->progress = on && isatty(2); }
const M7SimError *m7sim_error(const M7Sim *s) { return &s->err; }

uint8_t *m7sim_host_ptr(M7Sim *s, m7_addr a, int core, uint64_t len) {
    uint64_t off = M7_ADDR_OFF(a), cap;
    uint8_t *base;
    if (core < 0 || core >= s->ncores)
        return NULL;
    switch (M7_ADDR_MEM(a)) {
    case M7_MEM_DDR: base = s->ddr, cap = s->ddr_bytes; break;
    case M7_MEM_GSM: base = s->gsm, cap = (uint64_t)s->m.gsm_bytes; break;
    case M7_MEM_AM: base = s->core[core].am, cap = s->core[core].am_bytes; break;
    case M7_MEM_SM: base = s->core[core].sm, cap = s->core[core].sm_bytes; break;
    default: return NULL;
    }
    if (len > cap || off > cap - len)
        return NULL;
    return base + off;
}

/* ---- collectives: barriers and broadcasts ------------------------------------- */

/* With the lock held: when every core has arrived or finished, release the
 * collective; if some finished (or failed) meanwhile, or the cores' calls
 * differ (a barrier against a broadcast, or other arguments), the waiters
 * abort. */
static void release_check(M7Sim *s) {
    if (s->arrived == 0 || s->arrived + s->done < s->ncores)
        return;
    if (s->done > 0)
        s->abort_all = 1;
    for (int i = 1; i < s->ncores && !s->done; i++)
        if (s->core[i].bcast_hash != s->core[0].bcast_hash)
            s->abort_all = s->bcast_mismatch = 1;
    s->coll_max = s->bar_max;
    s->arrived = 0;
    s->bar_max = 0;
    s->gen++;
    pthread_cond_broadcast(&s->cv);
}

/* Every core arrives with cycle t; all leave with the latest. */
uint64_t m7sim_collective(Core *c, uint64_t t) {
    M7Sim *s = c->sim;
    pthread_mutex_lock(&s->mu);
    if (t > s->bar_max)
        s->bar_max = t;
    s->arrived++;
    int gen = s->gen;
    release_check(s);
    if (s->gen == gen) {
        sem_post(&s->tokens);
        while (s->gen == gen)
            pthread_cond_wait(&s->cv, &s->mu);
        pthread_mutex_unlock(&s->mu);
        sem_wait(&s->tokens);
        pthread_mutex_lock(&s->mu);
    }
    uint64_t mx = s->coll_max;
    int abort = s->abort_all;
    pthread_mutex_unlock(&s->mu);
    if (abort)
        longjmp(c->jb, 2);
    return mx;
}

void m7_barrier(void) {
    Core *c = m7sim_core("m7_barrier");
    M7Sim *s = c->sim;
    uint64_t now = core_now(c);
    c->bcast_hash = (c->bcast_hash ^ 0xba77) * 0x100000001b3ull; /* a barrier meets barriers only */
    uint64_t f = m7sim_collective(c, now) + (uint64_t)s->m.barrier_cycles;
    c->k.barrier += f - now;
    if (s->trace)
        m7sim_trace(c, (Event){EV_BARRIER, 0, "barrier", now, f, 0});
    c->floor = f;
}

int m7_core_id(void) { return m7sim_core("m7_core_id")->id; }
int m7_core_count(void) { return m7sim_core("m7_core_count")->sim->ncores; }

/* ---- regions ------------------------------------------------------------------ */

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void m7_region_begin(const char *name, uint64_t useful_flops) {
    Core *c = m7sim_core("m7_region_begin");
    if (!name)
        name = "";
    if (c->open)
        m7sim_fail(c, M7SIM_ERR_PROGRAM, 0, "m7_region_begin(\"%s\") while region '%s' is open "
                   "(regions do not nest)", name, c->reg[c->nreg - 1].name);
    c->reg = m7sim_grow(c, c->reg, c->nreg, &c->capreg, sizeof(CoreRegion));
    CoreRegion *r = &c->reg[c->nreg];
    r->name = strdup(name);
    if (!r->name)
        m7sim_fail(c, M7SIM_ERR_INTERNAL, 0, "out of host memory");
    c->nreg++;
    r->flops = useful_flops;
    r->begin = core_now(c);
    r->c0 = c->k;
    c->open = 1;
    c->dma_end_region = 0;
    c->first_issue = UINT64_MAX;
    M7Sim *s = c->sim;
    if (c->id == 0 && s->progress) {
        double t = now_seconds();
        if (t - s->last_progress > 0.5) {
            fprintf(stderr, "\r[m7sim] region %zu: %-40.40s", c->nreg, name);
            s->last_progress = t;
        }
    }
}

void m7_region_end(void) {
    Core *c = m7sim_core("m7_region_end");
    if (!c->open)
        m7sim_fail(c, M7SIM_ERR_PROGRAM, 0, "m7_region_end without m7_region_begin");
    CoreRegion *r = &c->reg[c->nreg - 1];
    uint64_t now = core_now(c);
    /* A region's span includes the DMAs it started (their bytes count in it)
     * and instructions that issued before it began, overlapping the last. */
    r->end = now > c->dma_end_region ? now : c->dma_end_region;
    if (c->first_issue < r->begin)
        r->begin = c->first_issue;
    r->c1 = c->k;
    c->open = 0;
    if (c->sim->trace)
        m7sim_trace(c, (Event){EV_REGION, 0, r->name, r->begin, r->end, 0});
}

/* ---- running --------------------------------------------------------------------- */

static void (*run_kernel)(void);

static void *core_main(void *arg) {
    Core *c = arg;
    M7Sim *s = c->sim;
    m7sim_cur = c;
    sem_wait(&s->tokens);
    if (!setjmp(c->jb)) {
        run_kernel();
        if (c->open)
            record_error(c, M7SIM_ERR_PROGRAM, 0, "the kernel returned inside region '%s' "
                         "(no m7_region_end)", c->reg[c->nreg - 1].name);
        else if (c->nact)
            record_error(c, M7SIM_ERR_PROGRAM, 0, "the kernel returned with an unwaited DMA on "
                         "channel %d", c->act[0].ch);
    }
    c->end = core_now(c);
    pthread_mutex_lock(&s->mu);
    s->done++;
    if (c->failed)
        s->any_failed = 1;
    release_check(s);
    pthread_mutex_unlock(&s->mu);
    sem_post(&s->tokens);
    m7sim_cur = NULL;
    return NULL;
}

static void reset(M7Sim *s) {
    free_results(s);
    uint64_t rs = s->core[0].ring_mask + 1;
    for (int i = 0; i < s->ncores; i++) {
        Core *c = &s->core[i];
        c->floor = c->last_complete = 0;
        memset(c->win, 0, (size_t)c->W * sizeof *c->win);
        memset(c->am_line_done, 0, (c->am_bytes / M7_VEC_BYTES + 1) * sizeof *c->am_line_done);
        memset(c->sm_word_done, 0, (c->sm_bytes / 4 + 1) * sizeof *c->sm_word_done);
        c->widx = 0;
        memset(c->ring, 0, rs * sizeof(Slot));
        memset(&c->k, 0, sizeof c->k);
        memset(c->ch_free, 0, (size_t)s->m.dma_channels * sizeof *c->ch_free);
        c->link_free[0] = c->link_free[1] = 0;
        c->nact = 0;
        m7sim_span_reset(c);
        c->open = c->failed = c->trace_full = 0;
        c->end = 0;
        c->bcast_hash = 0;
        memset(&c->err, 0, sizeof c->err);
    }
    s->arrived = s->done = s->any_failed = s->gen = s->abort_all = s->bcast_mismatch = 0;
    s->bar_max = 0;
    memset(&s->err, 0, sizeof s->err);
    memset(&s->total, 0, sizeof s->total);
    s->cycles = s->ops = 0;
}

static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;

int m7sim_run(M7Sim *s, void (*kernel)(void)) {
    reset(s);
    /* run_kernel is shared by the core threads: one run at a time. */
    pthread_mutex_lock(&run_lock);
    run_kernel = kernel;
    int threads = s->threads < s->ncores ? s->threads : s->ncores;
    sem_init(&s->tokens, 0, (unsigned)threads);
    int started = 0;
    for (; started < s->ncores; started++)
        if (pthread_create(&s->core[started].th, NULL, core_main, &s->core[started]))
            break;
    if (started < s->ncores) { /* the started ones stop at their first barrier */
        pthread_mutex_lock(&s->mu);
        s->done += s->ncores - started;
        s->any_failed = 1;
        release_check(s);
        pthread_mutex_unlock(&s->mu);
    }
    for (int i = 0; i < started; i++)
        pthread_join(s->core[i].th, NULL);
    sem_destroy(&s->tokens);
    pthread_mutex_unlock(&run_lock);
    if (s->last_progress > 0) { /* clear the progress line */
        fprintf(stderr, "\r%60s\r", "");
        s->last_progress = 0;
    }
    if (started < s->ncores) {
        s->err.kind = M7SIM_ERR_INTERNAL;
        snprintf(s->err.msg, sizeof s->err.msg, "cannot start a host thread for core %d", started);
        return -1;
    }
    for (int i = 0; i < s->ncores; i++)
        if (s->core[i].failed) {
            s->err = s->core[i].err;
            return -1;
        }
    for (int i = 1; i < s->ncores; i++)
        s->bcast_mismatch |= s->core[i].bcast_hash != s->core[0].bcast_hash;
    if (s->bcast_mismatch) {
        s->err.kind = M7SIM_ERR_PROGRAM;
        snprintf(s->err.msg, sizeof s->err.msg,
                 "the cores called m7_dma_bcast differently (it is collective: every core calls it "
                 "with the same arguments, equally often, between the same barriers)");
        return -1;
    }
    if (s->abort_all) {
        s->err.kind = M7SIM_ERR_PROGRAM;
        snprintf(s->err.msg, sizeof s->err.msg,
                 "a core returned from the kernel while others waited at a barrier "
                 "(every core must call m7_barrier equally often)");
        return -1;
    }
    m7sim_merge_results(s);
    return s->err.kind ? -1 : 0;
}
