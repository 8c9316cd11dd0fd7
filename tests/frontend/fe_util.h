/* fe_util.h: helpers shared by the frontend test programs: a scratch
 * directory, loading a built model, and checks on shapes and messages. */
#ifndef M7CC_FE_UTIL_H
#define M7CC_FE_UTIL_H

#include <CUnit/Basic.h>

#include "frontend/frontend.h"
#include "tests/frontend/mkmodel.h"
#include "ir/shape.h"

/* Creates the scratch directory (removed by fe_cleanup). */
void fe_setup(void);
void fe_cleanup(void);
/* dir/name in a static buffer (two alternating). */
const char *fe_path(const char *name);
/* Writes m to dir/m.onnx and loads it; diag collects the messages. */
IrGraph *fe_load(Onnx__ModelProto *m, int64_t batch, IrDiag *d);
int fe_diag_has(const IrDiag *d, const char *sub);
/* Asserts loading fails with a message containing both substrings (b may be NULL). */
#define fe_expect_error(m, a, b) fe_expect_error_at(m, a, b, __FILE__, __LINE__)
void fe_expect_error_at(Onnx__ModelProto *m, const char *a, const char *b, const char *file, int line);
/* The live layer producing the named tensor, or NULL. */
IrLayer *fe_layer(IrGraph *g, const char *out);
IrTensor *fe_tensor(IrGraph *g, const char *name);
/* Checks the tensor's shape against "1,3,8,8" ("" = scalar). */
#define fe_expect_shape(g, t, dims) fe_expect_shape_at(g, t, dims, __FILE__, __LINE__)
void fe_expect_shape_at(IrGraph *g, const char *t, const char *dims, const char *file, int line);

#endif
