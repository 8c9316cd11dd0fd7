/* The reference models of tests/models compiled end to end: ONNX ->
 * frontend -> shape inference -> canonicalisation -> backend -> C, the C
 * built with the host cc against the simulator and its harness, run on the
 * model's input with --expect on PyTorch's output (rtol 1e-4, atol 1e-5),
 * the simulator's checks on.  The harness's report goes to the log.
 *
 * argv: MODELS_DIR RUNTIME_INC SIM_INC SIM_MAIN_C LIBSIM LIBRUNTIME MODEL...
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen.h"
#include "frontend.h"
#include "passes.h"
#include "shape.h"

static char **args;
static int nmodels;
static char tmpdir[256];

static int compile_model(const char *name) {
    char path[1024], c[512], h[512], w[512], exe[512], cmd[4096];
    snprintf(path, sizeof path, "%s/%s/model.onnx", args[1], name);
    IrDiag d = {0};
    FrontendOptions opt = {0};
    M7Machine m;
    m7_machine_default(&m);
    IrGraph *g = frontend_load_onnx(path, &opt, &d);
    int rc = !g || ir_infer_shapes(g, &d) || passes_canonicalize(g, &d) || backend_run(g, &m, &d);
    snprintf(c, sizeof c, "%s/%s.c", tmpdir, name);
    snprintf(h, sizeof h, "%s/%s.h", tmpdir, name);
    snprintf(w, sizeof w, "%s/%s.weights", tmpdir, name);
    snprintf(exe, sizeof exe, "%s/%s", tmpdir, name);
    if (!rc)
        rc = codegen_emit(g, &m, c, h, w, &d);
    if (rc) {
        printf("\n  %s: ", name);
        ir_diag_print(&d, stdout);
    }
    ir_diag_free(&d);
    ir_graph_free(g);
    if (rc)
        return -1;
    const char *cflags = getenv("M7CC_TEST_CFLAGS");
    snprintf(cmd, sizeof cmd, "cc -std=c11 -O1 -Wall -Wextra -Werror -Wno-unused-function %s -I%s -I%s -I%s "
                              "%s %s %s %s -lm -lpthread -o %s",
             cflags ? cflags : "", tmpdir, args[2], args[3], c, args[4], args[5], args[6], exe);
    if (system(cmd))
        return -1;
    snprintf(cmd, sizeof cmd, "%s --weights %s -i %s/%s/input_0.pb --expect %s/%s/output_0.pb --rtol 1e-4 "
                              "--atol 1e-5",
             exe, w, args[1], name, args[1], name);
    printf("\n  %s:\n", name);
    fflush(stdout);
    return system(cmd) ? -1 : 0;
}

static void test_models(void) {
    for (int i = 0; i < nmodels; i++) {
        int rc = compile_model(args[7 + i]);
        printf("  %s: %s\n", args[7 + i], rc ? "FAILED" : "matches PyTorch");
        CU_ASSERT_EQUAL(rc, 0);
    }
}

int main(int argc, char **argv) {
    if (argc < 8) {
        fprintf(stderr, "usage: %s MODELS_DIR RUNTIME_INC SIM_INC SIM_MAIN_C LIBSIM LIBRUNTIME MODEL...\n",
                argv[0]);
        return 2;
    }
    args = argv;
    nmodels = argc - 7;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/m7cc_models_XXXXXX");
    if (!mkdtemp(tmpdir))
        return 2;
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("models", NULL, NULL);
    CU_add_test(s, "reference models end to end", test_models);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int fails = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    if (!fails) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
        if (system(cmd))
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
    return fails ? 1 : 0;
}
