/* onnx_ops.h: importing one ONNX node into the IR (internal to the
 * frontend).  The graph-level importer fills a Ctx and calls
 * onnx_import_node for each node in order. */
#ifndef M7CC_ONNX_OPS_H
#define M7CC_ONNX_OPS_H

#include "ir/ir.h"
#include "frontend/onnx.pb-c.h"

typedef struct Ctx Ctx;
typedef int (*ImportFn)(Ctx *c);

#define MAX_NODE_INPUTS 64

/* Import state: the graph being built and the node being imported. */
struct Ctx {
    IrGraph *g;
    IrDiag *d;
    const char *path;
    int64_t opset;
    int64_t batch;
    Onnx__GraphProto *gp;
    Onnx__NodeProto *n; /* node being imported */
    int idx;
    char name[256];
    int in[MAX_NODE_INPUTS]; /* resolved inputs of n; -1 when absent */
    int n_in;
    char sbuf[64];      /* string attribute value */
    /* Name -> tensor index (open addressing), synced lazily with g->t. */
    int *hash;
    int hash_cap, hashed;
};

/* The tensor called name (the latest one), or -1; O(1) on average. */
int onnx_lookup(Ctx *c, const char *name);

/* The importer of n's op, or NULL when unsupported (op or domain); *since
 * gets the first opset whose form of the op is read. */
ImportFn onnx_find_op(const Onnx__NodeProto *n, int *since);
/* Resolves c->n's inputs and imports it (layer with inferred shapes, or a
 * constant); 0 or -1 with messages naming the file and node. */
int onnx_import_node(Ctx *c, ImportFn fn);

#endif
