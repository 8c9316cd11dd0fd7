/* kernels_train.c: the training kernels (backend/map_train.c), copied into
 * every generated program after kernels.c, whose helpers they use (the two
 * are joined into one file by amalgamate.c; neither includes the other).
 *
 *  m7k_tr_loss      cross-entropy or MSE of [N, K] logits: the loss and dY
 *  m7k_tr_ew        act_grad (dY times the slope from Y) and SGD (W - lr dW)
 *  m7k_tr_pool      max/average pooling gradients (non-overlapping windows)
 *  m7k_tr_gw        dW (and dB) of a conv or FC: dY vectors (32 output
 *                   channels in lanes) times broadcast X values, summed over
 *                   the pixels in registers
 *  m7k_tr_upsample  dY spread s apart (a strided conv's dX, then m7k_conv)
 */

/* ---- loss (core 0: a row of the batch at a time) --------------------------- */
static M7K_LIB void m7k_tr_loss(const M7kTrain *p) {
    if (m7_core_id() != 0)
        return;
    uint64_t row = (uint64_t)p->kb * 128;
    m7_addr P = M7_AM(0), T = M7_AM(row), D = M7_AM(2 * row), L = M7_AM(3 * row + 128);
    m7_vec mask = m7k_lane_mask(p->iota, 3 * row, p->k), zero = m7_vzero(), tot = m7_vzero();
    m7_vec ninf = m7_vsplat(-__builtin_inff()), dscale = m7_vsplat(p->dscale);
    for (int v = 0; v < p->kb; v++) /* the target row's tail lanes stay zero */
        m7_vst(T + (uint64_t)v * 128, zero);
    for (int n = 0; n < p->n; n++) {
        m7_dma(M7K_CH_IN, P, M7_DDR(p->a + n * row), 1, (uint32_t)row, 0, 0);
        m7_dma(M7K_CH_IN + 1, T, M7_DDR(p->b + (uint64_t)n * p->k * 4), 1, (uint32_t)p->k * 4, 0, 0);
        m7_dma_wait(M7K_CH_IN);
        m7_dma_wait(M7K_CH_IN + 1);
        if (p->loss_ce) { /* sum_k t_k (lse - y_k); dY = (softmax - t) / N */
            m7_vec mx = ninf;
            for (int v = 0; v < p->kb; v++) {
                m7_vec x = m7_vld(P + (uint64_t)v * 128);
                mx = m7_vmax(mx, v == p->kb - 1 ? m7_vsel(mask, x, ninf) : x);
            }
            m7_vec vmx = m7_vbcast(m7_vreduce_max(mx)), sum = m7_vzero();
            for (int v = 0; v < p->kb; v++) {
                m7_vec e = m7_vexp(m7_vsub(m7_vld(P + (uint64_t)v * 128), vmx));
                if (v == p->kb - 1)
                    e = m7_vsel(mask, e, zero);
                sum = m7_vadd(sum, e);
                m7_vst(D + (uint64_t)v * 128, e);
            }
            m7_vec s = m7_vbcast(m7_vreduce_add(sum));
            m7_vec inv = m7_vrcp(s), lse = m7_vadd(m7_vlog(s), vmx);
            for (int v = 0; v < p->kb; v++) {
                m7_vec t = m7_vld(T + (uint64_t)v * 128), y = m7_vld(P + (uint64_t)v * 128);
                m7_vec term = m7_vmul(t, m7_vsub(lse, y));
                m7_vec g = m7_vmul(m7_vsub(m7_vmul(m7_vld(D + (uint64_t)v * 128), inv), t), dscale);
                if (v == p->kb - 1)
                    term = m7_vsel(mask, term, zero), g = m7_vsel(mask, g, zero);
                tot = m7_vadd(tot, term);
                m7_vst(D + (uint64_t)v * 128, g);
            }
        } else { /* (y - t)^2; dY = 2 (y - t) / numel */
            for (int v = 0; v < p->kb; v++) {
                m7_vec e = m7_vsub(m7_vld(P + (uint64_t)v * 128), m7_vld(T + (uint64_t)v * 128));
                if (v == p->kb - 1)
                    e = m7_vsel(mask, e, zero);
                tot = m7_vfma(e, e, tot);
                m7_vst(D + (uint64_t)v * 128, m7_vmul(e, dscale));
            }
        }
        m7_dma(M7K_CH_OUT, M7_DDR(p->out + n * row), D, 1, (uint32_t)row, 0, 0);
        m7_dma_wait(M7K_CH_OUT);
    }
    m7_vst(L, m7_vmul(m7_vbcast(m7_vreduce_add(tot)), m7_vsplat(p->scale)));
    m7_dma(M7K_CH_OUT, M7_DDR(p->out2), L, 1, 4, 0, 0);
    m7_dma_wait(M7K_CH_OUT);
}

/* ---- element-wise: act_grad, SGD ------------------------------------------ */
static M7K_LIB m7_vec m7k_tr_slope(const M7kAct *a, m7_vec dy, m7_vec y) {
    m7_vec one = m7_vsplat(1.0f), zero = m7_vzero();
    switch (a->act) {
    case M7K_ACT_RELU:
        return m7_vsel(m7_vcmpgt(y, zero), dy, zero);
    case M7K_ACT_LEAKY:
        return m7_vsel(m7_vcmpgt(y, zero), dy, m7_vmul(dy, m7_vsplat(a->alpha)));
    case M7K_ACT_CLIP: /* lo < y < hi */
        return m7_vsel(m7_vcmpgt(y, m7_vsplat(a->lo)), m7_vsel(m7_vcmpgt(m7_vsplat(a->hi), y), dy, zero), zero);
    case M7K_ACT_SIGMOID:
        return m7_vmul(dy, m7_vmul(y, m7_vsub(one, y)));
    case M7K_ACT_TANH:
        return m7_vmul(dy, m7_vsub(one, m7_vmul(y, y)));
    default:
        return dy;
    }
}

/* Each core its share of chunk-sized pieces: a and b in, one result out
 * (act_grad: a = dY, b = Y; SGD: a = dW, b = W's master copy), two slots
 * so the next piece's loads and the last one's store run behind the
 * compute.  The vector loop is software-pipelined for the in-order issue:
 * loads run EW_AHEAD vectors ahead of their op (9 cycles), stores
 * EW_BEHIND behind it (an FMA's 6), in rings of 8 registers. */
enum { M7K_EW_AHEAD = 6, M7K_EW_BEHIND = 4 };

static M7K_LIB void m7k_tr_ew_piece(const M7kTrain *p, m7_addr A, m7_addr B, m7_addr O, uint64_t n, m7_vec nlr) {
    m7_vec ra[8], rb[8], rr[8];
    for (uint64_t k = 0; k < n + M7K_EW_AHEAD + M7K_EW_BEHIND; k++) {
        if (k < n)
            ra[k & 7] = m7_vld(A + k * 128), rb[k & 7] = m7_vld(B + k * 128);
        uint64_t c = k - M7K_EW_AHEAD, st = c - M7K_EW_BEHIND;
        if (k >= M7K_EW_AHEAD && c < n)
            rr[c & 7] = p->ew_op == M7K_TR_EW_SGD ? m7_vfma(ra[c & 7], nlr, rb[c & 7])
                                                  : m7k_tr_slope(&p->act, ra[c & 7], rb[c & 7]);
        if (k >= M7K_EW_AHEAD + M7K_EW_BEHIND && st < n)
            m7_vst(O + st * 128, rr[st & 7]);
    }
}

/* Piece i's operands into slot s (a on channel IN + s, b on W + s). */
static M7K_LIB void m7k_tr_ew_load(const M7kTrain *p, int i, int s) {
    uint64_t off = (uint64_t)i * p->chunk, bytes = p->nbytes - off < p->chunk ? p->nbytes - off : p->chunk;
    m7_dma(M7K_CH_IN + s, M7_AM((uint64_t)s * 3 * p->chunk), M7_DDR(p->a + off), 1, (uint32_t)bytes, 0, 0);
    m7_dma(M7K_CH_W + s, M7_AM(((uint64_t)s * 3 + 1) * p->chunk), M7_DDR(p->b + off), 1, (uint32_t)bytes, 0, 0);
}

static M7K_LIB void m7k_tr_ew(const M7kTrain *p) {
    int pieces = (int)((p->nbytes + p->chunk - 1) / p->chunk), lo, hi;
    m7k_range(pieces, m7_core_id(), m7_core_count(), &lo, &hi);
    m7_vec nlr = m7_vsplat(p->neg_lr);
    if (lo < hi)
        m7k_tr_ew_load(p, lo, 0);
    for (int i = lo; i < hi; i++) {
        int s = (i - lo) & 1;
        uint64_t off = (uint64_t)i * p->chunk, bytes = p->nbytes - off < p->chunk ? p->nbytes - off : p->chunk;
        m7_addr A = M7_AM((uint64_t)s * 3 * p->chunk), B = A + p->chunk, O = B + p->chunk;
        if (i + 1 < hi)
            m7k_tr_ew_load(p, i + 1, s ^ 1);
        m7_dma_wait(M7K_CH_IN + s);
        m7_dma_wait(M7K_CH_W + s);
        m7_dma_wait(M7K_CH_OUT + s); /* the slot's last piece has left O */
        m7k_tr_ew_piece(p, A, B, O, (bytes + 127) / 128, nlr);
        m7_dma(M7K_CH_OUT + s, M7_DDR(p->out + off), O, 1, (uint32_t)bytes, 0, 0);
    }
    m7_dma_wait(M7K_CH_OUT);
    m7_dma_wait(M7K_CH_OUT + 1);
}

/* ---- pooling gradients ---------------------------------------------------------
 * Windows do not overlap, so output row oy owns the input rows [oy sh - pt,
 * + span_h): its item zeroes them in AM, adds each window's dY (average: /
 * divisor; max: to the first maximum, found with vsel), and writes them
 * whole; one more item per plane zeroes the rows below the last window.
 * A max pool's gradient may also apply the slope of the activation before
 * it (act set: the act_grad of X fused, map_train.c). */
/* Item i: its plane, output row and input rows [r0, r1) (empty: none). */
static M7K_LIB int m7k_tr_pool_item(const M7kTrain *p, int i, int *plane, int *oy, int *r0, int *r1) {
    int per = p->ho + 1;
    *plane = i / per, *oy = i % per;
    *r0 = *oy * p->sh - p->pt, *r1 = *r0 + p->span_h;
    if (*oy == p->ho) /* the rows no window reaches */
        *r0 = (p->ho - 1) * p->sh - p->pt + p->span_h, *r1 = p->h;
    *r0 = m7k_max(*r0, 0), *r1 = m7k_min(*r1, p->h);
    return *r1 > *r0;
}

/* A slot's X rows, gradient rows and dY row in AM. */
static M7K_LIB void m7k_tr_pool_slot(const M7kTrain *p, int s, m7_addr *X, m7_addr *G, m7_addr *Y) {
    uint64_t span = (uint64_t)p->span_h * p->w * 128, slot = 2 * span + (uint64_t)p->wo * 128;
    *X = M7_AM(s * slot), *G = *X + span, *Y = *G + span;
}

/* Item i's X rows (max) and dY row into slot s. */
static M7K_LIB void m7k_tr_pool_load(const M7kTrain *p, int i, int s) {
    int plane, oy, r0, r1;
    if (!m7k_tr_pool_item(p, i, &plane, &oy, &r0, &r1) || oy == p->ho)
        return;
    m7_addr X, G, Y;
    m7k_tr_pool_slot(p, s, &X, &G, &Y);
    uint64_t row = (uint64_t)p->w * 128, xplane = (uint64_t)plane * p->h * row;
    if (p->is_max)
        m7_dma(M7K_CH_IN + s, X, M7_DDR(p->b + xplane + r0 * row), 1, (uint32_t)((r1 - r0) * row), 0, 0);
    m7_dma(M7K_CH_W + s, Y, M7_DDR(p->a + (uint64_t)plane * p->ho * p->wo * 128 + (uint64_t)oy * p->wo * 128), 1,
           (uint32_t)p->wo * 128, 0, 0);
}

static M7K_LIB void m7k_tr_pool(const M7kTrain *p) {
    int per = p->ho + 1, lo, hi, nplanes = p->n * p->ncb;
    m7k_range(nplanes * per, m7_core_id(), m7_core_count(), &lo, &hi);
    uint64_t row = (uint64_t)p->w * 128;
    m7_vec zero = m7_vzero(), inv = m7_vsplat(p->inv_div);
    if (lo < hi)
        m7k_tr_pool_load(p, lo, 0);
    for (int i = lo; i < hi; i++) {
        int s = p->slots > 1 ? (i - lo) & 1 : 0, plane, oy, r0, r1;
        m7_addr X, G, Y;
        m7k_tr_pool_slot(p, s, &X, &G, &Y);
        if (p->slots > 1 && i + 1 < hi) /* the next item's rows, behind this one's compute */
            m7k_tr_pool_load(p, i + 1, s ^ 1);
        if (!m7k_tr_pool_item(p, i, &plane, &oy, &r0, &r1))
            continue;
        uint64_t xplane = (uint64_t)plane * p->h * row;
        m7_dma_wait(M7K_CH_OUT + s); /* the slot's last rows have left G */
        if (oy == p->ho) {
            m7_dma(M7K_CH_OUT + s, M7_DDR(p->out + xplane + r0 * row), M7_DDR(p->zero), (uint32_t)(r1 - r0),
                   (uint32_t)row, row, 0);
            continue;
        }
        if (p->slots == 1)
            m7k_tr_pool_load(p, i, s);
        for (uint64_t v = 0; v < (uint64_t)(r1 - r0) * p->w; v++)
            m7_vst(G + v * 128, zero);
        m7_dma_wait(M7K_CH_IN + s);
        m7_dma_wait(M7K_CH_W + s);
        int wr0 = oy * p->sh - p->pt; /* the window's first row (may be < r0) */
        for (int ox = 0; ox < p->wo; ox++) {
            m7_vec dy = m7_vld(Y + (uint64_t)ox * 128);
            int c0 = ox * p->sw - p->pl;
            if (p->is_max) {
                m7_vec mx = m7_vsplat(-__builtin_inff());
                for (int a = 0; a < p->kh; a++)
                    for (int b = 0; b < p->kw; b++) {
                        int y = wr0 + a, x = c0 + b;
                        if (y >= r0 && y < r1 && x >= 0 && x < p->w)
                            mx = m7_vmax(mx, m7_vld(X + ((uint64_t)(y - r0) * p->w + x) * 128));
                    }
                m7_vec rest = dy; /* lanes whose maximum is not reached yet */
                for (int a = 0; a < p->kh; a++)
                    for (int b = 0; b < p->kw; b++) {
                        int y = wr0 + a, x = c0 + b;
                        if (y < r0 || y >= r1 || x < 0 || x >= p->w)
                            continue;
                        uint64_t at = ((uint64_t)(y - r0) * p->w + x) * 128;
                        m7_vec below = m7_vcmpgt(mx, m7_vld(X + at));
                        m7_vst(G + at, m7_vsel(below, zero, rest));
                        rest = m7_vsel(below, rest, zero);
                    }
            } else {
                m7_vec g = m7_vmul(dy, inv);
                for (int a = 0; a < p->kh; a++)
                    for (int b = 0; b < p->kw; b++) {
                        int y = wr0 + a, x = c0 + b;
                        if (y >= r0 && y < r1 && x >= 0 && x < p->w)
                            m7_vst(G + ((uint64_t)(y - r0) * p->w + x) * 128, g);
                    }
            }
        }
        if (p->act.act) /* a fused act_grad of X (the activation before the pool) */
            for (uint64_t v = 0; v < (uint64_t)(r1 - r0) * p->w; v++)
                m7_vst(G + v * 128, m7k_tr_slope(&p->act, m7_vld(G + v * 128), m7_vld(X + v * 128)));
        m7_dma(M7K_CH_OUT + s, M7_DDR(p->out + xplane + r0 * row), G, 1, (uint32_t)((r1 - r0) * row), 0, 0);
    }
    m7_dma_wait(M7K_CH_OUT);
    m7_dma_wait(M7K_CH_OUT + 1);
}

/* ---- weight gradients -------------------------------------------------------------
 * A chunk = vco output-channel vectors x ci_chunk input channels x every
 * tap; its partial sums [v][ci][tap][32] (m7k_gw_vstride apart) live in AM
 * (slot am_a[chunk & 1]) while every tile of dY pixels streams by: dY
 * [v][th][tw][32] into AM (am_b), the X window of those pixels
 * [rows_in][cols_in][32] into SM (sm_x, zeros where the window leaves the
 * image).  Chunks are split over the cores.  dW is [co][ci][tap] in DDR:
 * a finished conv chunk's 32 x 32 blocks go through tr_stages exchange
 * stages in place, so that each output channel's run leaves by one DMA of
 * rows of 2^tr_stages floats (FC: rows of a vector, or of 4 bytes), over
 * four channels per slot (8-11, 12-15). */
#define M7K_CH_GW 8

typedef struct {
    int chunk, n, nn, y0, x0, nth, ntw; /* images [n, n + nn), rows from y0, columns from x0 */
} M7kGwItem;

/* Item i: a tile of dY (tn images x th rows x tw columns) of one chunk. */
static M7K_LIB void m7k_gw_item(const M7kTrain *p, int i, M7kGwItem *it) {
    int nht = m7k_cdiv(p->ho, p->th), nwt = m7k_cdiv(p->wo, p->tw), tiles = m7k_cdiv(p->n, p->tn) * nht * nwt;
    int t = i % tiles;
    it->chunk = i / tiles;
    it->n = t / (nht * nwt) * p->tn, it->nn = m7k_min(p->tn, p->n - it->n);
    it->y0 = t / nwt % nht * p->th, it->x0 = t % nwt * p->tw;
    it->nth = m7k_min(p->th, p->ho - it->y0), it->ntw = m7k_min(p->tw, p->wo - it->x0);
}

/* AM offset of pixel k of an item's dY tile (images th x tw pixels apart). */
static M7K_LIB uint64_t m7k_gw_px(const M7kTrain *p, const M7kGwItem *it, int k) {
    int per = it->nth * it->ntw, r = k % per;
    return ((uint64_t)(k / per) * p->th * p->tw + (uint64_t)(r / it->ntw) * p->tw + (uint64_t)(r % it->ntw)) * 128;
}

static M7K_LIB void m7k_gw_chunk(const M7kTrain *p, int chunk, int *v0, int *nv, int *ci0, int *nci) {
    m7k_gw_chunk_of(p->cin, m7k_cdiv(p->cout, 32), p->vco, p->ci_chunk, chunk, v0, nv, ci0, nci);
}


/* DMAs of one item: dY tile into am_b[slot], X window into sm_x[slot]. */
static M7K_LIB void m7k_gw_load(const M7kTrain *p, int i, int slot) {
    M7kGwItem it;
    int v0, nv, ci0, nci, ch = M7K_CH_IN + slot;
    m7k_gw_item(p, i, &it);
    m7k_gw_chunk(p, it.chunk, &v0, &nv, &ci0, &nci);
    uint64_t itile = (uint64_t)p->th * p->tw * 128, vtile = p->tn * itile;
    for (int j = 0; j < it.nn; j++)
        for (int v = 0; v < nv; v++) {
            uint64_t src = p->a + (uint64_t)(it.n + j) * p->dy_sn + (uint64_t)(v0 + v) * p->dy_sblk + it.y0 * p->dy_sh +
                           it.x0 * p->dy_sw;
            m7_addr dst = M7_AM(p->am_b[slot] + v * vtile + j * itile);
            if (p->dy_sw == 128)
                m7_dma(ch, dst, M7_DDR(src), (uint32_t)it.nth, (uint32_t)it.ntw * 128, (uint64_t)p->tw * 128,
                       p->dy_sh);
            else /* one row: pixels p->dy_sw apart */
                m7_dma(ch, dst, M7_DDR(src), (uint32_t)it.ntw, 128, 128, p->dy_sw);
        }
    /* the window: rows [ry0, ry0 + rows), cols [cx0, cx0 + cols) of X */
    int rows = (it.nth - 1) * p->sh + (p->kh - 1) * p->dh + 1, cols = (it.ntw - 1) * p->sw + (p->kw - 1) * p->dw + 1;
    int ry0 = it.y0 * p->sh - p->pt, cx0 = it.x0 * p->sw - p->pl;
    int a0 = m7k_max(0, -ry0), a1 = m7k_min(rows, p->h - ry0), b0 = m7k_max(0, -cx0), b1 = m7k_min(cols, p->w - cx0);
    uint64_t srow = (uint64_t)p->cols_in * 128, blk = (uint64_t)p->rows_in * srow;
    for (int j = 0; j < it.nn; j++)
        for (int bk = 0; bk < m7k_cdiv(nci, 32); bk++) { /* each image and 32-channel block of the chunk */
            m7_addr sm = M7_SM(p->sm_x[slot] + ((uint64_t)bk * p->tn + j) * blk);
            if (a0 > 0)
                m7_dma(ch, sm, M7_DDR(p->zero), (uint32_t)a0, (uint32_t)cols * 128, srow, 0);
            if (a1 < rows)
                m7_dma(ch, sm + m7k_max(a1, 0) * srow, M7_DDR(p->zero), (uint32_t)(rows - m7k_max(a1, 0)),
                       (uint32_t)cols * 128, srow, 0);
            if (a1 <= a0)
                continue;
            if (b0 > 0)
                m7_dma(ch, sm + a0 * srow, M7_DDR(p->zero), (uint32_t)(a1 - a0), (uint32_t)b0 * 128, srow, 0);
            if (b1 < cols)
                m7_dma(ch, sm + a0 * srow + m7k_max(b1, 0) * 128, M7_DDR(p->zero), (uint32_t)(a1 - a0),
                       (uint32_t)(cols - m7k_max(b1, 0)) * 128, srow, 0);
            if (b1 <= b0)
                continue;
            uint64_t src = p->b + (uint64_t)(it.n + j) * p->x_sn + (uint64_t)(ci0 / 32 + bk) * p->x_sblk +
                           (uint64_t)(ry0 + a0) * p->x_sh + (uint64_t)(cx0 + b0) * p->x_sw;
            if (p->x_sw == 128)
                m7_dma(ch, sm + a0 * srow + b0 * 128, M7_DDR(src), (uint32_t)(a1 - a0), (uint32_t)(b1 - b0) * 128, srow,
                       p->x_sh);
            else /* one row: pixels p->x_sw apart */
                m7_dma(ch, sm + a0 * srow + b0 * 128, M7_DDR(src), (uint32_t)(b1 - b0), 128, 128, p->x_sw);
        }
}

/* Pixel k's addresses in a weight-gradient micro-kernel's call (codegen
 * emits the micro-kernels, backend/mk_sched.c schedules them): its X
 * channel pair in the SM window and its dY in the AM tile. */
static M7K_LIB void m7k_gw_at(const M7kGwCall *c, int k, m7_addr *xa, m7_addr *da) {
    int per = c->nth * c->ntw, img = k / per, y = k % per / c->ntw, x = k % c->ntw;
    *xa = c->x0 + (uint64_t)img * c->x_img + (uint64_t)y * c->x_row + (uint64_t)x * c->x_col;
    *da = c->d0 + (uint64_t)img * c->dy_img + (uint64_t)y * c->dy_row + (uint64_t)x * 128;
}

/* One register block over every pixel of the tile: vb dY vectors x 2 pp
 * channels (pp channel pairs at one tap), by the layer's micro-kernel. */
static M7K_LIB void m7k_gw_block(const M7kTrain *p, const M7kGwItem *it, int slot, int v, int vb, int tap, int pr,
                                 int pp) {
    int kk = p->kh * p->kw, i = tap / p->kw, j = tap % p->kw;
    uint64_t itile = (uint64_t)p->th * p->tw * 128, srow = (uint64_t)p->cols_in * 128, blk = p->rows_in * srow;
    int c = (it->chunk % m7k_cdiv(p->cin, p->ci_chunk)) * p->ci_chunk % 32 + 2 * pr; /* in the chunk's blocks */
    M7kGwCall call;
    call.x0 = M7_SM(p->sm_x[slot]) + (uint64_t)(c / 32) * p->tn * blk + (uint64_t)i * p->dh * srow +
              (uint64_t)j * p->dw * 128 + (uint64_t)(c % 32) * 4;
    call.d0 = M7_AM(p->am_b[slot]) + (uint64_t)v * p->tn * itile;
    call.x_img = blk, call.dy_img = itile;
    call.aj = m7k_gw_vstride(p->ci_chunk, kk), call.ac = (uint64_t)kk * 128;
    call.a0 = M7_AM(p->am_a[it->chunk & 1]) + v * call.aj + ((uint64_t)2 * pr * kk + tap) * 128;
    call.dj = p->tn * itile;
    call.x_row = (uint64_t)p->sh * srow, call.x_col = (uint64_t)p->sw * 128, call.dy_row = (uint64_t)p->tw * 128;
    call.nth = it->nth, call.ntw = it->ntw, call.npix = it->nn * it->nth * it->ntw;
    p->mk(vb, pp, &call);
}

/* dB: the tile's dY vectors summed into am_c.  Issued in order, so each
 * load runs 12 pixels ahead of its add (a ring of 16 registers, 9-cycle
 * loads) and 8 chains of adds hide the adds' 6 cycles: about a pixel a
 * cycle. */
#define M7K_GW_BIAS_AHEAD 12

static M7K_LIB void m7k_gw_bias(const M7kTrain *p, const M7kGwItem *it, int slot, int nv) {
    int npix = it->nn * it->nth * it->ntw;
    for (int v = 0; v < nv; v++) {
        m7_addr d = M7_AM(p->am_b[slot] + v * p->tn * (uint64_t)p->th * p->tw * 128);
        m7_vec s[8], r[16], z = m7_vzero();
        for (int k = 0; k < 8; k++)
            s[k] = z;
        for (int k = 0; k < npix && k < M7K_GW_BIAS_AHEAD; k++)
            r[k] = m7_vld(d + m7k_gw_px(p, it, k));
        for (int k = 0; k < npix; k++) {
            int a = k + M7K_GW_BIAS_AHEAD;
            if (a < npix)
                r[a & 15] = m7_vld(d + m7k_gw_px(p, it, a));
            s[k & 7] = m7_vadd(s[k & 7], r[k & 15]);
        }
        m7_addr c = M7_AM(p->am_c + (uint64_t)v * 128);
        m7_vec old = m7_vld(c);
        for (int w = 4; w >= 1; w /= 2)
            for (int k = 0; k < w; k++)
                s[k] = m7_vadd(s[k], s[k + w]);
        m7_vst(c, m7_vadd(old, s[0]));
    }
}

/* ---- a finished chunk's blocks transposed in part, in AM ----
 * Lane masks of the exchange stages: masks[j] lane i is set when i mod 2b
 * < b, b = 2^j (from iota, 0.5 .. 31.5, by halving). */
static M7K_LIB void m7k_tr_masks(const M7kTrain *p, m7_vec masks[5]) {
    m7_dma(M7K_CH_CONST, M7_AM(p->am_t), M7_DDR(p->iota), 1, 128, 0, 0);
    m7_dma_wait(M7K_CH_CONST);
    m7_vec t = m7_vld(M7_AM(p->am_t));
    for (int j = 4; j >= 0; j--) {
        m7_vec b = m7_vsplat((float)(1 << j));
        masks[j] = m7_vcmpgt(b, t);
        t = m7_vsel(masks[j], t, m7_vsub(t, b));
    }
}

/* Row k of a stage's pair order: the lower row of pair k / 2, or the
 * upper row b below it. */
static M7K_LIB int m7k_tr_row(int k, int b) {
    int m = k / 2, lower = m / b * 2 * b + m % b;
    return k & 1 ? lower + b : lower;
}

/* The 32 rows at blk through `stages` exchange stages, in place: stage j
 * swaps the off-diagonal b x b blocks of every 2b x 2b block (b = 2^j), so
 * a row takes b lanes of its partner b rows away, shifted by b lanes.  The
 * shift is a store at a lane offset (the partner into the row's scratch
 * slot: a spill line, then the line loaded back) and a select merges.
 * Issued in order, so a stage is software-pipelined: a row's shifted
 * store, its load back three rows later, its select six rows later (the
 * store's 4 and the load's 9 cycles), rows in pairs so that both rows of a
 * pair are stored before either changes. */
static M7K_LIB void m7k_tr_block(const M7kTrain *p, m7_addr blk, int stages, const m7_vec masks[5]) {
    enum { LOAD_LAG = 3, SEL_LAG = 6 };
    m7_vec r[32], sh[8];
    m7_addr S = M7_AM(p->am_t);
    for (int k = 0; k < 32; k++)
        r[k] = m7_vld(blk + (uint64_t)k * 128);
    for (int j = 0; j < stages; j++) {
        int b = 1 << j;
        for (int k = 0; k < 32 + SEL_LAG; k++) {
            if (k < 32) { /* a lower row takes its upper's first lanes, b up; an upper its lower's last, b down */
                int row = m7k_tr_row(k, b);
                m7_addr line = S + (uint64_t)k * 256 + 128;
                if (k % 2 == 0)
                    m7_vst_n(line + 4u * b, r[row + b], 32 - b);
                else
                    m7_vst_n(line - 4u * b, r[row - b], 32);
            }
            if (k >= LOAD_LAG && k - LOAD_LAG < 32)
                sh[(k - LOAD_LAG) & 7] = m7_vld(S + (uint64_t)(k - LOAD_LAG) * 256 + 128);
            if (k >= SEL_LAG) {
                int q = k - SEL_LAG, row = m7k_tr_row(q, b);
                r[row] = q % 2 == 0 ? m7_vsel(masks[j], r[row], sh[q & 7]) : m7_vsel(masks[j], sh[q & 7], r[row]);
            }
        }
    }
    for (int k = 0; k < 32; k++)
        m7_vst(blk + (uint64_t)k * 128, r[k]);
}

/* Elements [e0, e1) of one lane of a vector's blocks at V (after `stages`
 * stages) to DDR at dst: a head up to a whole group of 2^stages, the whole
 * groups in one DMA, a tail. */
static M7K_LIB void m7k_gw_run_dma(int ch, uint64_t dst, m7_addr V, int lane, int e0, int e1, int stages) {
    int P = 1 << stages, g0 = m7k_min(e1, m7k_cdiv(e0, P) * P), g1 = m7k_max(g0, e1 / P * P);
    if (g0 > e0)
        m7_dma(ch, M7_DDR(dst), V + m7k_gw_elem(e0, lane, stages), 1, (uint32_t)(g0 - e0) * 4, 0, 0);
    if (g1 > g0)
        m7_dma(ch, M7_DDR(dst + (uint64_t)(g0 - e0) * 4), V + m7k_gw_elem(g0, lane, stages), (uint32_t)((g1 - g0) / P),
               (uint32_t)P * 4, (uint64_t)P * 4, (uint64_t)P * 128);
    if (e1 > g1)
        m7_dma(ch, M7_DDR(dst + (uint64_t)(g1 - e0) * 4), V + m7k_gw_elem(g1, lane, stages), 1,
               (uint32_t)(e1 - g1) * 4, 0, 0);
}

/* A finished chunk's blocks of vectors [v_lo, v_hi) through their stages
 * (conv), before they leave. */
static M7K_LIB void m7k_gw_finish(const M7kTrain *p, int chunk, int v_lo, int v_hi, const m7_vec masks[5]) {
    int v0, nv, ci0, nci, kk = p->kh * p->kw;
    m7k_gw_chunk(p, chunk, &v0, &nv, &ci0, &nci);
    uint64_t vs = m7k_gw_vstride(p->ci_chunk, kk);
    for (int v = v_lo; v < m7k_min(v_hi, nv) && p->tr_stages; v++)
        for (int b = 0; b * 32 < nci * kk; b++)
            m7k_tr_block(p, M7_AM(p->am_a[chunk & 1] + v * vs + (uint64_t)b * 4096), p->tr_stages, masks);
}

/* Part `part` of `parts` of a finished chunk's DMAs to DDR (the parts
 * leave one per item of the next chunk, so that they share the link with
 * its loads evenly): whole rows of a vector (swap); or per output channel
 * its [ci][tap] run (within its group; FC of flattened X: a run of
 * channels of one pixel). */
static M7K_LIB void m7k_gw_send(const M7kTrain *p, int chunk, int part, int parts) {
    int v0, nv, ci0, nci, kk = p->kh * p->kw, ch0 = M7K_CH_GW + 4 * (chunk & 1), lo, hi;
    m7k_gw_chunk(p, chunk, &v0, &nv, &ci0, &nci);
    uint64_t vs = m7k_gw_vstride(p->ci_chunk, kk);
    m7_addr A = M7_AM(p->am_a[chunk & 1]);
    if (p->swap) { /* rows dW[m][k0 .. k0 + 31] whole */
        m7k_range(nv, part, parts, &lo, &hi);
        for (int v = lo; v < hi; v++) {
            int k0 = (v0 + v) * 32;
            m7_dma(ch0 + (v & 3), M7_DDR(p->out + ((uint64_t)ci0 * p->cout + k0) * 4), A + v * vs, (uint32_t)nci,
                   (uint32_t)m7k_min(32, p->cout - k0) * 4, (uint64_t)p->cout * 4, 128);
        }
        return;
    }
    m7k_range(nv * 32, part, parts, &lo, &hi);
    for (int k = lo; k < hi; k++) {
        int v = k / 32, lane = k % 32, co = (v0 + v) * 32 + lane, g = co / p->cog;
        m7_addr V = A + v * vs;
        if (co >= p->cout)
            continue;
        if (p->fc_hw) { /* ci0 .. in X's blocked order: channels c0 .. of pixel pix */
            int blk = ci0 / 32, c0 = blk / p->fc_hw * 32 + ci0 % 32, pix = blk % p->fc_hw;
            int nc = m7k_min(nci, p->cig - c0);
            if (nc > 0)
                m7_dma(ch0 + (lane & 3), M7_DDR(p->out + (((uint64_t)co * p->cig + c0) * p->fc_hw + pix) * 4),
                       V + lane * 4, (uint32_t)nc, 4, (uint64_t)p->fc_hw * 4, 128);
            continue;
        }
        int c_lo = m7k_max(ci0, g * p->cig), c_hi = m7k_min(ci0 + nci, (g + 1) * p->cig);
        if (c_hi > c_lo)
            m7k_gw_run_dma(ch0 + (lane & 3), p->out + (((uint64_t)co * p->cig + (c_lo - g * p->cig)) * kk) * 4, V, lane,
                           (c_lo - ci0) * kk, (c_hi - ci0) * kk, p->tr_stages);
    }
}

/* dB of a chunk's vectors (summed on its first ci chunk) to DDR. */
static M7K_LIB void m7k_gw_store_bias(const M7kTrain *p, int chunk) {
    int v0, nv, ci0, nci;
    m7k_gw_chunk(p, chunk, &v0, &nv, &ci0, &nci);
    for (int v = 0; v < nv; v++)
        m7_dma(M7K_CH_OUT + (chunk & 1), M7_DDR(p->out2 + (uint64_t)(v0 + v) * 128),
               M7_AM(p->am_c + (uint64_t)v * 128), 1, (uint32_t)m7k_min(32, p->cout - (v0 + v) * 32) * 4, 0, 0);
}

/* swap: dB = dY summed over the batch, each core its 32-channel blocks of
 * dY (the broadcast operand), tw samples at a time through am_b[0]. */
static M7K_LIB void m7k_gw_bias_swap(const M7kTrain *p) {
    int lo, hi, nb = m7k_cdiv(p->cin, 32);
    m7k_range(nb, m7_core_id(), m7_core_count(), &lo, &hi);
    for (int b = lo; b < hi; b++) {
        m7_vec s[4];
        s[0] = s[1] = s[2] = s[3] = m7_vzero();
        for (int n0 = 0; n0 < p->wo; n0 += p->tw) {
            int nn = m7k_min(p->tw, p->wo - n0);
            m7_dma(M7K_CH_IN, M7_AM(p->am_b[0]), M7_DDR(p->b + (uint64_t)n0 * p->x_sw + (uint64_t)b * 128),
                   (uint32_t)nn, 128, 128, p->x_sw);
            m7_dma_wait(M7K_CH_IN);
            for (int k = 0; k < nn; k++)
                s[k & 3] = m7_vadd(s[k & 3], m7_vld(M7_AM(p->am_b[0] + (uint64_t)k * 128)));
        }
        m7_vst(M7_AM(p->am_c), m7_vadd(m7_vadd(s[0], s[1]), m7_vadd(s[2], s[3])));
        m7_dma(M7K_CH_OUT, M7_DDR(p->out2 + (uint64_t)b * 128), M7_AM(p->am_c), 1,
               (uint32_t)m7k_min(32, p->cin - b * 32) * 4, 0, 0);
        m7_dma_wait(M7K_CH_OUT);
    }
}

static M7K_LIB void m7k_tr_gw(const M7kTrain *p) {
    if (p->swap && p->has_bias)
        m7k_gw_bias_swap(p);
    int ncc = m7k_cdiv(p->cin, p->ci_chunk), nchunks = m7k_cdiv(m7k_cdiv(p->cout, 32), p->vco) * ncc;
    int tiles = m7k_cdiv(p->n, p->tn) * m7k_cdiv(p->ho, p->th) * m7k_cdiv(p->wo, p->tw), clo, chi;
    m7k_range(nchunks, m7_core_id(), m7_core_count(), &clo, &chi);
    if (clo >= chi)
        return;
    int kk = p->kh * p->kw, first = clo * tiles, last = chi * tiles;
    m7_vec zero = m7_vzero(), masks[5];
    if (p->tr_stages)
        m7k_tr_masks(p, masks);
    m7k_gw_load(p, first, 0);
    int sending = -1; /* the finished chunk whose DMAs leave during this one */
    for (int i = first; i < last; i++) {
        int slot = (i - first) & 1, v0, nv, ci0, nci;
        M7kGwItem it;
        m7k_gw_item(p, i, &it);
        m7k_gw_chunk(p, it.chunk, &v0, &nv, &ci0, &nci);
        if (i + 1 < last) /* the next item's data, behind this one's compute */
            m7k_gw_load(p, i + 1, slot ^ 1);
        if (i % tiles == 0) { /* a new chunk: its slot's last store (and dB's) has left */
            m7_dma_wait(M7K_CH_OUT + (it.chunk & 1));
            for (int k = 0; k < 4; k++)
                m7_dma_wait(M7K_CH_GW + 4 * (it.chunk & 1) + k);
            if (p->has_bias && !p->swap && ci0 == 0)
                m7_dma_wait(M7K_CH_OUT + ((it.chunk + 1) & 1));
            uint64_t n = (uint64_t)p->vco * m7k_gw_vstride(p->ci_chunk, kk) / 128;
            for (uint64_t k = 0; k < n; k++)
                m7_vst(M7_AM(p->am_a[it.chunk & 1] + k * 128), zero);
            if (p->has_bias && !p->swap && ci0 == 0)
                for (int v = 0; v < nv; v++)
                    m7_vst(M7_AM(p->am_c + (uint64_t)v * 128), zero);
        }
        m7_dma_wait(M7K_CH_IN + slot);
        int npairs = (nci + 1) / 2;
        for (int v = 0; v < nv; v += p->vb) {
            int vb = m7k_min(p->vb, nv - v);
            for (int tap = 0; tap < kk; tap++)
                for (int pr = 0, pp; pr < npairs; pr += pp) {
                    pp = m7k_gw_pairs(p->pp, npairs, ci0, pr);
                    m7k_gw_block(p, &it, slot, v, vb, tap, pr, pp);
                }
        }
        if (p->has_bias && !p->swap && ci0 == 0)
            m7k_gw_bias(p, &it, slot, nv);
        if (sending >= 0)
            m7k_gw_send(p, sending, i % tiles, tiles);
        if (i % tiles == tiles - 1) {
            if (p->has_bias && !p->swap && ci0 == 0)
                m7k_gw_store_bias(p, it.chunk);
            if (i + 1 < last) {
                m7k_gw_finish(p, it.chunk, 0, nv, masks);
                sending = it.chunk;
            } else { /* the core's last chunk: each vector leaves as soon as its stages are done */
                for (int v = 0; v < nv; v++) {
                    m7k_gw_finish(p, it.chunk, v, v + 1, masks);
                    m7k_gw_send(p, it.chunk, v, nv);
                }
                sending = -1;
            }
        }
    }
    if (sending >= 0)
        m7k_gw_send(p, sending, 0, 1);
    m7_dma_wait(M7K_CH_OUT);
    m7_dma_wait(M7K_CH_OUT + 1);
    for (int k = 0; k < 8; k++)
        m7_dma_wait(M7K_CH_GW + k);
}

/* ---- a strided conv's dX: dY spread s apart in a zeroed buffer ------------------- */

static M7K_LIB void m7k_tr_upsample(const M7kUpsample *p) {
    int lo, hi;
    m7k_range(p->planes, m7_core_id(), m7_core_count(), &lo, &hi);
    uint64_t urow = (uint64_t)p->wu * 128;
    if (hi > lo) /* the core's planes zeroed, then the rows of dY in place */
        m7_dma(M7K_CH_IN, M7_DDR(p->out + (uint64_t)lo * p->hu * urow), M7_DDR(p->zero), (uint32_t)((hi - lo) * p->hu),
               (uint32_t)urow, urow, 0);
    m7_dma_wait(M7K_CH_IN);
    for (int i = lo; i < hi; i++) {
        uint64_t u = p->out + (uint64_t)i * p->hu * urow, y = p->in + (uint64_t)i * p->ho * p->wo * 128;
        for (int r = 0; r < p->ho; r++)
            m7_dma(M7K_CH_IN, M7_DDR(u + (uint64_t)r * p->sh * urow), M7_DDR(y + (uint64_t)r * p->wo * 128),
                   (uint32_t)p->wo, 128, (uint64_t)p->sw * 128, 128);
    }
    m7_dma_wait(M7K_CH_IN);
}

static M7K_LIB void m7k_train(const M7kTrain *p) {
    switch (p->op) {
    case M7K_TR_LOSS: m7k_tr_loss(p); break;
    case M7K_TR_EW: m7k_tr_ew(p); break;
    case M7K_TR_POOL: m7k_tr_pool(p); break;
    default: m7k_tr_gw(p); break;
    }
}
