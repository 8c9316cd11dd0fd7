/* fuzz_graph.c: libFuzzer target that reads its input as a recipe for a
 * small CNN and builds a well-formed ONNX model from it (with the tests'
 * mkmodel.c), so that most inputs get past the protobuf parser and the
 * importer and reach shape inference, the passes and the executor
 * (fuzz_pipeline.c).  Byte-level mutation of real models (fuzz_frontend)
 * mostly tests the parser; this one tests the stages behind it.
 *
 * Each byte picks one choice (value % number of choices; 0 once the input
 * runs out).  Shapes are tracked roughly so that most nodes fit their input;
 * a wrong guess just makes a model the frontend rejects, which is also fine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_pipeline.h"
#include "tests/frontend/mkmodel.h"

enum { F = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, MAX_T = 32, MAX_NODES = 12 };

typedef struct {
    const uint8_t *p, *end;
} In;

/* A choice in [0, n). */
static int pick(In *in, int n) {
    return in->p < in->end ? *in->p++ % n : 0;
}

typedef struct {
    char name[16];
    int rank;
    int64_t d[8];
} T;

typedef struct {
    Onnx__ModelProto *m;
    int opset;
    T t[MAX_T];
    int n_t;
    int n_names;
} B;

/* A fresh name for a node output or constant. */
static const char *fresh(B *b, char *buf) {
    snprintf(buf, 16, "v%d", b->n_names++);
    return buf;
}

static void dims_str(const int64_t *d, int rank, char *s, size_t n) {
    size_t k = 0;
    s[0] = 0;
    for (int i = 0; i < rank && k < n; i++)
        k += (size_t)snprintf(s + k, n - k, "%s%lld", i ? "," : "", (long long)d[i]);
}

static T *add_t(B *b, const char *name, int rank, const int64_t *d) {
    T *t = &b->t[b->n_t < MAX_T ? b->n_t++ : MAX_T - 1];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->rank = rank;
    /* A node whose output would be empty or negative is rejected by the
     * frontend anyway; clamping keeps the constants of later nodes sane. */
    for (int i = 0; i < rank; i++)
        t->d[i] = d[i] < 1 ? 1 : d[i] > 4096 ? 4096 : d[i];
    return t;
}

/* An F32 initializer of the given shape; its name in buf. */
static const char *const_f32(B *b, In *in, int rank, const int64_t *dims, char *buf) {
    int64_t n = 1, d[8] = {0};
    for (int i = 0; i < rank; i++)
        n *= d[i] = dims[i]; /* at most 4096^4: no overflow */
    if (n > 1 << 20) { /* all ones: still broadcasts where the full shape would */
        for (int i = 0; i < rank; i++)
            d[i] = 1;
        n = 1;
    }
    char ds[96];
    dims_str(d, rank, ds, sizeof ds);
    float *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    float scale = (float)(pick(in, 5) + 1) * 0.25f;
    for (int64_t i = 0; i < n; i++)
        v[i] = scale * (float)((i * 7) % 11 - 5) / 5.0f;
    int form = pick(in, 4); /* initializer, also listed as graph input (IR v3), Constant node */
    fresh(b, buf);
    if (form < 3) {
        mk_init_f32(b->m, buf, ds, v);
        if (form == 2)
            mk_input(b->m, buf, F, ds);
    } else {
        Onnx__NodeProto *c = mk_node(b->m, "Constant", buf, "", buf);
        mk_attr_t(c, "value", mk_tensor_f32("", ds, v));
    }
    free(v);
    return buf;
}

static const char *const_i64(B *b, int n, const int64_t *v, char *buf) {
    char ds[16];
    snprintf(ds, sizeof ds, "%d", n);
    mk_init_i64(b->m, fresh(b, buf), ds, v);
    return buf;
}

static int64_t window_out(int64_t x, int k, int s, int pb, int pe, int dil, int ceil) {
    int64_t span = x + pb + pe - (int64_t)dil * (k - 1) - 1;
    return (ceil ? (span + s - 1) / s : span / s) + 1;
}

/* "v0,v1" for 2 spatial axes, "v1" for 1 (a 1-D window: the W slot). */
static void spatial_ints(char *buf, size_t n, int nsp, int v0, int v1) {
    if (nsp == 2)
        snprintf(buf, n, "%d,%d", v0, v1);
    else
        snprintf(buf, n, "%d", v1);
}

/* Conv or pooling window attributes (1-D for rank 3, 2-D for rank 4);
 * writes the output dims. */
static void window(B *b, In *in, Onnx__NodeProto *n, const T *x, int64_t *y, int is_pool,
                   int kh, int kw) {
    int nsp = x->rank - 2, h = nsp == 2 ? 2 : -1, w = nsp == 2 ? 3 : 2; /* dims of H (if any), W */
    int s[2] = {pick(in, 2) + 1, pick(in, 2) + 1};
    int p[4] = {pick(in, 2), pick(in, 2), pick(in, 2), pick(in, 2)};
    int dil = !is_pool || b->opset >= 10 ? pick(in, 2) + 1 : 1;
    int ceil = is_pool && b->opset >= 10 ? pick(in, 2) : 0;
    char buf[64];
    if (nsp == 1)
        kh = 1, s[0] = 1, p[0] = p[2] = 0;
    if (is_pool) {
        spatial_ints(buf, sizeof buf, nsp, kh, kw);
        mk_attr_ints(n, "kernel_shape", buf);
    }
    spatial_ints(buf, sizeof buf, nsp, s[0], s[1]);
    mk_attr_ints(n, "strides", buf);
    int mode = pick(in, 4); /* explicit pads, SAME_UPPER, VALID, none */
    if (mode == 0) {
        if (nsp == 2)
            snprintf(buf, sizeof buf, "%d,%d,%d,%d", p[0], p[1], p[2], p[3]);
        else
            snprintf(buf, sizeof buf, "%d,%d", p[1], p[3]);
        mk_attr_ints(n, "pads", buf);
    } else {
        p[0] = p[1] = p[2] = p[3] = 0;
        if (mode == 1) {
            mk_attr_s(n, "auto_pad", "SAME_UPPER");
            if (h >= 0)
                y[h] = (x->d[h] + s[0] - 1) / s[0];
            y[w] = (x->d[w] + s[1] - 1) / s[1];
        } else if (mode == 2) {
            mk_attr_s(n, "auto_pad", "VALID");
        }
    }
    if (dil > 1) {
        spatial_ints(buf, sizeof buf, nsp, dil, dil);
        mk_attr_ints(n, "dilations", buf);
    }
    if (ceil)
        mk_attr_i(n, "ceil_mode", 1);
    if (mode != 1) {
        if (h >= 0)
            y[h] = window_out(x->d[h], kh, s[0], p[0], p[2], dil, ceil);
        y[w] = window_out(x->d[w], kw, s[1], p[1], p[3], dil, ceil);
    }
}

/* Adds one node reading tensor x (copied: b->t moves as tensors are added). */
static void add_node(B *b, In *in, T x) {
    static const char *ops[] = {"Relu", "Sigmoid", "Tanh", "LeakyRelu", "Clip", "Identity",
                                "Dropout", "Softmax", "Conv", "MaxPool", "AveragePool",
                                "GlobalAveragePool", "GlobalMaxPool", "BatchNormalization",
                                "LRN", "Flatten", "Gemm", "MatMul", "Add", "Mul", "Concat", "Pad",
                                "Transpose", "Reshape", "Unsqueeze", "Squeeze", "Cast",
                                "FlattenChain"};
    const char *op = ops[pick(in, (int)(sizeof ops / sizeof *ops))];
    char out[16], c1[16], c2[16], c3[16], c4[16], ins[96];
    fresh(b, out);
    int64_t y[8];
    int yr = x.rank;
    memcpy(y, x.d, sizeof y);
    Onnx__NodeProto *n = NULL;
    int r4 = x.rank == 4, r2 = x.rank == 2, win = x.rank == 3 || x.rank == 4;
    if (!strcmp(op, "Conv") && win) {
        int g = pick(in, 2) ? 1 : (int)x.d[1];
        int64_t m = (int64_t)g * (pick(in, 3) + 1);
        int kh = r4 ? pick(in, 3) + 1 : 1, kw = pick(in, 3) + 1;
        int64_t wd[4] = {m, x.d[1] / g, kh, kw}, bd[1] = {m};
        if (!r4) /* 1-D: [M, C/g, kW] */
            wd[2] = kw;
        const_f32(b, in, x.rank, wd, c1);
        int bias = pick(in, 2);
        if (bias)
            const_f32(b, in, 1, bd, c2);
        snprintf(ins, sizeof ins, "%s,%s%s%s", x.name, c1, bias ? "," : "", bias ? c2 : "");
        n = mk_node(b->m, "Conv", out, ins, out);
        if (g > 1)
            mk_attr_i(n, "group", g);
        y[1] = m;
        window(b, in, n, &x, y, 0, kh, kw);
    } else if ((!strcmp(op, "MaxPool") || !strcmp(op, "AveragePool")) && win) {
        n = mk_node(b->m, op, out, x.name, out);
        int kh = r4 ? pick(in, 3) + 1 : 1, kw = pick(in, 3) + 1;
        if (op[0] == 'A' && pick(in, 2))
            mk_attr_i(n, "count_include_pad", 1);
        window(b, in, n, &x, y, 1, kh, kw);
    } else if (!strncmp(op, "Global", 6) && r4) {
        n = mk_node(b->m, op, out, x.name, out);
        y[2] = y[3] = 1;
    } else if (!strcmp(op, "BatchNormalization") && x.rank >= 2) {
        int64_t cd[1] = {x.d[1]};
        const_f32(b, in, 1, cd, c1);
        const_f32(b, in, 1, cd, c2);
        const_f32(b, in, 1, cd, c3);
        float *var = malloc((size_t)x.d[1] * sizeof *var);
        for (int64_t i = 0; i < x.d[1]; i++)
            var[i] = 0.5f + (float)pick(in, 4);
        fresh(b, c4);
        char ds[32];
        dims_str(cd, 1, ds, sizeof ds);
        mk_init_f32(b->m, c4, ds, var);
        free(var);
        snprintf(ins, sizeof ins, "%s,%s,%s,%s,%s", x.name, c1, c2, c3, c4);
        n = mk_node(b->m, op, out, ins, out);
        if (pick(in, 2))
            mk_attr_f(n, "epsilon", 1e-3f);
    } else if (!strcmp(op, "LRN") && r4) {
        n = mk_node(b->m, op, out, x.name, out);
        mk_attr_i(n, "size", 2 * pick(in, 3) + 1);
    } else if (!strcmp(op, "Flatten")) {
        int axis = pick(in, x.rank + 1);
        n = mk_node(b->m, op, out, x.name, out);
        mk_attr_i(n, "axis", axis);
        int64_t a = 1, c = 1;
        for (int i = 0; i < x.rank; i++)
            *(i < axis ? &a : &c) *= x.d[i];
        yr = 2, y[0] = a, y[1] = c;
    } else if ((!strcmp(op, "Gemm") || !strcmp(op, "MatMul")) && r2) {
        int64_t m = pick(in, 8) + 1;
        int tb = op[0] == 'G' && pick(in, 2), ta = op[0] == 'G' && pick(in, 2);
        int64_t k = x.d[ta ? 0 : 1];
        int64_t wd[2] = {tb ? m : k, tb ? k : m}, bd[2] = {1, m};
        const_f32(b, in, 2, wd, c1);
        int bias = op[0] == 'G' ? pick(in, 3) : 0; /* none, [M], [1,M] */
        if (bias)
            const_f32(b, in, bias == 1 ? 1 : 2, bias == 1 ? bd + 1 : bd, c2);
        snprintf(ins, sizeof ins, "%s,%s%s%s", x.name, c1, bias ? "," : "", bias ? c2 : "");
        n = mk_node(b->m, op, out, ins, out);
        if (tb)
            mk_attr_i(n, "transB", 1);
        if (ta)
            mk_attr_i(n, "transA", 1);
        if (op[0] == 'G' && pick(in, 2))
            mk_attr_f(n, "alpha", 0.5f);
        if (op[0] == 'G' && bias && pick(in, 2))
            mk_attr_f(n, "beta", 2.0f);
        y[0] = x.d[ta ? 1 : 0];
        y[1] = m;
    } else if (!strcmp(op, "Add") || !strcmp(op, "Mul")) {
        int form = pick(in, 4); /* x op x, x op same-shape const, x op [C,1,1], x op scalar */
        const char *other = x.name;
        if (form == 1) {
            other = const_f32(b, in, x.rank, x.d, c1);
        } else if (form == 2 && x.rank >= 2) {
            int64_t cd[8] = {x.d[1], 1, 1, 1, 1, 1, 1, 1};
            other = const_f32(b, in, x.rank - 1, cd, c1);
        } else if (form == 3) {
            other = const_f32(b, in, 0, NULL, c1);
        }
        int swap = pick(in, 2);
        snprintf(ins, sizeof ins, "%s,%s", swap ? other : x.name, swap ? x.name : other);
        n = mk_node(b->m, op, out, ins, out);
    } else if (!strcmp(op, "Concat") && x.rank >= 1) {
        int axis = pick(in, x.rank);
        snprintf(ins, sizeof ins, "%s,%s", x.name, x.name);
        n = mk_node(b->m, op, out, ins, out);
        mk_attr_i(n, "axis", pick(in, 2) ? axis : axis - x.rank);
        y[axis] *= 2;
    } else if (!strcmp(op, "Pad") && x.rank >= 1) {
        int64_t pads[16];
        char ps[96];
        for (int i = 0; i < 2 * x.rank; i++) {
            pads[i] = i % x.rank >= x.rank - 2 ? pick(in, 3) : 0;
            y[i % x.rank] += pads[i];
        }
        dims_str(pads, 2 * x.rank, ps, sizeof ps);
        if (b->opset < 11) {
            n = mk_node(b->m, op, out, x.name, out);
            mk_attr_ints(n, "pads", ps);
        } else {
            const_i64(b, 2 * x.rank, pads, c1);
            snprintf(ins, sizeof ins, "%s,%s", x.name, c1);
            n = mk_node(b->m, op, out, ins, out);
        }
        static const char *modes[] = {"constant", "constant", "reflect", "edge"};
        int mode = pick(in, 4);
        if (mode)
            mk_attr_s(n, "mode", modes[mode]);
    } else if (!strcmp(op, "Transpose")) {
        int perm[8];
        for (int i = 0; i < x.rank; i++)
            perm[i] = i;
        for (int i = x.rank - 1; i > 0; i--) {
            int j = pick(in, i + 1), tmp = perm[i];
            perm[i] = perm[j], perm[j] = tmp;
        }
        int64_t pv[8];
        char ps[64];
        for (int i = 0; i < x.rank; i++)
            pv[i] = perm[i], y[i] = x.d[perm[i]];
        dims_str(pv, x.rank, ps, sizeof ps);
        n = mk_node(b->m, op, out, x.name, out);
        if (x.rank > 0)
            mk_attr_ints(n, "perm", ps);
    } else if (!strcmp(op, "Reshape") && b->opset >= 5) {
        int64_t numel = 1;
        for (int i = 0; i < x.rank; i++)
            numel *= x.d[i];
        int64_t s[2] = {x.rank ? x.d[0] : 1, -1};
        int form = pick(in, 3); /* [N,-1], [-1], [0,-1] */
        if (form == 1)
            s[0] = -1;
        else if (form == 2)
            s[0] = 0;
        const_i64(b, form == 1 ? 1 : 2, s, c1);
        snprintf(ins, sizeof ins, "%s,%s", x.name, c1);
        n = mk_node(b->m, op, out, ins, out);
        yr = form == 1 ? 1 : 2;
        y[0] = form == 1 ? numel : x.rank ? x.d[0] : 1;
        y[1] = x.rank && x.d[0] ? numel / x.d[0] : 0;
    } else if (!strcmp(op, "FlattenChain") && x.rank >= 1 && b->opset >= 5) {
        /* The PyTorch x.view(x.size(0), -1) export: Shape, Gather, Unsqueeze,
         * Concat, Reshape, all folded by shape inference. */
        char s[16], gth[16], u[16], cat[16];
        int64_t zero = 0, minus1 = -1;
        mk_node(b->m, "Shape", fresh(b, s), x.name, s);
        mk_init_i64(b->m, fresh(b, c1), "", &zero);
        snprintf(ins, sizeof ins, "%s,%s", s, c1);
        Onnx__NodeProto *gn = mk_node(b->m, "Gather", fresh(b, gth), ins, gth);
        mk_attr_i(gn, "axis", 0);
        if (b->opset >= 13) {
            const_i64(b, 1, &zero, c2);
            snprintf(ins, sizeof ins, "%s,%s", gth, c2);
            mk_node(b->m, "Unsqueeze", fresh(b, u), ins, u);
        } else {
            Onnx__NodeProto *un = mk_node(b->m, "Unsqueeze", fresh(b, u), gth, u);
            mk_attr_ints(un, "axes", "0");
        }
        const_i64(b, 1, &minus1, c3);
        snprintf(ins, sizeof ins, "%s,%s", u, c3);
        Onnx__NodeProto *cn = mk_node(b->m, "Concat", fresh(b, cat), ins, cat);
        mk_attr_i(cn, "axis", 0);
        snprintf(ins, sizeof ins, "%s,%s", x.name, cat);
        n = mk_node(b->m, "Reshape", out, ins, out);
        int64_t numel = 1;
        for (int i = 0; i < x.rank; i++)
            numel *= x.d[i];
        yr = 2, y[1] = x.d[0] ? numel / x.d[0] : 0;
    } else if (!strcmp(op, "Unsqueeze") && x.rank < 8) {
        int axis = pick(in, x.rank + 1);
        int64_t av = axis;
        if (b->opset >= 13) {
            const_i64(b, 1, &av, c1);
            snprintf(ins, sizeof ins, "%s,%s", x.name, c1);
            n = mk_node(b->m, op, out, ins, out);
        } else {
            n = mk_node(b->m, op, out, x.name, out);
            snprintf(c1, sizeof c1, "%d", axis);
            mk_attr_ints(n, "axes", c1);
        }
        memmove(y + axis + 1, y + axis, sizeof(int64_t) * (size_t)(x.rank - axis));
        y[axis] = 1;
        yr++;
    } else if (!strcmp(op, "Squeeze")) {
        n = mk_node(b->m, op, out, x.name, out);
        yr = 0;
        for (int i = 0; i < x.rank; i++)
            if (x.d[i] != 1)
                y[yr++] = x.d[i];
    } else if (!strcmp(op, "Cast")) {
        n = mk_node(b->m, op, out, x.name, out);
        mk_attr_i(n, "to", F);
    } else if (!strcmp(op, "Clip")) {
        if (b->opset >= 11) {
            const_f32(b, in, 0, NULL, c1);
            int form = pick(in, 3); /* min, max only, neither */
            snprintf(ins, sizeof ins, "%s%s%s", x.name, form == 0 ? "," : form == 1 ? ",," : "",
                     form < 2 ? c1 : "");
            n = mk_node(b->m, op, out, ins, out);
        } else {
            n = mk_node(b->m, op, out, x.name, out);
            mk_attr_f(n, "min", 0.0f);
            mk_attr_f(n, "max", 6.0f);
        }
    } else if (!strcmp(op, "Softmax")) {
        n = mk_node(b->m, op, out, x.name, out);
        if (x.rank && pick(in, 2))
            mk_attr_i(n, "axis", pick(in, 2 * x.rank) - x.rank);
    } else if (!strcmp(op, "LeakyRelu")) {
        n = mk_node(b->m, op, out, x.name, out);
        mk_attr_f(n, "alpha", 0.1f);
    } else {
        /* Relu, Sigmoid, Tanh, Identity, Dropout, or an op whose input rank
         * did not fit: an element-wise op keeps the shape. */
        static const char *unary[] = {"Relu", "Sigmoid", "Tanh", "Identity", "Dropout"};
        n = mk_node(b->m, unary[pick(in, 5)], out, x.name, out);
    }
    add_t(b, out, yr, y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const int opsets[] = {7, 9, 11, 13, 17};
    In in = {data, data + size};
    B b = {0};
    b.opset = opsets[pick(&in, 5)];
    b.m = mk_model(b.opset);
    int64_t d[4] = {pick(&in, 2) + 1, pick(&in, 4) + 1, pick(&in, 8) + 1, pick(&in, 8) + 1};
    int rank = pick(&in, 4) ? 4 : 2;
    if (rank == 2)
        d[1] = d[1] * d[2];
    if (!pick(&in, 8)) { /* a huge dim: the size checks and checked arithmetic */
        static const int64_t huge[] = {1 << 16, 1 << 24, INT64_C(1) << 31, INT64_C(1) << 40,
                                       INT64_C(1) << 62};
        d[rank == 4 ? 2 + pick(&in, 2) : 1] = huge[pick(&in, 5)];
    }
    char ds[64];
    dims_str(d, rank, ds, sizeof ds);
    int64_t batch = pick(&in, 4) ? 0 : pick(&in, 3) + 1; /* FrontendOptions.batch */
    if (batch && pick(&in, 2))
        ds[0] = 'N'; /* a symbolic batch dimension, set by the option */
    if (batch)
        d[0] = batch;
    mk_input(b.m, "x", F, ds);
    add_t(&b, "x", rank, d);
    int nodes = pick(&in, MAX_NODES) + 1;
    for (int i = 0; i < nodes; i++) {
        /* Mostly the latest tensor (a chain), sometimes an earlier one (a branch). */
        int k = pick(&in, 4) ? b.n_t - 1 : pick(&in, b.n_t);
        add_node(&b, &in, b.t[k]);
    }
    mk_output(b.m, b.t[b.n_t - 1].name, NULL);
    if (b.n_t > 2 && pick(&in, 2))
        mk_output(b.m, b.t[b.n_t - 2].name, NULL);
    size_t len = onnx__model_proto__get_packed_size(b.m);
    uint8_t *buf = malloc(len ? len : 1);
    onnx__model_proto__pack(b.m, buf);
    onnx__model_proto__free_unpacked(b.m, NULL);
    /* M7_FUZZ_SAVE=FILE keeps the model built (to look at a finding with m7cc). */
    const char *save = getenv("M7_FUZZ_SAVE");
    FILE *f = save ? fopen(save, "wb") : NULL;
    if (f) {
        fwrite(buf, 1, len, f);
        fclose(f);
    }
    fuzz_onnx_pipeline(buf, len, batch);
    free(buf);
    return 0;
}
