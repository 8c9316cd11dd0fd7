/* core_split.c: how work is divided among the cores.  The generated kernels
 * (target/kernels.c, m7k_range) divide exactly the same way, so the cost
 * model and the weight packing see each core's real share. */
#include "backend/backend.h"

void bk_range(int n, int core, int ncores, int *lo, int *hi) {
    *lo = (int)((int64_t)n * core / ncores);
    *hi = (int)((int64_t)n * (core + 1) / ncores);
}

int bk_conv_share(const BkConv *c, int core, int ncores, int *r_lo, int *r_hi, int *v_lo, int *v_hi) {
    int rparts = c->row_parts < 1 ? 1 : c->row_parts > ncores ? ncores : c->row_parts;
    int cparts = ncores / rparts, rp = core / cparts, cp = core % cparts;
    int pk = c->pool_k > 1 ? c->pool_k : 1; /* rows in whole pooling windows */
    *r_lo = *r_hi = 0;
    if (rp < rparts) {
        bk_range(c->ho / pk, rp, rparts, r_lo, r_hi);
        *r_lo *= pk, *r_hi *= pk;
    }
    if (c->slices && cparts > 1) { /* all channels, broadcast; a slice of each chunk */
        *v_lo = 0, *v_hi = c->nvco;
        return !c->no_share;
    }
    bk_range(c->nvco, cp, cparts, v_lo, v_hi);
    return !c->no_share && cparts == 1;
}

void bk_conv_slice(const BkConv *c, int core, int ncores, int *slice, int *nslices) {
    int rparts = c->row_parts < 1 ? 1 : c->row_parts > ncores ? ncores : c->row_parts;
    int cparts = ncores / rparts;
    *slice = 0, *nslices = 1;
    if (c->slices && cparts > 1)
        *slice = core % cparts, *nslices = cparts;
}
