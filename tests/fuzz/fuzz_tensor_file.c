/* fuzz_tensor_file.c: libFuzzer target for the tensor file reader
 * (runtime/tensor_file.c), which reads untrusted .pb and .npy files.
 *
 * The bytes go to a scratch file (fuzz_scratch.c) read by m7_tensor_read.  Besides crashes
 * and sanitizer reports it aborts when a promise is broken: a failed read
 * leaves a message; a good read gives a consistent tensor that writes as
 * .pb and as .npy and reads back bit for bit. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_scratch.h"
#include "runtime/tensor_file.h"

static void check(int ok, const char *what, const char *err) {
    if (ok)
        return;
    fprintf(stderr, "fuzz_tensor_file: broken promise: %s (%s)\n", what, err);
    abort();
}

/* Writes t to path and reads it back; the copy must be identical. */
static void round_trip(const M7Tensor *t, const char *path, int keeps_name) {
    char err[512] = "";
    check(m7_tensor_write(path, t, err, sizeof err) == 0, "cannot write a tensor it read", err);
    M7Tensor u;
    check(m7_tensor_read(path, &u, err, sizeof err) == 0, "cannot read a tensor it wrote", err);
    int same = u.elem_type == t->elem_type && u.rank == t->rank && u.numel == t->numel &&
               !memcmp(u.dims, t->dims, sizeof(int64_t) * (size_t)t->rank) &&
               (!keeps_name || !strcmp(u.name, t->name));
    size_t bytes = (size_t)t->numel * (t->elem_type == M7_ELEM_FLOAT ? 4 : 8);
    if (same && bytes)
        same = !memcmp(t->elem_type == M7_ELEM_FLOAT ? (void *)u.f32 : (void *)u.i64,
                       t->elem_type == M7_ELEM_FLOAT ? (void *)t->f32 : (void *)t->i64, bytes);
    check(same, "round trip changed the tensor", path);
    m7_tensor_free(&u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *in = fuzz_scratch("in");
    FILE *f = fopen(in, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    M7Tensor t;
    char err[512] = "";
    if (m7_tensor_read(in, &t, err, sizeof err) != 0) {
        check(err[0] != 0, "read failed without a message", "");
        return 0;
    }
    int64_t n = 1;
    for (int r = 0; r < t.rank; r++)
        n *= t.dims[r];
    check((t.elem_type == M7_ELEM_FLOAT && t.f32) || (t.elem_type == M7_ELEM_INT64 && t.i64),
          "element type and data disagree", in);
    check(t.rank >= 0 && t.rank <= 8 && n == t.numel && t.name, "inconsistent tensor", in);
    round_trip(&t, fuzz_scratch("t.pb"), 1);
    round_trip(&t, fuzz_scratch("t.npy"), 0);
    m7_tensor_free(&t);
    return 0;
}
