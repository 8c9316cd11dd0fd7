/* core_split.c: how a conv's work is divided among the cores, read off
 * the layer's record by the one rule the kernels follow (m7k_split.h), so
 * the cost model and the weight packing see each core's real share. */
#include "backend/backend.h"

M7kShare bk_conv_share(const BkConv *c, int core, int ncores) {
    return m7k_conv_share(c->ho, c->pool_k, c->nvco, c->row_parts, c->slices, c->no_share, core, ncores);
}
