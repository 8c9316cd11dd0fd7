/* suite_case.h: one case of the ONNX backend test data run through m7cc,
 * on the simulator and in the reference executor, reduced to an outcome.
 * Judging the outcome against known_limits.txt is the caller's job. */
#ifndef M7CC_SUITE_CASE_H
#define M7CC_SUITE_CASE_H

enum { RUN_PASS, RUN_REFUSED, RUN_MISMATCH, RUN_NOT_RUN };

typedef struct {
    char name[200];            /* "node/test_relu": suite folder / case folder */
    char dir[1200];            /* the case folder */
    char op[100];              /* its row in the table (suite_case_op) */
    int rejected;              /* m7cc said "unsupported node" */
    int sim, interp;           /* RUN_* of the two paths */
    char sim_msg[400], interp_msg[400]; /* first line of what went wrong */
} SuiteCase;

/* The ops of the case's model for the table: its distinct op types in
 * node order joined by '+', leaving out Constant unless it is alone.
 * "?" when the model cannot be read. */
void suite_case_op(SuiteCase *c);

/* Runs the case: compiles with m7cc into scratch, runs the program against
 * test_data_set_0 with --expect on every output, then --interpret with
 * every output compared (rtol, atol).  A rejected case (unsupported op) is
 * not run further and its row becomes the op m7cc named. */
void suite_case_run(SuiteCase *c, const char *m7cc, const char *scratch, const char *rtol,
                    const char *atol);

#endif
