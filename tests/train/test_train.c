/* test_train.c: one training step (passes/autodiff.c + the training ops of
 * the reference executor) against PyTorch's autograd and torch.optim.SGD,
 * on the models of gen_train_goldens.py: the loss, every parameter's
 * gradient and updated value must match.  Also what training refuses.
 *
 *   test_train MODELS_DIR M7CC SCRATCH_DIR */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_run.h"
#include "eval.h"
#include "frontend.h"
#include "ir.h"
#include "passes.h"
#include "shape.h"
#include "spawn.h"
#include "tensor_file.h"

#define RTOL 1e-4
#define ATOL 1e-6

static const char *models_dir, *m7cc, *scratch;

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

static void test_pytorch(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/cases.txt", models_dir);
    FILE *f = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char name[256], loss[64];
    float lr;
    int n = 0;
    while (fscanf(f, "%255s %63s %f", name, loss, &lr) == 3) {
        CU_ASSERT_EQUAL(run_case(name, loss, lr), 0);
        n++;
    }
    fclose(f);
    CU_ASSERT(n >= 3);
}

/* Runs m7cc with the given arguments (NULL-terminated); its result in r. */
static void run_m7cc(SpawnResult *r, const char *const *args) {
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)m7cc;
    for (; *args && n < 31; args++)
        argv[n++] = (char *)*args;
    argv[n] = NULL;
    CU_ASSERT_EQUAL_FATAL(spawn_run(argv, scratch, r), 0);
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
    run_m7cc(&r, (const char *[]){model, "--train", "-o", prog, NULL});
    CU_ASSERT_EQUAL(r.status, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "not implemented yet"));
    spawn_result_free(&r);
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
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODELS_DIR M7CC SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    models_dir = argv[1];
    m7cc = argv[2];
    scratch = argv[3];
    static const TestCase tests[] = {
        {"one SGD step against PyTorch", test_pytorch},
        {"refusals", test_refusals},
        {"layers without a backward", test_unsupported},
        {NULL, NULL},
    };
    return cunit_run("train", tests);
}
