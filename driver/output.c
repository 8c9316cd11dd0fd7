/* output.c: the files a compilation leaves: NAME.c, NAME.h and
 * NAME.weights from the code generator, or an executable built from them
 * with the host C compiler against the simulator library. */
#include "driver/output.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codegen/codegen.h"
#include "validate/validate.h"

extern char **environ;

/* Where the runtime header and the simulator live (set by meson). */
#ifndef M7CC_RUNTIME_INC
#error "M7CC_RUNTIME_INC must be defined by the build"
#endif

static char *concat(const char *a, const char *b) {
    size_t na = strlen(a), nb = strlen(b);
    char *s = ir_xmalloc(na + nb + 1);
    memcpy(s, a, na);
    memcpy(s + na, b, nb + 1);
    return s;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Runs argv; returns its exit status (or -1 when it could not start). */
static int run_command(char *const *argv, IrDiag *d) {
    pid_t pid;
    int err = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
    if (err) {
        ir_diag_add(d, "m7cc: cannot run the C compiler '%s': %s (set CC)", argv[0], strerror(err));
        return -1;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The libclang check of an emitted file; its report goes to stderr. */
static int check_emitted(const char *c_path, const M7Machine *m, IrDiag *d) {
    ValidateLimits lim;
    validate_limits(&lim, m);
    lim.runtime_include = M7CC_RUNTIME_INC;
    if (validate_c_file(c_path, &lim, stderr) == 0)
        return 0;
    ir_diag_add(d, "m7cc: the generated C breaks the rules above (internal error; --no-validate skips "
                   "the check)");
    return -1;
}

static int build_executable(const IrGraph *g, const M7Machine *m, const char *out, int validate,
                            IrDiag *d) {
    char dir[] = "/tmp/m7cc-XXXXXX";
    if (!mkdtemp(dir)) {
        ir_diag_add(d, "m7cc: cannot make a temporary folder: %s", strerror(errno));
        return -1;
    }
    const char *base = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
    char *stem = concat(dir, "/");
    char *stem2 = concat(stem, base);
    char *c_path = concat(stem2, ".c"), *h_path = concat(stem2, ".h");
    char *w_path = concat(out, ".weights"), *exe_tmp = concat(out, ".tmp");
    int rc = codegen_emit(g, m, c_path, h_path, w_path, d);
    if (rc == 0 && validate && check_emitted(c_path, m, d)) {
        remove(w_path);
        rc = -1;
    }
    if (rc == 0) {
        const char *cc = getenv("CC");
        char *argv[] = {(char *)(cc && *cc ? cc : "cc"), "-std=c11", "-O2", "-ffp-contract=off",
                        "-I" M7CC_RUNTIME_INC, "-I" M7CC_SIM_INC, c_path, M7CC_SIM_MAIN, M7CC_SIM_LIB,
                        M7CC_RUNTIME_LIB, "-lpthread", "-lm", "-o", exe_tmp,
                        /* only in a sanitised build of m7cc itself */
                        M7CC_SIM_SANITIZE[0] ? M7CC_SIM_SANITIZE : NULL, NULL};
        int status = run_command(argv, d);
        if (status != 0) {
            if (status > 0)
                ir_diag_add(d, "m7cc: the C compiler failed (exit %d) on the generated program", status);
            rc = -1;
        } else if (rename(exe_tmp, out)) {
            ir_diag_add(d, "m7cc: cannot write '%s': %s", out, strerror(errno));
            rc = -1;
        }
        if (rc)
            remove(w_path);
        remove(exe_tmp);
    }
    remove(c_path);
    remove(h_path);
    rmdir(dir);
    free(stem);
    free(stem2);
    free(c_path);
    free(h_path);
    free(w_path);
    free(exe_tmp);
    return rc;
}

int output_program(const IrGraph *g, const M7Machine *m, const char *out, int validate, IrDiag *d) {
    if (!ends_with(out, ".c"))
        return build_executable(g, m, out, validate, d);
    size_t n = strlen(out) - 2;
    char *stem = ir_xmalloc(n + 1);
    memcpy(stem, out, n);
    stem[n] = 0;
    char *h_path = concat(stem, ".h"), *w_path = concat(stem, ".weights");
    int rc = codegen_emit(g, m, out, h_path, w_path, d);
    if (rc == 0 && validate && check_emitted(out, m, d)) {
        remove(out);
        remove(h_path);
        remove(w_path);
        rc = -1;
    }
    free(stem);
    free(h_path);
    free(w_path);
    return rc;
}
