/* core_split.c: how work is divided among the cores.  The generated kernels
 * (codegen/kernels.c, m7k_range) divide exactly the same way, so the cost
 * model and the weight packing see each core's real share. */
#include "backend.h"

void bk_range(int n, int core, int ncores, int *lo, int *hi) {
    *lo = (int)((int64_t)n * core / ncores);
    *hi = (int)((int64_t)n * (core + 1) / ncores);
}
