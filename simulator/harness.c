/* harness.c: main() of a generated program on the simulator: machine
 * settings, weights and inputs into DDR, the run, outputs, the report and
 * the comparison with expected outputs.  Exit status: 0 ok, 1 the run
 * stopped on a check or outputs differ from --expect, 2 bad usage/input. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "m7sim.h"
#include "runtime/tensor_file.h"

enum { MAXF = 64 };

typedef struct {
    const char *in[MAXF], *out[MAXF], *expect[MAXF];
    int n_in, n_out, n_expect;
    const char *weights, *machine, *machine_file, *json, *trace;
    double rtol, atol;
    int threads, quiet;
} Options;

static void usage(FILE *f, const char *argv0, const m7_program *p) {
    fprintf(f,
            "usage: %s [options]\n"
            "Runs the compiled model '%s' on the M7004 simulator and prints its timing report.\n"
            "  -i FILE            an input tensor (.pb TensorProto or .npy), once per graph input, in order\n"
            "  -o FILE            write an output (.npy by extension, else .pb), once per output, in order\n"
            "  --expect FILE      compare an output with this tensor, once per output; exit 1 if it differs\n"
            "  --rtol X           relative tolerance of --expect (default 1e-4)\n"
            "  --atol X           absolute tolerance of --expect (default 1e-6)\n"
            "  --weights FILE     the weights file (default: %s)\n"
            "  --machine K=V,...  override machine parameters (after the program's own: \"%s\")\n"
            "  --machine-file F   override machine parameters from a file of key = value lines\n"
            "  --json FILE        also write the report as JSON\n"
            "  --trace FILE       write a Chrome/Perfetto trace (chrome://tracing, ui.perfetto.dev)\n"
            "  --threads N        host threads simulating the cores (default: $M7SIM_THREADS or 2);\n"
            "                     results and cycles do not depend on it\n"
            "  --quiet            no report table\n"
            "  --help             this text\n"
            "Inputs (%d):", argv0, p->name ? p->name : "?", p->weights_file && p->weights_file[0] ? p->weights_file : "(none)",
            p->machine ? p->machine : "", p->n_inputs);
    for (int i = 0; i < p->n_inputs; i++) {
        fprintf(f, " %s[", p->inputs[i].name);
        for (int d = 0; d < p->inputs[i].rank; d++)
            fprintf(f, "%s%lld", d ? "x" : "", (long long)p->inputs[i].dims[d]);
        fprintf(f, "]");
    }
    fprintf(f, "\nOutputs (%d):", p->n_outputs);
    for (int i = 0; i < p->n_outputs; i++)
        fprintf(f, " %s", p->outputs[i].name);
    fprintf(f, "\n");
}

static int parse(int argc, char **argv, const m7_program *p, Options *o) {
    memset(o, 0, sizeof *o);
    o->rtol = 1e-4, o->atol = 1e-6;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout, argv[0], p);
            exit(0);
        }
        if (!strcmp(a, "--quiet")) {
            o->quiet = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "%s: %s needs an argument (see --help)\n", argv[0], a);
            return -1;
        }
        const char *v = argv[++i];
        char *end;
        if (!strcmp(a, "-i") || !strcmp(a, "-o") || !strcmp(a, "--expect")) {
            const char **list = a[1] == 'i' ? o->in : a[1] == 'o' ? o->out : o->expect;
            int *n = a[1] == 'i' ? &o->n_in : a[1] == 'o' ? &o->n_out : &o->n_expect;
            if (*n == MAXF) {
                fprintf(stderr, "%s: too many %s options\n", argv[0], a);
                return -1;
            }
            list[(*n)++] = v;
        } else if (!strcmp(a, "--weights"))
            o->weights = v;
        else if (!strcmp(a, "--machine"))
            o->machine = v;
        else if (!strcmp(a, "--machine-file"))
            o->machine_file = v;
        else if (!strcmp(a, "--json"))
            o->json = v;
        else if (!strcmp(a, "--trace"))
            o->trace = v;
        else if (!strcmp(a, "--rtol") || !strcmp(a, "--atol")) {
            errno = 0;
            double x = strtod(v, &end);
            if (*end || end == v || errno || !(x >= 0)) {
                fprintf(stderr, "%s: %s '%s' is not a non-negative number\n", argv[0], a, v);
                return -1;
            }
            *(a[2] == 'r' ? &o->rtol : &o->atol) = x;
        } else if (!strcmp(a, "--threads")) {
            long n = strtol(v, &end, 10);
            if (*end || end == v || n < 1 || n > 64) {
                fprintf(stderr, "%s: --threads '%s' is not a number 1..64\n", argv[0], v);
                return -1;
            }
            o->threads = (int)n;
        } else {
            fprintf(stderr, "%s: unknown option '%s' (see --help)\n", argv[0], a);
            return -1;
        }
    }
    const char *what[] = {"-i", "-o", "--expect"};
    int got[] = {o->n_in, o->n_out, o->n_expect}, want[] = {p->n_inputs, p->n_outputs, p->n_outputs};
    for (int k = 0; k < 3; k++)
        if (got[k] != want[k] && (k == 0 || got[k] != 0)) {
            fprintf(stderr, "%s: the model has %d %s, got %d %s option%s (see --help)\n", argv[0],
                    want[k], k == 0 ? "inputs" : "outputs", got[k], what[k], got[k] == 1 ? "" : "s");
            return -1;
        }
    return 0;
}

static int64_t numel(const m7_io *io) {
    int64_t n = 1;
    for (int d = 0; d < io->rank; d++)
        n *= io->dims[d];
    return n;
}

static void shape_str(char *buf, size_t len, int rank, const int64_t *dims) {
    size_t u = 0;
    buf[0] = 0;
    for (int d = 0; d < rank && u < len; d++)
        u += (size_t)snprintf(buf + u, len - u, "%s%lld", d ? "x" : "", (long long)dims[d]);
}

/* The program's default weights file is named relative to the program:
 * look in the current folder first, then beside the executable. */
static FILE *open_default_weights(const char *name, char *used, size_t len) {
    snprintf(used, len, "%s", name);
    FILE *f = fopen(name, "rb");
    if (f || name[0] == '/')
        return f;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    slash[1] = 0;
    snprintf(used, len, "%s%s", exe, name);
    f = fopen(used, "rb");
    if (!f)
        snprintf(used, len, "%s", name);
    return f;
}

static int load_weights(M7Sim *s, const m7_program *p, const char *path, int is_default) {
    if (!p->weights_bytes)
        return 0;
    if (!path || !path[0]) {
        fprintf(stderr, "m7sim: the model needs %llu bytes of weights: give --weights FILE\n",
                (unsigned long long)p->weights_bytes);
        return -1;
    }
    char used[4096];
    FILE *f = is_default ? open_default_weights(path, used, sizeof used) : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "m7sim: cannot open weights file %s: %s (use --weights FILE)\n", path,
                strerror(errno));
        return -1;
    }
    if (is_default)
        path = used;
    uint8_t *dst = m7sim_host_ptr(s, M7_DDR(p->weights_ddr_offset), 0, p->weights_bytes);
    size_t n = dst ? fread(dst, 1, p->weights_bytes, f) : 0;
    int extra = fgetc(f) != EOF;
    fclose(f);
    if (!dst || n != p->weights_bytes || extra) {
        fprintf(stderr, "m7sim: weights file %s: %s (the model expects %llu bytes)\n", path,
                !dst ? "does not fit the program's DDR" : "wrong size", (unsigned long long)p->weights_bytes);
        return -1;
    }
    return 0;
}

static int load_input(M7Sim *s, const m7_io *io, const char *path) {
    M7Tensor t;
    char err[512], a[128], b[128];
    if (m7_tensor_read(path, &t, err, sizeof err) < 0) {
        fprintf(stderr, "m7sim: %s\n", err);
        return -1;
    }
    int ok = t.elem_type == M7_ELEM_FLOAT && t.rank == io->rank;
    for (int d = 0; ok && d < io->rank; d++)
        ok = t.dims[d] == io->dims[d];
    int rc = 0;
    if (!ok) {
        shape_str(a, sizeof a, t.rank, t.dims);
        shape_str(b, sizeof b, io->rank, io->dims);
        fprintf(stderr, "m7sim: input %s: %s is a %s tensor of shape [%s], the model wants FP32 [%s]\n",
                io->name, path, t.elem_type == M7_ELEM_FLOAT ? "FP32" : "non-FP32", a, b);
        rc = -1;
    } else {
        uint8_t *dst = m7sim_host_ptr(s, M7_DDR(io->ddr_offset), 0, 4 * (uint64_t)t.numel);
        if (!dst) {
            fprintf(stderr, "m7sim: input %s does not fit the program's DDR\n", io->name);
            rc = -1;
        } else if (t.numel) {
            memcpy(dst, t.f32, 4 * (size_t)t.numel);
        }
    }
    m7_tensor_free(&t);
    return rc;
}

/* The output io as a tensor (a copy of its DDR bytes); 0 or -1. */
static int get_output(M7Sim *s, const m7_io *io, M7Tensor *t) {
    memset(t, 0, sizeof *t);
    int64_t n = numel(io);
    const uint8_t *src = m7sim_host_ptr(s, M7_DDR(io->ddr_offset), 0, 4 * (uint64_t)n);
    t->name = strdup(io->name ? io->name : "");
    t->f32 = malloc(n ? 4 * (size_t)n : 1);
    if (!src || !t->name || !t->f32) {
        fprintf(stderr, "m7sim: output %s: %s\n", io->name, src ? "out of memory" : "outside DDR");
        m7_tensor_free(t);
        return -1;
    }
    memcpy(t->f32, src, 4 * (size_t)n);
    t->elem_type = M7_ELEM_FLOAT;
    t->rank = io->rank;
    memcpy(t->dims, io->dims, sizeof t->dims);
    t->numel = n;
    return 0;
}

static int outputs(M7Sim *s, const m7_program *p, const Options *o) {
    int rc = 0;
    for (int i = 0; i < p->n_outputs && (o->n_out || o->n_expect); i++) {
        M7Tensor got, want;
        char err[1024];
        if (get_output(s, &p->outputs[i], &got) < 0)
            return 2;
        if (o->n_out && m7_tensor_write(o->out[i], &got, err, sizeof err) < 0) {
            fprintf(stderr, "m7sim: %s\n", err);
            rc = 2;
        }
        if (o->n_expect) {
            if (m7_tensor_read(o->expect[i], &want, err, sizeof err) < 0) {
                fprintf(stderr, "m7sim: %s\n", err);
                rc = 2;
            } else {
                if (m7_tensor_compare(&got, &want, o->rtol, o->atol, err, sizeof err) < 0) {
                    fprintf(stderr, "m7sim: output %s differs from %s: %s\n", p->outputs[i].name,
                            o->expect[i], err);
                    if (!rc)
                        rc = 1;
                } else {
                    fprintf(stderr, "m7sim: output %s matches %s (rtol %g, atol %g)\n",
                            p->outputs[i].name, o->expect[i], o->rtol, o->atol);
                }
                m7_tensor_free(&want);
            }
        }
        m7_tensor_free(&got);
    }
    return rc;
}

/* The generated program's description is sane (it is code, but a broken
 * generator should get a message, not a crash). */
static int check_program(const m7_program *p) {
    if (p->n_inputs < 0 || p->n_inputs > MAXF || p->n_outputs < 0 || p->n_outputs > MAXF ||
        (p->n_inputs && !p->inputs) || (p->n_outputs && !p->outputs) || !p->kernel) {
        fprintf(stderr, "m7sim: the program description is broken (inputs, outputs or kernel)\n");
        return -1;
    }
    for (int i = 0; i < p->n_inputs + p->n_outputs; i++) {
        const m7_io *io = i < p->n_inputs ? &p->inputs[i] : &p->outputs[i - p->n_inputs];
        if (io->rank < 0 || io->rank > 8 || !io->name) {
            fprintf(stderr, "m7sim: the program's tensor %d has no name or a rank outside 0..8\n", i);
            return -1;
        }
    }
    return 0;
}

int m7sim_main(int argc, char **argv, const m7_program *p) {
    Options o;
    if (check_program(p) < 0)
        return 2;
    if (parse(argc, argv, p, &o) < 0)
        return 2;
    M7Machine m;
    char err[512];
    m7_machine_default(&m);
    if (m7_machine_apply_list(&m, p->machine, err, sizeof err) < 0 ||
        (o.machine_file && m7_machine_apply_file(&m, o.machine_file, err, sizeof err) < 0) ||
        m7_machine_apply_list(&m, o.machine, err, sizeof err) < 0) {
        fprintf(stderr, "m7sim: %s\n", err);
        return 2;
    }
    M7Sim *s = m7sim_new(&m, p->ddr_bytes, err, sizeof err);
    if (!s) {
        fprintf(stderr, "m7sim: %s\n", err);
        return 2;
    }
    if (o.threads)
        m7sim_set_threads(s, o.threads);
    m7sim_set_trace(s, o.trace != NULL);
    m7sim_set_progress(s, 1);
    int rc = load_weights(s, p, o.weights ? o.weights : p->weights_file, !o.weights) < 0 ? 2 : 0;
    for (int i = 0; !rc && i < p->n_inputs; i++)
        if (load_input(s, &p->inputs[i], o.in[i]) < 0)
            rc = 2;
    if (!rc && m7sim_run(s, p->kernel) < 0) {
        fprintf(stderr, "m7sim: error: %s\n", m7sim_error(s)->msg);
        rc = 1;
    }
    if (!rc) {
        if (!o.quiet)
            m7sim_report(s, stdout);
        if (o.json && m7sim_write_json(s, o.json, err, sizeof err) < 0)
            fprintf(stderr, "m7sim: %s\n", err), rc = 2;
        if (o.trace && m7sim_write_trace(s, o.trace, err, sizeof err) < 0)
            fprintf(stderr, "m7sim: %s\n", err), rc = 2;
        int orc = outputs(s, p, &o);
        if (orc && (!rc || orc == 2))
            rc = orc;
    }
    m7sim_free(s);
    return rc;
}
