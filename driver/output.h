/* output.h: writing the compiled program: C + header + weights, or an
 * executable linked against the simulator. */
#ifndef M7CC_OUTPUT_H
#define M7CC_OUTPUT_H

#include "ir/ir.h"
#include "runtime/m7_machine.h"

/* out ends in ".c": writes out, its .h and its .weights beside it.
 * Otherwise: builds the executable out (with the host C compiler, $CC or cc)
 * and writes out.weights beside it; the C goes through a temporary folder.
 * With validate set, the C is checked with libclang against the device rules
 * (validate/validate.h) before anything is kept; problems go to stderr.
 * On failure nothing is left behind.  0, or -1 with messages in d. */
int output_program(const IrGraph *g, const M7Machine *m, const char *out, int validate, IrDiag *d);

#endif
