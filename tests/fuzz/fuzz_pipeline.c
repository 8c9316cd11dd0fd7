/* fuzz_pipeline.c: what the ONNX fuzz targets do with a model's bytes.
 *
 * Bytes -> frontend (protobuf parse, import, shape inference) ->
 * canonicalisation -> backend (default machine) -> IR dump -> C written to
 * a scratch folder (not validated with libclang: too slow per input), with
 * the reference executor run before and after canonicalisation on graphs
 * small enough to take a few milliseconds.  Besides crashes and sanitizer
 * reports, it aborts when a documented promise is broken:
 *   - a rejected model (or failed stage) leaves at least one message;
 *   - a canonicalised graph passes passes_verify;
 *   - canonicalising twice changes nothing the second time;
 *   - the executor gives the same outputs before and after canonicalisation;
 *   - a training step (--train, MSE) that autodiff builds passes passes_verify
 *     and, when small, runs in the executor. */
#include "tests/fuzz/fuzz_pipeline.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend/backend.h"
#include "codegen/codegen.h"
#include "ir/dump.h"
#include "ir/eval.h"
#include "frontend/frontend.h"
#include "tests/fuzz/fuzz_scratch.h"
#include "passes/passes.h"

/* The executor runs only below these (fuzzed shapes can ask for gigabytes). */
#define EVAL_MAX_ELEMS (1 << 18)
#define EVAL_MAX_FLOPS (INT64_C(1) << 24)
/* The backend's tile search costs about (DMA transfers x candidates) per
 * layer, so a 16M-row image takes seconds: fine for a compiler, too slow
 * for a fuzzer (under ASan, on a CI machine half as fast as a developer's,
 * a graph near 2^24 elements took 13 s and tripped -timeout). */
#define BACKEND_MAX_ELEMS (1 << 22)
#define BACKEND_MAX_FLOPS (INT64_C(1) << 26)

static void check(int ok, const char *what, const IrDiag *d) {
    if (ok)
        return;
    fprintf(stderr, "fuzz: broken promise: %s\n", what);
    if (d)
        ir_diag_print(d, stderr);
    abort();
}

static int small_enough(const IrGraph *g, int64_t max_elems, int64_t max_flops) {
    int64_t elems = 0, flops = 0;
    for (int i = 0; i < g->n_t; i++) {
        int64_t n = ir_numel(&g->t[i]);
        if (n < 0 || ir_add_i64(elems, n, &elems) || elems > max_elems)
            return 0;
    }
    for (int i = 0; i < g->n_l; i++) {
        int64_t f = g->l[i].dead ? 0 : ir_layer_flops(g, &g->l[i]);
        if (f < 0 || ir_add_i64(flops, f, &flops) || flops > max_flops)
            return 0;
    }
    return 1;
}

/* Runs the executor on deterministic inputs and returns the outputs
 * (caller frees with free_outputs), or NULL after checking it said why. */
static float **run_eval(const IrGraph *g) {
    float **in = ir_xcalloc((size_t)g->n_inputs + 1, sizeof *in);
    float **out = ir_xcalloc((size_t)g->n_outputs + 1, sizeof *out);
    for (int k = 0; k < g->n_inputs; k++) {
        int64_t n = ir_numel(&g->t[g->inputs[k]]);
        in[k] = ir_xmalloc((size_t)(n > 0 ? n : 1) * sizeof(float));
        for (int64_t i = 0; i < n; i++)
            in[k][i] = (float)((i * 37 + k) % 101) / 50.0f - 1.0f;
    }
    IrDiag d = {0};
    int rc = ir_eval(g, (const float *const *)in, out, &d);
    check(rc == 0 || d.n > 0, "ir_eval failed without a message", &d);
    for (int k = 0; k < g->n_inputs; k++)
        free(in[k]);
    free(in);
    ir_diag_free(&d);
    if (rc) {
        free(out);
        return NULL;
    }
    return out;
}

static void free_outputs(const IrGraph *g, float **out) {
    for (int k = 0; out && k < g->n_outputs; k++)
        free(out[k]);
    free(out);
}

/* The passes must not change what the graph computes: outputs before and
 * after agree to rounding (folding BatchNorm reassociates), measured against
 * the largest magnitude of each output.  Non-finite elements are skipped. */
static void compare_outputs(const IrGraph *g, float **ref, float **got) {
    for (int k = 0; k < g->n_outputs; k++) {
        int64_t n = ir_numel(&g->t[g->outputs[k]]);
        double scale = 0;
        if (!ref[k] || !got[k]) { /* an INT64 constant (ir_eval): its value is folded */
            check(!ref[k] && !got[k], "an output became INT64 or stopped being so", NULL);
            continue;
        }
        for (int64_t i = 0; i < n; i++)
            if (isfinite(ref[k][i]) && fabs(ref[k][i]) > scale)
                scale = fabs(ref[k][i]);
        for (int64_t i = 0; i < n; i++) {
            if (!isfinite(ref[k][i]) || !isfinite(got[k][i]))
                continue;
            if (fabs((double)ref[k][i] - got[k][i]) > 1e-4 * (1 + scale)) {
                fprintf(stderr, "fuzz: output %d element %lld: %g before the passes, %g after\n", k,
                        (long long)i, ref[k][i], got[k][i]);
                check(0, "canonicalisation changed the result", NULL);
            }
        }
    }
}

/* Backend and code generation on the default machine; the IR dump in
 * between shows the backend's annotations. */
static void run_backend(IrGraph *g, FILE *null_out) {
    static M7Machine machine;
    if (!machine.cores)
        m7_machine_default(&machine);
    IrDiag d = {0};
    int rc = backend_run(g, &machine, &d);
    check(rc == 0 || d.n > 0, "backend failed without a message", &d);
    /* As in the driver, only a complete plan is dumped (after a failure the
     * annotations stop where the backend did). */
    if (rc == 0) {
        ir_dump(g, null_out);
        rc = codegen_emit(g, &machine, fuzz_scratch("prog.c"), fuzz_scratch("prog.h"),
                          fuzz_scratch("prog.weights"), &d);
        check(rc == 0 || d.n > 0, "codegen failed without a message", &d);
    }
    ir_diag_free(&d);
}

/* The --train path on a fresh load of the same bytes. */
static void run_training(const uint8_t *data, size_t size, const FrontendOptions *opt) {
    IrDiag d = {0};
    IrGraph *g = frontend_load_onnx_buffer(data, size, "/nonexistent-fuzz-dir/input.onnx", opt, &d);
    TrainOptions to = {.loss = IR_LOSS_MSE, .lr = 0.01f};
    int rc = g ? passes_train_prepare(g, &d) : -1;
    if (rc == 0)
        rc = passes_canonicalize(g, &d);
    if (rc == 0) {
        rc = passes_autodiff(g, &to, &d);
        check(rc == 0 || d.n > 0, "autodiff failed without a message", &d);
    }
    if (rc == 0) {
        check(passes_verify(g, &d) == 0, "the training graph fails passes_verify", &d);
        if (small_enough(g, EVAL_MAX_ELEMS, EVAL_MAX_FLOPS))
            free_outputs(g, run_eval(g));
    }
    ir_graph_free(g);
    ir_diag_free(&d);
}

static int live_layers(const IrGraph *g) {
    int live = 0;
    for (int i = 0; i < g->n_l; i++)
        live += !g->l[i].dead;
    return live;
}

void fuzz_onnx_pipeline(const uint8_t *data, size_t size, int64_t batch) {
    static FILE *null_out;
    if (!null_out && !(null_out = fopen("/dev/null", "w")))
        abort();
    IrDiag d = {0};
    /* A directory that does not exist: external data never reads real files. */
    FrontendOptions opt = {.batch = batch};
    IrGraph *g = frontend_load_onnx_buffer(data, size, "/nonexistent-fuzz-dir/input.onnx", &opt, &d);
    check(g || d.n > 0, "model rejected without a message", &d);
    int small = g && small_enough(g, EVAL_MAX_ELEMS, EVAL_MAX_FLOPS);
    float **ref = small ? run_eval(g) : NULL;
    if (g) {
        int rc = passes_canonicalize(g, &d);
        check(rc == 0 || d.n > 0, "canonicalisation failed without a message", &d);
        if (rc == 0) {
            check(passes_verify(g, &d) == 0, "canonicalised graph fails passes_verify", &d);
            /* Fixed point: a second round finds nothing to rewrite. */
            int live = live_layers(g);
            check(passes_canonicalize(g, &d) == 0, "second canonicalisation failed", &d);
            check(live == live_layers(g), "second canonicalisation changed the graph", &d);
            float **got = small ? run_eval(g) : NULL;
            check(!ref || got, "the executor fails after canonicalisation, not before", &d);
            if (ref && got)
                compare_outputs(g, ref, got);
            free_outputs(g, got);
            if (small_enough(g, BACKEND_MAX_ELEMS, BACKEND_MAX_FLOPS))
                run_backend(g, null_out);
            else
                ir_dump(g, null_out);
        }
        free_outputs(g, ref);
        run_training(data, size, &opt);
    }
    /* M7_FUZZ_VERBOSE=1 shows what each input got (a rejection is not a finding). */
    static int verbose = -1;
    if (verbose < 0)
        verbose = getenv("M7_FUZZ_VERBOSE") != NULL;
    if (verbose) {
        fprintf(stderr, "fuzz: %s\n", g ? "loaded and ran" : "rejected:");
        ir_diag_print(&d, stderr);
    }
    ir_graph_free(g);
    ir_diag_free(&d);
}
