/* mkmodel.c: ONNX model construction for the tests (see mkmodel.h). */
#include "tests/frontend/mkmodel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"

/* Appends item to a malloc'ed pointer array with count n. */
#define PUSH(arr, n, item)                                                   \
    do {                                                                     \
        (arr) = ir_xrealloc((arr), ((n) + 1) * sizeof *(arr));               \
        (arr)[(n)++] = (item);                                               \
    } while (0)

Onnx__ModelProto *mk_model(int64_t opset) {
    Onnx__ModelProto *m = ir_xmalloc(sizeof *m);
    onnx__model_proto__init(m);
    m->has_ir_version = 1;
    m->ir_version = 8;
    Onnx__OperatorSetIdProto *o = ir_xmalloc(sizeof *o);
    onnx__operator_set_id_proto__init(o);
    o->domain = ir_strdup("");
    o->has_version = 1;
    o->version = opset;
    PUSH(m->opset_import, m->n_opset_import, o);
    m->graph = ir_xmalloc(sizeof *m->graph);
    onnx__graph_proto__init(m->graph);
    m->graph->name = ir_strdup("test");
    return m;
}

/* Parses "1,3,N,8" into value/param dims; returns the count. */
static int parse_dims(const char *s, int64_t *v, char **param) {
    int n = 0;
    while (s && *s) {
        char *end;
        long long x = strtoll(s, &end, 10);
        if (end == s) { /* a name */
            size_t k = strcspn(s, ",");
            param[n] = ir_xmalloc(k + 1);
            memcpy(param[n], s, k);
            param[n][k] = 0;
            v[n++] = -1;
            s += k;
        } else {
            param[n] = NULL;
            v[n++] = x;
            s = end;
        }
        if (*s == ',')
            s++;
    }
    return n;
}

static Onnx__ValueInfoProto *value_info(const char *name, int elem, const char *dims) {
    Onnx__ValueInfoProto *vi = ir_xmalloc(sizeof *vi);
    onnx__value_info_proto__init(vi);
    vi->name = ir_strdup(name);
    vi->type = ir_xmalloc(sizeof *vi->type);
    onnx__type_proto__init(vi->type);
    vi->type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    Onnx__TypeProto__Tensor *tt = ir_xmalloc(sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = elem;
    vi->type->tensor_type = tt;
    if (!dims)
        return vi;
    tt->shape = ir_xmalloc(sizeof *tt->shape);
    onnx__tensor_shape_proto__init(tt->shape);
    int64_t v[16];
    char *param[16];
    int n = parse_dims(dims, v, param);
    for (int i = 0; i < n; i++) {
        Onnx__TensorShapeProto__Dimension *d = ir_xmalloc(sizeof *d);
        onnx__tensor_shape_proto__dimension__init(d);
        if (param[i]) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = param[i];
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = v[i];
        }
        PUSH(tt->shape->dim, tt->shape->n_dim, d);
    }
    return vi;
}

void mk_input(Onnx__ModelProto *m, const char *name, int elem, const char *dims) {
    PUSH(m->graph->input, m->graph->n_input, value_info(name, elem, dims));
}

void mk_output(Onnx__ModelProto *m, const char *name, const char *dims) {
    PUSH(m->graph->output, m->graph->n_output, value_info(name, 1, dims));
}

static Onnx__TensorProto *tensor(const char *name, int elem, const char *dims, int64_t *numel) {
    Onnx__TensorProto *t = ir_xmalloc(sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = ir_strdup(name);
    t->has_data_type = 1;
    t->data_type = elem;
    int64_t v[16];
    char *param[16];
    int n = parse_dims(dims, v, param);
    t->dims = ir_xmalloc((size_t)(n ? n : 1) * sizeof *t->dims);
    t->n_dims = (size_t)n;
    *numel = 1;
    for (int i = 0; i < n; i++) {
        t->dims[i] = v[i];
        *numel *= v[i];
        free(param[i]);
    }
    return t;
}

Onnx__TensorProto *mk_tensor_f32(const char *name, const char *dims, const float *vals) {
    int64_t n;
    Onnx__TensorProto *t = tensor(name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, dims, &n);
    t->float_data = ir_xmalloc((size_t)n * sizeof(float));
    t->n_float_data = (size_t)n;
    for (int64_t i = 0; i < n; i++)
        t->float_data[i] = vals ? vals[i] : 0.5f * (float)i;
    return t;
}

Onnx__TensorProto *mk_tensor_i64(const char *name, const char *dims, const int64_t *vals) {
    int64_t n;
    Onnx__TensorProto *t = tensor(name, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, dims, &n);
    t->int64_data = ir_xmalloc((size_t)n * sizeof(int64_t));
    t->n_int64_data = (size_t)n;
    memcpy(t->int64_data, vals, (size_t)n * sizeof(int64_t));
    return t;
}

Onnx__TensorProto *mk_init_f32(Onnx__ModelProto *m, const char *name, const char *dims,
                               const float *vals) {
    int64_t n;
    Onnx__TensorProto *t = tensor(name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, dims, &n);
    t->has_raw_data = 1;
    t->raw_data.len = (size_t)n * sizeof(float);
    t->raw_data.data = ir_xmalloc(t->raw_data.len);
    float *f = (float *)t->raw_data.data;
    for (int64_t i = 0; i < n; i++)
        f[i] = vals ? vals[i] : 0.5f * (float)i;
    PUSH(m->graph->initializer, m->graph->n_initializer, t);
    return t;
}

Onnx__TensorProto *mk_init_i64(Onnx__ModelProto *m, const char *name, const char *dims,
                               const int64_t *vals) {
    int64_t n;
    Onnx__TensorProto *t = tensor(name, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, dims, &n);
    t->has_raw_data = 1;
    t->raw_data.len = (size_t)n * sizeof(int64_t);
    t->raw_data.data = ir_xmalloc(t->raw_data.len);
    memcpy(t->raw_data.data, vals, t->raw_data.len);
    PUSH(m->graph->initializer, m->graph->n_initializer, t);
    return t;
}

static void split(const char *s, char ***arr, size_t *n) {
    while (s) {
        size_t k = strcspn(s, ",");
        char *p = ir_xmalloc(k + 1);
        memcpy(p, s, k);
        p[k] = 0;
        PUSH(*arr, *n, p);
        s = s[k] ? s + k + 1 : NULL;
    }
}

Onnx__NodeProto *mk_node(Onnx__ModelProto *m, const char *op, const char *name, const char *ins,
                         const char *outs) {
    Onnx__NodeProto *n = ir_xmalloc(sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = ir_strdup(op);
    n->name = ir_strdup(name);
    split(ins, &n->input, &n->n_input);
    split(outs, &n->output, &n->n_output);
    PUSH(m->graph->node, m->graph->n_node, n);
    return n;
}

static Onnx__AttributeProto *new_attr(Onnx__NodeProto *n, const char *name,
                                      Onnx__AttributeProto__AttributeType type) {
    Onnx__AttributeProto *a = ir_xmalloc(sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = ir_strdup(name);
    a->has_type = 1;
    a->type = type;
    PUSH(n->attribute, n->n_attribute, a);
    return a;
}

void mk_attr_i(Onnx__NodeProto *n, const char *name, int64_t v) {
    Onnx__AttributeProto *a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
}

void mk_attr_f(Onnx__NodeProto *n, const char *name, float v) {
    Onnx__AttributeProto *a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = v;
}

void mk_attr_s(Onnx__NodeProto *n, const char *name, const char *v) {
    Onnx__AttributeProto *a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1;
    a->s.len = strlen(v);
    a->s.data = (uint8_t *)ir_strdup(v);
}

void mk_attr_ints(Onnx__NodeProto *n, const char *name, const char *vals) {
    Onnx__AttributeProto *a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    int64_t v[16];
    char *param[16];
    int k = parse_dims(vals, v, param);
    a->ints = ir_xmalloc((size_t)(k ? k : 1) * sizeof *a->ints);
    a->n_ints = (size_t)k;
    memcpy(a->ints, v, (size_t)k * sizeof *v);
}

void mk_attr_floats(Onnx__NodeProto *n, const char *name, int count, const float *v) {
    Onnx__AttributeProto *a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
    a->floats = ir_xmalloc((size_t)(count ? count : 1) * sizeof *a->floats);
    a->n_floats = (size_t)count;
    memcpy(a->floats, v, (size_t)count * sizeof *v);
}

void mk_attr_t(Onnx__NodeProto *n, const char *name, Onnx__TensorProto *t) {
    Onnx__AttributeProto *a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    a->t = t;
}

void mk_write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) {
        fprintf(stderr, "mkmodel: cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

void mk_write(Onnx__ModelProto *m, const char *path) {
    size_t n = onnx__model_proto__get_packed_size(m);
    uint8_t *buf = ir_xmalloc(n);
    onnx__model_proto__pack(m, buf);
    mk_write_bytes(path, buf, n);
    free(buf);
    onnx__model_proto__free_unpacked(m, NULL);
}
