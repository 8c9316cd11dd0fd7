/* codegen.h: C code generation for the M7004 (after backend_run).
 *
 * Writes NAME.c (the kernel library, one kernel function per layer with
 * its plan, and the m7_main_program descriptor of runtime/m7rt.h), NAME.h
 * (sizes and shapes as #defines) and the weights blob.  Files are written
 * to temporaries and renamed at the end: on error nothing is left. */
#ifndef M7CC_CODEGEN_H
#define M7CC_CODEGEN_H

#include "backend/backend.h"

int codegen_emit(const IrGraph *g, const M7Machine *m, const char *c_path, const char *h_path,
                 const char *weights_path, IrDiag *d);

#endif
