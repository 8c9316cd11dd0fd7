/* known_limits.h: tests/onnx_suite/known_limits.txt, the cases of supported
 * ops that m7cc does not pass yet, each with the path it fails on and why. */
#ifndef M7CC_KNOWN_LIMITS_H
#define M7CC_KNOWN_LIMITS_H

enum { LIMIT_SIM = 1, LIMIT_INTERP = 2 }; /* bits of Limit.paths */

typedef struct {
    char *name;   /* "node/test_clip" */
    int paths;    /* LIMIT_* bits: sim, interp or both */
    char *reason;
    int used;     /* set by the runner when the case was seen */
} Limit;

typedef struct {
    Limit *v;
    int n;
} LimitList;

/* Reads the file: lines "CASE PATHS REASON" with PATHS one of sim, interp,
 * both; '#' lines and blank lines are comments.  Returns 0, or -1 after
 * printing the bad line. */
int limits_read(const char *path, LimitList *l);
Limit *limits_find(LimitList *l, const char *name);
void limits_free(LimitList *l);

#endif
