/* tensor_file.h: host-side tensor files, the format of program inputs and
 * outputs: ONNX TensorProto (.pb, as in the ONNX test data) and NumPy .npy.
 * Used by the compiler's reference executor and by the simulator's harness;
 * depends on nothing but libc (the TensorProto wire format is decoded here,
 * not through protobuf-c, so the simulator needs no compiler code). */
#ifndef M7_TENSOR_FILE_H
#define M7_TENSOR_FILE_H

#include <stddef.h>
#include <stdint.h>

enum { M7_ELEM_FLOAT = 1, M7_ELEM_INT64 = 7 }; /* ONNX TensorProto.DataType */

typedef struct {
    char *name;       /* TensorProto name ("" when absent or .npy); owned */
    int elem_type;    /* M7_ELEM_FLOAT or M7_ELEM_INT64 */
    int rank;
    int64_t dims[8];
    int64_t numel;
    float *f32;       /* owned; set when elem_type is FLOAT */
    int64_t *i64;     /* owned; set when elem_type is INT64 */
} M7Tensor;

/* Reads a .pb (TensorProto) or .npy file (decided by content).  Returns 0,
 * or -1 with a message naming the file and the problem in err. */
int m7_tensor_read(const char *path, M7Tensor *t, char *err, size_t errlen);

/* Writes t as .npy when path ends in ".npy", else as a TensorProto .pb.
 * Writes to a temporary file and renames it, so a failure leaves nothing. */
int m7_tensor_write(const char *path, const M7Tensor *t, char *err, size_t errlen);

void m7_tensor_free(M7Tensor *t);

/* Compares element-wise: |got-want| <= atol + rtol*|want|, shapes equal.
 * Returns 0 when it holds; else -1 with a one-line report (first bad index,
 * values, count of bad elements, max abs and rel error) in report. */
int m7_tensor_compare(const M7Tensor *got, const M7Tensor *want, double rtol, double atol,
                      char *report, size_t len);

#endif
