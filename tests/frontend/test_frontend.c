/* Frontend tests: every supported op and its attribute forms across
 * opsets, constants (initializers, Constant nodes, external data, typed
 * fields), graph inputs and the batch option.  Models are built in C. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/common/cunit_run.h"
#include "tests/frontend/fe_util.h"

enum { F = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, I64 = ONNX__TENSOR_PROTO__DATA_TYPE__INT64 };

/* A model with x [dims] -> op -> y, plus whatever the caller adds. */
static Onnx__ModelProto *unary(int64_t opset, const char *op, const char *xdims, Onnx__NodeProto **n) {
    Onnx__ModelProto *m = mk_model(opset);
    mk_input(m, "x", F, xdims);
    *n = mk_node(m, op, "n0", "x", "y");
    mk_output(m, "y", NULL);
    return m;
}

static IrGraph *must_load(Onnx__ModelProto *m, int64_t batch) {
    IrDiag d = {0};
    IrGraph *g = fe_load(m, batch, &d);
    CU_ASSERT_PTR_NOT_NULL(g);
    if (!g)
        ir_diag_print(&d, stderr);
    ir_diag_free(&d);
    return g;
}

/* ---- conv ---- */

static void test_conv_basic(void) {
    Onnx__ModelProto *m = mk_model(11);
    mk_input(m, "x", F, "1,3,8,8");
    mk_init_f32(m, "w", "4,3,3,3", NULL);
    mk_init_f32(m, "b", "4", NULL);
    Onnx__NodeProto *n = mk_node(m, "Conv", "conv1", "x,w,b", "y");
    mk_attr_ints(n, "pads", "1,1,1,1");
    mk_output(m, "y", "1,4,8,8");
    IrGraph *g = must_load(m, 0);
    if (!g)
        return;
    fe_expect_shape(g, "y", "1,4,8,8");
    IrLayer *l = fe_layer(g, "y");
    CU_ASSERT_EQUAL(l->op, IR_CONV);
    CU_ASSERT_STRING_EQUAL(l->name, "conv1");
    CU_ASSERT_EQUAL(l->n_in, 3);
    CU_ASSERT_EQUAL(l->a.conv.kernel[0], 3);
    CU_ASSERT_EQUAL(l->a.conv.stride[1], 1);
    CU_ASSERT_EQUAL(l->a.conv.dilation[0], 1);
    CU_ASSERT_EQUAL(l->a.conv.pad[3], 1);
    CU_ASSERT_EQUAL(l->a.conv.group, 1);
    IrTensor *w = fe_tensor(g, "w");
    CU_ASSERT_EQUAL(w->role, IR_T_CONST);
    CU_ASSERT_EQUAL(w->f32[5], 2.5f);
    CU_ASSERT_EQUAL(g->n_inputs, 1);
    CU_ASSERT_EQUAL(g->n_outputs, 1);
    CU_ASSERT_EQUAL(g->opset, 11);
    ir_graph_free(g);
}

/* Loads x [1,c,h,w] -> Conv(w [wdims]) with attributes set by fn. */
static IrGraph *conv_with(const char *xdims, const char *wdims, void (*fn)(Onnx__NodeProto *)) {
    Onnx__ModelProto *m = mk_model(13);
    mk_input(m, "x", F, xdims);
    mk_init_f32(m, "w", wdims, NULL);
    Onnx__NodeProto *n = mk_node(m, "Conv", "c", "x,w", "y");
    fn(n);
    mk_output(m, "y", NULL);
    return must_load(m, 0);
}

static void attrs_asym(Onnx__NodeProto *n) {
    mk_attr_ints(n, "pads", "0,1,2,3");
    mk_attr_ints(n, "strides", "2,1");
    mk_attr_ints(n, "dilations", "1,2");
    mk_attr_ints(n, "kernel_shape", "3,3");
}
static void attrs_same_upper(Onnx__NodeProto *n) {
    mk_attr_s(n, "auto_pad", "SAME_UPPER");
    mk_attr_ints(n, "strides", "2,2");
}
static void attrs_same_lower(Onnx__NodeProto *n) {
    mk_attr_s(n, "auto_pad", "SAME_LOWER");
    mk_attr_ints(n, "strides", "2,2");
}
static void attrs_valid(Onnx__NodeProto *n) { mk_attr_s(n, "auto_pad", "VALID"); }
static void attrs_depthwise(Onnx__NodeProto *n) {
    mk_attr_i(n, "group", 3);
    mk_attr_ints(n, "pads", "1,1,1,1");
}

static void attrs_grouped(Onnx__NodeProto *n) { mk_attr_i(n, "group", 2); }

static void test_conv_forms(void) {
    IrGraph *g = conv_with("1,3,9,9", "4,3,3,3", attrs_asym);
    if (g) {
        /* H: (9+0+2-3)/2+1 = 5; W: (9+1+3-5)/1+1 = 9 */
        fe_expect_shape(g, "y", "1,4,5,9");
        IrConvAttr *a = &fe_layer(g, "y")->a.conv;
        CU_ASSERT(a->pad[0] == 0 && a->pad[1] == 1 && a->pad[2] == 2 && a->pad[3] == 3);
        CU_ASSERT(a->stride[0] == 2 && a->dilation[1] == 2);
        ir_graph_free(g);
    }
    /* 8x8, k3, s2, SAME: out 4, total pad (4-1)*2+3-8 = 1 */
    if ((g = conv_with("1,3,8,8", "4,3,3,3", attrs_same_upper))) {
        fe_expect_shape(g, "y", "1,4,4,4");
        IrConvAttr *a = &fe_layer(g, "y")->a.conv;
        CU_ASSERT(a->pad[0] == 0 && a->pad[2] == 1 && a->pad[1] == 0 && a->pad[3] == 1);
        ir_graph_free(g);
    }
    if ((g = conv_with("1,3,8,8", "4,3,3,3", attrs_same_lower))) {
        fe_expect_shape(g, "y", "1,4,4,4");
        IrConvAttr *a = &fe_layer(g, "y")->a.conv;
        CU_ASSERT(a->pad[0] == 1 && a->pad[2] == 0);
        ir_graph_free(g);
    }
    if ((g = conv_with("1,3,8,8", "4,3,3,3", attrs_valid))) {
        fe_expect_shape(g, "y", "1,4,6,6");
        ir_graph_free(g);
    }
    /* grouped, not depthwise (pytorch-converted/test_Conv2d_groups) */
    if ((g = conv_with("1,4,8,8", "6,2,3,3", attrs_grouped))) {
        fe_expect_shape(g, "y", "1,6,6,6");
        CU_ASSERT_EQUAL(fe_layer(g, "y")->a.conv.group, 2);
        ir_graph_free(g);
    }
    if ((g = conv_with("1,3,8,8", "3,1,3,3", attrs_depthwise))) {
        fe_expect_shape(g, "y", "1,3,8,8");
        CU_ASSERT_EQUAL(fe_layer(g, "y")->a.conv.group, 3);
        ir_graph_free(g);
    }
}

static void test_conv_rejects(void) {
    /* a group that does not divide the channels (grouped forms are accepted:
     * test_conv_forms) */
    Onnx__ModelProto *m = mk_model(13);
    mk_input(m, "x", F, "1,4,8,8");
    mk_init_f32(m, "w", "4,2,3,3", NULL);
    mk_attr_i(mk_node(m, "Conv", "grouped", "x,w", "y"), "group", 3);
    mk_output(m, "y", NULL);
    fe_expect_error(m, "grouped", "group 3 does not divide");
    /* 1-D conv with a 2-D weight */
    m = mk_model(13);
    mk_input(m, "x", F, "1,3,8");
    mk_init_f32(m, "w", "4,3", NULL);
    mk_node(m, "Conv", "conv1d", "x,w", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "conv1d", "weight 'w' is [4x3]");
    /* 3-D conv */
    m = mk_model(13);
    mk_input(m, "x", F, "1,3,4,4,4");
    mk_init_f32(m, "w", "4,3,3,3,3", NULL);
    mk_node(m, "Conv", "conv3d", "x,w", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "conv3d", "only 1-D and 2-D convolution");
    /* channel mismatch names layer and shapes */
    m = mk_model(13);
    mk_input(m, "x", F, "1,3,8,8");
    mk_init_f32(m, "w", "4,5,3,3", NULL);
    mk_node(m, "Conv", "badc", "x,w", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "layer 'badc' (Conv)", "[4x5x3x3]");
    /* kernel larger than the input */
    m = mk_model(13);
    mk_input(m, "x", F, "1,3,2,2");
    mk_init_f32(m, "w", "4,3,3,3", NULL);
    mk_node(m, "Conv", "big", "x,w", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "layer 'big'", "does not fit");
}

/* ---- pooling ---- */

static IrGraph *pool(int64_t opset, const char *op, const char *xdims, const char *k, const char *s,
                     const char *pads, int ceil, int cip, const char *auto_pad) {
    Onnx__NodeProto *n;
    Onnx__ModelProto *m = unary(opset, op, xdims, &n);
    if (k)
        mk_attr_ints(n, "kernel_shape", k);
    if (s)
        mk_attr_ints(n, "strides", s);
    if (pads)
        mk_attr_ints(n, "pads", pads);
    if (ceil)
        mk_attr_i(n, "ceil_mode", 1);
    if (cip)
        mk_attr_i(n, "count_include_pad", 1);
    if (auto_pad)
        mk_attr_s(n, "auto_pad", auto_pad);
    return must_load(m, 0);
}

static void test_pool(void) {
    IrGraph *g = pool(10, "MaxPool", "1,2,4,4", "3,3", "2,2", NULL, 1, 0, NULL);
    if (g) { /* ONNX test_maxpool_2d_ceil: 4x4 k3 s2 ceil -> 2x2 */
        fe_expect_shape(g, "y", "1,2,2,2");
        CU_ASSERT_EQUAL(fe_layer(g, "y")->a.pool.ceil_mode, 1);
        ir_graph_free(g);
    }
    if ((g = pool(7, "MaxPool", "1,2,4,4", "3,3", "2,2", NULL, 0, 0, NULL))) {
        fe_expect_shape(g, "y", "1,2,1,1");
        ir_graph_free(g);
    }
    if ((g = pool(11, "AveragePool", "1,2,5,5", "3,3", NULL, "1,1,1,1", 0, 1, NULL))) {
        fe_expect_shape(g, "y", "1,2,5,5");
        IrPoolAttr *a = &fe_layer(g, "y")->a.pool;
        CU_ASSERT_EQUAL(fe_layer(g, "y")->op, IR_AVGPOOL);
        CU_ASSERT(a->count_include_pad == 1 && a->pad[0] == 1 && a->kernel[1] == 3);
        ir_graph_free(g);
    }
    if ((g = pool(7, "AveragePool", "1,2,5,5", "2,2", "2,2", NULL, 0, 0, "SAME_UPPER"))) {
        fe_expect_shape(g, "y", "1,2,3,3");
        ir_graph_free(g);
    }
    if ((g = pool(12, "GlobalAveragePool", "2,3,7,7", NULL, NULL, NULL, 0, 0, NULL))) {
        fe_expect_shape(g, "y", "2,3,1,1");
        CU_ASSERT_EQUAL(fe_layer(g, "y")->op, IR_GLOBAL_AVGPOOL);
        ir_graph_free(g);
    }
    if ((g = pool(12, "GlobalMaxPool", "2,3,7,7", NULL, NULL, NULL, 0, 0, NULL))) {
        fe_expect_shape(g, "y", "2,3,1,1");
        CU_ASSERT_EQUAL(fe_layer(g, "y")->op, IR_GLOBAL_MAXPOOL);
        ir_graph_free(g);
    }
    /* MaxPool's Indices: fine when unused, rejected when used */
    Onnx__ModelProto *m = mk_model(12);
    mk_input(m, "x", F, "1,2,4,4");
    mk_attr_ints(mk_node(m, "MaxPool", "mp", "x", "y,idx"), "kernel_shape", "2,2");
    mk_output(m, "y", NULL);
    if ((g = must_load(m, 0)))
        ir_graph_free(g);
    m = mk_model(12);
    mk_input(m, "x", F, "1,2,4,4");
    mk_attr_ints(mk_node(m, "MaxPool", "mp", "x", "y,idx"), "kernel_shape", "2,2");
    mk_output(m, "y", NULL);
    mk_output(m, "idx", NULL);
    fe_expect_error(m, "'mp'", "output 1 ('idx') is used");
    /* kernel_shape required */
    m = mk_model(12);
    mk_input(m, "x", F, "1,2,4,4");
    mk_node(m, "MaxPool", "nok", "x", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "'nok'", "kernel_shape is required");
}

/* ---- Gemm / MatMul / Flatten ---- */

static void test_gemm(void) {
    Onnx__ModelProto *m = mk_model(11);
    mk_input(m, "a", F, "4,3");
    mk_init_f32(m, "b", "5,4", NULL);
    mk_init_f32(m, "c", "1,5", NULL);
    Onnx__NodeProto *n = mk_node(m, "Gemm", "g", "a,b,c", "y");
    mk_attr_i(n, "transA", 1);
    mk_attr_i(n, "transB", 1);
    mk_attr_f(n, "alpha", 0.25f);
    mk_attr_f(n, "beta", 0.35f);
    mk_output(m, "y", "3,5");
    IrGraph *g = must_load(m, 0);
    if (g) {
        fe_expect_shape(g, "y", "3,5");
        IrGemmAttr *a = &fe_layer(g, "y")->a.gemm;
        CU_ASSERT(a->trans_a == 1 && a->trans_b == 1 && a->alpha == 0.25f && a->beta == 0.35f);
        ir_graph_free(g);
    }
    /* bias [N] broadcast, default attributes, no C (opset 11+) */
    m = mk_model(13);
    mk_input(m, "a", F, "2,3");
    mk_init_f32(m, "b", "3,6", NULL);
    mk_init_f32(m, "c", "6", NULL);
    mk_node(m, "Gemm", "g", "a,b,c", "y");
    mk_node(m, "Gemm", "g2", "y,bt", "z");
    mk_init_f32(m, "bt", "6,2", NULL);
    mk_output(m, "z", NULL);
    if ((g = must_load(m, 0))) {
        fe_expect_shape(g, "y", "2,6");
        fe_expect_shape(g, "z", "2,2");
        CU_ASSERT_EQUAL(fe_layer(g, "z")->n_in, 2);
        CU_ASSERT_EQUAL(fe_layer(g, "y")->a.gemm.alpha, 1.0f);
        ir_graph_free(g);
    }
    /* K mismatch and bad bias */
    m = mk_model(13);
    mk_input(m, "a", F, "2,3");
    mk_init_f32(m, "b", "4,6", NULL);
    mk_node(m, "Gemm", "gk", "a,b", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "layer 'gk' (Gemm)", "inner dimensions differ");
    m = mk_model(13);
    mk_input(m, "a", F, "2,3");
    mk_init_f32(m, "b", "3,6", NULL);
    mk_init_f32(m, "c", "4", NULL);
    mk_node(m, "Gemm", "gb", "a,b,c", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "layer 'gb'", "does not broadcast");
}

static void test_matmul_flatten(void) {
    Onnx__ModelProto *m = mk_model(13);
    mk_input(m, "x", F, "2,3,4,5");
    Onnx__NodeProto *n = mk_node(m, "Flatten", "f", "x", "f1");
    mk_attr_i(n, "axis", 2);
    mk_node(m, "Flatten", "f0", "x", "f2"); /* default axis 1 */
    mk_attr_i(mk_node(m, "Flatten", "fneg", "x", "f3"), "axis", -1);
    mk_attr_i(mk_node(m, "Flatten", "fz", "x", "f4"), "axis", 0);
    mk_init_f32(m, "w", "60,7", NULL);
    mk_node(m, "MatMul", "mm", "f2,w", "y");
    mk_output(m, "y", "2,7");
    mk_output(m, "f1", NULL);
    mk_output(m, "f3", NULL);
    mk_output(m, "f4", NULL);
    IrGraph *g = must_load(m, 0);
    if (g) {
        fe_expect_shape(g, "f1", "6,20");
        fe_expect_shape(g, "f2", "2,60");
        fe_expect_shape(g, "f3", "24,5");
        fe_expect_shape(g, "f4", "1,120");
        CU_ASSERT_EQUAL(fe_layer(g, "f3")->a.axis, 3);
        CU_ASSERT_EQUAL(fe_layer(g, "y")->op, IR_MATMUL);
        ir_graph_free(g);
    }
    m = mk_model(13);
    mk_input(m, "x", F, "2,3,4");
    mk_init_f32(m, "w", "4,7", NULL);
    mk_node(m, "MatMul", "mm3", "x,w", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "layer 'mm3' (MatMul)", "only 2-D");
}

/* ---- Reshape and shape arithmetic ---- */

static void test_reshape(void) {
    Onnx__ModelProto *m = mk_model(13);
    mk_input(m, "x", F, "2,3,4");
    mk_init_i64(m, "s", "3", (int64_t[]){0, -1, 2});
    mk_node(m, "Reshape", "r", "x,s", "y");
    mk_output(m, "y", NULL);
    IrGraph *g = must_load(m, 0);
    if (g) {
        fe_expect_shape(g, "y", "2,6,2");
        ir_graph_free(g);
    }
    /* the shape as a graph input is not constant */
    m = mk_model(13);
    mk_input(m, "x", F, "2,3,4");
    mk_input(m, "s", I64, "2");
    mk_node(m, "Reshape", "rin", "x,s", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "graph input 's'", "only float32");
    m = mk_model(13);
    mk_input(m, "x", F, "2,3,4");
    mk_init_i64(m, "s", "2", (int64_t[]){5, -1});
    mk_node(m, "Reshape", "rbad", "x,s", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "layer 'rbad' (Reshape)", "cannot infer -1");
    m = mk_model(13);
    mk_input(m, "x", F, "2,3,4");
    mk_init_f32(m, "s", "2", NULL);
    mk_node(m, "Reshape", "rf", "x,s", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "'rf'", "constant int64");
}

/* x.view(x.size(0), -1) as PyTorch exports it, in both Unsqueeze forms. */
static Onnx__ModelProto *torch_flatten(int64_t opset) {
    Onnx__ModelProto *m = mk_model(opset);
    mk_input(m, "x", F, "3,2,5");
    mk_node(m, "Shape", "sh", "x", "s");
    Onnx__NodeProto *c = mk_node(m, "Constant", "c0", NULL, "zero");
    mk_attr_t(c, "value", mk_tensor_i64("", "", (int64_t[]){0}));
    mk_node(m, "Gather", "ga", "s,zero", "n");
    if (opset < 13) {
        mk_attr_ints(mk_node(m, "Unsqueeze", "un", "n", "n1"), "axes", "0");
    } else {
        mk_init_i64(m, "ax", "1", (int64_t[]){0});
        mk_node(m, "Unsqueeze", "un", "n,ax", "n1");
    }
    c = mk_node(m, "Constant", "c1", NULL, "m1");
    mk_attr_ints(c, "value_ints", "-1");
    mk_attr_i(mk_node(m, "Concat", "cat", "n1,m1", "shape"), "axis", 0);
    mk_attr_i(mk_node(m, "Cast", "cast", "shape", "shape64"), "to", I64);
    mk_node(m, "Reshape", "r", "x,shape64", "y");
    mk_output(m, "y", "3,10");
    return m;
}

static void test_shape_folding(void) {
    for (int64_t opset = 11; opset <= 13; opset += 2) {
        IrGraph *g = must_load(torch_flatten(opset), 0);
        if (!g)
            continue;
        fe_expect_shape(g, "y", "3,10");
        IrTensor *s = fe_tensor(g, "shape64");
        CU_ASSERT_EQUAL(s->role, IR_T_CONST);
        CU_ASSERT(s->dtype == IR_I64 && s->i64 && s->i64[0] == 3 && s->i64[1] == -1);
        IrTensor *n = fe_tensor(g, "n");
        CU_ASSERT(n->rank == 0 && n->i64 && n->i64[0] == 3);
        int live = 0;
        for (int i = 0; i < g->n_l; i++)
            live += !g->l[i].dead;
        CU_ASSERT_EQUAL(live, 1); /* only the Reshape */
        /* idempotent */
        IrDiag d = {0};
        CU_ASSERT_EQUAL(ir_infer_shapes(g, &d), 0);
        CU_ASSERT_EQUAL(ir_infer_shapes(g, &d), 0);
        CU_ASSERT_EQUAL(d.n, 0);
        fe_expect_shape(g, "y", "3,10");
        ir_diag_free(&d);
        ir_graph_free(g);
    }
    /* Shape with start/end (opset 15) */
    Onnx__NodeProto *n;
    Onnx__ModelProto *m = mk_model(15);
    mk_input(m, "x", F, "2,3,4,5");
    n = mk_node(m, "Shape", "sh", "x", "s");
    mk_attr_i(n, "start", 1);
    mk_attr_i(n, "end", -1);
    mk_init_f32(m, "one", "1", NULL);
    mk_node(m, "Add", "a", "x,one", "y");
    mk_output(m, "y", NULL);
    mk_output(m, "s", NULL);
    IrGraph *g = must_load(m, 0);
    if (g) {
        IrTensor *s = fe_tensor(g, "s");
        fe_expect_shape(g, "s", "2");
        CU_ASSERT(s->i64 && s->i64[0] == 3 && s->i64[1] == 4);
        ir_graph_free(g);
    }
    /* x.view(-1, C*H*W): int64 Mul of gathered dims */
    m = mk_model(13);
    mk_input(m, "x", F, "2,3,4,5");
    mk_node(m, "Shape", "sh", "x", "s");
    mk_init_i64(m, "i1", "", (int64_t[]){1});
    mk_init_i64(m, "i2", "1", (int64_t[]){2});
    mk_init_i64(m, "i3", "1", (int64_t[]){3});
    mk_node(m, "Gather", "g1", "s,i1", "c");
    mk_node(m, "Gather", "g2", "s,i2", "h");
    mk_node(m, "Gather", "g3", "s,i3", "w");
    mk_node(m, "Mul", "m1", "c,h", "ch");   /* [] x [1] -> [1] */
    mk_node(m, "Mul", "m2", "ch,w", "chw");
    mk_init_i64(m, "neg", "1", (int64_t[]){-1});
    mk_attr_i(mk_node(m, "Concat", "cat", "neg,chw", "shape"), "axis", 0);
    mk_node(m, "Reshape", "r", "x,shape", "y");
    mk_output(m, "y", "2,60");
    if ((g = must_load(m, 0))) {
        IrTensor *chw = fe_tensor(g, "chw");
        CU_ASSERT(chw->role == IR_T_CONST && chw->i64 && chw->i64[0] == 60);
        fe_expect_shape(g, "chw", "1");
        ir_graph_free(g);
    }
    m = mk_model(13);
    mk_input(m, "x", F, "2,3");
    mk_node(m, "Shape", "sh", "x", "s");
    mk_node(m, "Add", "addmix", "x,s", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "layer 'addmix' (Add)", "must both be compile-time constants");
    /* Gather on run-time data */
    m = mk_model(13);
    mk_input(m, "x", F, "4,3");
    mk_init_i64(m, "i", "1", (int64_t[]){2});
    mk_node(m, "Gather", "gx", "x,i", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "'gx'", "run-time data");
}

static void test_squeeze(void) {
    /* opset 11: axes attributes; opset 13: axes inputs */
    for (int64_t opset = 11; opset <= 13; opset += 2) {
        Onnx__ModelProto *m = mk_model(opset);
        mk_input(m, "x", F, "2,1,3");
        if (opset < 13) {
            mk_attr_ints(mk_node(m, "Unsqueeze", "u", "x", "u1"), "axes", "0,-1");
            mk_attr_ints(mk_node(m, "Squeeze", "s", "x", "s1"), "axes", "1");
        } else {
            mk_init_i64(m, "ua", "2", (int64_t[]){0, -1});
            mk_init_i64(m, "sa", "1", (int64_t[]){-2});
            mk_node(m, "Unsqueeze", "u", "x,ua", "u1");
            mk_node(m, "Squeeze", "s", "x,sa", "s1");
        }
        mk_node(m, "Squeeze", "s_all", "u1", "s2");
        mk_output(m, "u1", NULL);
        mk_output(m, "s1", NULL);
        mk_output(m, "s2", NULL);
        IrGraph *g = must_load(m, 0);
        if (!g)
            continue;
        fe_expect_shape(g, "u1", "1,2,1,3,1");
        fe_expect_shape(g, "s1", "2,3");
        fe_expect_shape(g, "s2", "2,3");
        /* on run-time data both become a Reshape to the inferred shape */
        IrLayer *u = fe_layer(g, "u1");
        CU_ASSERT(u && u->op == IR_RESHAPE && u->n_in == 1 && u->a.axes.v[1] == 4);
        CU_ASSERT_EQUAL(fe_layer(g, "s2")->op, IR_RESHAPE);
        ir_graph_free(g);
    }
    Onnx__ModelProto *m = mk_model(13);
    mk_input(m, "x", F, "2,1,3");
    mk_init_i64(m, "sa", "1", (int64_t[]){0});
    mk_node(m, "Squeeze", "sq", "x,sa", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "layer 'sq' (Squeeze)", "cannot squeeze axis 0 of size 2");
}

/* ---- element-wise, BN, LRN, Softmax ---- */

static void test_broadcast(void) {
    Onnx__ModelProto *m = mk_model(13);
    mk_input(m, "x", F, "2,3,4,5");
    mk_init_f32(m, "b", "3,1,1", NULL);
    mk_init_f32(m, "s", "5", NULL);
    mk_node(m, "Add", "add", "x,b", "y");
    mk_node(m, "Mul", "mul", "s,y", "z");
    mk_output(m, "z", NULL);
    IrGraph *g = must_load(m, 0);
    if (g) {
        fe_expect_shape(g, "y", "2,3,4,5");
        fe_expect_shape(g, "z", "2,3,4,5");
        CU_ASSERT_EQUAL(fe_layer(g, "z")->op, IR_MUL);
        ir_graph_free(g);
    }
    m = mk_model(13);
    mk_input(m, "x", F, "2,3,4,5");
    mk_init_f32(m, "b", "4,1", NULL);
    mk_init_f32(m, "b2", "3", NULL);
    mk_node(m, "Add", "ok", "x,b", "y");
    mk_node(m, "Add", "addbad", "y,b2", "z");
    mk_output(m, "z", NULL);
    fe_expect_error(m, "layer 'addbad' (Add)", "[2x3x4x5] and 'b2' [3]");
}

static IrGraph *bn_model(int64_t opset, const char *pdims, void (*fn)(Onnx__NodeProto *), int use_mean) {
    Onnx__ModelProto *m = mk_model(opset);
    mk_input(m, "x", F, "1,3,4,4");
    const char *p[] = {"s", "bias", "mean", "var"};
    for (int i = 0; i < 4; i++)
        mk_init_f32(m, p[i], pdims, NULL);
    Onnx__NodeProto *n = mk_node(m, "BatchNormalization", "bn", "x,s,bias,mean,var",
                                 use_mean ? "y,rm" : "y");
    if (fn)
        fn(n);
    mk_output(m, "y", "1,3,4,4");
    if (use_mean)
        mk_output(m, "rm", NULL);
    IrDiag d = {0};
    IrGraph *g = fe_load(m, 0, &d);
    ir_diag_free(&d);
    return g;
}
static void bn_eps(Onnx__NodeProto *n) {
    mk_attr_f(n, "epsilon", 1e-3f);
    mk_attr_i(n, "spatial", 1);
}
static void bn_spatial0(Onnx__NodeProto *n) { mk_attr_i(n, "spatial", 0); }
static void bn_training(Onnx__NodeProto *n) { mk_attr_i(n, "training_mode", 1); }

static void test_batchnorm(void) {
    IrGraph *g = bn_model(7, "3", bn_eps, 0);
    CU_ASSERT_PTR_NOT_NULL(g);
    if (g) {
        IrLayer *l = fe_layer(g, "y");
        CU_ASSERT(l->op == IR_BATCHNORM && l->a.bn.eps == 1e-3f && l->n_in == 5);
        ir_graph_free(g);
    }
    g = bn_model(15, "3", NULL, 0);
    CU_ASSERT(g && fe_layer(g, "y")->a.bn.eps == 1e-5f);
    ir_graph_free(g);
    CU_ASSERT_PTR_NULL(bn_model(7, "3", bn_spatial0, 0));
    g = bn_model(15, "3", bn_training, 1); /* batch statistics; running mean out */
    CU_ASSERT(g && fe_layer(g, "y")->a.bn.training && fe_layer(g, "y")->n_out == 2);
    if (g) {
        int rm = ir_find_tensor(g, "rm");
        CU_ASSERT(rm >= 0 && g->t[rm].rank == 1 && g->t[rm].dims[0] == 3);
    }
    ir_graph_free(g);
    CU_ASSERT_PTR_NULL(bn_model(9, "3", NULL, 1));  /* running mean used in inference form */
    CU_ASSERT_PTR_NULL(bn_model(9, "4", NULL, 0));  /* wrong parameter size */
    Onnx__ModelProto *m = mk_model(9);
    mk_input(m, "x", F, "1,3,4,4");
    mk_init_f32(m, "s", "4", NULL);
    mk_node(m, "BatchNormalization", "bnx", "x,s,s,s,s", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "layer 'bnx' (BatchNormalization)", "parameter 's' [4] must be [3]");
    m = mk_model(7);
    mk_input(m, "x", F, "1,3,4,4");
    mk_init_f32(m, "s", "3", NULL);
    mk_attr_i(mk_node(m, "BatchNormalization", "bn0", "x,s,s,s,s", "y"), "spatial", 0);
    mk_output(m, "y", NULL);
    fe_expect_error(m, "'bn0'", "spatial=0");
}

static void test_softmax(void) {
    Onnx__NodeProto *n;
    IrGraph *g = must_load(unary(11, "Softmax", "2,3,4", &n), 0);
    if (g) { /* default axis 1, flattened to 2-D */
        IrLayer *l = fe_layer(g, "y");
        CU_ASSERT(l->a.softmax.axis == 1 && l->a.softmax.coerce_2d == 1);
        fe_expect_shape(g, "y", "2,3,4");
        ir_graph_free(g);
    }
    if ((g = must_load(unary(13, "Softmax", "2,3,4", &n), 0))) { /* default -1, per axis */
        IrLayer *l = fe_layer(g, "y");
        CU_ASSERT(l->a.softmax.axis == 2 && l->a.softmax.coerce_2d == 0);
        ir_graph_free(g);
    }
    Onnx__ModelProto *m = unary(13, "Softmax", "2,3,4", &n);
    mk_attr_i(n, "axis", -2);
    if ((g = must_load(m, 0))) {
        CU_ASSERT_EQUAL(fe_layer(g, "y")->a.softmax.axis, 1);
        ir_graph_free(g);
    }
    m = unary(13, "Softmax", "2,3,4", &n);
    mk_attr_i(n, "axis", 3);
    fe_expect_error(m, "layer 'n0' (Softmax)", "axis 3 out of range");
}

static void test_activations(void) {
    Onnx__NodeProto *n;
    IrGraph *g;
    Onnx__ModelProto *m = unary(7, "LeakyRelu", "1,4", &n);
    mk_attr_f(n, "alpha", 0.2f);
    if ((g = must_load(m, 0))) {
        IrLayer *l = fe_layer(g, "y");
        CU_ASSERT(l->op == IR_LEAKY_RELU && l->act.kind == IR_ACT_LEAKY_RELU && l->act.alpha == 0.2f);
        ir_graph_free(g);
    }
    if ((g = must_load(unary(7, "LeakyRelu", "1,4", &n), 0))) {
        CU_ASSERT_EQUAL(fe_layer(g, "y")->act.alpha, 0.01f);
        ir_graph_free(g);
    }
    if ((g = must_load(unary(13, "Relu", "1,4", &n), 0))) {
        CU_ASSERT(fe_layer(g, "y")->op == IR_RELU && fe_layer(g, "y")->act.kind == IR_ACT_RELU);
        ir_graph_free(g);
    }
    if ((g = must_load(unary(13, "Sigmoid", "1,4", &n), 0))) {
        CU_ASSERT_EQUAL(fe_layer(g, "y")->op, IR_SIGMOID);
        ir_graph_free(g);
    }
    if ((g = must_load(unary(13, "Identity", "1,4", &n), 0))) {
        CU_ASSERT_EQUAL(fe_layer(g, "y")->op, IR_IDENTITY);
        ir_graph_free(g);
    }
    /* Clip before 11: attributes (Relu6 = Clip 0..6) */
    m = unary(7, "Clip", "1,4", &n);
    mk_attr_f(n, "min", 0.0f);
    mk_attr_f(n, "max", 6.0f);
    if ((g = must_load(m, 0))) {
        IrLayer *l = fe_layer(g, "y");
        CU_ASSERT(l->op == IR_CLIP && l->act.kind == IR_ACT_CLIP && l->act.lo == 0.0f && l->act.hi == 6.0f);
        ir_graph_free(g);
    }
    /* Clip 11+: inputs (an initializer and a Constant node); max absent */
    m = mk_model(12);
    mk_input(m, "x", F, "1,4");
    mk_init_f32(m, "lo", "", (float[]){0.0f});
    mk_attr_f(mk_node(m, "Constant", "k", NULL, "hi"), "value_float", 6.0f);
    mk_node(m, "Clip", "c6", "x,lo,hi", "y");
    mk_node(m, "Clip", "c0", "x,lo", "z");
    mk_output(m, "y", NULL);
    mk_output(m, "z", NULL);
    if ((g = must_load(m, 0))) {
        IrLayer *l = fe_layer(g, "y");
        CU_ASSERT(l->act.lo == 0.0f && l->act.hi == 6.0f && l->n_in == 1);
        CU_ASSERT(isinf(fe_layer(g, "z")->act.hi));
        ir_graph_free(g);
    }
    m = mk_model(12);
    mk_input(m, "x", F, "1,4");
    mk_input(m, "lo", F, "");
    mk_node(m, "Clip", "cin", "x,lo", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "'cin'", "compile-time constant float scalar");
    /* LRN */
    m = unary(13, "LRN", "1,8,4,4", &n);
    mk_attr_i(n, "size", 5);
    mk_attr_f(n, "alpha", 2e-4f);
    if ((g = must_load(m, 0))) {
        IrLrnAttr *a = &fe_layer(g, "y")->a.lrn;
        CU_ASSERT(a->size == 5 && a->alpha == 2e-4f && a->beta == 0.75f && a->bias == 1.0f);
        ir_graph_free(g);
    }
}

static void test_transpose_tanh(void) {
    Onnx__ModelProto *m = mk_model(11);
    mk_input(m, "x", F, "2,3,4");
    mk_attr_ints(mk_node(m, "Transpose", "tp", "x", "t1"), "perm", "0,2,1");
    mk_node(m, "Transpose", "tdef", "x", "t2");
    mk_node(m, "Tanh", "th", "t2", "t3");
    /* a constant transposed at compile time: [[0,.5,1],[1.5,2,2.5]]^T */
    mk_init_f32(m, "w", "2,3", NULL);
    mk_node(m, "Transpose", "tw", "w", "wt");
    mk_output(m, "t1", NULL);
    mk_output(m, "t3", NULL);
    mk_output(m, "wt", NULL);
    IrGraph *g = must_load(m, 0);
    if (!g)
        return;
    fe_expect_shape(g, "t1", "2,4,3");
    fe_expect_shape(g, "t2", "4,3,2");
    IrLayer *l = fe_layer(g, "t2");
    CU_ASSERT(l->op == IR_TRANSPOSE && l->a.perm.n == 3 && l->a.perm.v[0] == 2);
    CU_ASSERT(fe_layer(g, "t3")->op == IR_TANH && fe_layer(g, "t3")->act.kind == IR_ACT_TANH);
    IrTensor *wt = fe_tensor(g, "wt");
    fe_expect_shape(g, "wt", "3,2");
    CU_ASSERT(wt->role == IR_T_CONST && wt->f32);
    if (wt->f32)
        CU_ASSERT(wt->f32[0] == 0.0f && wt->f32[1] == 1.5f && wt->f32[2] == 0.5f && wt->f32[5] == 2.5f);
    ir_graph_free(g);
    m = mk_model(11);
    mk_input(m, "x", F, "2,3,4");
    mk_attr_ints(mk_node(m, "Transpose", "tbad", "x", "y"), "perm", "0,0,1");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "layer 'tbad' (Transpose)", "not a permutation");
}

static void test_dropout(void) {
    Onnx__NodeProto *n;
    IrGraph *g;
    Onnx__ModelProto *m = unary(7, "Dropout", "1,4", &n);
    mk_attr_f(n, "ratio", 0.3f);
    if ((g = must_load(m, 0))) {
        CU_ASSERT_EQUAL(fe_layer(g, "y")->op, IR_DROPOUT);
        ir_graph_free(g);
    }
    m = mk_model(13);
    mk_input(m, "x", F, "1,4");
    mk_init_f32(m, "r", "", (float[]){0.5f});
    mk_node(m, "Dropout", "d", "x,r", "y,mask");
    mk_output(m, "y", NULL);
    if ((g = must_load(m, 0))) {
        CU_ASSERT_EQUAL(fe_layer(g, "y")->n_in, 1);
        ir_graph_free(g);
    }
    /* training_mode as a BOOL constant false (PyTorch's TRAINING=PRESERVE export) */
    for (int v = 0; v < 2; v++) {
        m = mk_model(13);
        mk_input(m, "x", F, "1,4");
        mk_init_f32(m, "r", "", (float[]){0.5f});
        Onnx__TensorProto *t = mk_init_i64(m, "tm", "", (int64_t[]){0});
        t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__BOOL;
        t->raw_data.len = 1;
        t->raw_data.data[0] = (uint8_t)v;
        mk_node(m, "Dropout", "db", "x,r,tm", "y");
        mk_output(m, "y", NULL);
        if (v) {
            fe_expect_error(m, "'db'", "training_mode input 'tm' must be a constant false");
        } else if ((g = must_load(m, 0))) {
            CU_ASSERT(fe_tensor(g, "tm")->dtype == IR_I64 && fe_tensor(g, "tm")->i64[0] == 0);
            ir_graph_free(g);
        }
    }
    m = mk_model(13);
    mk_input(m, "x", F, "1,4");
    mk_node(m, "Dropout", "dm", "x", "y,mask");
    mk_output(m, "y", NULL);
    mk_output(m, "mask", NULL);
    fe_expect_error(m, "'dm'", "('mask') is used");
    m = mk_model(13);
    mk_input(m, "x", F, "1,4");
    mk_init_f32(m, "r", "", (float[]){0.5f});
    mk_init_i64(m, "tm", "", (int64_t[]){1});
    mk_node(m, "Dropout", "dt", "x,r,tm", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "'dt'", "training_mode");
}

static void test_pad(void) {
    /* opset 7: pads/value attributes */
    Onnx__NodeProto *n;
    Onnx__ModelProto *m = unary(7, "Pad", "1,2,3,3", &n);
    mk_attr_ints(n, "pads", "0,0,1,2,0,0,3,4");
    mk_attr_f(n, "value", 1.5f);
    IrGraph *g = must_load(m, 0);
    if (g) {
        fe_expect_shape(g, "y", "1,2,7,9");
        IrPadAttr *a = &fe_layer(g, "y")->a.pad;
        CU_ASSERT(a->value == 1.5f && a->pads[2] == 1 && a->pads[7] == 4);
        ir_graph_free(g);
    }
    /* opset 11+: pads and constant_value inputs */
    m = mk_model(13);
    mk_input(m, "x", F, "1,2,3,3");
    mk_init_i64(m, "p", "8", (int64_t[]){0, 0, 1, 1, 0, 0, 1, 1});
    mk_init_f32(m, "v", "", (float[]){-1.0f});
    mk_node(m, "Pad", "pd", "x,p,v", "y");
    mk_output(m, "y", NULL);
    if ((g = must_load(m, 0))) {
        fe_expect_shape(g, "y", "1,2,5,5");
        CU_ASSERT_EQUAL(fe_layer(g, "y")->a.pad.value, -1.0f);
        CU_ASSERT_EQUAL(fe_layer(g, "y")->n_in, 1);
        ir_graph_free(g);
    }
    m = unary(7, "Pad", "1,2,3,3", &n);
    mk_attr_ints(n, "pads", "0,0,1,1,0,0,1,1");
    mk_attr_s(n, "mode", "reflect");
    if ((g = must_load(m, 0))) {
        CU_ASSERT_EQUAL(fe_layer(g, "y")->a.pad.mode, IR_PAD_REFLECT);
        ir_graph_free(g);
    }
    m = unary(7, "Pad", "1,2,3,3", &n);
    mk_attr_ints(n, "pads", "0,0,3,0,0,0,0,0");
    mk_attr_s(n, "mode", "reflect");
    fe_expect_error(m, "'n0'", "reflect pads 3,0 of axis 2 must be smaller than its size 3");
    m = unary(7, "Pad", "1,2,3,3", &n);
    mk_attr_ints(n, "pads", "0,0,1,1,0,0,1,1");
    mk_attr_s(n, "mode", "wrap");
    fe_expect_error(m, "'n0'", "pad mode 'wrap' is not supported (constant, reflect or edge)");
    m = unary(7, "Pad", "1,2,3,3", &n);
    mk_attr_ints(n, "pads", "1,1");
    fe_expect_error(m, "'n0'", "pads has 2 values");
}

/* Add/Mul of opset 6 with broadcast=1 and axis: B lines up from A's axis. */
static void test_legacy_broadcast(void) {
    for (int rt = 0; rt < 2; rt++) { /* B a constant, then a graph input */
        Onnx__ModelProto *m = mk_model(6);
        mk_input(m, "x", F, "2,3,4,5");
        if (rt)
            mk_input(m, "b", F, "3,4");
        else
            mk_init_f32(m, "b", "3,4", NULL);
        Onnx__NodeProto *n = mk_node(m, "Add", "a6", "x,b", "y");
        mk_attr_i(n, "broadcast", 1);
        mk_attr_i(n, "axis", 1);
        mk_output(m, "y", NULL);
        IrGraph *g = must_load(m, 0);
        if (!g)
            continue;
        fe_expect_shape(g, "y", "2,3,4,5");
        const IrLayer *l = fe_layer(g, "y");
        CU_ASSERT(l->op == IR_ADD && l->n_in == 2);
        const IrTensor *b = &g->t[l->in[1]];
        CU_ASSERT(b->rank == 3 && b->dims[0] == 3 && b->dims[1] == 4 && b->dims[2] == 1); /* numpy: [1,3,4,1] */
        ir_graph_free(g);
    }
}

static void test_concat_cast(void) {
    Onnx__ModelProto *m = mk_model(13);
    mk_input(m, "a", F, "1,2,4,4");
    mk_input(m, "b", F, "1,3,4,4");
    mk_attr_i(mk_node(m, "Concat", "cat", "a,b,a", "y"), "axis", 1);
    mk_attr_i(mk_node(m, "Cast", "cf", "y", "z"), "to", F);
    mk_output(m, "z", NULL);
    IrGraph *g = must_load(m, 0);
    if (g) {
        fe_expect_shape(g, "y", "1,7,4,4");
        CU_ASSERT_EQUAL(fe_layer(g, "y")->n_in, 3);
        CU_ASSERT_EQUAL(fe_layer(g, "z")->op, IR_IDENTITY); /* float -> float copy */
        ir_graph_free(g);
    }
    m = mk_model(13);
    mk_input(m, "a", F, "1,2,4,4");
    mk_input(m, "b", F, "1,3,5,4");
    mk_attr_i(mk_node(m, "Concat", "catbad", "a,b", "y"), "axis", 1);
    mk_output(m, "y", NULL);
    fe_expect_error(m, "layer 'catbad' (Concat)", "outside axis 1");
    m = mk_model(13);
    mk_input(m, "a", F, "1,2");
    mk_attr_i(mk_node(m, "Cast", "c32", "a", "y"), "to", ONNX__TENSOR_PROTO__DATA_TYPE__INT32);
    mk_output(m, "y", NULL);
    fe_expect_error(m, "'c32'", "INT32 is not supported");
}

/* Every supported op in the form its opset uses (attributes before 11/13,
 * inputs after), in one network; loaded at every opset 7..17. */
static Onnx__ModelProto *every_op(int64_t opset) {
    Onnx__ModelProto *m = mk_model(opset);
    Onnx__NodeProto *n;
    mk_input(m, "x", F, "N,3,8,8");
    mk_init_f32(m, "w", "4,3,3,3", NULL);
    mk_init_f32(m, "b", "4", NULL);
    mk_attr_ints(mk_node(m, "Conv", "conv", "x,w,b", "c1"), "pads", "1,1,1,1");
    n = mk_node(m, "BatchNormalization", "bn", "c1,b,b,b,b", "bn1");
    if (opset < 9)
        mk_attr_i(n, "spatial", 1);
    mk_node(m, "Relu", "relu", "bn1", "r1");
    n = mk_node(m, "MaxPool", "mp", "r1", "p1");
    mk_attr_ints(n, "kernel_shape", "2,2");
    mk_attr_ints(n, "strides", "2,2");
    mk_attr_f(mk_node(m, "LeakyRelu", "lrelu", "p1", "l1"), "alpha", 0.1f);
    if (opset < 11) {
        n = mk_node(m, "Clip", "clip", "l1", "k1");
        mk_attr_f(n, "min", 0.0f);
        mk_attr_f(n, "max", 6.0f);
        n = mk_node(m, "Pad", "pad", "k1", "pd1");
        mk_attr_ints(n, "pads", "0,0,1,1,0,0,1,1");
    } else {
        mk_init_f32(m, "zero", "", (float[]){0.0f});
        mk_init_f32(m, "six", "", (float[]){6.0f});
        mk_node(m, "Clip", "clip", "l1,zero,six", "k1");
        mk_init_i64(m, "pads", "8", (int64_t[]){0, 0, 1, 1, 0, 0, 1, 1});
        mk_node(m, "Pad", "pad", "k1,pads,zero", "pd1");
    }
    n = mk_node(m, "AveragePool", "ap", "pd1", "a1"); /* 6x6 -> 4x4 */
    mk_attr_ints(n, "kernel_shape", "3,3");
    mk_node(m, "Sigmoid", "sig", "a1", "s1");
    mk_init_f32(m, "scale", "4,1,1", NULL);
    mk_node(m, "Mul", "mul", "s1,scale", "m1");
    mk_node(m, "Add", "add", "m1,b", "ad1"); /* b [4] broadcasts over W = 4 */
    if (opset < 12) {
        mk_attr_f(mk_node(m, "Dropout", "drop", "ad1", "d1"), "ratio", 0.2f);
    } else {
        mk_init_f32(m, "ratio", "", (float[]){0.2f});
        mk_node(m, "Dropout", "drop", "ad1,ratio", "d1");
    }
    mk_node(m, "Identity", "id", "d1", "i1");
    mk_attr_i(mk_node(m, "Concat", "cat", "i1,i1", "cc1"), "axis", 1); /* 8 channels */
    mk_attr_i(mk_node(m, "LRN", "lrn", "cc1", "lr1"), "size", 3);
    mk_node(m, "Tanh", "tanh", "lr1", "t1");
    mk_attr_ints(mk_node(m, "Transpose", "tr", "t1", "tr1"), "perm", "0,1,3,2");
    mk_node(m, "GlobalMaxPool", "gmp", "tr1", "gm1"); /* N,8,1,1 */
    mk_node(m, "GlobalAveragePool", "gap", "tr1", "ga1");
    mk_node(m, "Add", "add2", "gm1,ga1", "g1");
    /* Reshape to [N, 8] through Shape -> Gather -> Unsqueeze -> Concat -> Cast */
    mk_node(m, "Shape", "shape", "g1", "sh");
    mk_init_i64(m, "i0", "", (int64_t[]){0});
    mk_node(m, "Gather", "gather", "sh,i0", "nb");
    if (opset < 13) {
        mk_attr_ints(mk_node(m, "Unsqueeze", "unsq", "nb", "nb1"), "axes", "0");
    } else {
        mk_init_i64(m, "ax0", "1", (int64_t[]){0});
        mk_node(m, "Unsqueeze", "unsq", "nb,ax0", "nb1");
    }
    mk_attr_ints(mk_node(m, "Constant", "cst", NULL, "m1c"), "value_ints", "-1");
    mk_attr_i(mk_node(m, "Concat", "cat2", "nb1,m1c", "tshape"), "axis", 0);
    mk_attr_i(mk_node(m, "Cast", "cast", "tshape", "tshape64"), "to", ONNX__TENSOR_PROTO__DATA_TYPE__INT64);
    mk_node(m, "Reshape", "reshape", "g1,tshape64", "rs1");
    mk_init_f32(m, "fcw", "5,8", NULL);
    n = mk_node(m, "Gemm", "gemm", "rs1,fcw,b5", "fc1");
    mk_attr_i(n, "transB", 1);
    mk_init_f32(m, "b5", "5", NULL);
    /* Unsqueeze + Squeeze on run-time data, MatMul, Flatten, Softmax */
    if (opset < 13) {
        mk_attr_ints(mk_node(m, "Unsqueeze", "unsq2", "fc1", "u2"), "axes", "1");
        mk_attr_ints(mk_node(m, "Squeeze", "sq2", "u2", "q2"), "axes", "1");
    } else {
        mk_init_i64(m, "ax1", "1", (int64_t[]){1});
        mk_node(m, "Unsqueeze", "unsq2", "fc1,ax1", "u2");
        mk_node(m, "Squeeze", "sq2", "u2,ax1", "q2");
    }
    mk_init_f32(m, "mmw", "5,6", NULL);
    mk_node(m, "MatMul", "mm", "q2,mmw", "mm1");
    mk_node(m, "Flatten", "flat", "mm1", "f1");
    mk_node(m, "Softmax", "softmax", "f1", "y");
    mk_output(m, "y", "N,6");
    return m;
}

static void test_every_op_every_opset(void) {
    for (int64_t opset = 7; opset <= 17; opset++) {
        IrGraph *g = must_load(every_op(opset), 2);
        if (!g) {
            fprintf(stderr, "(opset %lld)\n", (long long)opset);
            continue;
        }
        fe_expect_shape(g, "c1", "2,4,8,8");
        fe_expect_shape(g, "pd1", "2,4,6,6");
        fe_expect_shape(g, "a1", "2,4,4,4");
        fe_expect_shape(g, "cc1", "2,8,4,4");
        fe_expect_shape(g, "g1", "2,8,1,1");
        fe_expect_shape(g, "rs1", "2,8");
        fe_expect_shape(g, "q2", "2,5");
        fe_expect_shape(g, "y", "2,6");
        CU_ASSERT_EQUAL(fe_layer(g, "k1")->act.hi, 6.0f);
        CU_ASSERT_EQUAL(fe_layer(g, "y")->a.softmax.coerce_2d, opset < 13);
        CU_ASSERT_EQUAL(fe_tensor(g, "tshape64")->role, IR_T_CONST);
        CU_ASSERT_PTR_NULL(fe_layer(g, "nb1")); /* folded */
        ir_graph_free(g);
    }
}

/* ---- constants and graph inputs ---- */

static void test_constants(void) {
    Onnx__ModelProto *m = mk_model(13);
    mk_input(m, "x", F, "2,3");
    mk_attr_t(mk_node(m, "Constant", "k1", NULL, "c1"), "value", mk_tensor_f32("", "2,3", NULL));
    mk_attr_floats(mk_node(m, "Constant", "k2", NULL, "c2"), "value_floats", 3,
                   (float[]){1.0f, 2.0f, 3.0f});
    mk_attr_i(mk_node(m, "Constant", "k3", NULL, "c3"), "value_int", 7);
    mk_node(m, "Add", "a1", "x,c1", "y1");
    mk_node(m, "Mul", "a2", "y1,c2", "y");
    /* typed int32 initializer becomes int64 */
    Onnx__TensorProto *t = mk_tensor_f32("i32", "2", NULL);
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT32;
    free(t->float_data);
    t->float_data = NULL;
    t->n_float_data = 0;
    t->int32_data = malloc(2 * sizeof(int32_t));
    t->int32_data[0] = -5;
    t->int32_data[1] = 9;
    t->n_int32_data = 2;
    m->graph->initializer = realloc(m->graph->initializer, (m->graph->n_initializer + 1) * sizeof t);
    m->graph->initializer[m->graph->n_initializer++] = t;
    mk_output(m, "y", "2,3");
    IrGraph *g = must_load(m, 0);
    if (!g)
        return;
    IrTensor *c1 = fe_tensor(g, "c1"), *c2 = fe_tensor(g, "c2"), *c3 = fe_tensor(g, "c3");
    CU_ASSERT(c1->role == IR_T_CONST && c1->f32 && c1->f32[4] == 2.0f);
    CU_ASSERT(c2->rank == 1 && c2->f32[2] == 3.0f);
    CU_ASSERT(c3->rank == 0 && c3->dtype == IR_I64 && c3->i64[0] == 7);
    IrTensor *i32 = fe_tensor(g, "i32");
    CU_ASSERT(i32->dtype == IR_I64 && i32->i64[0] == -5 && i32->i64[1] == 9);
    fe_expect_shape(g, "y", "2,3");
    ir_graph_free(g);
}

static void test_initializer_inputs(void) {
    /* IR v3 style: the weight is both an initializer and a graph input */
    Onnx__ModelProto *m = mk_model(9);
    mk_input(m, "x", F, "1,3,4,4");
    mk_input(m, "w", F, "2,3,1,1");
    mk_init_f32(m, "w", "2,3,1,1", NULL);
    mk_node(m, "Conv", "c", "x,w", "y");
    mk_output(m, "y", NULL);
    IrGraph *g = must_load(m, 0);
    if (g) {
        CU_ASSERT_EQUAL(g->n_inputs, 1);
        CU_ASSERT_STRING_EQUAL(g->t[g->inputs[0]].name, "x");
        CU_ASSERT_EQUAL(fe_tensor(g, "w")->role, IR_T_CONST);
        CU_ASSERT_FALSE(fe_tensor(g, "w")->is_graph_input);
        ir_graph_free(g);
    }
    /* node-test style: the weight is a run-time graph input */
    m = mk_model(11);
    mk_input(m, "x", F, "1,3,4,4");
    mk_input(m, "W", F, "2,3,3,3");
    mk_attr_ints(mk_node(m, "Conv", "c", "x,W", "y"), "pads", "1,1,1,1");
    mk_output(m, "y", "1,2,4,4");
    if ((g = must_load(m, 0))) {
        CU_ASSERT_EQUAL(g->n_inputs, 2);
        IrTensor *w = fe_tensor(g, "W");
        CU_ASSERT(w->role == IR_T_INPUT && w->is_graph_input && !w->f32);
        fe_expect_shape(g, "y", "1,2,4,4");
        ir_graph_free(g);
    }
}

static void test_batch(void) {
    Onnx__NodeProto *n;
    IrGraph *g = must_load(unary(13, "Relu", "N,3,4", &n), 4);
    if (g) {
        fe_expect_shape(g, "x", "4,3,4");
        fe_expect_shape(g, "y", "4,3,4");
        CU_ASSERT_STRING_EQUAL(fe_tensor(g, "x")->dim_param[0], "N");
        ir_graph_free(g);
    }
    /* a fixed batch is overridden too; the declared output batch is skipped */
    Onnx__ModelProto *m = unary(13, "Relu", "1,3,4", &n);
    if ((g = must_load(m, 2))) {
        fe_expect_shape(g, "y", "2,3,4");
        ir_graph_free(g);
    }
    m = mk_model(13);
    mk_input(m, "x", F, "1,3,4");
    mk_node(m, "Relu", "r", "x", "y");
    mk_output(m, "y", "1,3,4");
    if ((g = must_load(m, 5))) {
        fe_expect_shape(g, "y", "5,3,4");
        ir_graph_free(g);
    }
    /* symbolic dims without a value */
    fe_expect_error(unary(13, "Relu", "N,3,4", &n), "graph input 'x' dimension 0 ('N')", "batch");
    fe_expect_error(unary(13, "Relu", "1,C,4", &n), "graph input 'x' dimension 1 ('C') is symbolic", NULL);
}

static void test_external_data(void) {
    /* w = 6 floats at offset 8 of w.bin, b = 2 floats right after */
    float data[10] = {0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    mk_write_bytes(fe_path("w.bin"), data, sizeof data);
    for (int variant = 0; variant < 3; variant++) {
        Onnx__ModelProto *m = mk_model(13);
        mk_input(m, "x", F, "1,3");
        Onnx__TensorProto *t = mk_init_f32(m, "w", "2,3", NULL);
        free(t->raw_data.data);
        t->raw_data.data = NULL;
        t->raw_data.len = 0;
        t->has_raw_data = 0;
        t->has_data_location = 1;
        t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
        const char *kv[][2] = {{"location", variant == 1 ? "missing.bin" : "w.bin"},
                               {"offset", "8"},
                               {"length", variant == 2 ? "100" : "24"}};
        for (int i = 0; i < 3; i++) {
            Onnx__StringStringEntryProto *e = malloc(sizeof *e);
            onnx__string_string_entry_proto__init(e);
            e->key = ir_strdup(kv[i][0]);
            e->value = ir_strdup(kv[i][1]);
            t->external_data = realloc(t->external_data, (t->n_external_data + 1) * sizeof e);
            t->external_data[t->n_external_data++] = e;
        }
        mk_node(m, "Gemm", "g", "x,w", "y");
        mk_attr_i(m->graph->node[0], "transB", 1);
        mk_output(m, "y", "1,2");
        if (variant == 0) {
            IrGraph *g = must_load(m, 0);
            if (g) {
                IrTensor *w = fe_tensor(g, "w");
                CU_ASSERT(w->f32 && w->f32[0] == 1.0f && w->f32[5] == 6.0f);
                ir_graph_free(g);
            }
        } else if (variant == 1) {
            fe_expect_error(m, "tensor 'w'", "cannot open external data file");
        } else {
            fe_expect_error(m, "tensor 'w'", "length 100");
        }
    }
    /* a file too short for the tensor */
    mk_write_bytes(fe_path("w.bin"), data, 16);
    Onnx__ModelProto *m = mk_model(13);
    mk_input(m, "x", F, "1,3");
    Onnx__TensorProto *t = mk_init_f32(m, "w", "2,3", NULL);
    free(t->raw_data.data);
    t->raw_data.data = NULL;
    t->raw_data.len = 0;
    t->has_raw_data = 0;
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    Onnx__StringStringEntryProto *e = malloc(sizeof *e);
    onnx__string_string_entry_proto__init(e);
    e->key = ir_strdup("location");
    e->value = ir_strdup("w.bin");
    t->external_data = malloc(sizeof e);
    t->external_data[0] = e;
    t->n_external_data = 1;
    mk_node(m, "MatMul", "mm", "x,w", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "tensor 'w'", "too short");
}

static void test_unsupported_listed(void) {
    Onnx__ModelProto *m = mk_model(13);
    mk_input(m, "x", F, "1,3,4,4");
    mk_node(m, "Elu", "t1", "x", "a");
    mk_node(m, "Relu", "r", "a", "b");
    Onnx__NodeProto *n = mk_node(m, "MyOp", "custom", "b", "c");
    n->domain = ir_strdup("com.example");
    mk_node(m, "Resize", "", "c", "y");
    mk_output(m, "y", NULL);
    IrDiag d = {0};
    IrGraph *g = fe_load(m, 0, &d);
    CU_ASSERT_PTR_NULL(g);
    CU_ASSERT_EQUAL(d.n, 3);
    CU_ASSERT(fe_diag_has(&d, "unsupported node 0: op 'Elu' (domain 'ai.onnx'), name 't1'"));
    CU_ASSERT(fe_diag_has(&d, "unsupported node 2: op 'MyOp' (domain 'com.example'), name 'custom'"));
    CU_ASSERT(fe_diag_has(&d, "unsupported node 3: op 'Resize'"));
    ir_graph_free(g);
    ir_diag_free(&d);
}

int main(void) {
    fe_setup();
    static const TestCase tests[] = {
        {"conv basic", test_conv_basic},
        {"conv attribute forms", test_conv_forms},
        {"conv rejects", test_conv_rejects},
        {"pooling", test_pool},
        {"gemm", test_gemm},
        {"matmul and flatten", test_matmul_flatten},
        {"reshape", test_reshape},
        {"shape folding", test_shape_folding},
        {"squeeze/unsqueeze", test_squeeze},
        {"broadcast add/mul", test_broadcast},
        {"batchnorm", test_batchnorm},
        {"softmax", test_softmax},
        {"activations, clip, lrn", test_activations},
        {"transpose and tanh", test_transpose_tanh},
        {"dropout", test_dropout},
        {"pad", test_pad},
        {"concat and cast", test_concat_cast},
        {"opset-6 Add/Mul broadcast with axis", test_legacy_broadcast},
        {"every op at every opset 7..17", test_every_op_every_opset},
        {"constants", test_constants},
        {"initializer inputs and weights as inputs", test_initializer_inputs},
        {"batch option", test_batch},
        {"external data", test_external_data},
        {"every unsupported node listed", test_unsupported_listed},
        {NULL, NULL},
    };
    int rc = cunit_run("frontend", tests);
    fe_cleanup();
    return rc;
}
