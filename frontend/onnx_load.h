/* onnx_load.h: reading an ONNX file and turning its TensorProtos into IR
 * constants (internal to the frontend). */
#ifndef M7CC_ONNX_LOAD_H
#define M7CC_ONNX_LOAD_H

#include "ir/ir.h"
#include "frontend/onnx.pb-c.h"

/* Parses the file; NULL with one message on a missing, empty or corrupt file. */
Onnx__ModelProto *onnx_read_model(const char *path, IrDiag *d);
/* The same for a model already in memory; path names it in messages. */
Onnx__ModelProto *onnx_parse_model(const void *data, size_t len, const char *path, IrDiag *d);
void onnx_free_model(Onnx__ModelProto *m);

/* Adds tp as an IR_T_CONST tensor called name (FLOAT -> F32; INT64, INT32
 * and BOOL -> I64), taking over raw_data instead of copying it.  External
 * data is read relative to the directory of model_path.  Returns the
 * tensor index, or -1 with a message naming the file and tensor. */
int onnx_add_const(IrGraph *g, Onnx__TensorProto *tp, const char *name, const char *model_path,
                   IrDiag *d);

/* "FLOAT", "INT64", ... for messages. */
const char *onnx_type_name(int elem_type);

#endif
