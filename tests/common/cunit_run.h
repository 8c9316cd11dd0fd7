/* cunit_run.h: the one way a test program runs its CUnit tests. */
#ifndef M7CC_TEST_CUNIT_RUN_H
#define M7CC_TEST_CUNIT_RUN_H

#include <CUnit/CUnit.h>

typedef struct {
    const char *name;
    CU_TestFunc fn;
} TestCase;

/* Runs the tests (up to the {NULL, NULL} entry) as one suite, verbosely;
 * returns the process exit status: 0 when every test passed. */
int cunit_run(const char *suite, const TestCase *tests);

#endif
