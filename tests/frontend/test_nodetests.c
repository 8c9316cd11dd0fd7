/* Runs the frontend over real models: every ONNX backend node test
 * (libonnx-testdata, directory argv[1]) and every reference model of
 * tests/models (argv[2]).  Every model that loads must infer the shapes of
 * the expected outputs (output_k.pb), and the values of outputs folded to
 * constants; all reference models and a curated list of node tests must
 * load, and another list must be rejected with the given message. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/common/cunit_run.h"
#include "tests/frontend/fe_util.h"

static const char *node_dir, *models_dir;

static const char *must_load[] = {
    "test_conv_with_strides_padding", "test_conv_with_autopad_same",
    "test_conv_with_strides_and_asymmetric_padding", "test_basic_conv_without_padding",
    "test_maxpool_2d_ceil", "test_maxpool_2d_same_lower", "test_maxpool_2d_dilations",
    "test_averagepool_2d_pads_count_include_pad", "test_averagepool_2d_precomputed_same_upper",
    "test_averagepool_2d_ceil", "test_globalaveragepool", "test_globalmaxpool",
    "test_gemm_all_attributes", "test_gemm_transposeA", "test_gemm_default_scalar_bias",
    "test_matmul_2d", "test_softmax_axis_0", "test_softmax_default_axis", "test_softmax_negative_axis",
    "test_batchnorm_epsilon", "test_batchnorm_example", "test_flatten_negative_axis1",
    "test_flatten_axis0", "test_lrn", "test_concat_3d_axis_negative_2", "test_add_bcast",
    "test_mul_bcast", "test_shape_start_1_end_negative_1", "test_shape_clip_end", "test_constant",
    "test_dropout_default_old", "test_dropout_default_ratio", "test_leakyrelu", "test_relu",
    "test_sigmoid", "test_tanh", "test_transpose_default", "test_transpose_all_permutations_3",
    "test_identity", "test_clip_default_inbounds", "test_unsqueeze_axis_3",
    "test_averagepool_1d_default", "test_maxpool_1d_default", "test_batchnorm_epsilon_training_mode",
};

static const struct {
    const char *test, *msg;
} must_reject[] = {
    {"test_maxpool_with_argmax_2d_precomputed_pads", "output 1 ('z') is used"},
    {"test_dropout_default_mask", "output 1 ('z') is used"},
    {"test_matmul_3d", "only 2-D operands"},
    {"test_maxpool_3d_default", "only 1-D and 2-D pooling"},
    {"test_elu", "unsupported node 0: op 'Elu'"},
    {"test_add_uint8", "element type UINT8"},
    {"test_reshape_negative_dim", "graph input 'shape' has element type INT64"},
};

static Onnx__TensorProto *read_pb(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n);
    Onnx__TensorProto *t = NULL;
    if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n)
        t = onnx__tensor_proto__unpack(NULL, (size_t)n, buf);
    free(buf);
    fclose(f);
    return t;
}

/* Compares a folded constant with the expected tensor's values. */
static int same_values(const IrTensor *t, const Onnx__TensorProto *e) {
    int64_t n = ir_numel(t);
    for (int64_t i = 0; i < n; i++) {
        if (t->dtype == IR_I64) {
            int64_t v = 0;
            if (e->has_raw_data && e->raw_data.len == (size_t)n * 8)
                memcpy(&v, e->raw_data.data + i * 8, 8);
            else if (e->n_int64_data == (size_t)n)
                v = e->int64_data[i];
            else
                return 0;
            if (v != t->i64[i])
                return 0;
        } else {
            float v = 0;
            if (e->has_raw_data && e->raw_data.len == (size_t)n * 4)
                memcpy(&v, e->raw_data.data + i * 4, 4);
            else if (e->n_float_data == (size_t)n)
                v = e->float_data[i];
            else
                return 0;
            if (v != t->f32[i])
                return 0;
        }
    }
    return 1;
}

/* Loads dir/name/model.onnx; returns 1 if it loaded (and checks its
 * outputs against dir/name/<data>output_k.pb). */
static int check_model(const char *dir, const char *name, const char *data, IrDiag *d) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/model.onnx", dir, name);
    IrGraph *g = frontend_load_onnx(path, NULL, d);
    if (!g)
        return 0;
    for (int k = 0; k < g->n_outputs; k++) {
        IrTensor *t = &g->t[g->outputs[k]];
        snprintf(path, sizeof path, "%s/%s/%soutput_%d.pb", dir, name, data, k);
        Onnx__TensorProto *e = read_pb(path);
        CU_ASSERT_PTR_NOT_NULL(e);
        if (!e)
            continue;
        int ok = t->rank == (int)e->n_dims;
        for (int i = 0; ok && i < t->rank; i++)
            ok = t->dims[i] == e->dims[i];
        if (ok && t->role == IR_T_CONST)
            ok = same_values(t, e);
        CU_ASSERT(ok);
        if (!ok) {
            char s[160];
            fprintf(stderr, "\n%s: output '%s' is %s, expected rank %zu:", name, t->name,
                    ir_shape_str(t, s, sizeof s), e->n_dims);
            for (size_t i = 0; i < e->n_dims; i++)
                fprintf(stderr, " %lld", (long long)e->dims[i]);
            fprintf(stderr, "%s\n", t->role == IR_T_CONST ? " (or folded values differ)" : "");
        }
        onnx__tensor_proto__free_unpacked(e, NULL);
    }
    ir_graph_free(g);
    return 1;
}

static int check_test(const char *name, IrDiag *d) {
    return check_model(node_dir, name, "test_data_set_0/", d);
}

static void test_all_node_tests(void) {
    DIR *dir = opendir(node_dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    int loaded = 0, total = 0;
    struct dirent *de;
    while ((de = readdir(dir))) {
        if (strncmp(de->d_name, "test_", 5))
            continue;
        IrDiag d = {0};
        total++;
        int ok = check_test(de->d_name, &d);
        loaded += ok;
        /* A rejected model always says why. */
        CU_ASSERT(ok || d.n > 0);
        ir_diag_free(&d);
    }
    closedir(dir);
    printf("\n  node tests: %d of %d loaded, all with the expected output shapes\n", loaded, total);
    CU_ASSERT(total > 100);
}

static void test_curated(void) {
    for (size_t i = 0; i < sizeof must_load / sizeof *must_load; i++) {
        IrDiag d = {0};
        int ok = check_test(must_load[i], &d);
        CU_ASSERT(ok);
        if (!ok) {
            fprintf(stderr, "\n%s did not load:\n", must_load[i]);
            ir_diag_print(&d, stderr);
        }
        ir_diag_free(&d);
    }
    for (size_t i = 0; i < sizeof must_reject / sizeof *must_reject; i++) {
        IrDiag d = {0};
        int ok = !check_test(must_reject[i].test, &d) && fe_diag_has(&d, must_reject[i].msg);
        CU_ASSERT(ok);
        if (!ok) {
            fprintf(stderr, "\n%s: expected rejection with '%s', got:\n", must_reject[i].test,
                    must_reject[i].msg);
            ir_diag_print(&d, stderr);
        }
        ir_diag_free(&d);
    }
}

static void test_reference_models(void) {
    DIR *dir = opendir(models_dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(dir))) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s/model.onnx", models_dir, de->d_name);
        FILE *f = de->d_name[0] != '.' ? fopen(path, "rb") : NULL;
        if (!f)
            continue;
        fclose(f);
        IrDiag d = {0};
        int ok = check_model(models_dir, de->d_name, "", &d);
        CU_ASSERT(ok);
        if (!ok) {
            fprintf(stderr, "\n%s did not load:\n", de->d_name);
            ir_diag_print(&d, stderr);
        }
        ir_diag_free(&d);
        n++;
    }
    closedir(dir);
    CU_ASSERT(n >= 10);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: test_nodetests <onnx node test dir> <tests/models dir>\n");
        return 2;
    }
    node_dir = argv[1];
    models_dir = argv[2];
    static const TestCase tests[] = {
        {"every loadable node test has the expected shapes", test_all_node_tests},
        {"curated node tests load or are rejected", test_curated},
        {"reference models load with the expected shapes", test_reference_models},
        {NULL, NULL},
    };
    return cunit_run("onnx node tests", tests);
}
