/* plan_print.c: prints the plans of target/m7k.h from their field lists. */
#include "codegen/plan_print.h"

#include <math.h>
#include <string.h>

typedef struct {
    FILE *f;
    int nested;                 /* inside {...} on one line, not a field a line */
    int count;                  /* fields printed so far */
    const char *table;
} Out;

static int all_zero(const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

/* Fields a line of a top-level plan. */
#define PER_LINE 6

static void field(Out *o, const char *name) {
    if (o->nested)
        fprintf(o->f, "%s.%s = ", o->count ? ", " : "", name);
    else
        fprintf(o->f, "%s.%s = ", o->count == 0 ? "    " : o->count % PER_LINE ? " " : "\n    ", name);
    o->count++;
}

static void field_end(Out *o) {
    if (!o->nested)
        fputc(',', o->f);
}

void pp_float(FILE *f, float v) {
    if (isinf(v))
        fputs(v > 0 ? "INFINITY" : "-INFINITY", f);
    else {
        char b[64];
        snprintf(b, sizeof b, "%.9g", (double)v);
        fprintf(f, "%s%sf", b, strpbrk(b, ".en") ? "" : ".0"); /* 1 -> 1.0f */
    }
}

/* Printers by field type: put_<type>(o, name, &value). */
#define SCALAR(type, fmt, cast)                                                                            \
    static void put_##type(Out *o, const char *name, const type *v) {                                      \
        if (all_zero(v, sizeof *v))                                                                        \
            return;                                                                                        \
        field(o, name);                                                                                    \
        fprintf(o->f, fmt, cast * v);                                                                      \
        field_end(o);                                                                                      \
    }
SCALAR(int, "%d", (int))
SCALAR(int64_t, "%lld", (long long))
SCALAR(uint64_t, "%lluu", (unsigned long long))
SCALAR(uint32_t, "%uu", (unsigned))

static void put_float(Out *o, const char *name, const float *v) {
    if (all_zero(v, sizeof *v))
        return;
    field(o, name);
    pp_float(o->f, *v);
    field_end(o);
}

/* An array, its trailing zeros left out. */
#define ARRAY(type, elem, fmt, cast)                                                                       \
    static void put_##type(Out *o, const char *name, const type *v) {                                      \
        int n = (int)(sizeof *v / sizeof(elem));                                                           \
        while (n > 0 && all_zero(&(*v)[n - 1], sizeof(elem)))                                              \
            n--;                                                                                           \
        if (n == 0)                                                                                        \
            return;                                                                                        \
        field(o, name);                                                                                    \
        fputc('{', o->f);                                                                                  \
        for (int i = 0; i < n; i++)                                                                        \
            fprintf(o->f, "%s" fmt, i ? ", " : "", cast(*v)[i]);                                            \
        fputc('}', o->f);                                                                                  \
        field_end(o);                                                                                      \
    }
ARRAY(M7kU64x2, uint64_t, "%lluu", (unsigned long long))
ARRAY(M7kLoopCounts, int64_t, "%lld", (long long))
ARRAY(M7kLoopStrides, uint64_t, "%lluu", (unsigned long long))

static void put_M7kF32x2(Out *o, const char *name, const M7kF32x2 *v) {
    if (all_zero(v, sizeof *v))
        return;
    field(o, name);
    fputc('{', o->f);
    pp_float(o->f, (*v)[0]);
    fputs(", ", o->f);
    pp_float(o->f, (*v)[1]);
    fputc('}', o->f);
    field_end(o);
}

/* A table field: the name of the array codegen emitted for it. */
static void put_table(Out *o, const char *name) {
    if (!o->table)
        return;
    field(o, name);
    fputs(o->table, o->f);
    field_end(o);
}
static void put_M7kFloatTable(Out *o, const char *name, const M7kFloatTable *v) { (void)v, put_table(o, name); }
static void put_M7kMoveTable(Out *o, const char *name, const M7kMoveTable *v) { (void)v, put_table(o, name); }
static void put_M7kDmaTable(Out *o, const char *name, const M7kDmaTable *v) { (void)v, put_table(o, name); }
static void put_M7kConvMk(Out *o, const char *name, const M7kConvMk *v) { (void)v, put_table(o, name); }
static void put_M7kGwMk(Out *o, const char *name, const M7kGwMk *v) { (void)v, put_table(o, name); }

#define PUT_FIELD(type, name) put_##type(o, #name, &p->name);

/* A nested plan on one line. */
#define NESTED(type, FIELDS)                                                                               \
    static void put_##type(Out *outer, const char *name, const type *p) {                                  \
        Out in = {outer->f, 1, 0, NULL}, *o = &in;                                                         \
        if (all_zero(p, sizeof *p))                                                                        \
            return;                                                                                        \
        field(outer, name);                                                                                \
        fputc('{', o->f);                                                                                  \
        FIELDS(PUT_FIELD)                                                                                  \
        fputs(in.count ? "}" : "0}", o->f);                                                                \
        field_end(outer);                                                                                  \
    }
NESTED(M7kAct, M7K_ACT_FIELDS)
NESTED(M7kConv, M7K_CONV_FIELDS)

#define PRINTER(plan, type, FIELDS)                                                                        \
    void pp_##plan(FILE *f, const char *name, const type *p, const char *table) {                          \
        Out out = {f, 0, 0, table}, *o = &out;                                                             \
        fprintf(f, "%s = {\n", name);                                                                      \
        FIELDS(PUT_FIELD)                                                                                  \
        fputs(out.count ? "\n};\n" : "    0\n};\n", f);                                                    \
    }
PRINTER(conv, M7kConv, M7K_CONV_FIELDS)
PRINTER(dw, M7kDw, M7K_DW_FIELDS)
PRINTER(pool, M7kPool, M7K_POOL_FIELDS)
PRINTER(gpool, M7kGPool, M7K_GPOOL_FIELDS)
PRINTER(ew, M7kEw, M7K_EW_FIELDS)
PRINTER(softmax, M7kSoftmax, M7K_SOFTMAX_FIELDS)
PRINTER(lrn, M7kLrn, M7K_LRN_FIELDS)
PRINTER(softmax_rows, M7kSoftmaxRows, M7K_SOFTMAX_ROWS_FIELDS)
PRINTER(softmax_axis, M7kSoftmaxAxis, M7K_SOFTMAX_AXIS_FIELDS)
PRINTER(moves, M7kMoves, M7K_MOVES_FIELDS)
PRINTER(pad, M7kPad, M7K_PAD_FIELDS)
PRINTER(copy, M7kCopy, M7K_COPY_FIELDS)
PRINTER(pack_dma, M7kPackDma, M7K_PACK_DMA_FIELDS)
PRINTER(pack_bn, M7kPackBn, M7K_PACK_BN_FIELDS)
PRINTER(pack_scale, M7kPackScale, M7K_PACK_SCALE_FIELDS)
PRINTER(train, M7kTrain, M7K_TRAIN_FIELDS)
PRINTER(upsample, M7kUpsample, M7K_UPSAMPLE_FIELDS)

/* Table elements, one line each. */
#define ELEMENT(plan, type, FIELDS)                                                                        \
    void pp_##plan(FILE *f, const type *p) {                                                               \
        Out out = {f, 1, 0, NULL}, *o = &out;                                                              \
        fputc('{', f);                                                                                     \
        FIELDS(PUT_FIELD)                                                                                  \
        fputs(out.count ? "}" : "0}", f);                                                                  \
    }
ELEMENT(move, M7kMove, M7K_MOVE_FIELDS)
ELEMENT(dma_desc, M7kDmaDesc, M7K_DMA_DESC_FIELDS)
