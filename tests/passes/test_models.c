/* The canonicalisation passes on the PyTorch-exported reference models of
 * tests/models: each model is loaded, run with the reference executor,
 * canonicalised, checked for what must be gone, and run again; both runs
 * must match PyTorch's output (tests/models/README.md: rtol 1e-4, atol 1e-5)
 * and each other.  Built only when the frontend is there.
 *
 *     test_models <tests/models dir> */
#include <CUnit/Basic.h>
#include <stdlib.h>

#include "eval.h"
#include "frontend.h"
#include "passes.h"
#include "tensor_file.h"

static const char *models_dir;

/* Models the frontend reads; each line: name, live layers expected after
 * canonicalisation (-1: not pinned). */
static const struct { const char *name; int layers; } models[] = {
    {"vgg_cifar", 10},  /* conv+relu x5, maxpool x3, fc+relu, fc */
    {"vgg_cifar_op11", 10},
    {"residual", 10},   /* relus fused into conv and add */
    {"batch8", 5},
    {"odd_shapes", 10},
    {"odd_shapes_op9", 10},
    {"pool_softmax", 11}, /* the ceil_mode AvgPool keeps its Pad */
    {"pool_softmax_op11", 11},
    {"pool_softmax_op9", 11},
    {"softmax4d", 3},
};

static M7Tensor read_tensor(const char *model, const char *file) {
    char path[1024], err[512];
    M7Tensor t = {0};
    snprintf(path, sizeof path, "%s/%s/%s", models_dir, model, file);
    if (m7_tensor_read(path, &t, err, sizeof err))
        fprintf(stderr, "%s\n", err);
    return t;
}

/* Runs g on x; 0 and *y set, or -1. */
static int run(const IrGraph *g, const M7Tensor *x, float **y) {
    IrDiag d = {0};
    const float *in[1] = {x->f32};
    int rc = ir_eval(g, in, y, &d);
    ir_diag_print(&d, stderr);
    ir_diag_free(&d);
    return rc;
}

static int matches(const char *what, float *got, const M7Tensor *want) {
    M7Tensor t = *want;
    t.f32 = got;
    char report[512];
    int rc = m7_tensor_compare(&t, want, 1e-4, 1e-5, report, sizeof report);
    if (rc)
        fprintf(stderr, "%s: %s\n", what, report);
    return rc == 0;
}

static void test_models(void) {
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        const char *name = models[i].name;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s/model.onnx", models_dir, name);
        IrDiag d = {0};
        IrGraph *g = frontend_load_onnx(path, NULL, &d);
        ir_diag_print(&d, stderr);
        ir_diag_free(&d);
        CU_ASSERT_PTR_NOT_NULL(g);
        M7Tensor x = read_tensor(name, "input_0.pb"), want = read_tensor(name, "output_0.pb");
        float *y0 = NULL, *y1 = NULL;
        if (!g || !x.f32 || !want.f32 || g->n_inputs != 1 || g->n_outputs != 1) {
            CU_FAIL("model, input or output unusable");
            goto next;
        }
        CU_ASSERT_FATAL(run(g, &x, &y0) == 0);
        CU_ASSERT(matches(name, y0, &want));
        CU_ASSERT_EQUAL(passes_canonicalize(g, &d), 0);
        ir_diag_print(&d, stderr);
        ir_diag_free(&d);
        int live = 0;
        for (int li = 0; li < g->n_l; li++) {
            const IrLayer *l = &g->l[li];
            if (l->dead)
                continue;
            live++;
            CU_ASSERT(l->op != IR_BATCHNORM && l->op != IR_DROPOUT && l->op != IR_IDENTITY &&
                      l->op != IR_GEMM && l->op != IR_MATMUL);
            if (l->op == IR_RELU) /* every relu here follows a conv, fc or add */
                fprintf(stderr, "%s: relu '%s' not fused\n", name, l->name);
            CU_ASSERT(l->op != IR_RELU);
        }
        if (models[i].layers >= 0 && live != models[i].layers)
            fprintf(stderr, "%s: %d live layers, expected %d\n", name, live, models[i].layers);
        CU_ASSERT(models[i].layers < 0 || live == models[i].layers);
        CU_ASSERT_FATAL(run(g, &x, &y1) == 0);
        CU_ASSERT(matches(name, y1, &want));
    next:
        free(y0);
        free(y1);
        m7_tensor_free(&x);
        m7_tensor_free(&want);
        ir_graph_free(g);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: test_models <tests/models dir>\n");
        return 2;
    }
    models_dir = argv[1];
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("passes on reference models", NULL, NULL);
    CU_add_test(s, "canonicalised models match PyTorch", test_models);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return fails ? 1 : 0;
}
