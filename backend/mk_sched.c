/* mk_sched.c: the conv micro-kernel's inner loop, modulo-scheduled, and
 * the price of the code codegen emits from it.
 *
 * The machine issues in program order (docs/machine.md 5.3), so the order
 * codegen prints is the schedule.  A step (one tap of a channel or channel
 * pair) is placed on a modulo reservation table of ii cycles: the FMAs
 * first, as early as their accumulator chains allow, then each broadcast,
 * scalar load and weight load as late as its first reader allows (its
 * latency before it), and never more than ii cycles before its last reader,
 * so one C variable per value suffices.  If an op finds no free unit in
 * its window, ii grows by one and the step is placed again (iterative
 * modulo scheduling without backtracking; the step is a small bipartite
 * graph, and this finds ii = the resource or recurrence bound on every
 * block shape the tiler uses).
 *
 * The price is not a formula: bk_mk_call_cycles issues the call's
 * instructions, in the order codegen prints them, by the rules of 5.3
 * (operands, the window, a free unit, the issue width). */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"

enum { MU_VMAC, MU_VLS, MU_BCAST, MU_SLD, MU_VIEU, MU_N };

#define MAXII 512

/* The machine facts a schedule and a price depend on. */
typedef struct {
    int cap[MU_N], width, window;
    int lat_vload, lat_vstore, lat_fma, lat_bcast, lat_sload, lat_vint;
} Facts;

static Facts facts_of(const M7Machine *m) {
    Facts f;
    memset(&f, 0, sizeof f);
    f.cap[MU_VMAC] = m->n_vmac, f.cap[MU_VLS] = m->n_vls, f.cap[MU_BCAST] = m->n_bcast;
    f.cap[MU_SLD] = m->n_sld, f.cap[MU_VIEU] = m->n_vieu;
    f.width = m->issue_width, f.window = m->window;
    f.lat_vload = m->lat_vload, f.lat_vstore = m->lat_vstore, f.lat_fma = m->lat_fma;
    f.lat_bcast = m->lat_bcast, f.lat_sload = m->lat_sload, f.lat_vint = m->lat_vint;
    return f;
}

static int unit_of(int kind) {
    return kind == BK_MK_FMA ? MU_VMAC : kind == BK_MK_BCAST ? MU_BCAST : kind == BK_MK_SLD ? MU_SLD : MU_VLS;
}

static int cdiv(int a, int b) { return b > 0 ? (a + b - 1) / b : MAXII; }
static int imax(int a, int b) { return a > b ? a : b; }
static int imin(int a, int b) { return a < b ? a : b; }

/* ---------------------------- scheduling ---------------------------- */

typedef struct {
    const Facts *f;
    int ii;
    unsigned char use[MAXII][MU_N + 1]; /* per slot: ops of each unit, and in all */
} Mrt;

static int slot_of(int t, int ii) { return ((t % ii) + ii) % ii; }

static int mrt_take(Mrt *r, int t, int u) {
    unsigned char *s = r->use[slot_of(t, r->ii)];
    if (s[u] >= r->f->cap[u] || s[MU_N] >= r->f->width)
        return 0;
    s[u]++, s[MU_N]++;
    return 1;
}

/* The latest cycle in [lo, hi] with a free unit u, taken; or no room. */
static int place_late(Mrt *r, int u, int hi, int lo, int *t) {
    for (int c = hi; c >= lo && c > hi - r->ii; c--)
        if (mrt_take(r, c, u)) {
            *t = c;
            return 1;
        }
    return 0;
}

/* FMA orders a try may use: within each channel of the step, vectors
 * outer (a weight's readers close together), pixels outer (a broadcast's
 * readers close together); or pixels outermost (a scalar pair's two
 * broadcasts close together). */
enum { ORDER_HJQ, ORDER_HQJ, ORDER_QHJ, ORDER_CONV_N, ORDER_JQH = ORDER_CONV_N, ORDER_N };

/* One try at a given ii: the FMAs in `order`, paced evenly over ii when
 * `pace` (so that the loads feeding them need not bunch up), each no
 * earlier than its accumulator chain allows; op times in t[] in L->op
 * order.  0 if it does not fit. */
static int try_ii(const Facts *f, BkMkLoop *L, int ii, int order, int pace, int *t) {
    static Mrt r;
    memset(&r, 0, sizeof r);
    r.f = f, r.ii = ii;
    int H = 1 + L->two, vb = L->vb, pb = bk_mk_nq(L), nf = H * vb * pb, nacc = vb * bk_mk_cols(L);
    int tf[2][M7K_MAXV][BK_MK_MAXQ], tb[2][BK_MK_MAXQ], first[BK_MK_MAXACC], last[BK_MK_MAXACC];
    for (int a = 0; a < nacc; a++)
        first[a] = -1;
    for (int k = 0; k < nf; k++) {
        int h, j, q;
        if (order == ORDER_JQH)
            j = k / (pb * H), q = k / H % pb, h = k % H;
        else if (order == ORDER_QHJ)
            q = k / (H * vb), h = k / vb % H, j = k % vb;
        else if (order == ORDER_HJQ)
            h = k / (vb * pb), j = k / pb % vb, q = k % pb;
        else
            h = k / (vb * pb), q = k / vb % pb, j = k % vb;
        int c = pace ? k * ii / nf : 0, a = bk_mk_acc(L, h, j, q);
        if (first[a] >= 0) /* the accumulator's chain within the step */
            c = imax(c, last[a] + f->lat_fma);
        int lim = c + ii;
        while (c < lim && !mrt_take(&r, c, MU_VMAC))
            c++;
        if (c == lim)
            return 0;
        tf[h][j][q] = c;
        if (first[a] < 0)
            first[a] = c;
        last[a] = c;
    }
    for (int a = 0; a < nacc; a++) /* the chain into the next step */
        if (first[a] + ii < last[a] + f->lat_fma)
            return 0;
    /* then the broadcasts, the scalar loads (which feed them) and the
     * vector loads, each as late as its first reader allows, tightest
     * window first */
    static const int kinds[] = {BK_MK_BCAST, BK_MK_SLD, BK_MK_VLD};
    for (int ki = 0; ki < 3; ki++) {
        int idx[BK_MK_MAXOPS], lo[BK_MK_MAXOPS], hi[BK_MK_MAXOPS], n = 0;
        for (int i = 0; i < L->n; i++) {
            const BkMkOp *o = &L->op[i];
            if (o->kind != kinds[ki])
                continue;
            int first_use = 1 << 30, last_use = -(1 << 30), lat;
            if (o->kind == BK_MK_BCAST) {
                for (int j = 0; j < vb; j++)
                    first_use = imin(first_use, tf[o->h][j][o->q]), last_use = imax(last_use, tf[o->h][j][o->q]);
                lat = f->lat_bcast;
            } else if (o->kind == BK_MK_SLD) {
                for (int h = 0; h < H; h++)
                    first_use = imin(first_use, tb[h][o->q]), last_use = imax(last_use, tb[h][o->q]);
                lat = f->lat_sload;
            } else { /* read by the FMAs of its pixel group (of every channel, when shared) */
                for (int h = 0; h < H; h++)
                    for (int q = 0; q < pb; q++)
                        if (bk_mk_vec_h(L, h) == o->h && bk_mk_wgroup(L, q) == o->q)
                            first_use = imin(first_use, tf[h][o->j][q]), last_use = imax(last_use, tf[h][o->j][q]);
                lat = f->lat_vload;
            }
            idx[n] = i, lo[n] = last_use - ii, hi[n] = first_use - lat, n++;
        }
        for (int a = 1; a < n; a++) /* by window width (insertion sort: n <= 24) */
            for (int b = a; b > 0 && hi[b] - lo[b] < hi[b - 1] - lo[b - 1]; b--) {
                int x;
                x = idx[b], idx[b] = idx[b - 1], idx[b - 1] = x;
                x = lo[b], lo[b] = lo[b - 1], lo[b - 1] = x;
                x = hi[b], hi[b] = hi[b - 1], hi[b - 1] = x;
            }
        for (int k = 0; k < n; k++) {
            const BkMkOp *o = &L->op[idx[k]];
            if (!place_late(&r, unit_of(o->kind), hi[k], lo[k], &t[idx[k]]))
                return 0;
            if (o->kind == BK_MK_BCAST)
                tb[o->h][o->q] = t[idx[k]];
        }
    }
    for (int i = 0; i < L->n; i++)
        if (L->op[i].kind == BK_MK_FMA)
            t[i] = tf[L->op[i].h][L->op[i].j][L->op[i].q];
    return 1;
}

static int op_cmp(const void *a, const void *b) {
    const BkMkOp *x = a, *y = b;
    if (x->slot != y->slot)
        return x->slot - y->slot;
    if (x->kind != y->kind) /* readers before writers: FMA, BCAST, SLD, VLD */
        return x->kind - y->kind;
    if (x->h != y->h)
        return x->h - y->h;
    return x->q != y->q ? x->q - y->q : x->j - y->j;
}

/* The ops of a step, weights loaded wg times each (once per pixel group). */
static void build_ops(BkMkLoop *L, int wg) {
    int H = 1 + L->two, vb = L->vb, pb = bk_mk_nq(L);
    L->n = 0, L->wg = wg;
    for (int h = 0; h < (L->gw ? 1 : H); h++)
        for (int j = 0; j < vb; j++)
            for (int g = 0; g < wg; g++)
                L->op[L->n++] = (BkMkOp){BK_MK_VLD, (uint8_t)h, (uint8_t)j, (uint8_t)g, 0, 0};
    for (int q = 0; q < pb; q++)
        L->op[L->n++] = (BkMkOp){BK_MK_SLD, 0, 0, (uint8_t)q, 0, 0};
    for (int h = 0; h < H; h++)
        for (int q = 0; q < pb; q++)
            L->op[L->n++] = (BkMkOp){BK_MK_BCAST, (uint8_t)h, 0, (uint8_t)q, 0, 0};
    for (int h = 0; h < H; h++)
        for (int q = 0; q < pb; q++)
            for (int j = 0; j < vb; j++)
                L->op[L->n++] = (BkMkOp){BK_MK_FMA, (uint8_t)h, (uint8_t)j, (uint8_t)q, 0, 0};
}

static int vregs_of(const BkMkLoop *L) { /* + the zero of ReLU or of an unbiased start */
    int H = 1 + L->two;
    return L->vb * bk_mk_cols(L) + (L->gw ? 1 : H) * L->vb * L->wg + H * bk_mk_nq(L) + 1;
}

/* A weight vector read by many pixels would live longer than a step: it
 * is then loaded once per pixel group (the VLS units have room), wg
 * groups (dW: a multiple of px, each pixel its own vectors).  The smallest
 * ii wins, then the fewest loads. */
static void schedule(const Facts *f, const M7Machine *m, int gw, int vb, int pb, int two, int px, BkMkLoop *L) {
    memset(L, 0, sizeof *L);
    L->gw = gw, L->vb = vb, L->pb = pb, L->two = two, L->px = px;
    int H = 1 + two, nq = bk_mk_nq(L), nv = gw ? px * vb : H * vb;
    int nf = H * vb * nq, nb = H * nq;
    int mii = imax(imax(cdiv(nf, f->cap[MU_VMAC]), cdiv(nv, f->cap[MU_VLS])),
                   imax(cdiv(nq, f->cap[MU_SLD]), cdiv(nb, f->cap[MU_BCAST])));
    mii = imax(imax(mii, cdiv(nv + nq + nb + nf, f->width)), (gw ? px : H) * f->lat_fma);
    int t[BK_MK_MAXOPS] = {0}, ii;
    int ok = 0, wstep = gw ? px : 1;
    for (ii = imax(mii, 1); ii < MAXII && !ok; ii++)
        for (int wg = wstep; wg <= BK_MK_MAXWG && wg <= nq && !ok; wg += wstep) {
            build_ops(L, wg);
            if (vregs_of(L) > m->vregs - 2 || cdiv(L->n, f->width) > ii)
                continue;
            for (int pace = 0; pace < 2 && !ok; pace++)
                for (int order = 0; order < (gw ? ORDER_N : ORDER_CONV_N) && !ok; order++)
                    ok = try_ii(f, L, ii, order, pace, t);
        }
    if (ok) {
        ii--;
    } else { /* unreachable on any machine with a unit of each class: one op a cycle */
        build_ops(L, wstep);
        ii = L->n;
        for (int i = 0; i < L->n; i++)
            t[i] = i;
    }
    int tmin = t[0];
    for (int i = 1; i < L->n; i++)
        tmin = imin(tmin, t[i]);
    for (int i = 0; i < L->n; i++) {
        L->op[i].stage = (int16_t)((t[i] - tmin) / ii);
        L->op[i].slot = (int16_t)((t[i] - tmin) % ii);
        L->stages = imax(L->stages, L->op[i].stage + 1);
    }
    qsort(L->op, (size_t)L->n, sizeof L->op[0], op_cmp);
    L->ii = ii;
    L->vregs = vregs_of(L);
}

/* Schedules are kept per machine: a compile uses one, tests several. */
static Facts loop_facts;
static int loop_known[4][M7K_MAXV + 1][M7K_MAXP + 1];
static BkMkLoop loops[4][M7K_MAXV + 1][M7K_MAXP + 1];

/* form: 0 conv by channel, 1 conv by channel pair, 2 dW a pixel a step, 3 dW two */
static const BkMkLoop *loop_of(const M7Machine *m, int form, int vb, int pb) {
    Facts f = facts_of(m);
    if (memcmp(&f, &loop_facts, sizeof f)) {
        memset(loop_known, 0, sizeof loop_known);
        loop_facts = f;
    }
    if (vb < 1 || vb > M7K_MAXV || pb < 1 || pb > M7K_MAXP || (form >= 2 && 2 * vb * pb > BK_MK_MAXACC))
        return NULL;
    if (!loop_known[form][vb][pb]) {
        schedule(&f, m, form >= 2, vb, pb, form != 0, form == 3 ? 2 : 1, &loops[form][vb][pb]);
        loop_known[form][vb][pb] = 1;
    }
    if (form >= 2 && loops[form][vb][pb].vregs > m->vregs - 2) /* a dW block too big for the registers */
        return NULL;
    return &loops[form][vb][pb];
}

const BkMkLoop *bk_mk_loop(const M7Machine *m, int vb, int pb, int two) { return loop_of(m, two ? 1 : 0, vb, pb); }
const BkMkLoop *bk_gw_loop(const M7Machine *m, int vb, int pp, int px) {
    return px == 1 || px == 2 ? loop_of(m, 1 + px, vb, pp) : NULL;
}

BkMkAct bk_mk_act(int a) {
    return a == M7K_ACT_NONE ? BK_MK_ACT_NONE : a == M7K_ACT_RELU ? BK_MK_ACT_RELU : BK_MK_ACT_OTHER;
}

/* ------------------------------ pricing ------------------------------ */

/* In-order issue (5.3): the same rule the simulator follows. */
typedef struct {
    const Facts *f;
    uint64_t *win;
    int widx;
    struct Slot {
        uint64_t tag;
        unsigned char cnt[MU_N + 1];
    } *ring;
    uint64_t mask;
} Issue;

static uint64_t u64max(uint64_t a, uint64_t b) { return a > b ? a : b; }

static uint64_t issue(Issue *s, int u, uint64_t ready, int lat) {
    uint64_t t = u64max(ready, s->win[s->widx]);
    for (;; t++) {
        struct Slot *sl = &s->ring[t & s->mask];
        if (sl->tag != t)
            sl->tag = t, memset(sl->cnt, 0, sizeof sl->cnt);
        if (sl->cnt[u] < s->f->cap[u] && sl->cnt[MU_N] < s->f->width) {
            sl->cnt[u]++, sl->cnt[MU_N]++;
            break;
        }
    }
    s->win[s->widx] = t;
    if (++s->widx == s->f->window)
        s->widx = 0;
    return t + (uint64_t)lat;
}

/* The issue cycle of the last instruction. */
static uint64_t now(const Issue *is) { return is->win[(is->widx + is->f->window - 1) % is->f->window]; }

/* Ready cycles of the call's C variables. */
typedef struct {
    uint64_t a[BK_MK_MAXACC], w[2][M7K_MAXV][BK_MK_MAXWG], x[2][BK_MK_MAXQ], s[2][BK_MK_MAXQ], z;
} Vals;

static void run_op(Issue *is, Vals *v, const BkMkLoop *L, const BkMkOp *o) {
    const Facts *f = is->f;
    switch (o->kind) {
    case BK_MK_VLD: v->w[o->h][o->j][o->q] = issue(is, MU_VLS, 0, f->lat_vload); break;
    case BK_MK_SLD:
        v->s[0][o->q] = v->s[1][o->q] = issue(is, MU_SLD, 0, f->lat_sload);
        break;
    case BK_MK_BCAST: v->x[o->h][o->q] = issue(is, MU_BCAST, v->s[o->h][o->q], f->lat_bcast); break;
    default: {
        uint64_t *a = &v->a[bk_mk_acc(L, o->h, o->j, o->q)];
        uint64_t w = v->w[bk_mk_vec_h(L, o->h)][o->j][bk_mk_wgroup(L, o->q)];
        *a = issue(is, MU_VMAC, u64max(u64max(w, v->x[o->h][o->q]), *a), f->lat_fma);
        break;
    }
    }
}

/* Shifts every recorded time by d: skipping d / ii kernel passes that
 * would repeat the last one exactly. */
static void shift(Issue *is, Vals *v, uint64_t d) {
    for (int i = 0; i < is->f->window; i++)
        is->win[i] += d;
    uint64_t n = is->mask + 1;
    struct Slot *copy = malloc(n * sizeof *copy);
    if (copy) {
        memcpy(copy, is->ring, n * sizeof *copy);
        for (uint64_t i = 0; i < n; i++) {
            uint64_t tag = copy[i].tag + d;
            is->ring[tag & is->mask] = copy[i], is->ring[tag & is->mask].tag = tag;
        }
        free(copy);
    }
    uint64_t *all = &v->a[0];
    for (size_t i = 0; i < sizeof *v / sizeof(uint64_t); i++)
        all[i] += d;
}

/* The loop of n steps as codegen prints it (the pass rules of backend.h). */
static void run_loop(Issue *is, Vals *v, const BkMkLoop *L, int n) {
    int S = L->stages;
    for (int p = 0; p < S - 1; p++)
        for (int i = 0; i < L->n; i++) {
            int st = bk_mk_prologue_step(&L->op[i], p);
            if (st >= 0 && st < n)
                run_op(is, v, L, &L->op[i]);
        }
    uint64_t prev = 0, gap = 0;
    int same = 0;
    for (int k = 0; k <= n - S; k++) {
        for (int i = 0; i < L->n; i++)
            run_op(is, v, L, &L->op[i]);
        uint64_t end = now(is);
        same = k > 0 && end - prev == gap ? same + 1 : 0;
        gap = end - prev, prev = end;
        if (same >= 2 && n - S - k > 1) { /* periodic: skip to the last pass */
            uint64_t skip = (uint64_t)(n - S - k - 1);
            shift(is, v, skip * gap);
            prev += skip * gap;
            k += (int)skip;
        }
    }
    for (int e = 0; e < S - 1; e++)
        if (bk_mk_epilogue_runs(L, n, e))
            for (int i = 0; i < L->n; i++)
                if (L->op[i].stage > e)
                    run_op(is, v, L, &L->op[i]);
}

/* One call as codegen prints it: start, the pair (or channel) loop, the
 * odd channel's loop, the activation, the stores.  A dW call (L->gw) loads
 * its accumulators, runs its nci pixels two a step, an odd last one alone
 * (L1), and stores them. */
static void run_call(Issue *is, Vals *v, const BkMkLoop *L, const BkMkLoop *L1, int nci, int kk, BkMkInit init,
                     BkMkAct act) {
    const Facts *f = is->f;
    int nacc = L->vb * bk_mk_cols(L);
    if (init == BK_MK_INIT_ZERO) {
        v->z = issue(is, MU_VIEU, 0, f->lat_vint);
        for (int a = 0; a < nacc; a++)
            v->a[a] = v->z;
    } else {
        for (int a = 0; a < nacc; a++)
            v->a[a] = issue(is, MU_VLS, 0, f->lat_vload);
    }
    int two = L->gw ? L->px == 2 : L->two, n = kk * (two ? nci / 2 : nci);
    if (n > 0)
        run_loop(is, v, L, n);
    if (two && nci % 2)
        run_loop(is, v, L1, kk);
    if (act == BK_MK_ACT_RELU)
        v->z = issue(is, MU_VIEU, 0, f->lat_vint);
    for (int a = 0; a < nacc; a++) {
        uint64_t r = v->a[a];
        if (act == BK_MK_ACT_RELU)
            r = issue(is, MU_VIEU, u64max(r, v->z), f->lat_vint);
        else if (act == BK_MK_ACT_OTHER) /* m7k_act: about three dependent vector ops */
            for (int k = 0; k < 3; k++)
                r = issue(is, MU_VMAC, r, f->lat_fma);
        v->a[a] = issue(is, MU_VLS, r, f->lat_vstore);
    }
}

/* Prices seen, per machine: the tile search asks for the same few shapes
 * millions of times. */
#define PRICE_SLOTS (1 << 16)
static struct {
    uint64_t key; /* 0: empty */
    double cycles;
} prices[PRICE_SLOTS];
static Facts price_facts;

static double price(const Facts *f, const BkMkLoop *L, const BkMkLoop *L1, int nci, int kk, BkMkInit init,
                    BkMkAct act) {
    if (!L || !L1 || nci < 1 || kk < 1)
        return 0;
    Issue is;
    is.f = f;
    is.widx = 0;
    int lat = imax(imax(f->lat_vload, f->lat_fma), imax(f->lat_sload + f->lat_bcast, f->lat_vstore));
    uint64_t want = 8 * (uint64_t)f->window * (uint64_t)(lat + 4) + (uint64_t)4 * MAXII, n = 4096;
    while (n < want)
        n *= 2;
    is.win = calloc((size_t)f->window, sizeof *is.win);
    is.ring = calloc(n, sizeof *is.ring);
    is.mask = n - 1;
    if (!is.win || !is.ring) {
        free(is.win), free(is.ring);
        return 0;
    }
    for (uint64_t i = 0; i < n; i++)
        is.ring[i].tag = UINT64_MAX;
    Vals v;
    memset(&v, 0, sizeof v);
    /* three calls in a row: the second to the third is the cost of one */
    run_call(&is, &v, L, L1, nci, kk, init, act);
    run_call(&is, &v, L, L1, nci, kk, init, act);
    uint64_t t2 = now(&is);
    run_call(&is, &v, L, L1, nci, kk, init, act);
    uint64_t t3 = now(&is);
    free(is.win), free(is.ring);
    return (double)(t3 - t2);
}

/* The memoized price of a call; key bit 62 marks dW. */
static double price_of(const M7Machine *m, uint64_t key, const BkMkLoop *L, const BkMkLoop *L1, int nci, int kk,
                       BkMkInit init, BkMkAct act) {
    Facts f = facts_of(m);
    if (memcmp(&f, &price_facts, sizeof f)) {
        memset(prices, 0, sizeof prices);
        price_facts = f;
    }
    uint64_t h = (key * 0x9e3779b97f4a7c15u) >> 48;
    for (uint64_t probe = 0;; probe++) {
        uint64_t i = (h + probe) & (PRICE_SLOTS - 1);
        if (prices[i].key == key)
            return prices[i].cycles;
        if (!prices[i].key || probe == 64) {
            prices[i].key = key;
            prices[i].cycles = price(&f, L, L1, nci, kk, init, act);
            return prices[i].cycles;
        }
    }
}

double bk_mk_call_cycles(const M7Machine *m, int vb, int pb, int two, int nci, int kk, BkMkInit init,
                         BkMkAct act) {
    if (vb < 1 || vb > M7K_MAXV || pb < 1 || pb > M7K_MAXP || nci < 1 || kk < 1 || nci >= 1 << 24 || kk >= 1 << 16)
        return 0;
    uint64_t key = (uint64_t)vb | (uint64_t)pb << 3 | (uint64_t)(two ? 1 : 0) << 7 | (uint64_t)init << 8 |
                   (uint64_t)act << 9 | (uint64_t)kk << 11 | (uint64_t)nci << 27 | (uint64_t)1 << 63;
    return price_of(m, key, bk_mk_loop(m, vb, pb, two), bk_mk_loop(m, vb, pb, 0), nci, kk, init, act);
}

double bk_gw_call_cycles(const M7Machine *m, int vb, int pp, int npix) {
    const BkMkLoop *L = bk_gw_loop(m, vb, pp, 2);
    if (!L || npix < 1 || npix >= 1 << 24)
        return 0;
    uint64_t key = (uint64_t)vb | (uint64_t)pp << 3 | (uint64_t)npix << 27 | (uint64_t)3 << 62;
    return price_of(m, key, L, bk_gw_loop(m, vb, pp, 1), npix, 1, BK_MK_INIT_LOAD, BK_MK_ACT_NONE);
}

/* ------------------------- the shapes a conv uses ------------------------- */

void bk_conv_mk_shapes(const BkConv *c, int ncores, uint32_t shapes[M7K_MAXV + 1]) {
    memset(shapes, 0, sizeof(uint32_t) * (M7K_MAXV + 1));
    uint32_t pbs = 0; /* pixel blocks of a full and of the last column tile */
    int nwt = (c->wo + c->tw - 1) / c->tw;
    for (int wt = 0; wt < nwt; wt++) {
        int nc = imin(c->tw, c->wo - wt * c->tw);
        for (int q0 = 0; q0 < nc; q0 += c->px)
            pbs |= 1u << imin(c->px, nc - q0);
    }
    for (int core = 0; core < ncores; core++) {
        M7kShare sh = bk_conv_share(c, core, ncores);
        if (sh.r_hi <= sh.r_lo)
            continue;
        for (int v0 = sh.co_lo; v0 < sh.co_hi; v0 += c->co_chunk) {
            int nv = imin(c->co_chunk, sh.co_hi - v0), s_lo, s_hi;
            m7k_range(nv, sh.slice, sh.nslices, &s_lo, &s_hi);
            for (int j0 = s_lo; j0 < s_hi; j0 += c->vco)
                shapes[imin(c->vco, s_hi - j0)] |= pbs;
        }
    }
}

int bk_conv_pairs(const BkConv *c) { return c->sub_ci % 2 == 0 && (c->groups == 1 || c->cin % 2 == 0); }

/* The block shapes (vb, pp) m7k_tr_gw calls: every chunk's vector blocks
 * times the pair blocks of m7k_gw_pairs. */
void bk_gw_mk_shapes(const BkTrain *t, uint32_t shapes[M7K_MAXV + 1]) {
    memset(shapes, 0, sizeof(uint32_t) * (M7K_MAXV + 1));
    int nvco = (t->cout + 31) / 32, nchunks = (nvco + t->vco - 1) / t->vco * ((t->cin + t->ci_chunk - 1) / t->ci_chunk);
    for (int ch = 0; ch < nchunks; ch++) {
        int v0, nv, ci0, nci;
        m7k_gw_chunk_of(t->cin, nvco, t->vco, t->ci_chunk, ch, &v0, &nv, &ci0, &nci);
        int npairs = (nci + 1) / 2;
        uint32_t pps = 0;
        for (int pr = 0, pp; pr < npairs; pr += pp)
            pp = m7k_gw_pairs(t->pp, npairs, ci0, pr), pps |= 1u << pp;
        for (int v = 0; v < nv; v += t->vb)
            shapes[imin(t->vb, nv - v)] |= pps;
    }
}
