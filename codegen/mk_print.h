/* mk_print.h: a layer's micro-kernels as C (mk_print.c). */
#ifndef M7CC_MK_PRINT_H
#define M7CC_MK_PRINT_H

#include <stdio.h>

#include "backend/backend.h"

/* `static void ID_mk(int vb, int pb, const M7kMkCall *c);`, for the plan. */
void cg_print_conv_mk_decl(FILE *f, const char *id);
/* ID_mkVBxPB for every block shape the layer's driver calls on `cores`
 * cores, and the dispatcher ID_mk; after the plan ID_plan (an activation
 * other than ReLU is read from it). */
void cg_print_conv_mk(FILE *f, const char *id, const BkConv *c, const M7kConv *p, const M7Machine *m, int cores);
/* The same for a weight-gradient layer: ID_gw and ID_gwVBxPP. */
void cg_print_gw_mk_decl(FILE *f, const char *id);
void cg_print_gw_mk(FILE *f, const char *id, const BkTrain *t, const M7Machine *m);

#endif
