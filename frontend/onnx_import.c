/* onnx_import.c: ONNX graph -> layer IR.
 *
 * Three steps: list every node we cannot import (all of them, in one go),
 * then create constants and graph inputs, then import the nodes in order
 * (onnx_ops.c) and check the graph outputs. */
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "frontend/onnx_load.h"
#include "frontend/onnx_ops.h"
#include "ir/shape.h"

static int64_t find_opset(const Onnx__ModelProto *m) {
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const char *dom = m->opset_import[i]->domain ? m->opset_import[i]->domain : "";
        if (!dom[0] || !strcmp(dom, "ai.onnx"))
            return m->opset_import[i]->has_version ? m->opset_import[i]->version : 1;
    }
    return -1;
}

/* Lists every node we cannot import; returns how many. */
static int list_unsupported(Ctx *c) {
    int bad = 0;
    for (size_t i = 0; i < c->gp->n_node; i++) {
        Onnx__NodeProto *n = c->gp->node[i];
        int since;
        if (onnx_find_op(n, &since)) {
            if (c->opset < 0 || c->opset >= since) /* no default opset: reported by the caller */
                continue;
            ir_diag_add(c->d, "%s: unsupported node %zu: op '%s' at opset %lld (its form before "
                        "opset %d is not supported), name '%s'", c->path, i, n->op_type,
                        (long long)c->opset, since, n->name ? n->name : "");
            bad++;
            continue;
        }
        ir_diag_add(c->d, "%s: unsupported node %zu: op '%s' (domain '%s'), name '%s'", c->path, i,
                    n->op_type ? n->op_type : "", n->domain && n->domain[0] ? n->domain : "ai.onnx",
                    n->name ? n->name : "");
        bad++;
    }
    return bad;
}

static const Onnx__TensorShapeProto *tensor_shape(const Onnx__ValueInfoProto *v, int *elem) {
    const Onnx__TypeProto *tp = v->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type) {
        *elem = -1;
        return NULL;
    }
    *elem = tp->tensor_type->has_elem_type ? tp->tensor_type->elem_type : 0;
    return tp->tensor_type->shape;
}

static int add_graph_input(Ctx *c, const Onnx__ValueInfoProto *v) {
    int elem;
    const Onnx__TensorShapeProto *sp = tensor_shape(v, &elem);
    if (elem < 0) {
        ir_diag_add(c->d, "%s: graph input '%s' is not a tensor", c->path, v->name);
        return -1;
    }
    if (elem != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
        ir_diag_add(c->d, "%s: graph input '%s' has element type %s; only float32 inputs are "
                    "supported", c->path, v->name, onnx_type_name(elem));
        return -1;
    }
    if (!sp) {
        ir_diag_add(c->d, "%s: graph input '%s' has no shape", c->path, v->name);
        return -1;
    }
    if (sp->n_dim > IR_MAX_RANK) {
        ir_diag_add(c->d, "%s: graph input '%s' has rank %zu (max %d)", c->path, v->name, sp->n_dim,
                    IR_MAX_RANK);
        return -1;
    }
    int ti = ir_add_tensor(c->g, v->name, IR_F32, IR_T_INPUT);
    IrTensor *t = &c->g->t[ti];
    int64_t dims[IR_MAX_RANK];
    int bad = 0;
    for (size_t i = 0; i < sp->n_dim; i++) {
        const Onnx__TensorShapeProto__Dimension *dm = sp->dim[i];
        int has_val = dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        const char *param =
            dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM ? dm->dim_param : NULL;
        t->dim_param[i] = ir_strdup(param);
        if (i == 0 && c->batch > 0) {
            dims[i] = c->batch;
        } else if (has_val && dm->dim_value > 0) {
            dims[i] = dm->dim_value;
        } else if (has_val) {
            ir_diag_add(c->d, "%s: graph input '%s' dimension %zu has invalid size %lld", c->path,
                        v->name, i, (long long)dm->dim_value);
            bad = 1;
        } else {
            ir_diag_add(c->d, "%s: graph input '%s' dimension %zu ('%s') is symbolic with no value%s",
                        c->path, v->name, i, param ? param : "?",
                        i == 0 ? "; set the batch size (FrontendOptions.batch / --batch)" : "");
            bad = 1;
        }
    }
    if (bad)
        return -1;
    ir_set_shape(t, (int)sp->n_dim, dims);
    IrDiag tmp = {0};
    if (ir_check_tensor_size(t, &tmp)) {
        ir_diag_add(c->d, "%s: graph input: %s", c->path, tmp.msg[0]);
        ir_diag_free(&tmp);
        return -1;
    }
    ir_graph_add_input(c->g, ti);
    return 0;
}

/* Declared output shapes, where fully given, must agree with inference
 * (the batch dim is skipped when the caller overrides it). */
static int add_graph_output(Ctx *c, const Onnx__ValueInfoProto *v) {
    int ti = v->name ? onnx_lookup(c, v->name) : -1;
    if (ti < 0) {
        ir_diag_add(c->d, "%s: graph output '%s' is not computed by any node", c->path,
                    v->name ? v->name : "");
        return -1;
    }
    IrTensor *t = &c->g->t[ti];
    int elem;
    const Onnx__TensorShapeProto *sp = tensor_shape(v, &elem);
    if (sp && t->rank >= 0) {
        int ok = (int)sp->n_dim == t->rank;
        char want[256] = "[", got[160];
        size_t k = 1;
        for (size_t i = 0; i < sp->n_dim && k < sizeof want - 1; i++) {
            const Onnx__TensorShapeProto__Dimension *dm = sp->dim[i];
            int has_val = dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            const char *param =
                dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM ? dm->dim_param : "?";
            if (has_val)
                k += (size_t)snprintf(want + k, sizeof want - k, "%s%lld", i ? "x" : "",
                                      (long long)dm->dim_value);
            else
                k += (size_t)snprintf(want + k, sizeof want - k, "%s%s", i ? "x" : "", param);
            if (ok && has_val && !(i == 0 && c->batch > 0))
                ok = dm->dim_value == t->dims[i];
        }
        if (!ok) {
            if (k < sizeof want - 1)
                strcat(want, "]");
            ir_diag_add(c->d, "%s: graph output '%s' is declared %s but computes %s", c->path,
                        v->name, want, ir_shape_str(t, got, sizeof got));
            return -1;
        }
    }
    ir_graph_add_output(c->g, ti);
    return 0;
}

static int import_graph(Ctx *c) {
    Onnx__GraphProto *gp = c->gp;
    if (c->opset < 0) {
        /* A model of another domain only (e.g. ai.onnx.preview.training's
         * Adam): naming its ops says more than the missing opset. */
        if (!list_unsupported(c))
            ir_diag_add(c->d, "%s: model imports no default-domain (ai.onnx) opset", c->path);
        return -1;
    }
    if (c->opset < 1 || c->opset > 18) {
        ir_diag_add(c->d, "%s: opset %lld is not supported (1 to 18)", c->path, (long long)c->opset);
        return -1;
    }
    if (list_unsupported(c))
        return -1;
    for (size_t i = 0; i < gp->n_initializer; i++) {
        Onnx__TensorProto *tp = gp->initializer[i];
        if (!tp->name || !tp->name[0]) {
            ir_diag_add(c->d, "%s: initializer %zu has no name", c->path, i);
            return -1;
        }
        if (onnx_lookup(c, tp->name) >= 0) {
            ir_diag_add(c->d, "%s: initializer '%s' is defined twice", c->path, tp->name);
            return -1;
        }
        if (onnx_add_const(c->g, tp, tp->name, c->path, c->d) < 0)
            return -1;
    }
    /* Inputs with an initializer are constants (IR v3 models list both). */
    for (size_t i = 0; i < gp->n_input; i++) {
        const char *name = gp->input[i]->name;
        if (!name || !name[0]) {
            ir_diag_add(c->d, "%s: graph input %zu has no name", c->path, i);
            return -1;
        }
        if (onnx_lookup(c, name) < 0 && add_graph_input(c, gp->input[i]))
            return -1;
    }
    for (size_t i = 0; i < gp->n_node; i++) {
        c->n = gp->node[i];
        c->idx = (int)i;
        if (c->n->name && c->n->name[0])
            snprintf(c->name, sizeof c->name, "%s", c->n->name);
        else
            snprintf(c->name, sizeof c->name, "%s_%zu", c->n->op_type, i);
        int since;
        if (onnx_import_node(c, onnx_find_op(c->n, &since)))
            return -1;
    }
    if (gp->n_output == 0) {
        ir_diag_add(c->d, "%s: graph has no outputs", c->path);
        return -1;
    }
    for (size_t i = 0; i < gp->n_output; i++)
        if (add_graph_output(c, gp->output[i]))
            return -1;
    return 0;
}

/* Builds the IR from m and frees m; NULL on error. */
static IrGraph *import_model(Onnx__ModelProto *m, const char *path, const FrontendOptions *opt,
                             IrDiag *diag) {
    Ctx c = {0};
    c.g = ir_graph_new(m->graph->name && m->graph->name[0] ? m->graph->name : "model");
    c.d = diag;
    c.path = path;
    c.opset = find_opset(m);
    c.batch = opt ? opt->batch : 0;
    c.gp = m->graph;
    c.g->opset = c.opset;
    int r = import_graph(&c);
    onnx_free_model(m); /* the IR owns the weights now */
    free(c.hash);
    /* Every layer was inferred while importing; a full run re-checks the
     * graph as a whole (and is a no-op on shapes). */
    if (r == 0)
        r = ir_infer_shapes(c.g, diag);
    if (r) {
        ir_graph_free(c.g);
        return NULL;
    }
    return c.g;
}

IrGraph *frontend_load_onnx(const char *path, const FrontendOptions *opt, IrDiag *diag) {
    IrDiag own = {0};
    if (!diag) /* the caller does not want the messages */
        diag = &own;
    IrGraph *g = NULL;
    Onnx__ModelProto *m = NULL;
    if (!path)
        ir_diag_add(diag, "no model file given");
    else
        m = onnx_read_model(path, diag);
    if (m)
        g = import_model(m, path, opt, diag);
    ir_diag_free(&own);
    return g;
}

IrGraph *frontend_load_onnx_buffer(const void *data, size_t len, const char *name,
                                   const FrontendOptions *opt, IrDiag *diag) {
    IrDiag own = {0};
    if (!diag)
        diag = &own;
    if (!name)
        name = "<memory>";
    IrGraph *g = NULL;
    Onnx__ModelProto *m = onnx_parse_model(data, data ? len : 0, name, diag);
    if (m)
        g = import_model(m, name, opt, diag);
    ir_diag_free(&own);
    return g;
}
