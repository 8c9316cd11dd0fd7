/* The canonicalisation passes on PyTorch-exported models (the reference
 * models of tests/models and the pass-specific ones of tests/passes/models,
 * made by make_models.py): each model is loaded, run with the reference executor,
 * canonicalised, checked for what must be gone, and run again; both runs
 * must match PyTorch's output (tests/models/README.md: rtol 1e-4, atol 1e-5)
 * and each other.  Built only when the frontend is there.
 *
 *     test_models <source root> */
#include <CUnit/Basic.h>

#include "tests/common/cunit_run.h"
#include <stdlib.h>

#include "ir/eval.h"
#include "frontend/frontend.h"
#include "passes/passes.h"
#include "runtime/tensor_file.h"

static const char *root;

/* Models the frontend reads (folders under the source root) and the live
 * layers expected after canonicalisation. */
static const struct { const char *name; int layers; } models[] = {
    {"tests/models/vgg_cifar", 10}, /* conv+relu x5, maxpool x3, fc+relu, fc */
    {"tests/models/vgg_cifar_op11", 10},
    {"tests/models/vgg_cifar_preserve", 10}, /* BatchNormalization folded, Dropout gone */
    {"tests/models/lenet5", 9},              /* tanh stays a layer of its own */
    {"tests/models/residual", 10}, /* relus fused into conv and add */
    {"tests/models/batch8", 5},
    {"tests/models/odd_shapes", 10},
    {"tests/models/odd_shapes_op9", 10},
    {"tests/models/pool_softmax", 11}, /* the ceil_mode AvgPool keeps its Pad */
    {"tests/models/pool_softmax_op11", 11},
    {"tests/models/pool_softmax_op9", 11},
    {"tests/models/softmax4d", 3},
    {"tests/models/softmax4d_op11", 3}, /* Transpose + Softmax + Transpose -> Softmax */
    /* conv+relu, dwconv+relu6, conv+leaky, avgpool, fc+relu, fc: 3 BNs folded */
    {"tests/passes/models/bn_fold", 6},
    /* conv, maxpool, pad (zero into max pool stays), maxpool, avgpool, conv */
    {"tests/passes/models/pad_fold", 6},
};

static M7Tensor read_tensor(const char *model, const char *file) {
    char path[1024], err[512];
    M7Tensor t = {0};
    snprintf(path, sizeof path, "%s/%s/%s", root, model, file);
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
        snprintf(path, sizeof path, "%s/%s/model.onnx", root, name);
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
        fprintf(stderr, "usage: test_models <source root>\n");
        return 2;
    }
    root = argv[1];
    static const TestCase tests[] = {
        {"canonicalised models match PyTorch", test_models},
        {NULL, NULL},
    };
    return cunit_run("passes on reference models", tests);
}
