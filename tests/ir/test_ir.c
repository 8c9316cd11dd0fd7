/* Unit tests of the IR core: construction, checked arithmetic, FLOP counts. */
#include <CUnit/Basic.h>

#include "tests/common/cunit_run.h"
#include <stdint.h>

#include "ir/ir.h"

static void test_checked_arithmetic(void) {
    int64_t r = 0;
    CU_ASSERT_EQUAL(ir_mul_i64(INT64_C(3), INT64_C(4), &r), 0);
    CU_ASSERT_EQUAL(r, 12);
    CU_ASSERT_EQUAL(ir_mul_i64(INT64_MAX / 2 + 1, 2, &r), -1);
    CU_ASSERT_EQUAL(r, 12); /* untouched on overflow */
    CU_ASSERT_EQUAL(ir_add_i64(INT64_MAX, 1, &r), -1);
}

static void test_numel_overflow(void) {
    IrGraph *g = ir_graph_new("t");
    int t = ir_add_tensor(g, "x", IR_F32, IR_T_INPUT);
    int64_t big[4] = {INT64_C(1) << 20, INT64_C(1) << 20, INT64_C(1) << 20, INT64_C(1) << 20};
    ir_set_shape(&g->t[t], 4, big);
    CU_ASSERT_EQUAL(ir_numel(&g->t[t]), -1);
    int64_t small[2] = {3, 5};
    ir_set_shape(&g->t[t], 2, small);
    CU_ASSERT_EQUAL(ir_numel(&g->t[t]), 15);
    ir_graph_free(g);
}

static void test_conv_flops(void) {
    /* 1x3x8x8 -> 1x4x8x8 with a 3x3 kernel: 2 * 4*8*8 * 3*3*3 FLOPs. */
    IrGraph *g = ir_graph_new("t");
    int x = ir_add_tensor(g, "x", IR_F32, IR_T_INPUT);
    int w = ir_add_tensor(g, "w", IR_F32, IR_T_CONST);
    int y = ir_add_tensor(g, "y", IR_F32, IR_T_ACT);
    ir_set_shape(&g->t[x], 4, (int64_t[]){1, 3, 8, 8});
    ir_set_shape(&g->t[w], 4, (int64_t[]){4, 3, 3, 3});
    ir_set_shape(&g->t[y], 4, (int64_t[]){1, 4, 8, 8});
    int li = ir_add_layer(g, IR_CONV, "c", "Conv", (int[]){x, w}, 2, (int[]){y}, 1);
    CU_ASSERT_EQUAL(g->t[y].producer, li);
    CU_ASSERT_EQUAL(ir_layer_flops(g, &g->l[li]), 2 * 4 * 8 * 8 * 27);
    CU_ASSERT_EQUAL(ir_layer_param_bytes(g, &g->l[li]), 4 * 108);
    CU_ASSERT_EQUAL(ir_consumer_count(g, x), 1);
    g->l[li].dead = 1;
    CU_ASSERT_EQUAL(ir_consumer_count(g, x), 0);
    ir_graph_free(g);
}

int main(void) {
    static const TestCase tests[] = {
        {"checked arithmetic", test_checked_arithmetic},
        {"numel overflow", test_numel_overflow},
        {"conv flops", test_conv_flops},
        {NULL, NULL},
    };
    return cunit_run("ir", tests);
}
