/* frontend.h: loads an ONNX model into the layer IR.
 *
 * The result has static shapes for every tensor (ir_infer_shapes has run),
 * constant shape arithmetic folded, and weights owned by the IR (the
 * protobuf is freed before returning).  Graph inputs are only the inputs
 * without an initializer; initializers are IR_T_CONST. */
#ifndef M7CC_FRONTEND_H
#define M7CC_FRONTEND_H

#include <stdint.h>

#include "ir/ir.h"

typedef struct {
    int64_t batch; /* > 0: set the batch (first) dimension of every graph input; 0 = keep */
} FrontendOptions;

/* NULL on any error, with every problem in diag (one line each, naming the
 * file, node and tensor).  opt and diag may be NULL. */
IrGraph *frontend_load_onnx(const char *path, const FrontendOptions *opt, IrDiag *diag);
/* The same for a model in memory (len bytes at data; the caller keeps
 * them).  name stands for the file in messages, and external data is read
 * relative to its directory. */
IrGraph *frontend_load_onnx_buffer(const void *data, size_t len, const char *name,
                                   const FrontendOptions *opt, IrDiag *diag);

#endif
