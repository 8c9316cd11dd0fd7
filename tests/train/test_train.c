/* test_train.c: one training step (passes/autodiff.c + the training ops of
 * the reference executor) against PyTorch's autograd and torch.optim.SGD,
 * on the models of gen_train_goldens.py: the loss, every parameter's
 * gradient and updated value must match; then the same step compiled with
 * `m7cc --train -o` and run on the simulator (every output --expect'ed).
 * The steps of reference models (tests/models) with no PyTorch goldens run
 * on the simulator against the reference executor.  Also what training
 * refuses.
 *
 *   test_train MODELS_DIR M7CC SCRATCH_DIR KNOWN_LIMITS */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/common/cunit_run.h"
#include "ir/eval.h"
#include "frontend/frontend.h"
#include "ir/ir.h"
#include "passes/passes.h"
#include "ir/shape.h"
#include "tests/common/spawn.h"
#include "runtime/tensor_file.h"

#define RTOL 1e-4
#define ATOL 1e-6

static const char *models_dir, *m7cc, *scratch, *known_limits;

/* Frontend, checks, canonicalisation, autodiff: the driver's --train path. */
static IrGraph *train_graph(const char *model, IrLossKind loss, float lr, IrDiag *d) {
    FrontendOptions fo = {0};
    IrGraph *g = frontend_load_onnx(model, &fo, d);
    TrainOptions to = {.loss = loss, .lr = lr};
    if (g && (ir_infer_shapes(g, d) || passes_train_prepare(g, d) || passes_canonicalize(g, d) ||
              passes_autodiff(g, &to, d))) {
        ir_graph_free(g);
        g = NULL;
    }
    return g;
}

static int read_tensor(const char *dir, const char *name, M7Tensor *t) {
    char path[2400], err[512];
    snprintf(path, sizeof path, "%.1100s/%.1200s.pb", dir, name);
    if (m7_tensor_read(path, t, err, sizeof err) == 0)
        return 0;
    fprintf(stderr, "\n  %s\n", err);
    return -1;
}

/* Runs one case of cases.txt; returns the number of mismatching outputs. */
static int run_case(const char *name, const char *loss, float lr) {
    char dir[1100], model[1200];
    snprintf(dir, sizeof dir, "%.800s/%.250s", models_dir, name);
    snprintf(model, sizeof model, "%s/model.onnx", dir);
    IrDiag d = {0};
    IrGraph *g = train_graph(model, strcmp(loss, "mse") ? IR_LOSS_CROSS_ENTROPY : IR_LOSS_MSE, lr, &d);
    ir_diag_print(&d, stderr);
    ir_diag_free(&d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    /* inputs: the model's, then the target */
    M7Tensor in[2] = {{0}};
    int bad = g->n_inputs != 2 || read_tensor(dir, "input", &in[0]) || read_tensor(dir, "target", &in[1]);
    CU_ASSERT_FALSE(bad);
    float **out = calloc((size_t)g->n_outputs, sizeof *out);
    if (!bad) {
        const float *ins[2] = {in[0].f32, in[1].f32};
        IrDiag e = {0};
        bad = ir_eval(g, ins, out, &e);
        ir_diag_print(&e, stderr);
        ir_diag_free(&e);
        CU_ASSERT_EQUAL(bad, 0);
    }
    int mismatches = 0, n_params = (g->n_outputs - 1) / 2;
    double worst = 0;
    for (int k = 0; !bad && k < g->n_outputs; k++) {
        const IrTensor *t = &g->t[g->outputs[k]];
        M7Tensor want = {0};
        if (read_tensor(dir, t->name, &want)) {
            mismatches++;
            continue;
        }
        M7Tensor got = want;
        got.f32 = out[k];
        char rep[512];
        if (got.numel != ir_numel(t) || m7_tensor_compare(&got, &want, RTOL, ATOL, rep, sizeof rep)) {
            fprintf(stderr, "\n  %s: %s: %s\n", name, t->name, got.numel != ir_numel(t) ? "wrong size" : rep);
            mismatches++;
        }
        for (int64_t i = 0; i < want.numel; i++) {
            double e = fabs((double)out[k][i] - want.f32[i]) / (fabs(want.f32[i]) + 1e-3);
            worst = e > worst ? e : worst;
        }
        m7_tensor_free(&want);
    }
    /* every parameter of the golden has an output: count the .grad files */
    char list[1200];
    snprintf(list, sizeof list, "%s/meta.txt", dir);
    FILE *f = fopen(list, "r");
    int golden_params = 0;
    char line[2048];
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "sgd: ", 5))
            for (char *p = strstr(line, "parameters: "); p && *p; p++)
                golden_params += *p == ',' || *p == '\n';
    if (f)
        fclose(f);
    CU_ASSERT_EQUAL(n_params, golden_params);
    printf("\n  %-18s %d parameters, %d outputs, worst relative error %.2g", name, n_params, g->n_outputs, worst);
    for (int k = 0; k < g->n_outputs; k++)
        free(out[k]);
    free(out);
    m7_tensor_free(&in[0]);
    m7_tensor_free(&in[1]);
    ir_graph_free(g);
    return mismatches;
}

/* A line of models/cases.txt: NAME LOSS LR. */
typedef struct {
    char name[256], loss[64], lr[64];
} TrainCase;

/* Reads cases.txt into c (at most max); returns the count (-1 if unreadable). */
static int read_cases(TrainCase *c, int max) {
    char path[1024];
    snprintf(path, sizeof path, "%s/cases.txt", models_dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int n = 0;
    while (n < max && fscanf(f, "%255s %63s %63s", c[n].name, c[n].loss, c[n].lr) == 3)
        n++;
    fclose(f);
    return n;
}

static void test_pytorch(void) {
    TrainCase c[32];
    int n = read_cases(c, 32);
    CU_ASSERT(n >= 3);
    for (int i = 0; i < n; i++)
        CU_ASSERT_EQUAL(run_case(c[i].name, c[i].loss, (float)atof(c[i].lr)), 0);
}

/* Runs m7cc with the given arguments (NULL-terminated); its result in r. */
static void run_m7cc(SpawnResult *r, const char *const *args) {
    char *argv[160];
    int n = 0;
    argv[n++] = (char *)m7cc;
    for (; *args && n < 159; args++)
        argv[n++] = (char *)*args;
    argv[n] = NULL;
    CU_ASSERT_EQUAL_FATAL(spawn_run(argv, scratch, r), 0);
}

/* The substring of the refusal known_limits.txt expects of case `name`
 * (compiling its step for the machine), or NULL. */
static char *known_limit(const char *name, char *buf, size_t n) {
    FILE *f = fopen(known_limits, "r");
    char line[1024];
    char *hit = NULL;
    while (!hit && f && fgets(line, sizeof line, f)) {
        size_t k = strlen(name);
        if (line[0] == '#' || strncmp(line, name, k) || line[k] != ' ')
            continue;
        line[strcspn(line, "\n")] = 0;
        snprintf(buf, n, "%s", line + k + 1);
        hit = buf;
    }
    if (f)
        fclose(f);
    return hit;
}

/* Compiles the step of `model` and runs it on the simulator with inputs
 * x and t, expecting want[k] for output k; 0 if every output matches. */
static int run_on_machine(const char *name, const char *model, const char *loss, const char *lr, const char *x,
                          const char *t, char **want, int n_out) {
    char prog[1200];
    snprintf(prog, sizeof prog, "%s/step_%s", scratch, name);
    SpawnResult r;
    run_m7cc(&r, (const char *[]){model, "--train", "--loss", loss, "--lr", lr, "-o", prog, NULL});
    char lim[512], *expect = known_limit(name, lim, sizeof lim);
    if (expect) { /* a known refusal: it must still be one, naming the layer */
        CU_ASSERT_EQUAL(r.status, 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(r.err, expect));
        CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "layer '"));
        printf("\n  %-18s refused as known: %s", name, expect);
        spawn_result_free(&r);
        return 0;
    }
    if (r.status)
        fprintf(stderr, "\n  %s: m7cc: %s", name, r.err);
    CU_ASSERT_EQUAL(r.status, 0);
    int bad = r.status != 0;
    spawn_result_free(&r);
    if (bad)
        return 1;
    char **argv = calloc((size_t)(2 * n_out + 8), sizeof *argv);
    int n = 0;
    argv[n++] = prog, argv[n++] = "-i", argv[n++] = (char *)x, argv[n++] = "-i", argv[n++] = (char *)t;
    argv[n++] = "--quiet";
    for (int k = 0; k < n_out; k++)
        argv[n++] = "--expect", argv[n++] = want[k];
    CU_ASSERT_EQUAL_FATAL(spawn_run(argv, scratch, &r), 0);
    if (r.status)
        fprintf(stderr, "\n  %s on the simulator: %s", name, r.err);
    CU_ASSERT_EQUAL(r.status, 0);
    bad = r.status != 0;
    if (!bad)
        printf("\n  %-18s on the simulator: %d outputs match", name, n_out);
    spawn_result_free(&r);
    free(argv);
    return bad;
}

/* The PyTorch cases compiled for the machine. */
static void test_machine(void) {
    TrainCase c[32];
    int n = read_cases(c, 32);
    CU_ASSERT(n >= 3);
    for (int i = 0; i < n; i++) {
        const char *name = c[i].name, *loss = c[i].loss, *lr = c[i].lr;
        char dir[1100], model[1200], x[1200], t[1200];
        snprintf(dir, sizeof dir, "%.800s/%.250s", models_dir, name);
        snprintf(model, sizeof model, "%s/model.onnx", dir);
        snprintf(x, sizeof x, "%s/input.pb", dir);
        snprintf(t, sizeof t, "%s/target.pb", dir);
        IrDiag d = {0};
        IrGraph *g = train_graph(model, strcmp(loss, "mse") ? IR_LOSS_CROSS_ENTROPY : IR_LOSS_MSE, (float)atof(lr), &d);
        ir_diag_free(&d);
        CU_ASSERT_PTR_NOT_NULL_FATAL(g);
        char **want = calloc((size_t)g->n_outputs, sizeof *want);
        for (int k = 0; k < g->n_outputs; k++) {
            want[k] = malloc(2400);
            snprintf(want[k], 2400, "%s/%s.pb", dir, g->t[g->outputs[k]].name);
        }
        CU_ASSERT_EQUAL(run_on_machine(name, model, loss, lr, x, t, want, g->n_outputs), 0);
        for (int k = 0; k < g->n_outputs; k++)
            free(want[k]);
        free(want);
        ir_graph_free(g);
    }
}

/* Reference models of tests/models and the models of gen_machine_models.py:
 * a one-hot target, the reference executor's step (--interpret) as the
 * expected outputs. */
static void test_machine_models(void) {
    static const char *names[] = {"lenet5", "vgg_cifar", "residual", "mlp64", "mlp48", "strided", "wide"};
    for (int i = 0; i < 7; i++) {
        char model[1200], x[1200], t[1200];
        if (i < 3) {
            snprintf(model, sizeof model, "%s/../../models/%s/model.onnx", models_dir, names[i]);
            snprintf(x, sizeof x, "%s/../../models/%s/input_0.pb", models_dir, names[i]);
        } else {
            snprintf(model, sizeof model, "%s/%s/model.onnx", models_dir, names[i]);
            snprintf(x, sizeof x, "%s/%s/input.pb", models_dir, names[i]);
        }
        snprintf(t, sizeof t, "%s/target_%s.pb", scratch, names[i]);
        IrDiag d = {0};
        IrGraph *g = train_graph(model, IR_LOSS_CROSS_ENTROPY, 0.05f, &d);
        ir_diag_print(&d, stderr);
        ir_diag_free(&d);
        CU_ASSERT_PTR_NOT_NULL_FATAL(g);
        const IrTensor *tt = &g->t[g->inputs[1]];
        M7Tensor tgt = {.name = "target", .elem_type = M7_ELEM_FLOAT, .rank = tt->rank, .numel = ir_numel(tt)};
        for (int k = 0; k < tt->rank; k++)
            tgt.dims[k] = tt->dims[k];
        tgt.f32 = calloc((size_t)tgt.numel, sizeof(float));
        int64_t classes = tt->dims[tt->rank - 1];
        for (int64_t r = 0; r < tgt.numel / classes; r++) /* label r * 7 mod K */
            tgt.f32[r * classes + (r * 7) % classes] = 1.0f;
        char err[256];
        CU_ASSERT_EQUAL_FATAL(m7_tensor_write(t, &tgt, err, sizeof err), 0);
        free(tgt.f32);
        char **want = calloc((size_t)g->n_outputs, sizeof *want);
        const char *args[16 + 2 * 64];
        int n = 0;
        args[n++] = model, args[n++] = "--train", args[n++] = "--lr", args[n++] = "0.05", args[n++] = "--interpret";
        args[n++] = "-i", args[n++] = x, args[n++] = "-i", args[n++] = t;
        for (int k = 0; k < g->n_outputs && k < 64; k++) {
            want[k] = malloc(1400);
            snprintf(want[k], 1400, "%s/ref_%s_%d.pb", scratch, names[i], k);
            args[n++] = "-o", args[n++] = want[k];
        }
        args[n] = NULL;
        CU_ASSERT_FATAL(g->n_outputs <= 64);
        SpawnResult r;
        run_m7cc(&r, args);
        CU_ASSERT_EQUAL(r.status, 0);
        spawn_result_free(&r);
        CU_ASSERT_EQUAL(run_on_machine(names[i], model, "cross-entropy", "0.05", x, t, want, g->n_outputs), 0);
        for (int k = 0; k < g->n_outputs; k++)
            free(want[k]);
        free(want);
        ir_graph_free(g);
    }
}

/* What training refuses, through the command line: each message names the
 * problem, the exit status says which kind, and no -o file is left. */
static void test_refusals(void) {
    char model[1024], in[1024], tgt[1024], loss[1024], prog[1024];
    snprintf(model, sizeof model, "%s/gap_mse/model.onnx", models_dir);
    snprintf(in, sizeof in, "%s/gap_mse/input.pb", models_dir);
    snprintf(tgt, sizeof tgt, "%s/gap_mse/target.pb", models_dir);
    snprintf(loss, sizeof loss, "%s/loss.pb", scratch);
    snprintf(prog, sizeof prog, "%s/prog.c", scratch);
    SpawnResult r;
    remove(loss);
    run_m7cc(&r, (const char *[]){model, "--train", "--loss", "mse", "--interpret", "-i", in, "-i", in, "-o", loss,
                                  NULL}); /* the input given as the target */
    CU_ASSERT_EQUAL(r.status, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "target"));
    FILE *f = fopen(loss, "rb");
    CU_ASSERT_PTR_NULL(f);
    if (f)
        fclose(f);
    spawn_result_free(&r);
    /* the second -o cannot be written: the first is not left behind */
    run_m7cc(&r, (const char *[]){model, "--train", "--loss", "mse", "--interpret", "-i", in, "-i", tgt, "-o", loss,
                                  "-o", "/nonexistent-dir/w.pb", NULL});
    CU_ASSERT_EQUAL(r.status, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "/nonexistent-dir/w.pb"));
    f = fopen(loss, "rb");
    CU_ASSERT_PTR_NULL(f);
    if (f)
        fclose(f);
    spawn_result_free(&r);
    /* overlapping pooling windows: no backward on the machine yet */
    snprintf(model, sizeof model, "%s/refuse_overlap_pool/model.onnx", models_dir);
    run_m7cc(&r, (const char *[]){model, "--train", "-o", prog, NULL});
    CU_ASSERT_EQUAL(r.status, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "'/pool/MaxPool:maxpool_grad'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "overlapping pooling windows"));
    FILE *pf = fopen(prog, "r");
    CU_ASSERT_PTR_NULL(pf);
    if (pf)
        fclose(pf);
    spawn_result_free(&r);
    snprintf(model, sizeof model, "%s/gap_mse/model.onnx", models_dir);
    run_m7cc(&r, (const char *[]){model, "--lr", "0.1", NULL});
    CU_ASSERT_EQUAL(r.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "options of --train"));
    spawn_result_free(&r);
    run_m7cc(&r, (const char *[]){model, "--train", "--loss", "hinge", NULL});
    CU_ASSERT_EQUAL(r.status, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "cross-entropy or mse"));
    spawn_result_free(&r);
    /* gap_mse's output is [N, 5] after Tanh: cross-entropy is allowed; 1-D
     * output of the seq1d model too; the whole path runs */
    run_m7cc(&r, (const char *[]){model, "--train", "--loss", "mse", "--lr", "0.05", "--interpret", "-i", in, "-i",
                                  tgt, "-o", loss, NULL});
    CU_ASSERT_EQUAL(r.status, 0);
    f = fopen(loss, "rb");
    CU_ASSERT_PTR_NOT_NULL(f);
    if (f)
        fclose(f);
    spawn_result_free(&r);
    remove(loss);
}

/* Layers without a backward are all listed, by name and op. */
static void test_unsupported(void) {
    char model[1024];
    snprintf(model, sizeof model, "%s/../../models/odd_shapes/model.onnx", models_dir);
    SpawnResult r;
    run_m7cc(&r, (const char *[]){model, "--train", "--dump-ir", NULL});
    CU_ASSERT_EQUAL(r.status, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "(LRN)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "(Concat) has no backward"));
    spawn_result_free(&r);
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s MODELS_DIR M7CC SCRATCH_DIR KNOWN_LIMITS\n", argv[0]);
        return 2;
    }
    models_dir = argv[1];
    m7cc = argv[2];
    scratch = argv[3];
    known_limits = argv[4];
    static const TestCase tests[] = {
        {"one SGD step against PyTorch", test_pytorch},
        {"the step compiled and run on the simulator", test_machine},
        {"reference models' steps on the simulator", test_machine_models},
        {"refusals", test_refusals},
        {"layers without a backward", test_unsupported},
        {NULL, NULL},
    };
    return cunit_run("train", tests);
}
