/* main.c: the m7cc command.  It parses options and runs the stages in
 * order: frontend -> shape inference -> canonicalisation -> (backend ->
 * codegen | reference executor | IR dump).  Every stage reports problems
 * through an IrDiag; the driver prints them and exits 1.  Usage errors
 * exit 2. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "driver/cli.h"
#include "ir/dump.h"
#include "ir/eval.h"
#include "frontend/frontend.h"
#include "ir/ir.h"
#include "runtime/m7_machine.h"
#include "driver/output.h"
#include "passes/passes.h"
#include "ir/shape.h"
#include "runtime/tensor_file.h"
#include "validate/validate.h"

#ifndef M7CC_VERSION
#define M7CC_VERSION "unknown"
#endif

static const char usage_text[] =
    "usage: m7cc MODEL.onnx [options]\n"
    "\n"
    "Compiles a CNN in ONNX form for the M7004 vector DSP.\n"
    "\n"
    "Modes (default: compile the model, print a summary, write nothing):\n"
    "  -o NAME.c            write the program NAME.c, its header NAME.h and its\n"
    "                       weights NAME.weights\n"
    "  -o NAME              build the executable NAME (host C compiler $CC or cc,\n"
    "                       linked with the M7004 simulator) and NAME.weights\n"
    "  --dump-ir            print the layer IR after the passes, with every decision\n"
    "  --interpret          run the model on the host with the reference executor;\n"
    "                       -i FILE once per graph input (in graph order) and\n"
    "                       -o FILE once per graph output (.pb TensorProto or .npy)\n"
    "\n"
    "Options:\n"
    "  -i FILE              an input tensor for --interpret\n"
    "  -o FILE              with --interpret: an output tensor\n"
    "  --batch N            set the batch (first) dimension of every graph input\n"
    "  --machine K=V,...    override machine parameters (see docs/machine.md)\n"
    "  --machine-file FILE  read machine parameters from FILE (key = value lines)\n"
    "  --no-double-buffer   conv DMA does not overlap compute (one buffer per\n"
    "                       stream; to measure what double buffering buys)\n"
    "  --no-weight-sharing  every core reads its conv weights from DDR itself\n"
    "                       instead of one broadcast to all cores\n"
    "  --no-validate        do not check the emitted C with libclang\n"
    "  --validate FILE.c    check a C file written against runtime/m7rt.h (clang\n"
    "                       diagnostics and the device rules of docs/validate.md)\n"
    "                       for the machine given by --machine; no model\n"
    "  --no-canonicalize    skip the canonicalisation passes (for debugging)\n"
    "\n"
    "Training (docs/training.md; -o NAME compiles the step for the M7004):\n"
    "  --train              one training step: the loss against a new graph input\n"
    "                       `target`, backward layers, an SGD update of every conv\n"
    "                       and FC weight and bias (and BatchNormalization scale\n"
    "                       and bias).  Outputs: the loss, the updated\n"
    "                       parameters, then their gradients; with --interpret the\n"
    "                       -o files are written for the first outputs in that order\n"
    "  --loss L             cross-entropy (softmax over [N, K] logits, one-hot or\n"
    "                       probability targets; the default) or mse; both a mean\n"
    "  --lr X               SGD learning rate (default 0.01)\n"
    "  -h, --help           show this text\n"
    "  --version            show the version\n"
    "\n"
    "Exit status: 0 on success, 1 when the model or an input file has a problem\n"
    "(every problem is listed), 2 on a usage error.\n";

/* Reads the input tensors and checks them against the graph's inputs. */
static int read_inputs(const IrGraph *g, const CliOptions *o, M7Tensor *in, IrDiag *d) {
    if (o->n_inputs != g->n_inputs) {
        ir_diag_add(d, "m7cc: the model has %d graph input(s) but %d -i file(s) were given", g->n_inputs,
                    o->n_inputs);
        return -1;
    }
    int bad = 0;
    for (int k = 0; k < g->n_inputs; k++) {
        char err[512];
        const IrTensor *t = &g->t[g->inputs[k]];
        if (m7_tensor_read(o->inputs[k], &in[k], err, sizeof err)) {
            ir_diag_add(d, "m7cc: %s", err);
            bad = 1;
            continue;
        }
        int same = in[k].elem_type == M7_ELEM_FLOAT && in[k].rank == t->rank;
        for (int r = 0; same && r < t->rank; r++)
            same = in[k].dims[r] == t->dims[r];
        if (!same) {
            char want[160], got[160];
            cli_format_dims(want, sizeof want, t->rank, t->dims);
            cli_format_dims(got, sizeof got, in[k].rank, in[k].dims);
            ir_diag_add(d, "m7cc: %s: input '%s' must be a float tensor of shape %s; the file holds %s%s",
                        o->inputs[k], t->name, want, in[k].elem_type == M7_ELEM_FLOAT ? "float " : "int64 ",
                        got);
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}

static int interpret(const IrGraph *g, const CliOptions *o, IrDiag *d) {
    if (o->train && (o->n_outputs < 1 || o->n_outputs > g->n_outputs)) {
        ir_diag_add(d, "m7cc: the training step has %d outputs (the loss, %d updated parameters, their "
                       "gradients); give 1 to %d -o files", g->n_outputs, (g->n_outputs - 1) / 2, g->n_outputs);
        return -1;
    }
    if (!o->train && o->n_outputs != g->n_outputs) {
        ir_diag_add(d, "m7cc: the model has %d graph output(s) but %d -o file(s) were given", g->n_outputs,
                    o->n_outputs);
        return -1;
    }
    M7Tensor *in = ir_xcalloc((size_t)g->n_inputs + 1, sizeof *in);
    const float **in_data = ir_xcalloc((size_t)g->n_inputs + 1, sizeof *in_data);
    float **out_data = ir_xcalloc((size_t)g->n_outputs + 1, sizeof *out_data);
    int rc = read_inputs(g, o, in, d);
    for (int k = 0; rc == 0 && k < g->n_inputs; k++)
        in_data[k] = in[k].f32;
    if (rc == 0)
        rc = ir_eval(g, in_data, out_data, d);
    for (int k = 0; rc == 0 && k < o->n_outputs; k++) {
        const IrTensor *t = &g->t[g->outputs[k]];
        M7Tensor out = {.name = t->name, .elem_type = M7_ELEM_FLOAT, .rank = t->rank,
                        .numel = ir_numel(t), .f32 = out_data[k]};
        if (!out_data[k]) /* an INT64 constant (ir_eval) */
            out.elem_type = M7_ELEM_INT64, out.i64 = t->i64;
        memcpy(out.dims, t->dims, sizeof out.dims);
        char err[512];
        if (m7_tensor_write(o->outputs[k], &out, err, sizeof err)) {
            ir_diag_add(d, "m7cc: %s", err);
            rc = -1;
            for (int j = 0; j < k; j++) /* all the outputs or none */
                remove(o->outputs[j]);
        }
    }
    for (int k = 0; k < g->n_inputs; k++)
        m7_tensor_free(&in[k]);
    for (int k = 0; k < g->n_outputs; k++)
        free(out_data[k]);
    free(in);
    free(in_data);
    free(out_data);
    return rc;
}

/* The default mode: what the compilation would produce, in a few lines. */
static void print_summary(const IrGraph *g, const M7Machine *m, const char *model) {
    BkProgram p;
    bk_program(g, &p);
    int layers = 0;
    int64_t flops = 0;
    for (int i = 0; i < g->n_l; i++)
        if (!g->l[i].dead) {
            layers++;
            flops += ir_layer_flops(g, &g->l[i]);
        }
    double peak = m7_machine_peak_flops_per_cycle(m) * m->cores;
    printf("%s: %d layers, %.3f GFLOP, weights %.1f MB, DDR %.1f MB (activations %.1f MB after reuse)\n",
           model, layers, flops / 1e9, p.weights_bytes / 1e6, p.ddr_bytes / 1e6, p.act_peak / 1e6);
    printf("predicted: %.0f cycles (%.3f ms at %.2f GHz), efficiency %.1f%% on %d cores\n", p.cyc_pred,
           p.cyc_pred / (m->clock_ghz * 1e6), m->clock_ghz,
           p.cyc_pred > 0 ? 100.0 * flops / (p.cyc_pred * peak) : 0.0, m->cores);
    printf("nothing written: give -o NAME.c (C, header, weights) or -o NAME (executable)\n");
}

static int load_machine(const CliOptions *o, M7Machine *m, IrDiag *d) {
    char err[512];
    m7_machine_default(m);
    if (o->machine_file && m7_machine_apply_file(m, o->machine_file, err, sizeof err)) {
        ir_diag_add(d, "m7cc: %s", err);
        return -1;
    }
    if (o->machine && m7_machine_apply_list(m, o->machine, err, sizeof err)) {
        ir_diag_add(d, "m7cc: --machine: %s", err);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    CliOptions o;
    if (cli_parse(argc, argv, &o, stderr))
        return 2;
    if (o.help) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (o.version) {
        printf("m7cc %s\n", M7CC_VERSION);
        return 0;
    }

    IrDiag d = {0};
    M7Machine machine;
    IrGraph *g = NULL;
    int rc = load_machine(&o, &machine, &d);
    if (o.validate) {
        if (rc == 0) {
            ValidateLimits lim;
            validate_limits(&lim, &machine);
            lim.runtime_include = M7CC_RUNTIME_INC;
            rc = validate_c_file(o.validate, &lim, stderr);
            if (rc == 0)
                printf("%s: clean\n", o.validate);
        }
        ir_diag_print(&d, stderr);
        ir_diag_free(&d);
        return rc ? 1 : 0;
    }
    if (rc == 0) {
        FrontendOptions fo = {.batch = o.batch};
        g = frontend_load_onnx(o.model, &fo, &d);
        rc = g ? 0 : -1;
    }
    if (rc == 0)
        rc = ir_infer_shapes(g, &d);
    if (rc == 0 && o.train)
        rc = passes_train_prepare(g, &d);
    if (rc == 0 && !o.no_canon)
        rc = passes_canonicalize(g, &d);
    if (rc == 0 && o.train) {
        TrainOptions to = {.loss = (IrLossKind)o.loss, .lr = o.lr};
        rc = passes_autodiff(g, &to, &d);
    }
    if (rc == 0 && o.interpret) {
        rc = interpret(g, &o, &d);
    } else if (rc == 0) { /* inference, or the training step (backend/map_train.c) */
        BkOptions bo;
        bk_options_default(&bo);
        bo.double_buffer = !o.no_double_buffer;
        bo.weight_sharing = !o.no_weight_sharing;
        rc = backend_run_opts(g, &machine, &bo, &d);
        if (rc == 0 && o.dump_ir)
            ir_dump(g, stdout);
        if (rc == 0 && o.out)
            rc = output_program(g, &machine, o.out, !o.no_validate, &d);
        if (rc == 0 && !o.out && !o.dump_ir)
            print_summary(g, &machine, o.model);
    }

    ir_diag_print(&d, stderr);
    ir_diag_free(&d);
    ir_graph_free(g);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "m7cc: writing the output failed: %s\n", strerror(errno));
        return 1;
    }
    return rc ? 1 : 0;
}
