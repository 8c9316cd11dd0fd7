/* m7k_split.h: how the kernels divide work, in one place for both sides.
 *
 * The kernels of target/ call these to find a core's share and a tile's
 * input window; the backend's cost model and weight packing call the same
 * functions, so what it prices is what the kernels do.  Plain integer
 * arithmetic on plan values (free scalar work on the machine); nothing
 * here touches machine data.  Needs only <stdint.h>.
 */
#ifndef M7K_SPLIT_H
#define M7K_SPLIT_H

#include <stdint.h>

/* Every generated program carries these whole; one it does not call is not
 * a mistake (clang warns of unused static functions in a .c file). */
#define M7K_SPLIT static inline __attribute__((unused))

M7K_SPLIT int m7k_min(int a, int b) { return a < b ? a : b; }
M7K_SPLIT int m7k_max(int a, int b) { return a > b ? a : b; }
M7K_SPLIT int m7k_cdiv(int a, int b) { return (a + b - 1) / b; }

/* Split n items into `parts` contiguous ranges; part k gets [*lo, *hi). */
M7K_SPLIT void m7k_range(int n, int k, int parts, int *lo, int *hi) {
    *lo = (int)((int64_t)n * k / parts);
    *hi = (int)((int64_t)n * (k + 1) / parts);
}

/* A conv core's share: row_parts ranges of output rows (whole pooling
 * windows of pool_k rows) times ncores / row_parts ranges of the nvco
 * output-channel vectors.  With one channel range every core needs every
 * weight, so weights are broadcast (DDR read once) unless no_share; with
 * slices, every core gets every weight chunk and computes its slice of
 * each chunk's vectors (slice of nslices). */
/* The parts the rows are cut into, and the output-channel ranges. */
M7K_SPLIT int m7k_conv_row_parts(int row_parts, int ncores) { return m7k_max(1, m7k_min(row_parts, ncores)); }
M7K_SPLIT int m7k_conv_co_parts(int row_parts, int slices, int ncores) {
    return slices ? 1 : ncores / m7k_conv_row_parts(row_parts, ncores);
}

typedef struct {
    int r_lo, r_hi;     /* output rows */
    int co_lo, co_hi;   /* output-channel vectors */
    int bcast;          /* weights come by broadcast */
    int slice, nslices; /* the part of each chunk's vectors it computes */
} M7kShare;

M7K_SPLIT M7kShare m7k_conv_share(int ho, int pool_k, int nvco, int row_parts, int slices, int no_share,
                                      int core, int ncores) {
    M7kShare s = {0, 0, 0, 0, 0, 0, 1};
    int rparts = m7k_conv_row_parts(row_parts, ncores), cparts = ncores / rparts;
    int rp = core / cparts, cp = core % cparts, pk = pool_k > 1 ? pool_k : 1;
    if (rp < rparts) {
        m7k_range(ho / pk, rp, rparts, &s.r_lo, &s.r_hi);
        s.r_lo *= pk, s.r_hi *= pk;
    }
    if (slices && cparts > 1) {
        s.co_lo = 0, s.co_hi = nvco, s.bcast = !no_share;
        s.slice = cp, s.nslices = cparts;
        return s;
    }
    m7k_range(nvco, cp, cparts, &s.co_lo, &s.co_hi);
    s.bcast = !no_share && cparts == 1;
    return s;
}

/* Input extent of n outputs at stride s of a k-tap window dilated by d. */
M7K_SPLIT int m7k_win_extent(int n, int s, int k, int d) { return (n - 1) * s + (k - 1) * d + 1; }

/* The part of an input window (rows x cols from row ih0, column iw0) that
 * lies inside an h x w image: rows [v0, v1), columns [u0, u1).  The rest is
 * padding, filled from a zero row: pad_top rows above, pad_bottom below,
 * and when rows are inside, pad_left / pad_right columns beside them (or
 * every column, if empty).  A window wholly outside the image is all
 * padding (v0 = v1 or u0 = u1), never more rows or columns than it has. */
typedef struct {
    int v0, v1, u0, u1;
    int pad_top, pad_bottom, pad_left, pad_right;
    int empty; /* no pixel of the image: v1 <= v0 or u1 <= u0 */
} M7kClip;

M7K_SPLIT M7kClip m7k_clip(int ih0, int iw0, int rows, int cols, int h, int w) {
    M7kClip c;
    c.pad_top = m7k_min(rows, m7k_max(0, -ih0));
    c.pad_bottom = m7k_min(rows - c.pad_top, m7k_max(0, ih0 + rows - h));
    c.pad_left = m7k_min(cols, m7k_max(0, -iw0));
    c.pad_right = m7k_min(cols - c.pad_left, m7k_max(0, iw0 + cols - w));
    c.v0 = ih0 + c.pad_top, c.v1 = ih0 + rows - c.pad_bottom;
    c.u0 = iw0 + c.pad_left, c.u1 = iw0 + cols - c.pad_right;
    c.empty = c.v1 <= c.v0 || c.u1 <= c.u0;
    return c;
}

/* Weight gradients (m7k_tr_gw): chunk `chunk` of the output-channel
 * vectors (vco a chunk, of nvco) x input channels (ci_chunk a chunk, of
 * cin): its first vector and count, first channel and count. */
M7K_SPLIT void m7k_gw_chunk_of(int cin, int nvco, int vco, int ci_chunk, int chunk, int *v0, int *nv, int *ci0,
                               int *nci) {
    int ncc = m7k_cdiv(cin, ci_chunk);
    *v0 = chunk / ncc * vco, *nv = m7k_min(vco, nvco - *v0);
    *ci0 = chunk % ncc * ci_chunk, *nci = m7k_min(ci_chunk, cin - *ci0);
}

/* The channel pairs of the register block at pair pr of a chunk of npairs
 * pairs from channel ci0: at most pp, and never across a 32-channel block
 * of X (the blocks lie apart in SM). */
M7K_SPLIT int m7k_gw_pairs(int pp, int npairs, int ci0, int pr) {
    return m7k_min(m7k_min(pp, npairs - pr), 16 - (ci0 % 32 / 2 + pr) % 16);
}

/* A weight-gradient chunk's accumulators: per output-channel vector, its
 * [ci][tap] rows of 32 lanes, padded to whole blocks of 32 rows.  Before a
 * conv's chunk leaves, each block is transposed in place by `stages`
 * exchange stages (P = 2^stages): then element e (of the vector's run) of
 * lane c lies at m7k_gw_elem, and each P-aligned group of P elements of a
 * lane is contiguous (4P bytes), the groups 128 P bytes apart.  stages = 0
 * is the accumulators as they are (a 4-byte row per element), 5 a row of
 * 32 per block and lane. */
M7K_SPLIT uint64_t m7k_gw_vstride(int ci_chunk, int kk) { return (uint64_t)m7k_cdiv(ci_chunk * kk, 32) * 32 * 128; }
M7K_SPLIT uint64_t m7k_gw_elem(int e, int c, int stages) {
    int P = 1 << stages, k = (e % 32 & ~(P - 1)) | (c & (P - 1)), i = (c & ~(P - 1)) | (e & (P - 1));
    return (uint64_t)(e / 32) * 4096 + (uint64_t)k * 128 + (uint64_t)i * 4;
}

#endif
