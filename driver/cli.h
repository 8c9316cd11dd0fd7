/* cli.h: the m7cc command line. */
#ifndef M7CC_CLI_H
#define M7CC_CLI_H

#include <stdint.h>
#include <stdio.h>

#define CLI_MAX_FILES 64

typedef struct {
    const char *model;
    int help, version;
    int dump_ir, interpret, no_canon;
    int no_validate;            /* skip the libclang check of emitted C */
    int no_double_buffer;       /* backend choices off (BkOptions) */
    int no_weight_sharing;
    const char *validate;       /* --validate FILE.c: check a C file and exit */
    const char *out;            /* compile mode: -o NAME.c (C, header, weights) or -o NAME (executable) */
    const char *inputs[CLI_MAX_FILES];
    int n_inputs;
    const char *outputs[CLI_MAX_FILES];
    int n_outputs;
    int64_t batch;              /* 0 = as the model says */
    int train;                  /* --train: one training step (loss, backward, SGD) */
    int loss;                   /* IrLossKind (--loss) */
    float lr;                   /* --lr */
    int loss_given, lr_given;
    const char *machine;        /* --machine k=v,... */
    const char *machine_file;
} CliOptions;

/* Returns 0, or -1 after printing one line to err (a usage error). */
int cli_parse(int argc, char **argv, CliOptions *o, FILE *err);

/* "[1, 3, 224, 224]" */
void cli_format_dims(char *buf, size_t len, int rank, const int64_t *dims);

#endif
