/* tensor_file.c: reads and writes host tensor files (ONNX TensorProto .pb
 * and NumPy .npy) and compares tensors.  The protobuf wire format is decoded
 * by hand so that the simulator needs nothing but libc.  Every read is
 * bounds-checked: files are untrusted input. */
#include "runtime/tensor_file.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Files larger than this are refused rather than read into memory. */
#define MAX_FILE_BYTES ((int64_t)1 << 34)

static int fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, const char *path, const char *fmt, ...) {
    if (err && errlen) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        snprintf(err, errlen, "%s: %s", path, msg);
    }
    return -1;
}

static const char *elem_type_name(uint64_t t) {
    static const char *names[] = {"UNDEFINED", "FLOAT",  "UINT8",     "INT8",       "UINT16",
                                  "INT16",     "INT32",  "INT64",     "STRING",     "BOOL",
                                  "FLOAT16",   "DOUBLE", "UINT32",    "UINT64",     "COMPLEX64",
                                  "COMPLEX128", "BFLOAT16"};
    return t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

/* Reads the whole file; refuses huge ones. */
static int read_all(const char *path, unsigned char **buf, size_t *len, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(err, errlen, path, "cannot open: %s", strerror(errno));
    size_t cap = 1 << 16, n = 0;
    unsigned char *p = malloc(cap);
    if (!p) {
        fclose(f);
        return fail(err, errlen, path, "out of memory");
    }
    for (;;) {
        if (n == cap) {
            if ((int64_t)cap >= MAX_FILE_BYTES) {
                free(p);
                fclose(f);
                return fail(err, errlen, path, "file too large");
            }
            unsigned char *q = realloc(p, cap * 2);
            if (!q) {
                free(p);
                fclose(f);
                return fail(err, errlen, path, "out of memory");
            }
            p = q;
            cap *= 2;
        }
        size_t r = fread(p + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(p);
        return fail(err, errlen, path, "read error");
    }
    *buf = p;
    *len = n;
    return 0;
}

/* Checked product of dims; -1 on negative dims or overflow. */
static int64_t dims_numel(int rank, const int64_t *dims) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        if (dims[i] < 0 || __builtin_mul_overflow(n, dims[i], &n))
            return -1;
    return n;
}

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p) {
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static float f32_of_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Allocates the element array of t (numel elements, at least one byte). */
static int alloc_data(M7Tensor *t) {
    size_t esz = t->elem_type == M7_ELEM_FLOAT ? 4 : 8;
    if ((uint64_t)t->numel > SIZE_MAX / esz)
        return -1;
    size_t bytes = (size_t)t->numel * esz;
    void *p = calloc(bytes ? bytes : 1, 1);
    if (!p)
        return -1;
    if (t->elem_type == M7_ELEM_FLOAT)
        t->f32 = p;
    else
        t->i64 = p;
    return 0;
}

/* ---- protobuf wire format ------------------------------------------------ */

typedef struct {
    const unsigned char *p, *end;
} Buf;

static int get_varint(Buf *b, uint64_t *v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (b->p >= b->end)
            return -1;
        unsigned char c = *b->p++;
        r |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1; /* more than 10 bytes */
}

/* A length-delimited field's payload. */
static int get_bytes(Buf *b, Buf *out) {
    uint64_t n;
    if (get_varint(b, &n) || n > (uint64_t)(b->end - b->p))
        return -1;
    out->p = b->p;
    out->end = b->p + n;
    b->p += n;
    return 0;
}

static int skip_field(Buf *b, int wire) {
    uint64_t v;
    Buf tmp;
    switch (wire) {
    case 0:
        return get_varint(b, &v);
    case 1:
        if (b->end - b->p < 8)
            return -1;
        b->p += 8;
        return 0;
    case 2:
        return get_bytes(b, &tmp);
    case 5:
        if (b->end - b->p < 4)
            return -1;
        b->p += 4;
        return 0;
    default:
        return -1; /* groups (3, 4) are not used by ONNX; others are invalid */
    }
}

/* A growable array of 64-bit values (dims, int64_data) or floats. */
typedef struct {
    void *v;
    int64_t n, cap;
} Vec;

static int vec_push(Vec *a, const void *x, size_t esz) {
    if (a->n == a->cap) {
        int64_t cap = a->cap ? a->cap * 2 : 16;
        void *q = realloc(a->v, (size_t)cap * esz);
        if (!q)
            return -1;
        a->v = q;
        a->cap = cap;
    }
    memcpy((char *)a->v + (size_t)a->n * esz, x, esz);
    a->n++;
    return 0;
}

/* A repeated varint field, packed (wire 2) or not (wire 0). */
static int get_varints(Buf *b, int wire, Vec *out) {
    uint64_t v;
    if (wire == 0)
        return get_varint(b, &v) || vec_push(out, &v, 8);
    if (wire != 2)
        return -1;
    Buf pk;
    if (get_bytes(b, &pk))
        return -1;
    while (pk.p < pk.end)
        if (get_varint(&pk, &v) || vec_push(out, &v, 8))
            return -1;
    return 0;
}

/* A repeated float field, packed (wire 2) or not (wire 5). */
static int get_floats(Buf *b, int wire, Vec *out) {
    if (wire == 5) {
        if (b->end - b->p < 4)
            return -1;
        float f = f32_of_bits(le32(b->p));
        b->p += 4;
        return vec_push(out, &f, 4);
    }
    if (wire != 2)
        return -1;
    Buf pk;
    if (get_bytes(b, &pk) || (pk.end - pk.p) % 4)
        return -1;
    for (; pk.p < pk.end; pk.p += 4) {
        float f = f32_of_bits(le32(pk.p));
        if (vec_push(out, &f, 4))
            return -1;
    }
    return 0;
}

static int read_pb(const char *path, const unsigned char *data, size_t len, M7Tensor *t,
                   char *err, size_t errlen) {
    Buf b = {data, data + len}, raw = {NULL, NULL};
    Vec dims = {0}, fdata = {0}, idata = {0};
    uint64_t dtype = 0;
    int has_raw = 0, external = 0, has_other_data = 0, rc = -1;
    const char *what = NULL;
    while (b.p < b.end) {
        uint64_t key;
        if (get_varint(&b, &key)) {
            what = "truncated field key";
            goto out;
        }
        int field = (int)(key >> 3), wire = (int)(key & 7);
        int bad = 0;
        switch (field) {
        case 1:
            bad = get_varints(&b, wire, &dims);
            break;
        case 2:
            bad = wire != 0 || get_varint(&b, &dtype);
            break;
        case 4:
            bad = get_floats(&b, wire, &fdata);
            break;
        case 7:
            bad = get_varints(&b, wire, &idata);
            break;
        case 8: {
            Buf s;
            bad = wire != 2 || get_bytes(&b, &s);
            if (!bad) {
                free(t->name);
                size_t n = (size_t)(s.end - s.p);
                t->name = malloc(n + 1);
                if (!t->name) {
                    what = "out of memory";
                    goto out;
                }
                memcpy(t->name, s.p, n);
                t->name[n] = 0;
            }
            break;
        }
        case 9:
            bad = wire != 2 || get_bytes(&b, &raw);
            has_raw = 1;
            break;
        case 13: /* external_data */
            external = 1;
            bad = skip_field(&b, wire);
            break;
        case 14: { /* data_location: 1 = EXTERNAL */
            uint64_t loc = 0;
            bad = wire != 0 || get_varint(&b, &loc);
            if (loc == 1)
                external = 1;
            break;
        }
        case 5: case 6: case 10: case 11: /* int32/string/double/uint64 data */
            has_other_data = 1;
            bad = skip_field(&b, wire);
            break;
        default:
            bad = field == 0 || skip_field(&b, wire);
        }
        if (bad) {
            what = "malformed or truncated TensorProto";
            goto out;
        }
    }
    if (external) {
        what = "tensor data is stored externally (data_location EXTERNAL); not supported";
        goto out;
    }
    if (dtype != M7_ELEM_FLOAT && dtype != M7_ELEM_INT64) {
        fail(err, errlen, path, "element type %s (%llu) not supported (only FLOAT and INT64)",
             elem_type_name(dtype), (unsigned long long)dtype);
        goto out_noerr;
    }
    if (dims.n > 8) {
        what = "more than 8 dimensions";
        goto out;
    }
    t->elem_type = (int)dtype;
    t->rank = (int)dims.n;
    for (int i = 0; i < t->rank; i++) {
        uint64_t d = ((uint64_t *)dims.v)[i];
        if (d > (uint64_t)INT64_MAX) {
            what = "negative dimension";
            goto out;
        }
        t->dims[i] = (int64_t)d;
    }
    t->numel = dims_numel(t->rank, t->dims);
    if (t->numel < 0) {
        what = "element count overflows";
        goto out;
    }
    size_t esz = dtype == M7_ELEM_FLOAT ? 4 : 8;
    int64_t have;
    if (has_raw)
        have = (raw.end - raw.p) % (ptrdiff_t)esz ? -1 : (raw.end - raw.p) / (ptrdiff_t)esz;
    else
        have = dtype == M7_ELEM_FLOAT ? fdata.n : idata.n;
    if (have != t->numel) {
        fail(err, errlen, path, "data holds %lld elements (%s), shape needs %lld",
             (long long)have, has_raw ? "raw_data" : has_other_data ? "in an unexpected field"
                                                                      : "typed field",
             (long long)t->numel);
        goto out_noerr;
    }
    if (alloc_data(t)) {
        what = "out of memory";
        goto out;
    }
    for (int64_t i = 0; i < t->numel; i++) {
        if (dtype == M7_ELEM_FLOAT)
            t->f32[i] = has_raw ? f32_of_bits(le32(raw.p + 4 * i)) : ((float *)fdata.v)[i];
        else
            t->i64[i] = (int64_t)(has_raw ? le64(raw.p + 8 * i) : ((uint64_t *)idata.v)[i]);
    }
    rc = 0;
out:
    if (rc && what)
        fail(err, errlen, path, "%s", what);
out_noerr:
    free(dims.v);
    free(fdata.v);
    free(idata.v);
    return rc;
}

/* ---- .npy ---------------------------------------------------------------- */

/* The header is a Python dict literal; this parses just its three keys. */
typedef struct {
    const char *p, *end;
} Lex;

static void lex_ws(Lex *x) {
    while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r'))
        x->p++;
}

static int lex_ch(Lex *x, char c) {
    lex_ws(x);
    if (x->p < x->end && *x->p == c) {
        x->p++;
        return 1;
    }
    return 0;
}

/* A quoted string into buf; -1 on error. */
static int lex_str(Lex *x, char *buf, size_t n) {
    lex_ws(x);
    if (x->p >= x->end || (*x->p != '\'' && *x->p != '"'))
        return -1;
    char q = *x->p++;
    size_t i = 0;
    while (x->p < x->end && *x->p != q) {
        if (i + 1 >= n)
            return -1;
        buf[i++] = *x->p++;
    }
    if (x->p >= x->end)
        return -1;
    x->p++;
    buf[i] = 0;
    return 0;
}

static int lex_word(Lex *x, const char *w) {
    lex_ws(x);
    size_t n = strlen(w);
    if ((size_t)(x->end - x->p) >= n && memcmp(x->p, w, n) == 0) {
        x->p += n;
        return 1;
    }
    return 0;
}

static int parse_npy_header(Lex *x, char *descr, size_t dn, int *fortran, int *rank,
                            int64_t *dims) {
    int seen = 0;
    if (!lex_ch(x, '{'))
        return -1;
    while (!lex_ch(x, '}')) {
        char key[32];
        if (lex_str(x, key, sizeof key) || !lex_ch(x, ':'))
            return -1;
        if (strcmp(key, "descr") == 0) {
            if (lex_str(x, descr, dn))
                return -1;
            seen |= 1;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (lex_word(x, "False"))
                *fortran = 0;
            else if (lex_word(x, "True"))
                *fortran = 1;
            else
                return -1;
            seen |= 2;
        } else if (strcmp(key, "shape") == 0) {
            if (!lex_ch(x, '('))
                return -1;
            *rank = 0;
            while (!lex_ch(x, ')')) {
                lex_ws(x);
                int64_t v = 0;
                int digits = 0;
                while (x->p < x->end && *x->p >= '0' && *x->p <= '9') {
                    if (__builtin_mul_overflow(v, 10, &v) ||
                        __builtin_add_overflow(v, *x->p - '0', &v))
                        return -1;
                    x->p++;
                    digits++;
                }
                if (!digits || *rank >= 8)
                    return -1;
                dims[(*rank)++] = v;
                if (!lex_ch(x, ',') && !(lex_ws(x), x->p < x->end && *x->p == ')'))
                    return -1;
            }
            seen |= 4;
        } else {
            return -1;
        }
        if (!lex_ch(x, ',')) {
            if (!lex_ch(x, '}'))
                return -1;
            break;
        }
    }
    return seen == 7 ? 0 : -1;
}

static int read_npy(const char *path, const unsigned char *data, size_t len, M7Tensor *t,
                    char *err, size_t errlen) {
    if (len < 10)
        return fail(err, errlen, path, "truncated .npy header");
    int major = data[6];
    size_t hlen, hstart;
    if (major == 1) {
        hlen = (size_t)data[8] | (size_t)data[9] << 8;
        hstart = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12)
            return fail(err, errlen, path, "truncated .npy header");
        hlen = le32(data + 8);
        hstart = 12;
    } else {
        return fail(err, errlen, path, ".npy version %d.%d not supported", major, data[7]);
    }
    if (hlen > len - hstart)
        return fail(err, errlen, path, "truncated .npy header");
    char descr[16];
    int fortran = 0;
    Lex x = {(const char *)data + hstart, (const char *)data + hstart + hlen};
    if (parse_npy_header(&x, descr, sizeof descr, &fortran, &t->rank, t->dims))
        return fail(err, errlen, path, "malformed .npy header");
    if (fortran)
        return fail(err, errlen, path, "fortran_order arrays not supported");
    if (strcmp(descr, "<f4") == 0)
        t->elem_type = M7_ELEM_FLOAT;
    else if (strcmp(descr, "<i8") == 0)
        t->elem_type = M7_ELEM_INT64;
    else
        return fail(err, errlen, path, "dtype '%s' not supported (only '<f4' and '<i8')", descr);
    t->numel = dims_numel(t->rank, t->dims);
    if (t->numel < 0)
        return fail(err, errlen, path, "element count overflows");
    size_t esz = t->elem_type == M7_ELEM_FLOAT ? 4 : 8;
    size_t avail = len - hstart - hlen;
    if ((uint64_t)t->numel > avail / esz || (uint64_t)t->numel * esz != avail)
        return fail(err, errlen, path, "data holds %zu bytes, shape needs %lld elements of %zu",
                    avail, (long long)t->numel, esz);
    if (alloc_data(t))
        return fail(err, errlen, path, "out of memory");
    const unsigned char *d = data + hstart + hlen;
    for (int64_t i = 0; i < t->numel; i++) {
        if (t->elem_type == M7_ELEM_FLOAT)
            t->f32[i] = f32_of_bits(le32(d + 4 * i));
        else
            t->i64[i] = (int64_t)le64(d + 8 * i);
    }
    t->name = calloc(1, 1);
    return t->name ? 0 : fail(err, errlen, path, "out of memory");
}

int m7_tensor_read(const char *path, M7Tensor *t, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    unsigned char *data = NULL;
    size_t len = 0;
    if (read_all(path, &data, &len, err, errlen))
        return -1;
    int rc;
    if (len >= 6 && memcmp(data, "\x93NUMPY", 6) == 0)
        rc = read_npy(path, data, len, t, err, errlen);
    else
        rc = read_pb(path, data, len, t, err, errlen);
    free(data);
    if (rc == 0 && !t->name && !(t->name = calloc(1, 1)))
        rc = fail(err, errlen, path, "out of memory");
    if (rc)
        m7_tensor_free(t);
    return rc;
}

void m7_tensor_free(M7Tensor *t) {
    free(t->name);
    free(t->f32);
    free(t->i64);
    memset(t, 0, sizeof *t);
}

/* ---- writing ------------------------------------------------------------- */

/* An in-memory output buffer; a failed allocation sticks in `bad`. */
typedef struct {
    unsigned char *p;
    size_t n, cap;
    int bad;
} Out;

static void put(Out *o, const void *x, size_t n) {
    if (o->bad)
        return;
    if (o->n + n > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (cap < o->n + n)
            cap *= 2;
        unsigned char *q = realloc(o->p, cap);
        if (!q) {
            o->bad = 1;
            return;
        }
        o->p = q;
        o->cap = cap;
    }
    memcpy(o->p + o->n, x, n);
    o->n += n;
}

static void put_varint(Out *o, uint64_t v) {
    unsigned char b[10];
    int n = 0;
    do {
        b[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    put(o, b, (size_t)n);
}

static void put_le(Out *o, uint64_t v, int bytes) {
    unsigned char b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    put(o, b, (size_t)bytes);
}

static void put_data(Out *o, const M7Tensor *t) {
    for (int64_t i = 0; i < t->numel && !o->bad; i++) {
        if (t->elem_type == M7_ELEM_FLOAT) {
            uint32_t u;
            memcpy(&u, &t->f32[i], 4);
            put_le(o, u, 4);
        } else {
            put_le(o, (uint64_t)t->i64[i], 8);
        }
    }
}

static void encode_pb(Out *o, const M7Tensor *t) {
    for (int i = 0; i < t->rank; i++) {
        put_varint(o, 1 << 3 | 0);
        put_varint(o, (uint64_t)t->dims[i]);
    }
    put_varint(o, 2 << 3 | 0);
    put_varint(o, (uint64_t)t->elem_type);
    if (t->name && t->name[0]) {
        put_varint(o, 8 << 3 | 2);
        put_varint(o, strlen(t->name));
        put(o, t->name, strlen(t->name));
    }
    put_varint(o, 9 << 3 | 2);
    put_varint(o, (uint64_t)t->numel * (t->elem_type == M7_ELEM_FLOAT ? 4 : 8));
    put_data(o, t);
}

static void encode_npy(Out *o, const M7Tensor *t) {
    char h[512];
    int n = snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                     t->elem_type == M7_ELEM_FLOAT ? "<f4" : "<i8");
    for (int i = 0; i < t->rank; i++)
        n += snprintf(h + n, sizeof h - (size_t)n, "%lld,%s", (long long)t->dims[i],
                      i + 1 < t->rank ? " " : "");
    if (t->rank > 1)
        n--; /* numpy writes a trailing comma only for 1-tuples */
    n += snprintf(h + n, sizeof h - (size_t)n, "), }");
    /* Pad with spaces so data starts 64-byte aligned; ends in '\n'. */
    size_t total = 10 + (size_t)n + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)n + pad + 1;
    put(o, "\x93NUMPY\x01\x00", 8);
    put_le(o, hlen, 2);
    put(o, h, (size_t)n);
    for (size_t i = 0; i < pad; i++)
        put(o, " ", 1);
    put(o, "\n", 1);
    put_data(o, t);
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

int m7_tensor_write(const char *path, const M7Tensor *t, char *err, size_t errlen) {
    if (t->elem_type != M7_ELEM_FLOAT && t->elem_type != M7_ELEM_INT64)
        return fail(err, errlen, path, "cannot write element type %d", t->elem_type);
    if (t->rank < 0 || t->rank > 8 || dims_numel(t->rank, t->dims) != t->numel)
        return fail(err, errlen, path, "inconsistent tensor shape");
    if (t->numel > 0 && (t->elem_type == M7_ELEM_FLOAT ? !t->f32 : !t->i64))
        return fail(err, errlen, path, "tensor has no data");
    Out o = {0};
    if (ends_with(path, ".npy"))
        encode_npy(&o, t);
    else
        encode_pb(&o, t);
    if (o.bad) {
        free(o.p);
        return fail(err, errlen, path, "out of memory");
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) {
        free(o.p);
        return fail(err, errlen, path, "out of memory");
    }
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        free(o.p);
        return fail(err, errlen, path, "cannot create temporary file: %s", strerror(e));
    }
    FILE *f = fdopen(fd, "wb");
    int ok = f && fwrite(o.p, 1, o.n, f) == o.n;
    int e = errno;
    if (f) {
        if (fclose(f) != 0 && ok) {
            ok = 0;
            e = errno;
        }
    } else {
        close(fd);
    }
    free(o.p);
    if (ok && rename(tmp, path) != 0) {
        ok = 0;
        e = errno;
    }
    if (!ok) {
        unlink(tmp);
        free(tmp);
        return fail(err, errlen, path, "write failed: %s", strerror(e));
    }
    free(tmp);
    return 0;
}

/* ---- comparison ---------------------------------------------------------- */

static double elem(const M7Tensor *t, int64_t i) {
    return t->elem_type == M7_ELEM_FLOAT ? (double)t->f32[i] : (double)t->i64[i];
}

static void shape_str(const M7Tensor *t, char *s, size_t n) {
    int k = snprintf(s, n, "[");
    for (int i = 0; i < t->rank && (size_t)k < n; i++)
        k += snprintf(s + k, n - (size_t)k, "%s%lld", i ? "," : "", (long long)t->dims[i]);
    if ((size_t)k < n)
        snprintf(s + k, n - (size_t)k, "]");
}

int m7_tensor_compare(const M7Tensor *got, const M7Tensor *want, double rtol, double atol,
                      char *report, size_t len) {
    char sg[128], sw[128];
    shape_str(got, sg, sizeof sg);
    shape_str(want, sw, sizeof sw);
    int same = got->rank == want->rank && got->numel == want->numel &&
               got->elem_type == want->elem_type;
    for (int i = 0; same && i < got->rank; i++)
        same = got->dims[i] == want->dims[i];
    if (!same) {
        if (report && len)
            snprintf(report, len, "shape/type mismatch: got %s %s, want %s %s", sg,
                     elem_type_name((uint64_t)got->elem_type), sw,
                     elem_type_name((uint64_t)want->elem_type));
        return -1;
    }
    int64_t nbad = 0, first = -1;
    double max_abs = 0, max_rel = 0;
    for (int64_t i = 0; i < got->numel; i++) {
        double a = elem(got, i), b = elem(want, i);
        int ok;
        if (isnan(a) || isnan(b)) {
            ok = isnan(a) && isnan(b);
        } else if (a == b) { /* also equal infinities */
            ok = 1;
        } else if (isinf(a) || isinf(b)) {
            ok = 0;
        } else {
            double d = fabs(a - b);
            ok = d <= atol + rtol * fabs(b);
            if (isfinite(d)) {
                if (d > max_abs)
                    max_abs = d;
                if (b != 0 && d / fabs(b) > max_rel)
                    max_rel = d / fabs(b);
            }
        }
        if (!ok && nbad++ == 0)
            first = i;
    }
    if (report && len) {
        if (nbad)
            snprintf(report, len,
                     "%lld of %lld elements differ (rtol %g, atol %g); first at flat index %lld: "
                     "got %.9g, want %.9g; max abs err %.3g, max rel err %.3g",
                     (long long)nbad, (long long)got->numel, rtol, atol, (long long)first,
                     elem(got, first), elem(want, first), max_abs, max_rel);
        else
            snprintf(report, len, "%lld elements equal within rtol %g, atol %g; max abs err %.3g, "
                     "max rel err %.3g", (long long)got->numel, rtol, atol, max_abs, max_rel);
    }
    return nbad ? -1 : 0;
}
