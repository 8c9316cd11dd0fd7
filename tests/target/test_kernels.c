/* test_kernels.c: kernels of target/ run on the simulator.  The library
 * file every generated program carries (m7k_kernels.c, built from target/)
 * is included as a program includes it; parameters reach the kernels
 * through file-scope values, as in tests/simulator. */
#include <CUnit/Basic.h>

#include <string.h>

#include "backend/backend.h"
#include "simulator/m7sim.h"
#include "tests/common/cunit_run.h"

#include "m7k_kernels.c"

/* nblocks blocks at AM offset am through the stages, as m7k_gw_store runs them. */
static void test_tr_blocks(const M7kTrain *p, uint64_t am, int nblocks, int stages) {
    m7_vec masks[5];
    m7k_tr_masks(p, masks);
    for (int b = 0; b < nblocks; b++)
        m7k_tr_block(p, M7_AM(am + (uint64_t)b * 4096), stages, masks);
}

static M7kTrain plan;
static int n_blocks, n_stages;

static void tr_kernel(void) { test_tr_blocks(&plan, 0, n_blocks, n_stages); }

static M7Sim *one_core(void) {
    M7Machine m;
    char err[256];
    m7_machine_default(&m);
    m.cores = 1;
    M7Sim *s = m7sim_new(&m, 1 << 20, err, sizeof err);
    if (!s)
        fprintf(stderr, "%s\n", err);
    return s;
}

/* Every stage count moves element e of lane c (row e of a block, lane c)
 * to m7k_gw_elem(e, c, stages), and the backend's price of the stages is
 * the simulator's cycles within 5%. */
static void test_transpose(void) {
    const M7Machine *m;
    for (int st = 0; st <= 5; st++) {
        M7Sim *s = one_core();
        CU_ASSERT_FATAL(s != NULL);
        m = m7sim_machine(s);
        memset(&plan, 0, sizeof plan);
        plan.iota = 0, plan.am_t = 4 * 4096;
        float *iota = (float *)m7sim_host_ptr(s, M7_DDR(0), 0, 128);
        for (int i = 0; i < 32; i++)
            iota[i] = (float)i + 0.5f;
        float *am = (float *)m7sim_host_ptr(s, M7_AM(0), 0, 3 * 4096);
        for (int e = 0; e < 96; e++)
            for (int c = 0; c < 32; c++)
                am[e * 32 + c] = (float)(e * 32 + c);
        n_blocks = 1, n_stages = st;
        CU_ASSERT_EQUAL_FATAL(m7sim_run(s, tr_kernel), 0);
        uint64_t one = m7sim_cycles(s);
        am = (float *)m7sim_host_ptr(s, M7_AM(0), 0, 4096);
        int bad = 0;
        for (int e = 0; e < 32; e++)
            for (int c = 0; c < 32; c++)
                bad += am[m7k_gw_elem(e, c, st) / 4] != (float)(e * 32 + c);
        CU_ASSERT_EQUAL(bad, 0);
        n_blocks = 3;
        CU_ASSERT_EQUAL_FATAL(m7sim_run(s, tr_kernel), 0);
        double per_block = (double)(m7sim_cycles(s) - one) / 2, priced = bk_gw_tr_block_cycles(m, st);
        if (st > 0 && (per_block > priced * 1.05 || per_block < priced * 0.95)) {
            fprintf(stderr, "stages %d: %.0f cycles a block, priced %.0f\n", st, per_block, priced);
            CU_FAIL("the price of the stages is not the simulator's");
        }
        m7sim_free(s);
    }
}

int main(void) {
    static const TestCase tests[] = {{"dW blocks: exchange stages, layout and price", test_transpose}, {NULL, NULL}};
    return cunit_run("target", tests);
}
