/* moves.c: data movement as strided DMA ("moves").
 *
 * A copy between two tensors in DDR (transpose, concat, broadcast, a
 * layout change) is described over the destination's axes: per axis a
 * count and a byte stride on each side.  A blocked tensor's channel axis
 * is not one stride (channel c sits at c/32 blocks + c%32 lanes), so it is
 * cut into runs that stay inside one block on every blocked side (whole
 * aligned blocks as a block x lane axis pair).  Each piece then becomes one
 * BkMove: axes of count 1 dropped, neighbours that are one axis in memory
 * merged, a contiguous axis (stride 4 on both sides) as the DMA row, the
 * longest other axis as the DMA's rows, the rest as loops.  m7k_moves
 * (target/kernels.c) issues them; cost.c prices them. */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"

/* One axis of a copy; sc/dc: the first channel when the axis is a blocked
 * side's channel axis (its stride then is the lane's, 4), else -1. */
typedef struct {
    int64_t cnt, s, d;
    int64_t sc, dc, scb, dcb;
} Ax;

#define MAX_AX (IR_MAX_RANK + 1) /* a copy's axes, one split into block and lane: <= 2 + M7K_MOVE_LOOPS */
#define BK_MOVE_CHUNK 65536 /* bytes per DMA at most, where its shape allows */

int bk_view(const IrTensor *t, const BkAct *a, int opd, BkView *v) {
    memset(v, 0, sizeof *v);
    v->opd = opd;
    v->rank = t->rank;
    v->chan = -1;
    for (int i = 0; i < t->rank; i++)
        v->dims[i] = t->dims[i];
    if (a->layout != BK_LAYOUT_BLOCKED) {
        int64_t acc = 4;
        for (int i = t->rank - 1; i >= 0; i--)
            v->str[i] = acc, acc *= t->dims[i];
        return 0;
    }
    /* blocked [N][C/32][H][W][32]: the logical axes are those of map.c's
     * geometry (rank 1 [C], 2 [N,C], 3 [N,C,W], >= 4 [N,C,H...,W]) */
    int64_t d[4] = {1, 1, 1, 1};
    if (t->rank == 1)
        d[1] = t->dims[0];
    else if (t->rank >= 2) {
        d[0] = t->dims[0], d[1] = t->dims[1];
        if (t->rank >= 3)
            d[3] = t->dims[t->rank - 1];
        for (int i = 2; i < t->rank - 1; i++)
            d[2] *= t->dims[i];
    }
    if (d[0] != a->n || d[1] != a->c || d[2] != a->h || d[3] != a->w)
        return -1;
    int64_t ncb = (a->c + 31) / 32, sw = 128, sh = (int64_t)a->w * 128, scb = (int64_t)a->h * sh;
    v->cb_str = scb;
    if (t->rank == 0)
        return 0;
    v->chan = t->rank == 1 ? 0 : 1;
    v->str[v->chan] = 4;
    if (t->rank >= 2)
        v->str[0] = ncb * scb;
    if (t->rank >= 3)
        v->str[t->rank - 1] = sw;
    int64_t acc = sh;
    for (int i = t->rank - 2; i >= 2; i--)
        v->str[i] = acc, acc *= t->dims[i];
    return 0;
}

static BkMove *new_move(BkMoves *mv) {
    mv->m = ir_xrealloc(mv->m, (size_t)(mv->n + 1) * sizeof *mv->m);
    BkMove *m = &mv->m[mv->n++];
    memset(m, 0, sizeof *m);
    return m;
}

/* One piece with plain strides on both sides: normalise into a move. */
static void finish(BkMoves *mv, int src, int dst, const Ax *in, int n, int64_t so, int64_t doff) {
    Ax ax[MAX_AX];
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (in[i].cnt == 0)
            return; /* nothing to copy */
        if (in[i].cnt == 1)
            continue;
        if (k > 0 && ax[k - 1].s == in[i].cnt * in[i].s && ax[k - 1].d == in[i].cnt * in[i].d) {
            ax[k - 1].cnt *= in[i].cnt; /* one axis in memory on both sides */
            ax[k - 1].s = in[i].s, ax[k - 1].d = in[i].d;
            continue;
        }
        ax[k++] = in[i];
    }
    BkMove *m = new_move(mv);
    m->src = src, m->dst = dst, m->src_off = so, m->dst_off = doff;
    m->row_bytes = 4, m->rows = 1;
    for (int i = 0; i < k; i++)
        if (ax[i].s == 4 && ax[i].d == 4 && ax[i].cnt <= INT32_MAX / 4) { /* contiguous on both sides: the DMA row */
            m->row_bytes = (uint32_t)(ax[i].cnt * 4);
            memmove(&ax[i], &ax[i + 1], (size_t)(k - i - 1) * sizeof *ax);
            k--;
            break;
        }
    int r = -1;
    for (int i = 0; i < k; i++)
        if (ax[i].cnt <= INT32_MAX && (r < 0 || ax[i].cnt > ax[r].cnt))
            r = i;
    if (r >= 0) {
        m->rows = (uint32_t)ax[r].cnt, m->src_stride = ax[r].s, m->dst_stride = ax[r].d;
        memmove(&ax[r], &ax[r + 1], (size_t)(k - r - 1) * sizeof *ax);
        k--;
    }
    /* a DMA of more than BK_MOVE_CHUNK bytes is cut into a loop of
     * smaller ones (a divisor of its rows, or of a single row), so a large
     * copy is shared by every core and channel */
    int64_t bytes = (int64_t)m->rows * m->row_bytes;
    if (bytes > BK_MOVE_CHUNK && k < M7K_MOVE_LOOPS) {
        if (m->rows == 1) { /* one long row: rows of a divisor of its length */
            m->rows = m->row_bytes / 4;
            m->row_bytes = 4;
            m->src_stride = m->dst_stride = 4;
        }
        int64_t per = 1, rb = m->row_bytes;
        for (int64_t q = 1; q <= m->rows && q * rb <= BK_MOVE_CHUNK; q++)
            if (m->rows % q == 0)
                per = q;
        if (per < m->rows && per * rb >= BK_MOVE_CHUNK / 8) { /* never into tiny pieces */
            ax[k++] = (Ax){m->rows / per, per * m->src_stride, per * m->dst_stride, -1, -1, 0, 0};
            m->rows = (uint32_t)per;
        }
        if (m->row_bytes == 4 && m->src_stride == 4 && m->dst_stride == 4) { /* rows back into one row */
            m->row_bytes = m->rows * 4;
            m->rows = 1;
        }
    }
    m->nloop = k;
    for (int i = 0; i < k; i++)
        m->cnt[i] = ax[i].cnt, m->sstr[i] = ax[i].s, m->dstr[i] = ax[i].d;
}

/* Byte offset of position p along a channel axis starting at channel c. */
static int64_t chan_off(int64_t c, int64_t p, int64_t cb) { return (c + p) / 32 * cb + (c + p) % 32 * 4; }

/* Cuts blocked channel axes into runs inside one block on every blocked
 * side (whole aligned blocks: a block axis and a lane axis), then finishes. */
static void split(BkMoves *mv, int src, int dst, Ax *ax, int n, int64_t so, int64_t doff) {
    for (int i = 0; i < n; i++) {
        if (ax[i].sc < 0 && ax[i].dc < 0)
            continue;
        Ax a = ax[i];
        for (int64_t p = 0; p < a.cnt;) {
            int64_t cs = a.sc >= 0 ? (a.sc + p) % 32 : 0, cd = a.dc >= 0 ? (a.dc + p) % 32 : 0;
            int64_t so2 = so + (a.sc >= 0 ? chan_off(a.sc, p, a.scb) : p * a.s);
            int64_t do2 = doff + (a.dc >= 0 ? chan_off(a.dc, p, a.dcb) : p * a.d);
            int64_t nb = cs == 0 && cd == 0 ? (a.cnt - p) / 32 : 0;
            if (nb > 0 && n < MAX_AX) { /* whole blocks: [nb][32 lanes] */
                Ax b[MAX_AX];
                memcpy(b, ax, (size_t)i * sizeof *b);
                b[i] = (Ax){nb, a.sc >= 0 ? a.scb : 32 * a.s, a.dc >= 0 ? a.dcb : 32 * a.d, -1, -1, 0, 0};
                b[i + 1] = (Ax){32, a.s, a.d, -1, -1, 0, 0};
                memcpy(&b[i + 2], &ax[i + 1], (size_t)(n - i - 1) * sizeof *b);
                split(mv, src, dst, b, n + 1, so2, do2);
                p += nb * 32;
                continue;
            }
            int64_t run = a.cnt - p;
            if (a.sc >= 0 && run > 32 - cs)
                run = 32 - cs;
            if (a.dc >= 0 && run > 32 - cd)
                run = 32 - cd;
            ax[i] = (Ax){run, a.s, a.d, -1, -1, 0, 0};
            split(mv, src, dst, ax, n, so2, do2);
            p += run;
        }
        ax[i] = a;
        return;
    }
    finish(mv, src, dst, ax, n, so, doff);
}

void bk_moves_copy(BkMoves *mv, const BkView *src, const BkView *dst, const int *sa, const int64_t *cnt,
                   const int64_t *start) {
    Ax ax[MAX_AX];
    int64_t so = src->off, doff = dst->off;
    for (int j = 0; j < dst->rank; j++) {
        Ax *a = &ax[j];
        int i = sa[j];
        a->cnt = cnt[j];
        a->s = i >= 0 ? src->str[i] : 0;
        a->d = dst->str[j];
        a->sc = i >= 0 && i == src->chan ? 0 : -1, a->scb = src->cb_str;
        a->dc = -1, a->dcb = dst->cb_str;
        if (j == dst->chan)
            a->dc = start[j];
        else
            doff += start[j] * dst->str[j];
    }
    split(mv, src->opd, dst->opd, ax, dst->rank, so, doff);
}

void bk_moves_zero_pad(BkMoves *mv, const BkView *dst) {
    if (dst->chan < 0)
        return;
    int64_t c = dst->dims[dst->chan];
    if (c % 32 == 0)
        return;
    Ax ax[MAX_AX];
    int64_t doff = dst->off;
    for (int j = 0; j < dst->rank; j++) {
        ax[j] = (Ax){dst->dims[j], 0, dst->str[j], -1, -1, 0, 0};
        if (j == dst->chan) { /* the lanes after the last channel, in its block, from the zero row */
            ax[j].cnt = 32 - c % 32, ax[j].s = 4;
            doff += chan_off(c, 0, dst->cb_str);
        }
    }
    finish(mv, BK_OPD_ZERO, dst->opd, ax, dst->rank, 0, doff);
}

void bk_moves_convert(BkMoves *mv, const BkAct *from, const BkAct *to) {
    IrTensor t;
    memset(&t, 0, sizeof t);
    t.rank = 4;
    t.dims[0] = from->n, t.dims[1] = from->c, t.dims[2] = from->h, t.dims[3] = from->w;
    BkView s, d;
    bk_view(&t, from, BK_OPD_ABS, &s);
    bk_view(&t, to, BK_OPD_ABS, &d);
    s.off = from->ddr, d.off = to->ddr;
    int sa[4] = {0, 1, 2, 3};
    int64_t start[4] = {0};
    bk_moves_copy(mv, &s, &d, sa, t.dims, start);
    bk_moves_zero_pad(mv, &d);
}

void bk_to_nchw_moves(const BkSched *s, BkMoves *mv) {
    BkAct plain = s->in[0]; /* the blocked input, as NCHW at the output's address */
    plain.layout = BK_LAYOUT_NCHW, plain.ddr = s->out.ddr;
    bk_moves_convert(mv, &s->in[0], &plain);
}

static void convert_moves(BkConvert *cv) {
    bk_moves_free(&cv->mv);
    if (cv->present && cv->kind != BK_CONVERT_UPSAMPLE)
        bk_moves_convert(&cv->mv, &cv->from, &cv->to);
}

void bk_convert_moves(IrGraph *g) {
    for (int li = 0; li < g->n_l; li++) {
        BkSched *s = g->l[li].dead ? NULL : g->l[li].sched;
        if (!s)
            continue;
        convert_moves(&s->pre);
        convert_moves(&s->post);
        if (s->kind == BK_KIND_TO_NCHW) {
            bk_moves_free(&s->mv);
            bk_to_nchw_moves(s, &s->mv);
        }
    }
}

void bk_moves_free(BkMoves *mv) {
    free(mv->m);
    mv->m = NULL;
    mv->n = 0;
}

int64_t bk_moves_dmas(const BkMoves *mv) {
    int64_t t = 0;
    for (int k = 0; k < mv->n; k++) {
        int64_t c = 1;
        for (int i = 0; i < mv->m[k].nloop; i++)
            c *= mv->m[k].cnt[i];
        t += c;
    }
    return t;
}
