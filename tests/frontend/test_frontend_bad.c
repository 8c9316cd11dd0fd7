/* Bad input to the frontend: every case must fail with one clear message
 * naming the problem, never crash or leak (run under ASan too). */
#include <stdlib.h>
#include <string.h>

#include "tests/common/cunit_run.h"
#include "tests/frontend/fe_util.h"

enum { F = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT };

/* Loads a file that is not a model we can read. */
static void expect_file_error(const char *path, const char *sub) {
    IrDiag d = {0};
    IrGraph *g = frontend_load_onnx(path, NULL, &d);
    CU_ASSERT_PTR_NULL(g);
    CU_ASSERT_EQUAL(d.n, 1);
    CU_ASSERT(fe_diag_has(&d, sub));
    CU_ASSERT(fe_diag_has(&d, path));
    if (!fe_diag_has(&d, sub))
        ir_diag_print(&d, stderr);
    ir_graph_free(g);
    ir_diag_free(&d);
}

static Onnx__ModelProto *small_model(void) {
    Onnx__ModelProto *m = mk_model(13);
    mk_input(m, "x", F, "1,3,8,8");
    mk_init_f32(m, "w", "4,3,3,3", NULL);
    mk_node(m, "Conv", "c", "x,w", "y");
    mk_node(m, "Relu", "r", "y", "z");
    mk_output(m, "z", NULL);
    return m;
}

static void test_missing_file(void) {
    expect_file_error(fe_path("does-not-exist.onnx"), "cannot open");
    CU_ASSERT_PTR_NULL(frontend_load_onnx(fe_path("does-not-exist.onnx"), NULL, NULL));
    CU_ASSERT_PTR_NULL(frontend_load_onnx(NULL, NULL, NULL));
    expect_file_error("/tmp", "not a regular file");
}

static void test_empty_file(void) {
    mk_write_bytes(fe_path("empty.onnx"), "", 0);
    expect_file_error(fe_path("empty.onnx"), "empty file");
}

static void test_random_bytes(void) {
    /* Several seeds: whatever protobuf-c makes of them, we must not crash. */
    for (unsigned seed = 1; seed <= 20; seed++) {
        unsigned char buf[4096];
        srand(seed);
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = (unsigned char)rand();
        mk_write_bytes(fe_path("rand.onnx"), buf, sizeof buf);
        IrDiag d = {0};
        IrGraph *g = frontend_load_onnx(fe_path("rand.onnx"), NULL, &d);
        CU_ASSERT_PTR_NULL(g);
        CU_ASSERT(d.n >= 1);
        ir_graph_free(g);
        ir_diag_free(&d);
    }
    unsigned char text[] = "this is not an onnx model at all\n";
    mk_write_bytes(fe_path("text.onnx"), text, sizeof text - 1);
    expect_file_error(fe_path("text.onnx"), "not a valid ONNX model");
}

static void test_truncated(void) {
    const char *full = fe_path("full.onnx");
    mk_write(small_model(), full);
    FILE *f = fopen(full, "rb");
    unsigned char buf[8192];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    CU_ASSERT(n > 100 && n < sizeof buf);
    /* Every prefix fails cleanly (most in the parser, some as an incomplete graph). */
    int parse_fail = 0;
    for (size_t cut = 1; cut < n; cut += 7) {
        mk_write_bytes(fe_path("cut.onnx"), buf, cut);
        IrDiag d = {0};
        IrGraph *g = frontend_load_onnx(fe_path("cut.onnx"), NULL, &d);
        CU_ASSERT_PTR_NULL(g);
        CU_ASSERT(d.n >= 1);
        parse_fail += fe_diag_has(&d, "truncated or corrupt");
        ir_graph_free(g);
        ir_diag_free(&d);
    }
    CU_ASSERT(parse_fail > 0);
    mk_write_bytes(fe_path("cut.onnx"), buf, n / 2);
    expect_file_error(fe_path("cut.onnx"), "truncated or corrupt");
}

/* Byte mutations of a valid model: loads or fails with a message, never
 * crashes (the ASan run checks memory). */
static void test_mutated(void) {
    mk_write(small_model(), fe_path("full.onnx"));
    FILE *f = fopen(fe_path("full.onnx"), "rb");
    unsigned char buf[8192], mut[8192];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    srand(7);
    int failed = 0;
    for (int round = 0; round < 300; round++) {
        memcpy(mut, buf, n);
        for (int k = 0; k < 1 + round % 4; k++)
            mut[(size_t)rand() % n] = (unsigned char)rand();
        mk_write_bytes(fe_path("mut.onnx"), mut, n);
        IrDiag d = {0};
        IrGraph *g = frontend_load_onnx(fe_path("mut.onnx"), NULL, &d);
        CU_ASSERT(g != NULL || d.n > 0);
        failed += !g;
        ir_graph_free(g);
        ir_diag_free(&d);
    }
    CU_ASSERT(failed > 0);
}

static void test_shape_mismatch(void) {
    Onnx__ModelProto *m = mk_model(13);
    mk_input(m, "x", F, "1,3,8,8");
    mk_init_f32(m, "w", "4,2,3,3", NULL);
    mk_node(m, "Conv", "conv_a", "x,w", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "layer 'conv_a' (Conv)", "input 'x' [1x3x8x8] has 3 channels");
    /* declared output shape disagrees with the computed one */
    m = mk_model(13);
    mk_input(m, "x", F, "1,3,8,8");
    mk_node(m, "Relu", "r", "x", "y");
    mk_output(m, "y", "1,3,8,9");
    fe_expect_error(m, "graph output 'y' is declared [1x3x8x9] but computes [1x3x8x8]", NULL);
}

static void test_missing_initializer(void) {
    Onnx__ModelProto *m = mk_model(13);
    mk_input(m, "x", F, "1,3,8,8");
    mk_node(m, "Conv", "conv_w", "x,weight_missing", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "node 0 'conv_w' (Conv)", "input 'weight_missing' is not defined");
    m = mk_model(13);
    mk_input(m, "x", F, "1,3");
    mk_node(m, "Relu", "r", "x", "y");
    mk_output(m, "nothing", NULL);
    fe_expect_error(m, "graph output 'nothing'", "not computed");
}

static void test_huge_shapes(void) {
    Onnx__ModelProto *m = mk_model(13);
    mk_input(m, "big", F, "1000000,1000000,1000000");
    mk_node(m, "Relu", "r", "big", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "tensor 'big' is too large", NULL);
    m = mk_model(13);
    mk_input(m, "big", F, "4611686018427387904,4,4");
    mk_node(m, "Relu", "r", "big", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "tensor 'big' is too large", NULL);
    /* an initializer declaring a huge shape (its data is tiny) */
    m = small_model();
    Onnx__TensorProto *t = mk_init_f32(m, "huge", "2", NULL);
    t->dims = realloc(t->dims, 3 * sizeof *t->dims);
    t->dims[0] = t->dims[1] = t->dims[2] = INT64_C(1) << 40;
    t->n_dims = 3;
    fe_expect_error(m, "tensor 'huge' is too large", NULL);
    /* an activation growing past the limit */
    m = mk_model(13);
    mk_input(m, "x", F, "1,1,65536,65536");
    mk_init_i64(m, "p", "8", (int64_t[]){0, 0, 0, 0, 0, 0, 65536, 65536});
    mk_node(m, "Pad", "pbig", "x,p", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "layer 'pbig' (Pad): tensor 'y' is too large", NULL);
}

static void test_bad_payloads(void) {
    Onnx__ModelProto *m = small_model();
    m->graph->initializer[0]->raw_data.len -= 4;
    fe_expect_error(m, "tensor 'w'", "raw_data has 428 bytes but shape needs 432");
    m = small_model();
    m->graph->initializer[0]->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
    fe_expect_error(m, "tensor 'w'", "element type DOUBLE is not supported");
    m = mk_model(13);
    mk_input(m, "x", ONNX__TENSOR_PROTO__DATA_TYPE__UINT8, "1,3");
    mk_node(m, "Relu", "r", "x", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "graph input 'x' has element type UINT8", NULL);
    m = mk_model(13);
    mk_input(m, "x", F, NULL);
    mk_node(m, "Relu", "r", "x", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "graph input 'x' has no shape", NULL);
    m = mk_model(13);
    mk_input(m, "x", F, "1,0,3");
    mk_node(m, "Relu", "r", "x", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "graph input 'x' dimension 1 has invalid size 0", NULL);
}

static void test_bad_graph(void) {
    Onnx__ModelProto *m = small_model();
    m->opset_import[0]->version = 19;
    fe_expect_error(m, "opset 19 is not supported", NULL);
    /* before opset 6 Add had consumed_inputs: listed with the opset */
    m = mk_model(5);
    mk_input(m, "x", F, "1,3");
    mk_node(m, "Add", "a5", "x,x", "y");
    mk_node(m, "Elu", "t", "y", "z");
    mk_output(m, "z", NULL);
    fe_expect_error(m, "unsupported node 0: op 'Add' at opset 5", "unsupported node 1: op 'Elu'");
    /* opset 6: broadcast=1 with an axis that does not place B inside A */
    m = mk_model(6);
    mk_input(m, "x", F, "2,3,4");
    mk_init_f32(m, "b", "3,4", NULL);
    Onnx__NodeProto *n6 = mk_node(m, "Add", "a6", "x,b", "y");
    mk_attr_i(n6, "broadcast", 1);
    mk_attr_i(n6, "axis", 2);
    mk_output(m, "y", NULL);
    fe_expect_error(m, "'a6'", "axis 2 does not place 'b' [3x4] inside 'x' [2x3x4]");
    m = mk_model(6);
    mk_input(m, "x", F, "2,3,4");
    mk_init_f32(m, "b", "3,4", NULL);
    mk_node(m, "Mul", "m6", "x,b", "y"); /* broadcast=0: shapes must agree */
    mk_output(m, "y", NULL);
    fe_expect_error(m, "'m6'", "broadcast=0 but 'x' [2x3x4] and 'b' [3x4] differ");
    m = small_model();
    free(m->opset_import[0]->domain);
    m->opset_import[0]->domain = ir_strdup("com.other");
    fe_expect_error(m, "no default-domain", NULL);
    /* a model of another domain only names its ops (node test test_adam) */
    m = mk_model(1);
    free(m->opset_import[0]->domain);
    m->opset_import[0]->domain = ir_strdup("ai.onnx.preview.training");
    mk_input(m, "x", F, "1,3");
    Onnx__NodeProto *adam = mk_node(m, "Adam", "opt", "x", "y");
    adam->domain = ir_strdup("ai.onnx.preview.training");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "unsupported node 0: op 'Adam' (domain 'ai.onnx.preview.training')", NULL);
    /* the same tensor defined twice */
    m = mk_model(13);
    mk_input(m, "x", F, "1,3");
    mk_node(m, "Relu", "r1", "x", "y");
    mk_node(m, "Relu", "r2", "x", "y");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "'r2'", "output 'y' is already defined");
    /* wrong attribute type */
    m = mk_model(13);
    mk_input(m, "x", F, "1,3,4,4");
    mk_attr_s(mk_node(m, "MaxPool", "mp", "x", "y"), "kernel_shape", "2,2");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "'mp'", "attribute 'kernel_shape' must be a list of ints");
    /* an attribute out of range */
    m = mk_model(13);
    mk_input(m, "x", F, "1,3,4,4");
    Onnx__NodeProto *n = mk_node(m, "MaxPool", "mp0", "x", "y");
    mk_attr_ints(n, "kernel_shape", "2,2");
    mk_attr_ints(n, "strides", "0,1");
    mk_output(m, "y", NULL);
    fe_expect_error(m, "'mp0'", "must be in 1..65535");
    /* a model without a graph */
    m = mk_model(13);
    onnx__graph_proto__free_unpacked(m->graph, NULL);
    m->graph = NULL;
    mk_write(m, fe_path("nograph.onnx"));
    expect_file_error(fe_path("nograph.onnx"), "no graph");
}

/* The in-memory entry point: same model, same result; bad bytes name the buffer. */
static void test_buffer(void) {
    Onnx__ModelProto *m = small_model();
    size_t n = onnx__model_proto__get_packed_size(m);
    uint8_t *buf = ir_xmalloc(n);
    onnx__model_proto__pack(m, buf);
    onnx__model_proto__free_unpacked(m, NULL);
    IrDiag d = {0};
    IrGraph *g = frontend_load_onnx_buffer(buf, n, "mem.onnx", NULL, &d);
    CU_ASSERT_PTR_NOT_NULL(g);
    CU_ASSERT_EQUAL(d.n, 0);
    if (g)
        CU_ASSERT_PTR_NOT_NULL(fe_layer(g, "z"));
    ir_graph_free(g);
    g = frontend_load_onnx_buffer(buf, n / 2, "half.onnx", NULL, &d);
    CU_ASSERT_PTR_NULL(g);
    CU_ASSERT(fe_diag_has(&d, "half.onnx: not a valid ONNX model"));
    ir_diag_free(&d);
    CU_ASSERT_PTR_NULL(frontend_load_onnx_buffer(NULL, 10, NULL, NULL, &d));
    CU_ASSERT(fe_diag_has(&d, "<memory>: empty file"));
    ir_diag_free(&d);
    free(buf);
}

int main(void) {
    fe_setup();
    static const TestCase tests[] = {
        {"missing file", test_missing_file},
        {"empty file", test_empty_file},
        {"random bytes", test_random_bytes},
        {"truncated file", test_truncated},
        {"mutated bytes", test_mutated},
        {"shapes that do not agree", test_shape_mismatch},
        {"missing initializer", test_missing_initializer},
        {"huge shapes", test_huge_shapes},
        {"bad payloads and input types", test_bad_payloads},
        {"bad graphs and attributes", test_bad_graph},
        {"in-memory model", test_buffer},
        {NULL, NULL},
    };
    int rc = cunit_run("frontend bad input", tests);
    fe_cleanup();
    return rc;
}
