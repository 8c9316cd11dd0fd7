/* cli.c: the m7cc command line, parsed into CliOptions (no side effects,
 * so tests can drive it). */
#include "driver/cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Matches "FLAG VALUE" and "FLAG=VALUE"; for "FLAG" as the last argument
 * sets *missing. */
static int takes_value(int argc, char **argv, int *i, const char *flag, const char **val, int *missing) {
    const char *a = argv[*i];
    size_t n = strlen(flag);
    if (strcmp(a, flag) == 0) {
        if (*i + 1 >= argc) {
            *missing = 1;
            return 0;
        }
        *val = argv[++*i];
        return 1;
    }
    if (strncmp(a, flag, n) == 0 && a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    return 0;
}

int cli_parse(int argc, char **argv, CliOptions *o, FILE *err) {
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        int missing = 0;
#define TAKES(flag) takes_value(argc, argv, &i, flag, &val, &missing)
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            o->help = 1;
        } else if (strcmp(a, "--version") == 0) {
            o->version = 1;
        } else if (strcmp(a, "--dump-ir") == 0) {
            o->dump_ir = 1;
        } else if (strcmp(a, "--interpret") == 0) {
            o->interpret = 1;
        } else if (strcmp(a, "--no-double-buffer") == 0) {
            o->no_double_buffer = 1;
        } else if (strcmp(a, "--no-weight-sharing") == 0) {
            o->no_weight_sharing = 1;
        } else if (strcmp(a, "--no-validate") == 0) {
            o->no_validate = 1;
        } else if (TAKES("--validate")) {
            o->validate = val;
        } else if (strcmp(a, "--no-canonicalize") == 0) {
            o->no_canon = 1;
        } else if (TAKES("-i")) {
            if (o->n_inputs == CLI_MAX_FILES) {
                fprintf(err, "m7cc: too many -i files (at most %d)\n", CLI_MAX_FILES);
                return -1;
            }
            o->inputs[o->n_inputs++] = val;
        } else if (TAKES("-o")) {
            if (o->n_outputs == CLI_MAX_FILES) {
                fprintf(err, "m7cc: too many -o files (at most %d)\n", CLI_MAX_FILES);
                return -1;
            }
            o->outputs[o->n_outputs++] = val;
        } else if (TAKES("--batch")) {
            char *end;
            errno = 0;
            long long b = strtoll(val, &end, 10);
            if (errno || *end || end == val || b < 1 || b > 1000000) {
                fprintf(err, "m7cc: --batch wants a whole number from 1 to 1000000, not '%s'\n", val);
                return -1;
            }
            o->batch = b;
        } else if (strcmp(a, "--train") == 0) {
            o->train = 1;
        } else if (TAKES("--loss")) {
            o->loss_given = 1;
            if (strcmp(val, "cross-entropy") == 0)
                o->loss = 0;
            else if (strcmp(val, "mse") == 0)
                o->loss = 1;
            else {
                fprintf(err, "m7cc: --loss is cross-entropy or mse, not '%s'\n", val);
                return -1;
            }
        } else if (TAKES("--lr")) {
            char *end;
            errno = 0;
            double lr = strtod(val, &end);
            if (errno || *end || end == val || !(lr >= 0 && lr <= 1e6)) {
                fprintf(err, "m7cc: --lr wants a learning rate from 0 to 1e6, not '%s'\n", val);
                return -1;
            }
            o->lr = (float)lr;
            o->lr_given = 1;
        } else if (TAKES("--machine")) {
            o->machine = val;
        } else if (TAKES("--machine-file")) {
            o->machine_file = val;
        } else if (missing) {
            fprintf(err, "m7cc: option %s needs a value\n", a);
            return -1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(err, "m7cc: unknown option '%s' (see m7cc --help)\n", a);
            return -1;
        } else if (!o->model) {
            o->model = a;
        } else {
            fprintf(err, "m7cc: more than one model given ('%s' and '%s')\n", o->model, a);
            return -1;
        }
#undef TAKES
    }
    if (o->help || o->version)
        return 0;
    if (o->validate && !o->model)
        return 0;
    if (o->validate) {
        fprintf(err, "m7cc: --validate checks a C file on its own; give no model with it\n");
        return -1;
    }
    if (!o->model) {
        fprintf(err, "m7cc: no model given (see m7cc --help)\n");
        return -1;
    }
    if (o->interpret && o->dump_ir) {
        fprintf(err, "m7cc: --interpret and --dump-ir are separate modes; give one\n");
        return -1;
    }
    if ((o->loss_given || o->lr_given) && !o->train) {
        fprintf(err, "m7cc: --loss and --lr are options of --train\n");
        return -1;
    }
    if (!o->lr_given)
        o->lr = 0.01f;
    if (!o->interpret && o->n_inputs) {
        fprintf(err, "m7cc: -i is only used with --interpret\n");
        return -1;
    }
    if (!o->interpret && o->n_outputs > 1) {
        fprintf(err, "m7cc: -o given %d times; a compilation writes one program\n", o->n_outputs);
        return -1;
    }
    if (!o->interpret && o->n_outputs == 1) {
        o->out = o->outputs[0];
        o->n_outputs = 0;
    }
    return 0;
}

void cli_format_dims(char *buf, size_t len, int rank, const int64_t *dims) {
    size_t at = 0;
    at += (size_t)snprintf(buf, len, "[");
    for (int r = 0; r < rank && at < len; r++)
        at += (size_t)snprintf(buf + at, len - at, "%s%" PRId64, r ? ", " : "", dims[r]);
    if (at < len)
        snprintf(buf + at, len - at, "]");
}
