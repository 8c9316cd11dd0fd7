/* mkmodel.h: builds small ONNX models in C for the frontend tests (no
 * python needed).  Everything is malloc'ed so the whole ModelProto is freed
 * with protobuf-c's free_unpacked.  Shapes are written as strings:
 * "1,3,8,8"; a name ("N,3,8,8") makes a symbolic dim, "" a scalar. */
#ifndef M7CC_MKMODEL_H
#define M7CC_MKMODEL_H

#include "frontend/onnx.pb-c.h"

Onnx__ModelProto *mk_model(int64_t opset);
void mk_input(Onnx__ModelProto *m, const char *name, int elem, const char *dims);
void mk_output(Onnx__ModelProto *m, const char *name, const char *dims); /* dims may be NULL */
/* An initializer with data i*0.5 (or the given values), stored as raw_data. */
Onnx__TensorProto *mk_init_f32(Onnx__ModelProto *m, const char *name, const char *dims,
                               const float *vals);
Onnx__TensorProto *mk_init_i64(Onnx__ModelProto *m, const char *name, const char *dims,
                               const int64_t *vals);
/* A stand-alone tensor (for Constant nodes); typed fields, not raw_data. */
Onnx__TensorProto *mk_tensor_f32(const char *name, const char *dims, const float *vals);
Onnx__TensorProto *mk_tensor_i64(const char *name, const char *dims, const int64_t *vals);
/* Inputs and outputs are comma-separated names; an empty name is an absent input. */
Onnx__NodeProto *mk_node(Onnx__ModelProto *m, const char *op, const char *name, const char *ins,
                         const char *outs);
void mk_attr_i(Onnx__NodeProto *n, const char *name, int64_t v);
void mk_attr_f(Onnx__NodeProto *n, const char *name, float v);
void mk_attr_s(Onnx__NodeProto *n, const char *name, const char *v);
void mk_attr_ints(Onnx__NodeProto *n, const char *name, const char *vals); /* "1,1,2,2" */
void mk_attr_floats(Onnx__NodeProto *n, const char *name, int count, const float *v);
void mk_attr_t(Onnx__NodeProto *n, const char *name, Onnx__TensorProto *t); /* takes t */
/* Serialises to path and frees m. */
void mk_write(Onnx__ModelProto *m, const char *path);
/* Writes raw bytes to a file (bad-input and external-data tests). */
void mk_write_bytes(const char *path, const void *data, size_t n);

#endif
