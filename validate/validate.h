/* validate.h: checks a C file written against runtime/m7rt.h (what the
 * code generator emits, or a hand-written kernel) with libclang.
 *
 * The file is parsed as `-std=c11 -Wall -Wextra -I <runtime_include>`; any
 * libclang error or warning is a problem.  On top of that the device rules
 * of MACHINE.md section 4 are checked on every function of the file (code in
 * system headers and in m7rt.h itself is not checked; code in the file's own
 * headers is).  Each problem is one line on `report`:
 *
 *     file:line:col: severity: rule: message
 *
 * Rules (names as printed):
 *   clang      a libclang diagnostic (error or warning; notes follow it).
 *   runtime    the file does not include m7rt.h from runtime_include; the
 *              device rules are then not checked.
 *   call       a function named (called, or taken as a pointer) that is
 *              neither declared in m7rt.h nor defined in the checked files
 *              (printf, malloc, memcpy, __builtin_*...), or an indirect call
 *              through a pointer.  No libc function is needed by a kernel
 *              or a program descriptor, so none is allowed; a call the
 *              compiler folds to a constant is (INFINITY, NAN from math.h
 *              are __builtin_inff(), __builtin_nanf("")).
 *   float-op   a C operator (binary, unary, compound assignment; `=` and `,`
 *              excepted) with a floating operand or result, unless the
 *              compiler folds it to a constant (`m7_vsplat(-1.0f / 9)` and
 *              constant initialisers are fine).  Comparisons count: they are
 *              float work too.
 *   addr-cast  a cast between an integer (an m7_addr) and a pointer, except
 *              a null pointer constant.
 *   deref      floating data read or written through a pointer or an array
 *              (`*p`, `p[i]`, `p->x` of float type): machine data is reached
 *              only through runtime operations.  Allowed inside the
 *              immediate of m7_vsplat: `m7_vsplat(plan->alpha)` is a constant
 *              the code generator chose.
 *   private    a member m7_private_* named, or an m7_vec / m7_scalar built
 *              from an initialiser list instead of a runtime operation.
 *   vregs      a function with more m7_vec values live than the machine has
 *              vector registers (ValidateLimits.vregs).
 *   mem-addr   an on-chip address with a constant value beyond its memory's
 *              capacity, or a runtime access at a constant address that ends
 *              beyond it (m7_vld 128 B, m7_vld2 256 B, m7_sld 4 B, ...,
 *              m7_dma/m7_dma_bcast: (rows - 1) * stride + row_bytes when
 *              those are constant).  Addresses are recognised where they are
 *              built: M7_AM/M7_SM/M7_GSM/M7_ADDR(...) or `M7_AM(0) + off`,
 *              through any macro of the file.
 *   mem-decl   a declared on-chip use (below) beyond capacity or not a
 *              constant, or an on-chip address computed at run time in a
 *              file that declares no use of that memory.
 *
 * Approximations:
 *   vregs counts, at every point of a function, the m7_vec values live:
 *   parameters and local variables in scope (an array counts its elements,
 *   a struct its m7_vec members) plus the temporaries of the expression
 *   being evaluated (call arguments evaluated left to right, each held
 *   until the call: m7_vfma(m7_vld(a), m7_vld(b), acc) needs 2; a result
 *   assigned to a variable or initialising one needs none), and takes the
 *   maximum.  A variable counts from its declaration to the end of its
 *   block even when it is dead sooner (conservative).  A VLA of m7_vec is
 *   reported as not countable.
 *   vregs is per function: a helper called with values live in its caller
 *   is counted on its own.
 *   mem-addr cannot follow an address through a variable: in
 *   `m7_addr b = M7_AM(64); ... m7_vld(b + i)` only M7_AM(64) is checked, and
 *   `b + i` is covered by the declared use alone.
 *   deref trusts m7_vsplat's immediate: `m7_vsplat(table[i])` passes even
 *   when the table is large (weights belong in DDR, moved by DMA).
 *   float-op sees only operators: (float)n conversions are not flagged.
 *
 * Convention for the code generator (and hand-written kernels): when on-chip
 * addresses are computed at run time, the file states each kernel's (or
 * layer's) on-chip footprint in bytes with file-scope constants
 *
 *     #define CONV1_AM_BYTES  (2 * 36864 + 4096)     object-like macros, or
 *     enum { conv1_SM_BYTES = 9216 };                 enumeration constants
 *
 * named <NAME>_AM_BYTES, <NAME>_SM_BYTES, <NAME>_GSM_BYTES (any subset; NAME
 * is free, typically the kernel or layer; the generated NAME.h's program-wide
 * M7_PROGRAM_AM_BYTES etc. qualify, as headers the file includes are read).  A macro's body must be an integer
 * constant expression of literals, parentheses, C integer operators and names of
 * object-like macros defined before it.  Each is checked against the
 * capacity of its memory; a file that computes AM addresses at run time must
 * declare at least one <NAME>_AM_BYTES (likewise SM, GSM).
 */
#ifndef VALIDATE_H
#define VALIDATE_H

#include <stdint.h>
#include <stdio.h>

#include "runtime/m7_machine.h"

typedef struct {
    int64_t am_bytes, sm_bytes, gsm_bytes; /* capacities; AM and SM per core */
    int vregs;                             /* vector registers per core */
    const char *runtime_include;           /* directory holding m7rt.h */
} ValidateLimits;

/* The limits of machine m (NULL: MACHINE.md's defaults), and the runtime
 * directory this build was configured with (M7_RUNTIME_INCLUDE_DIR). */
void validate_limits(ValidateLimits *lim, const M7Machine *m);

/* Checks the C file at path.  lim NULL means validate_limits(NULL); a NULL
 * lim->runtime_include means the configured directory.  Returns 0 when the
 * file is clean, -1 when problems were printed on report (also when the file
 * cannot be read or parsed: one line says why). */
int validate_c_file(const char *path, const ValidateLimits *lim, FILE *report);

#endif
