/* onnx_load.c: the ONNX file and tensor payloads.
 *
 * The file is mapped, unpacked by protobuf-c and unmapped at once.  A raw
 * payload is handed to the IR as is (protobuf-c allocates it with malloc,
 * so the IR can free it): a 500 MB model is never copied after parsing. */
#include "frontend/onnx_load.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ir/shape.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "raw_data is little-endian; the loader takes it over without conversion"
#endif

Onnx__ModelProto *onnx_read_model(const char *path, IrDiag *d) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        ir_diag_add(d, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ir_diag_add(d, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    if (st.st_size == 0) { /* cannot be mapped; the parser names the problem */
        close(fd);
        return onnx_parse_model(NULL, 0, path, d);
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        ir_diag_add(d, "%s: cannot map: %s", path, strerror(errno));
        return NULL;
    }
    madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
    Onnx__ModelProto *m = onnx_parse_model(p, (size_t)st.st_size, path, d);
    munmap(p, (size_t)st.st_size);
    return m;
}

Onnx__ModelProto *onnx_parse_model(const void *data, size_t len, const char *path, IrDiag *d) {
    if (len == 0) {
        ir_diag_add(d, "%s: empty file, not an ONNX model", path);
        return NULL;
    }
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, data);
    if (!m) {
        ir_diag_add(d, "%s: not a valid ONNX model (protobuf parse failed: truncated or corrupt file)",
                    path);
        return NULL;
    }
    if (!m->graph) {
        ir_diag_add(d, "%s: not a valid ONNX model (no graph)", path);
        onnx__model_proto__free_unpacked(m, NULL);
        return NULL;
    }
    return m;
}

void onnx_free_model(Onnx__ModelProto *m) {
    if (m)
        onnx__model_proto__free_unpacked(m, NULL);
}

const char *onnx_type_name(int t) {
    static const char *names[] = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16",
                                  "INT32", "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE",
                                  "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"};
    return t >= 0 && t < (int)(sizeof names / sizeof *names) ? names[t] : "unknown";
}

/* Reads length bytes at offset of the tensor's external file into a new buffer. */
static void *read_external(const Onnx__TensorProto *tp, const char *name, const char *model_path,
                           int64_t want, IrDiag *d) {
    const char *loc = NULL;
    int64_t offset = 0, length = -1;
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const char *k = tp->external_data[i]->key, *v = tp->external_data[i]->value;
        if (!k || !v)
            continue;
        if (!strcmp(k, "location"))
            loc = v;
        else if (!strcmp(k, "offset"))
            offset = strtoll(v, NULL, 10);
        else if (!strcmp(k, "length"))
            length = strtoll(v, NULL, 10);
    }
    if (!loc || !*loc) {
        ir_diag_add(d, "%s: tensor '%s': external data without a location", model_path, name);
        return NULL;
    }
    if (loc[0] == '/' || strstr(loc, "..")) {
        ir_diag_add(d, "%s: tensor '%s': external data location '%s' must be a relative path "
                    "inside the model's directory", model_path, name, loc);
        return NULL;
    }
    if (offset < 0 || (length >= 0 && length != want)) {
        ir_diag_add(d, "%s: tensor '%s': external data offset %lld / length %lld do not match the "
                    "%lld bytes its shape needs", model_path, name, (long long)offset,
                    (long long)length, (long long)want);
        return NULL;
    }
    const char *slash = strrchr(model_path, '/');
    size_t dl = slash ? (size_t)(slash - model_path) + 1 : 0;
    char *file = ir_xmalloc(dl + strlen(loc) + 1);
    memcpy(file, model_path, dl);
    strcpy(file + dl, loc);
    void *buf = NULL;
    FILE *f = fopen(file, "rb");
    if (!f) {
        ir_diag_add(d, "%s: tensor '%s': cannot open external data file '%s': %s", model_path, name,
                    file, strerror(errno));
    } else {
        struct stat st;
        if (fstat(fileno(f), &st) != 0 || st.st_size < offset || st.st_size - offset < want) {
            ir_diag_add(d, "%s: tensor '%s': external data file '%s' is too short (needs %lld bytes "
                        "at offset %lld, file has %lld)", model_path, name, file, (long long)want,
                        (long long)offset, (long long)st.st_size);
        } else {
            buf = ir_xmalloc((size_t)want);
            if (fseeko(f, (off_t)offset, SEEK_SET) != 0 ||
                fread(buf, 1, (size_t)want, f) != (size_t)want) {
                ir_diag_add(d, "%s: tensor '%s': cannot read external data file '%s'", model_path,
                            name, file);
                free(buf);
                buf = NULL;
            }
        }
        fclose(f);
    }
    free(file);
    return buf;
}

int onnx_add_const(IrGraph *g, Onnx__TensorProto *tp, const char *name, const char *model_path,
                   IrDiag *d) {
    int et = tp->has_data_type ? tp->data_type : 0;
    /* INT32 and BOOL (flags such as Dropout's training_mode) widen to I64. */
    int is_i32 = et == ONNX__TENSOR_PROTO__DATA_TYPE__INT32, is_bool = et == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL;
    if (et != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT && et != ONNX__TENSOR_PROTO__DATA_TYPE__INT64 &&
        !is_i32 && !is_bool) {
        ir_diag_add(d, "%s: tensor '%s': element type %s is not supported (float32 models; int64 "
                    "only for shape tensors)", model_path, name, onnx_type_name(et));
        return -1;
    }
    if (tp->n_dims > IR_MAX_RANK) {
        ir_diag_add(d, "%s: tensor '%s': rank %zu exceeds %d", model_path, name, tp->n_dims,
                    IR_MAX_RANK);
        return -1;
    }
    if (tp->segment) {
        ir_diag_add(d, "%s: tensor '%s': segmented tensors are not supported", model_path, name);
        return -1;
    }
    IrDType dt = et == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ? IR_F32 : IR_I64;
    int ti = ir_add_tensor(g, name, dt, IR_T_CONST);
    IrTensor *t = &g->t[ti];
    ir_set_shape(t, (int)tp->n_dims, tp->dims);
    IrDiag sd = {0};
    if (ir_check_tensor_size(t, &sd)) {
        ir_diag_add(d, "%s: %s", model_path, sd.msg[0]);
        ir_diag_free(&sd);
        return -1;
    }
    int64_t n = ir_numel(t);
    /* Stored element size (INT32 and BOOL payloads are widened below). */
    int64_t es = is_bool ? 1 : dt == IR_F32 || is_i32 ? 4 : 8;
    int64_t bytes = n * es;
    void *payload = NULL; /* malloc'ed, bytes long, little-endian */
    if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
        if (!(payload = read_external(tp, name, model_path, bytes, d)))
            return -1;
    } else if (tp->has_raw_data) {
        if ((int64_t)tp->raw_data.len != bytes) {
            ir_diag_add(d, "%s: tensor '%s': raw_data has %zu bytes but shape needs %lld",
                        model_path, name, tp->raw_data.len, (long long)bytes);
            return -1;
        }
        payload = tp->raw_data.data; /* take it over; protobuf-c skips NULL on free */
        tp->raw_data.data = NULL;
        tp->raw_data.len = 0;
        if (!payload)
            payload = ir_xmalloc(1);
    } else {
        /* Typed fields: BOOL values live in int32_data too. */
        int in_i32 = is_i32 || is_bool;
        size_t have = dt == IR_F32 ? tp->n_float_data : in_i32 ? tp->n_int32_data : tp->n_int64_data;
        if ((int64_t)have != n) {
            ir_diag_add(d, "%s: tensor '%s': has %zu values but shape needs %lld", model_path, name,
                        have, (long long)n);
            return -1;
        }
        if (in_i32) {
            int64_t *w = ir_xmalloc((size_t)(n * 8));
            for (int64_t i = 0; i < n; i++)
                w[i] = tp->int32_data[i];
            t->i64 = w;
            return ti;
        }
        payload = ir_xmalloc((size_t)bytes);
        if (bytes)
            memcpy(payload, dt == IR_F32 ? (const void *)tp->float_data : (const void *)tp->int64_data,
                   (size_t)bytes);
    }
    if (is_i32 || is_bool) { /* widen a raw or external payload */
        int64_t *w = ir_xmalloc((size_t)(n * 8));
        for (int64_t i = 0; i < n; i++) {
            int32_t v = 0;
            if (is_bool)
                v = ((unsigned char *)payload)[i] != 0;
            else
                memcpy(&v, (char *)payload + i * 4, 4);
            w[i] = v;
        }
        free(payload);
        payload = w;
    }
    if (dt == IR_F32)
        t->f32 = payload;
    else
        t->i64 = payload;
    return ti;
}
