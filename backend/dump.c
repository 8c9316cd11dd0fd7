/* dump.c: the backend's lines of --dump-ir, for every kind of schedule
 * (IrLayer.dump_sched). */
#include <stdio.h>

#include "backend/backend.h"

static const char *kind_name(BkKind k) {
    static const char *n[] = {
        [BK_KIND_CONV] = "conv",         [BK_KIND_DW] = "depthwise conv", [BK_KIND_POOL] = "pool",
        [BK_KIND_GPOOL] = "gpool",       [BK_KIND_EW] = "eltwise",        [BK_KIND_SOFTMAX] = "softmax",
        [BK_KIND_LRN] = "lrn",           [BK_KIND_PAD] = "pad",
        [BK_KIND_MOVES] = "moves (strided DMA)", [BK_KIND_TO_NCHW] = "to NCHW", [BK_KIND_COPY] = "copy",
        [BK_KIND_ALIAS] = "alias",       [BK_KIND_FUSED] = "fused into the conv before",
        [BK_KIND_TRAIN] = "training"};
    return n[k];
}


static void act_dump(FILE *f, const char *what, const BkAct *a) {
    fprintf(f, "    %s: %s n%d c%d h%d w%d @ddr %lld\n", what,
            a->layout == BK_LAYOUT_BLOCKED ? "blocked(N,C/32,H,W,32)" : "NCHW", a->n, a->c, a->h,
            a->w, (long long)a->ddr);
}


static void moves_dump(FILE *f, const char *what, const BkMoves *mv, int cores) {
    int64_t rows = 0, bytes = 0, n = 0;
    for (int k = 0; k < mv->n; k++) {
        int64_t c = 1;
        for (int i = 0; i < mv->m[k].nloop; i++)
            c *= mv->m[k].cnt[i];
        n += c, rows += c * mv->m[k].rows, bytes += c * mv->m[k].rows * mv->m[k].row_bytes;
    }
    cores = cores > 0 ? cores : 1;
    fprintf(f, "    %s: %d moves, %lld DMAs, %lld rows, %lld B (%s rows); DMAs split over the cores, %lld on the "
               "busiest (%s)\n", what, mv->n, (long long)n, (long long)rows, (long long)bytes,
            rows && bytes / rows > 4 ? "contiguous" : "4-byte", (long long)((n + cores - 1) / cores),
            n < cores ? "some cores idle" : "all cores busy");
}


static void train_dump(const BkSched *s, FILE *f) {
    const BkTrain *t = &s->u.train;
    char tn_text[32];
    switch (t->op) {
    case M7K_TR_LOSS:
        fprintf(f, "    plan: %s loss of %d x %d logits, one row at a time on core 0\n",
                t->loss_ce ? "cross-entropy" : "mse", t->n, t->k);
        break;
    case M7K_TR_EW:
        fprintf(f, "    plan: %s over %lld bytes in pieces of %lld per core\n",
                t->ew_op == M7K_TR_EW_SGD ? "SGD (master copy in the blob)" : "dY x activation slope",
                (long long)t->nbytes, (long long)t->chunk_bytes);
        break;
    case M7K_TR_POOL:
        fprintf(f, "    plan: %s pooling gradient, %dx%d windows, one output row (%d input rows) per item%s\n",
                t->is_max ? "max" : "average", t->kh, t->kw, t->span_h,
                t->act ? "; then the activation gradient after it (fused)" : "");
        break;
    case M7K_TR_GW:
        snprintf(tn_text, sizeof tn_text, " x %d images", t->tn);
        fprintf(f, "    tiles: chunks of %d vec x %d ch x %d taps (split over the cores), block %d vec x %d ch, "
                   "pixel tile %d x %d%s, X window %d x %d in SM\n",
                t->vco, t->ci_chunk, t->kh * t->kw, t->vb, 2 * t->pp, t->th, t->tw,
                t->tn > 1 ? tn_text : "", t->rows_in, t->cols_in);
        if (t->swap)
            fprintf(f, "    dW leaves: rows of a vector, whole\n");
        else if (t->tr_stages)
            fprintf(f, "    dW leaves: per output channel, in DMA rows of %d floats (%d exchange stage%s of its "
                       "32 x 32 blocks in AM first)\n",
                    1 << t->tr_stages, t->tr_stages, t->tr_stages > 1 ? "s" : "");
        else
            fprintf(f, "    dW leaves: per output channel, in DMA rows of 1 float\n");
        break;
    }
}

void bk_sched_dump(const BkSched *s, FILE *f) {
    const char *lanes = s->map == BK_MAP_CHANNELS_IN_LANES ? "channels-in-lanes" : "batch-in-lanes";
    if (s->kind == BK_KIND_MOVES || s->kind == BK_KIND_TO_NCHW)
        lanes = "DMA only";
    else if ((s->kind == BK_KIND_EW && s->out.layout == BK_LAYOUT_NCHW) || (s->kind == BK_KIND_SOFTMAX && s->u.softmax.by_rows))
        lanes = "lanes along the flat data";
    else if (s->kind == BK_KIND_SOFTMAX && s->u.softmax.by_axis)
        lanes = "lanes along the inner axis";
    fprintf(f, "    backend: %s, %s\n", kind_name(s->kind), lanes);
    for (int i = 0; i < s->n_in; i++)
        act_dump(f, i ? "in1" : "in0", &s->in[i]);
    act_dump(f, "out", &s->out);
    if (s->pre.present)
        act_dump(f, s->pre.kind == BK_CONVERT_UPSAMPLE ? "dY spread by the stride from" : "convert from", &s->pre.from);
    if (s->post.present)
        act_dump(f, "convert to", &s->post.to);
    for (int k = 0; k < 2; k++)
        if (s->expand[k].present)
            moves_dump(f, s->kind != BK_KIND_EW ? "in0 converted to NCHW first by" : k ? "in1 broadcast first by" : "in0 broadcast first by",
                       &s->expand[k].mv, s->cores);
    if (s->kind == BK_KIND_MOVES)
        moves_dump(f, "copy", &s->mv, s->cores);
    if (s->kind == BK_KIND_EW && s->u.ew.op >= M7K_EW_ADD_REP)
        fprintf(f, "    in1 broadcast in the kernel: element f reads in1[(f / %lld) %% %lld], %s\n",
                (long long)s->u.ew.rep, (long long)s->u.ew.period,
                s->u.ew.rep == 1 ? "copies of in1 as a row in AM (unaligned loads)" : "in1 in SM (one broadcast a vector)");
    if (s->kind == BK_KIND_SOFTMAX && s->u.softmax.by_axis)
        fprintf(f, "    softmax down the rows of [%lld][%d][%lld], lanes along the last, %d columns per item\n",
                (long long)s->u.softmax.outer, s->u.softmax.len, (long long)s->u.softmax.inner, s->u.softmax.cols);
    if (s->kind == BK_KIND_CONV && s->u.conv.row_parts == 0) {
        fputs("    tiles: not chosen (the backend stopped before this layer)\n", f);
    } else if (s->kind == BK_KIND_CONV) {
        const BkConv *c = &s->u.conv;
        fprintf(f, "    tiles: block %d vec x %d px, chunk %d vec x %d ch, tile %d x %d, cores: %d row x %d "
                   "channel parts%s%s\n",
                c->vco, c->px, c->co_chunk, c->ci_chunk, c->th, c->tw, c->row_parts, s->cores / c->row_parts,
                (c->row_parts == s->cores || c->slices) && !c->no_share ? " (weights broadcast)" : "",
                c->resident ? ", outputs resident" : "");
        if (c->in_gsm)
            fprintf(f, "    input staged in GSM: %lld B\n", (long long)c->in_bytes);
        if (c->trans_a)
            fputs("    Gemm transA: A [K, N] read as a planar image, channel k = row k of A, pixel n = sample n\n", f);
        if (c->bias_px)
            fprintf(f, "    Gemm C as a matrix: a bias vector per sample (%d x %d vectors in AM)\n", c->wo, c->nvco);
        if (c->merge > 1)
            fprintf(f, "    groups: %d of %d outputs each, run as %d conv%s of %d merged groups (block-diagonal "
                       "weights, %dx the MACs)\n", c->groups * c->merge, s->out.c / (c->groups * c->merge),
                    c->groups, c->groups > 1 ? "s" : "", c->merge, c->merge);
        else if (c->groups > 1)
            fprintf(f, "    groups: %d, one after the other\n", c->groups);
        if (c->pool_k)
            fprintf(f, "    fused %s pooling %dx%d\n", c->pool_max ? "max" : "average", c->pool_k, c->pool_k);
    } else if (s->kind == BK_KIND_DW) {
        fprintf(f, "    tiles: %d output rows x %d, blocks of %d pixels\n", s->u.conv.th, s->u.conv.tw,
                s->u.conv.px);
    } else if (s->kind == BK_KIND_POOL) {
        const BkPool *p = &s->u.pool;
        fprintf(f, "    tiles: %d x %d outputs; input window %d x %d pixels", p->th, p->tw, p->rows_in, p->cols_in);
        if (p->gh > 1 || p->gw > 1)
            fprintf(f, " (rows %d apart, columns %d apart: dilation %dx%d)", p->gh, p->gw, p->dh, p->dw);
        fprintf(f, "%s\n", p->am_in0 == p->am_in1 ? ", one slot (two do not fit)" : "");
    } else if (s->kind == BK_KIND_TRAIN) {
        train_dump(s, f);
    }
    fprintf(f, "    memory/core: AM %lld B (%d slots), SM %lld B (%d slots), GSM %lld B\n",
            (long long)s->am_bytes, s->am_slots, (long long)s->sm_bytes, s->sm_slots,
            (long long)s->gsm_bytes);
    fprintf(f, "    dma/core: %lld transfers, %lld B; predicted %.0f cycles (compute %.0f, dma %.0f), "
               "efficiency %.1f%% (%d candidates)\n",
            (long long)s->dma_transfers, (long long)s->dma_bytes, s->cyc_pred, s->cyc_compute,
            s->cyc_dma, 100.0 * s->eff_pred, s->candidates);
}

