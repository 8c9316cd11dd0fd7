/* Shape inference on hand-built IR graphs (no ONNX): ops the frontend does
 * not produce (FC, shape-less Reshape), folding details, idempotence and
 * checked sizes. */
#include <CUnit/Basic.h>

#include "tests/common/cunit_run.h"
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"
#include "ir/shape.h"

static int tensor(IrGraph *g, const char *name, IrTensorRole role, int rank, const int64_t *dims) {
    int t = ir_add_tensor(g, name, IR_F32, role);
    if (rank >= 0)
        ir_set_shape(&g->t[t], rank, dims);
    if (role == IR_T_CONST)
        g->t[t].f32 = calloc((size_t)ir_numel(&g->t[t]) + 1, sizeof(float));
    return t;
}

static int i64_const(IrGraph *g, const char *name, int n, const int64_t *v) {
    int t = ir_add_tensor(g, name, IR_I64, IR_T_CONST);
    int64_t d = n;
    ir_set_shape(&g->t[t], 1, &d);
    g->t[t].i64 = malloc((size_t)(n ? n : 1) * sizeof(int64_t));
    memcpy(g->t[t].i64, v, (size_t)n * sizeof(int64_t));
    return t;
}

static int has(const IrDiag *d, const char *s) {
    for (int i = 0; i < d->n; i++)
        if (strstr(d->msg[i], s))
            return 1;
    return 0;
}

static void test_fc_and_idempotence(void) {
    IrGraph *g = ir_graph_new("t");
    int x = tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){2, 3, 4, 4});
    int w = tensor(g, "w", IR_T_CONST, 2, (int64_t[]){5, 48});
    int b = tensor(g, "b", IR_T_CONST, 1, (int64_t[]){5});
    int y = tensor(g, "y", IR_T_ACT, -1, NULL);
    int z = tensor(g, "z", IR_T_ACT, -1, NULL);
    ir_add_layer(g, IR_FC, "fc", "Gemm", (int[]){x, w, b}, 3, &y, 1);
    ir_add_layer(g, IR_RELU, "r", "Relu", &y, 1, &z, 1);
    IrDiag d = {0};
    CU_ASSERT_EQUAL(ir_infer_shapes(g, &d), 0);
    CU_ASSERT(g->t[z].rank == 2 && g->t[z].dims[0] == 2 && g->t[z].dims[1] == 5);
    CU_ASSERT_EQUAL(ir_infer_shapes(g, &d), 0);
    CU_ASSERT(g->t[z].rank == 2 && g->t[z].dims[1] == 5);
    /* a pass swaps in a wrong weight: the mismatch is named */
    g->t[w].dims[1] = 47;
    CU_ASSERT_EQUAL(ir_infer_shapes(g, &d), -1);
    CU_ASSERT(has(&d, "layer 'fc' (Gemm)") && has(&d, "[5x47]"));
    ir_diag_free(&d);
    ir_graph_free(g);
}

static void test_reshape_forms(void) {
    IrGraph *g = ir_graph_new("t");
    int x = tensor(g, "x", IR_T_INPUT, 2, (int64_t[]){4, 6});
    int y = tensor(g, "y", IR_T_ACT, 3, (int64_t[]){2, 2, 6}); /* set by a pass */
    int z = tensor(g, "z", IR_T_ACT, -1, NULL);
    int s = i64_const(g, "s", 2, (int64_t[]){-1, 3});
    ir_add_layer(g, IR_RESHAPE, "r1", "Reshape", &x, 1, &y, 1);
    ir_add_layer(g, IR_RESHAPE, "r2", "Reshape", (int[]){y, s}, 2, &z, 1);
    IrDiag d = {0};
    CU_ASSERT_EQUAL(ir_infer_shapes(g, &d), 0);
    CU_ASSERT(g->t[y].rank == 3 && g->t[y].dims[2] == 6);
    CU_ASSERT(g->t[z].rank == 2 && g->t[z].dims[0] == 8);
    /* a run-time shape input is an error */
    g->t[s].role = IR_T_INPUT;
    CU_ASSERT_EQUAL(ir_infer_shapes(g, &d), -1);
    CU_ASSERT(has(&d, "layer 'r2' (Reshape)") && has(&d, "must be a constant"));
    ir_diag_free(&d);
    ir_graph_free(g);
}

static void test_folding(void) {
    IrGraph *g = ir_graph_new("t");
    int x = tensor(g, "x", IR_T_INPUT, 3, (int64_t[]){7, 8, 9});
    int sh = ir_add_tensor(g, "sh", IR_I64, IR_T_ACT);
    int idx = i64_const(g, "idx", 2, (int64_t[]){-1, 0});
    int ga = ir_add_tensor(g, "ga", IR_I64, IR_T_ACT);
    int cf = ir_add_tensor(g, "cf", IR_F32, IR_T_ACT);
    ir_add_layer(g, IR_SHAPE, "shape", "Shape", &x, 1, &sh, 1);
    int lg = ir_add_layer(g, IR_GATHER, "gather", "Gather", (int[]){sh, idx}, 2, &ga, 1);
    int lc = ir_add_layer(g, IR_CAST, "cast", "Cast", &ga, 1, &cf, 1);
    g->l[lc].a.cast_to = 1; /* FLOAT */
    IrDiag d = {0};
    CU_ASSERT_EQUAL(ir_infer_shapes(g, &d), 0);
    CU_ASSERT(g->l[lg].dead && g->l[lc].dead);
    CU_ASSERT(g->t[ga].i64 && g->t[ga].i64[0] == 9 && g->t[ga].i64[1] == 7);
    CU_ASSERT(g->t[cf].role == IR_T_CONST && g->t[cf].f32 && g->t[cf].f32[0] == 9.0f);
    CU_ASSERT_EQUAL(g->t[cf].producer, -1);
    CU_ASSERT_EQUAL(ir_infer_shapes(g, &d), 0); /* folded graph is stable */
    CU_ASSERT_EQUAL(d.n, 0);
    ir_diag_free(&d);
    ir_graph_free(g);

    /* an index out of range is named */
    g = ir_graph_new("t");
    int c = i64_const(g, "c", 3, (int64_t[]){1, 2, 3});
    idx = i64_const(g, "idx", 1, (int64_t[]){3});
    ga = ir_add_tensor(g, "ga", IR_I64, IR_T_ACT);
    ir_add_layer(g, IR_GATHER, "gbad", "Gather", (int[]){c, idx}, 2, &ga, 1);
    CU_ASSERT_EQUAL(ir_infer_shapes(g, &d), -1);
    CU_ASSERT(has(&d, "layer 'gbad' (Gather): index 3 out of range"));
    ir_diag_free(&d);
    ir_graph_free(g);
}

static void test_sizes_checked(void) {
    IrGraph *g = ir_graph_new("t");
    int x = tensor(g, "x", IR_T_INPUT, 3, (int64_t[]){INT64_C(1) << 31, INT64_C(1) << 31, 4});
    int y = tensor(g, "y", IR_T_ACT, -1, NULL);
    ir_add_layer(g, IR_RELU, "r", "Relu", &x, 1, &y, 1);
    IrDiag d = {0};
    CU_ASSERT_EQUAL(ir_infer_shapes(g, &d), -1);
    CU_ASSERT(has(&d, "tensor 'x' is too large"));
    ir_diag_free(&d);
    ir_graph_free(g);
    /* an activation computed too large: the broadcast of two fine inputs */
    g = ir_graph_new("t");
    int a = tensor(g, "a", IR_T_INPUT, 2, (int64_t[]){1 << 20, 1});
    int b = tensor(g, "b", IR_T_INPUT, 2, (int64_t[]){1, 1 << 20});
    y = tensor(g, "y", IR_T_ACT, -1, NULL);
    ir_add_layer(g, IR_ADD, "add", "Add", (int[]){a, b}, 2, &y, 1);
    CU_ASSERT_EQUAL(ir_infer_shapes(g, &d), -1);
    CU_ASSERT(has(&d, "tensor 'y' is too large"));
    ir_diag_free(&d);
    ir_graph_free(g);
    /* a tensor nothing computes */
    g = ir_graph_new("t");
    x = tensor(g, "ghost", IR_T_ACT, -1, NULL);
    y = tensor(g, "y", IR_T_ACT, -1, NULL);
    ir_add_layer(g, IR_RELU, "r", "Relu", &x, 1, &y, 1);
    CU_ASSERT_EQUAL(ir_infer_shapes(g, &d), -1);
    CU_ASSERT(has(&d, "'ghost'") && has(&d, "nothing computes it"));
    ir_diag_free(&d);
    ir_graph_free(g);
}

static void test_pool_checks(void) {
    IrGraph *g = ir_graph_new("t");
    int x = tensor(g, "x", IR_T_INPUT, 4, (int64_t[]){1, 1, 6, 6});
    int y = tensor(g, "y", IR_T_ACT, -1, NULL);
    int li = ir_add_layer(g, IR_MAXPOOL, "mp", "MaxPool", &x, 1, &y, 1);
    IrPoolAttr a = {{2, 2}, {2, 2}, {2, 0, 0, 0}, 0, 0, {1, 1}};
    g->l[li].a.pool = a;
    IrDiag d = {0};
    CU_ASSERT_EQUAL(ir_infer_shapes(g, &d), -1);
    CU_ASSERT(has(&d, "must be smaller than kernel"));
    ir_diag_free(&d);
    /* ceil mode: the last window must start inside input + left pad */
    IrPoolAttr c = {{2, 2}, {2, 2}, {1, 1, 1, 1}, 1, 0, {1, 1}};
    g->l[li].a.pool = c; /* ceil((6+2-2)/2)+1 = 4; window 3 starts at 6 < 6+1: kept */
    CU_ASSERT_EQUAL(ir_infer_shapes(g, &d), 0);
    CU_ASSERT_EQUAL(g->t[y].dims[2], 4);
    g->t[x].dims[2] = 5; /* ceil((5+2-2)/2)+1 = 4, but window 3 would start at 6 >= 5+1: 3 */
    CU_ASSERT_EQUAL(ir_infer_shapes(g, &d), 0);
    CU_ASSERT_EQUAL(g->t[y].dims[2], 3);
    CU_ASSERT_EQUAL(g->t[y].dims[3], 4);
    g->t[x].dims[2] = 6;
    IrPoolAttr e = {{3, 3}, {3, 3}, {0, 0, 0, 0}, 1, 0, {1, 1}};
    g->l[li].a.pool = e; /* ceil((6-3)/3)+1 = 2 */
    CU_ASSERT_EQUAL(ir_infer_shapes(g, &d), 0);
    CU_ASSERT_EQUAL(g->t[y].dims[2], 2);
    ir_diag_free(&d);
    ir_graph_free(g);
}

int main(void) {
    static const TestCase tests[] = {
        {"fc and idempotence", test_fc_and_idempotence},
        {"reshape forms", test_reshape_forms},
        {"folding", test_folding},
        {"sizes checked", test_sizes_checked},
        {"pool checks", test_pool_checks},
        {NULL, NULL},
    };
    return cunit_run("shape inference", tests);
}
