/* cunit_run.c: registers, runs and counts one suite of CUnit tests. */
#include "tests/common/cunit_run.h"

#include <CUnit/Basic.h>

int cunit_run(const char *suite, const TestCase *tests) {
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite(suite, NULL, NULL);
    for (const TestCase *t = tests; s && t->name; t++)
        CU_add_test(s, t->name, t->fn);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    /* A test can fail by an assertion or by a fatal assertion's exit. */
    unsigned fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    return fails || ran == 0 ? 1 : 0;
}
