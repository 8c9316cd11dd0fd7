/* Tests of ir/eval.c, the reference executor.  Each case of golden/cases.txt
 * (made by make_goldens.py with PyTorch in float64) and of onnx_cases.txt
 * (the ONNX backend node tests) becomes a one-layer IR graph built here from
 * the listed attributes, runs through ir_eval_layer and ir_eval, and must
 * match the expected output.  Then NaN handling, a multi-layer graph, dead
 * layers and bad graphs. */
#include <CUnit/Basic.h>

#include "tests/common/cunit_run.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/eval.h"
#include "runtime/tensor_file.h"

#define RTOL 1e-4
#define ATOL 1e-6

static const char *golden_dir, *onnx_list, *onnx_dir;

/* ---- building a one-layer graph from a case line ------------------------ */

static int op_by_name(const char *s) {
    for (int op = 0; op < IR_OP_COUNT; op++)
        if (strcmp(ir_op_name((IrOp)op), s) == 0)
            return op;
    return -1;
}

/* Parses "a,b,c" into up to n numbers; returns how many. */
static int nums(const char *s, double *v, int n) {
    int k = 0;
    while (k < n && *s) {
        char *end;
        v[k++] = strtod(s, &end);
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            break;
    }
    return k;
}

/* ONNX defaults first, then the case's key=value attributes. */
static int set_attrs(IrLayer *l, char *kv) {
    IrConvAttr *c = &l->a.conv;
    IrPoolAttr *p = &l->a.pool;
    switch (l->op) {
    case IR_CONV:
        c->stride[0] = c->stride[1] = c->dilation[0] = c->dilation[1] = c->group = 1;
        break;
    case IR_MAXPOOL:
    case IR_AVGPOOL:
        p->stride[0] = p->stride[1] = p->dilation[0] = p->dilation[1] = 1;
        break;
    case IR_GEMM:
        l->a.gemm.alpha = l->a.gemm.beta = 1.0f;
        break;
    case IR_BATCHNORM:
        l->a.bn.eps = 1e-5f;
        break;
    case IR_LRN:
        l->a.lrn = (IrLrnAttr){.size = 1, .alpha = 1e-4f, .beta = 0.75f, .bias = 1.0f};
        break;
    default:
        break;
    }
    for (char *tok = strtok(kv, " \n"); tok; tok = strtok(NULL, " \n")) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return -1;
        *eq = 0;
        const char *k = tok, *s = eq + 1;
        double v[16];
        int n = nums(s, v, 16);
        int pool = l->op == IR_MAXPOOL || l->op == IR_AVGPOOL;
        if (!strcmp(k, "stride") && n == 2) {
            int *st = pool ? p->stride : c->stride;
            st[0] = (int)v[0], st[1] = (int)v[1];
        } else if (!strcmp(k, "pad") && n == 4) {
            for (int i = 0; i < 4; i++)
                (pool ? p->pad : c->pad)[i] = (int)v[i];
        } else if (!strcmp(k, "dil") && n == 2) {
            int *dl = pool ? p->dilation : c->dilation;
            dl[0] = (int)v[0], dl[1] = (int)v[1];
        } else if (!strcmp(k, "kernel") && n == 2) {
            p->kernel[0] = (int)v[0], p->kernel[1] = (int)v[1];
        } else if (!strcmp(k, "group")) {
            c->group = (int)v[0];
        } else if (!strcmp(k, "ceil")) {
            p->ceil_mode = (int)v[0];
        } else if (!strcmp(k, "cip")) {
            p->count_include_pad = (int)v[0];
        } else if (!strcmp(k, "alpha")) {
            if (l->op == IR_GEMM)
                l->a.gemm.alpha = (float)v[0];
            else if (l->op == IR_LRN)
                l->a.lrn.alpha = (float)v[0];
            else
                l->act.alpha = (float)v[0];
        } else if (!strcmp(k, "beta")) {
            if (l->op == IR_GEMM)
                l->a.gemm.beta = (float)v[0];
            else
                l->a.lrn.beta = (float)v[0];
        } else if (!strcmp(k, "ta")) {
            l->a.gemm.trans_a = (int)v[0];
        } else if (!strcmp(k, "tb")) {
            l->a.gemm.trans_b = (int)v[0];
        } else if (!strcmp(k, "eps")) {
            l->a.bn.eps = (float)v[0];
        } else if (!strcmp(k, "size")) {
            l->a.lrn.size = (int)v[0];
        } else if (!strcmp(k, "bias")) {
            l->a.lrn.bias = (float)v[0];
        } else if (!strcmp(k, "axis")) {
            l->a.softmax.axis = (int)v[0]; /* also l->a.axis: same first member */
            if (l->op == IR_CONCAT)
                l->a.axis = (int)v[0];
        } else if (!strcmp(k, "perm")) {
            l->a.perm.n = n;
            for (int i = 0; i < n; i++)
                l->a.perm.v[i] = (int)v[i];
        } else if (!strcmp(k, "coerce")) {
            l->a.softmax.coerce_2d = (int)v[0];
        } else if (!strcmp(k, "pads")) {
            int r = n / 2;
            for (int i = 0; i < r; i++) {
                l->a.pad.pads[i] = (int64_t)v[i];
                l->a.pad.pads[r + i] = (int64_t)v[r + i];
            }
        } else if (!strcmp(k, "value")) {
            l->a.pad.value = (float)v[0];
        } else if (!strcmp(k, "lo")) {
            l->act.lo = (float)v[0];
        } else if (!strcmp(k, "hi")) {
            l->act.hi = (float)v[0];
        } else if (!strcmp(k, "act")) {
            if (!strcmp(s, "relu")) {
                l->act.kind = IR_ACT_RELU;
            } else if (!strncmp(s, "leaky:", 6)) {
                l->act.kind = IR_ACT_LEAKY_RELU;
                l->act.alpha = strtof(s + 6, NULL);
            } else if (!strncmp(s, "clip:", 5)) {
                char *e;
                l->act.kind = IR_ACT_CLIP;
                l->act.lo = strtof(s + 5, &e);
                l->act.hi = strtof(e + 1, NULL);
            } else if (!strcmp(s, "sigmoid")) {
                l->act.kind = IR_ACT_SIGMOID;
            } else if (!strcmp(s, "tanh")) {
                l->act.kind = IR_ACT_TANH;
            } else {
                return -1;
            }
        } else if (strcmp(k, "shape") != 0) { /* shape: the golden output has it */
            return -1;
        }
    }
    return 0;
}

static int add_tensor(IrGraph *g, const char *name, const M7Tensor *m, IrTensorRole role) {
    int t = ir_add_tensor(g, name, IR_F32, role);
    ir_set_shape(&g->t[t], m->rank, m->dims);
    if (role == IR_T_CONST) {
        g->t[t].f32 = ir_xmalloc((size_t)(m->numel ? m->numel : 1) * sizeof(float));
        memcpy(g->t[t].f32, m->f32, (size_t)m->numel * sizeof(float));
    }
    return t;
}

static int read_or_fail(const char *path, M7Tensor *t) {
    char err[512];
    if (m7_tensor_read(path, t, err, sizeof err) == 0)
        return 0;
    fprintf(stderr, "\n  %s\n", err);
    CU_FAIL("cannot read a golden file");
    return -1;
}

/* Compares and prints the case's error figures; returns 0 when it holds. */
static int check(const char *name, const char *how, float *got, const M7Tensor *want,
                 double *worst) {
    M7Tensor g = *want;
    g.f32 = got;
    char rep[512];
    int rc = m7_tensor_compare(&g, want, RTOL, ATOL, rep, sizeof rep);
    /* max rel err is the figure after the last "rel err " */
    const char *r = strstr(rep, "max rel err ");
    double rel = r ? atof(r + 12) : 0;
    if (rel > *worst)
        *worst = rel;
    if (rc)
        fprintf(stderr, "\n  %s (%s): %s\n", name, how, rep);
    return rc;
}

/* Runs one case: inputs[0] is the graph input, the rest are constants. */
static void run_case(const char *name, IrOp op, int n_in, M7Tensor *ins, const M7Tensor *want,
                     char *attrs, double *worst) {
    IrGraph *g = ir_graph_new(name);
    int in_idx[8], y;
    for (int k = 0; k < n_in; k++) {
        char tn[16];
        snprintf(tn, sizeof tn, "in%d", k);
        in_idx[k] = add_tensor(g, tn, &ins[k], k ? IR_T_CONST : IR_T_INPUT);
    }
    y = add_tensor(g, "y", want, IR_T_ACT);
    int li = ir_add_layer(g, op, name, ir_op_name(op), in_idx, n_in, &y, 1);
    ir_graph_add_input(g, in_idx[0]);
    ir_graph_add_output(g, y);
    if (set_attrs(&g->l[li], attrs)) {
        fprintf(stderr, "\n  %s: bad attributes\n", name);
        CU_FAIL("bad case line");
        ir_graph_free(g);
        return;
    }
    IrDiag d = {0};
    /* ir_eval_layer on caller buffers (filled with garbage first). */
    float *ybuf = malloc((size_t)(want->numel ? want->numel : 1) * sizeof(float));
    for (int64_t i = 0; i < want->numel; i++)
        ybuf[i] = NAN;
    const float *inp[8];
    for (int k = 0; k < n_in; k++)
        inp[k] = ins[k].f32;
    int rc = ir_eval_layer(g, &g->l[li], inp, &ybuf, &d);
    if (rc)
        ir_diag_print(&d, stderr);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc == 0)
        CU_ASSERT_EQUAL(check(name, "ir_eval_layer", ybuf, want, worst), 0);
    free(ybuf);
    /* ir_eval on the graph. */
    float *outs[1] = {NULL};
    const float *gin[1] = {ins[0].f32};
    rc = ir_eval(g, gin, outs, &d);
    if (rc)
        ir_diag_print(&d, stderr);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc == 0)
        CU_ASSERT_EQUAL(check(name, "ir_eval", outs[0], want, worst), 0);
    free(outs[0]);
    ir_diag_free(&d);
    ir_graph_free(g);
}

/* Runs every line of a case list; files are DIR/NAME.inK.pb + NAME.out.pb
 * (goldens) or DIR/NAME/test_data_set_0/input_K.pb + output_0.pb (ONNX). */
static void run_list(const char *list, const char *dir, int onnx_layout) {
    FILE *f = fopen(list, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char line[1024];
    int ncases = 0;
    double worst_per_op[IR_OP_COUNT] = {0};
    int seen[IR_OP_COUNT] = {0};
    while (fgets(line, sizeof line, f)) {
        char name[256], opname[64];
        int n_in, used = 0;
        if (sscanf(line, "%255s %63s %d %n", name, opname, &n_in, &used) < 3)
            continue;
        if (!strcmp(opname, "chain"))
            continue; /* test_chain builds it */
        int op = op_by_name(opname);
        CU_ASSERT_FATAL(op >= 0 && n_in >= 1 && n_in <= 8);
        M7Tensor ins[8], want;
        char path[1024];
        int ok = 1, k;
        for (k = 0; k < n_in && ok; k++) {
            if (onnx_layout)
                snprintf(path, sizeof path, "%s/%s/test_data_set_0/input_%d.pb", dir, name, k);
            else
                snprintf(path, sizeof path, "%s/%s.in%d.pb", dir, name, k);
            ok = read_or_fail(path, &ins[k]) == 0;
        }
        if (ok) {
            if (onnx_layout)
                snprintf(path, sizeof path, "%s/%s/test_data_set_0/output_0.pb", dir, name);
            else
                snprintf(path, sizeof path, "%s/%s.out.pb", dir, name);
            if (read_or_fail(path, &want) == 0) {
                run_case(name, (IrOp)op, n_in, ins, &want, line + used, &worst_per_op[op]);
                seen[op] = 1;
                ncases++;
                m7_tensor_free(&want);
            }
        }
        for (int j = 0; j < k - !ok; j++)
            m7_tensor_free(&ins[j]);
    }
    fclose(f);
    printf("\n    %d cases; max rel error per op:", ncases);
    for (int op = 0; op < IR_OP_COUNT; op++)
        if (seen[op])
            printf(" %s %.1e", ir_op_name((IrOp)op), worst_per_op[op]);
    printf("\n    ");
    CU_ASSERT(ncases > 20);
}

static void test_goldens(void) {
    char list[1024];
    snprintf(list, sizeof list, "%s/cases.txt", golden_dir);
    run_list(list, golden_dir, 0);
}

static void test_onnx_nodes(void) {
    run_list(onnx_list, onnx_dir, 1);
}

/* conv+relu -> maxpool (ceil) -> flatten -> fc -> softmax, with a dead
 * layer in between, through ir_eval; golden "chain" from PyTorch. */
static void test_chain(void) {
    M7Tensor m[5], want;
    char path[1024];
    for (int k = 0; k < 5; k++) {
        snprintf(path, sizeof path, "%s/chain.in%d.pb", golden_dir, k);
        CU_ASSERT_FATAL(read_or_fail(path, &m[k]) == 0);
    }
    snprintf(path, sizeof path, "%s/chain.out.pb", golden_dir);
    CU_ASSERT_FATAL(read_or_fail(path, &want) == 0);
    IrGraph *g = ir_graph_new("chain");
    int x = add_tensor(g, "x", &m[0], IR_T_INPUT);
    int w1 = add_tensor(g, "w1", &m[1], IR_T_CONST), b1 = add_tensor(g, "b1", &m[2], IR_T_CONST);
    int w2 = add_tensor(g, "w2", &m[3], IR_T_CONST), b2 = add_tensor(g, "b2", &m[4], IR_T_CONST);
    int h1 = ir_add_tensor(g, "h1", IR_F32, IR_T_ACT), h2 = ir_add_tensor(g, "h2", IR_F32, IR_T_ACT);
    int h3 = ir_add_tensor(g, "h3", IR_F32, IR_T_ACT), junk = ir_add_tensor(g, "junk", IR_F32, IR_T_ACT);
    int h4 = ir_add_tensor(g, "h4", IR_F32, IR_T_ACT), y = ir_add_tensor(g, "y", IR_F32, IR_T_ACT);
    ir_set_shape(&g->t[h1], 4, (int64_t[]){1, 8, 13, 13});
    ir_set_shape(&g->t[h2], 4, (int64_t[]){1, 8, 7, 7});
    ir_set_shape(&g->t[h3], 2, (int64_t[]){1, 392});
    ir_set_shape(&g->t[junk], 2, (int64_t[]){1, 392});
    ir_set_shape(&g->t[h4], 2, (int64_t[]){1, 10});
    ir_set_shape(&g->t[y], 2, (int64_t[]){1, 10});
    int c = ir_add_layer(g, IR_CONV, "conv", "Conv", (int[]){x, w1, b1}, 3, &h1, 1);
    g->l[c].a.conv = (IrConvAttr){.stride = {1, 1}, .dilation = {1, 1}, .pad = {1, 1, 1, 1},
                                  .group = 1};
    g->l[c].act.kind = IR_ACT_RELU;
    int p = ir_add_layer(g, IR_MAXPOOL, "pool", "MaxPool", &h1, 1,
                         &h2, 1);
    g->l[p].a.pool = (IrPoolAttr){.kernel = {2, 2}, .stride = {2, 2}, .dilation = {1, 1},
                                  .ceil_mode = 1};
    ir_add_layer(g, IR_FLATTEN, "flat", "Flatten", &h2, 1, &h3, 1);
    int dead = ir_add_layer(g, IR_SIGMOID, "dead", "Sigmoid", &h3, 1, &junk, 1);
    g->l[dead].dead = 1;
    ir_add_layer(g, IR_FC, "fc", "Gemm", (int[]){h3, w2, b2}, 3, &h4, 1);
    int s = ir_add_layer(g, IR_SOFTMAX, "sm", "Softmax", &h4, 1, &y, 1);
    g->l[s].a.softmax.axis = 1;
    ir_graph_add_input(g, x);
    ir_graph_add_output(g, y);
    ir_graph_add_output(g, h4); /* an output that is also read later */
    float *outs[2] = {NULL, NULL};
    IrDiag d = {0};
    int rc = ir_eval(g, (const float *const[]){m[0].f32}, outs, &d);
    ir_diag_print(&d, stderr);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    double worst = 0;
    CU_ASSERT_EQUAL(check("chain", "ir_eval", outs[0], &want, &worst), 0);
    printf(" (max rel error %.1e) ", worst);
    /* The second output is the softmax input: softmax of it must be outs[0]. */
    double mx = -INFINITY, sum = 0;
    for (int i = 0; i < 10; i++)
        mx = fmax(mx, outs[1][i]);
    for (int i = 0; i < 10; i++)
        sum += exp(outs[1][i] - mx);
    for (int i = 0; i < 10; i++)
        CU_ASSERT_DOUBLE_EQUAL(exp(outs[1][i] - mx) / sum, outs[0][i], 1e-6);
    free(outs[0]);
    free(outs[1]);
    outs[0] = outs[1] = NULL;
    /* Making the dead layer live breaks nothing but is not needed: its
     * output is unused; making the consumer of an unproduced tensor live is
     * an error. */
    g->l[dead].dead = 0;
    int z = ir_add_tensor(g, "z", IR_F32, IR_T_ACT);
    ir_set_shape(&g->t[z], 2, (int64_t[]){1, 392});
    int never = ir_add_tensor(g, "never", IR_F32, IR_T_ACT);
    ir_set_shape(&g->t[never], 2, (int64_t[]){1, 392});
    ir_add_layer(g, IR_RELU, "orphan", "Relu", &never, 1, &z, 1);
    rc = ir_eval(g, (const float *const[]){m[0].f32}, outs, &d);
    CU_ASSERT_EQUAL(rc, -1);
    CU_ASSERT(d.n == 1 && strstr(d.msg[0], "'never' has no value"));
    CU_ASSERT_PTR_NULL(outs[0]);
    ir_diag_free(&d);
    ir_graph_free(g);
    for (int k = 0; k < 5; k++)
        m7_tensor_free(&m[k]);
    m7_tensor_free(&want);
}

/* NaN flows through activations, pooling and sums as in ONNX/numpy. */
static void test_nan(void) {
    IrGraph *g = ir_graph_new("nan");
    int x = ir_add_tensor(g, "x", IR_F32, IR_T_INPUT), y = ir_add_tensor(g, "y", IR_F32, IR_T_ACT);
    ir_set_shape(&g->t[x], 4, (int64_t[]){1, 1, 2, 2});
    ir_set_shape(&g->t[y], 4, (int64_t[]){1, 1, 2, 2});
    float in[4] = {NAN, -1.0f, 2.0f, -INFINITY}, out[4];
    float *o = out;
    IrDiag d = {0};
    static const IrOp acts[] = {IR_RELU, IR_LEAKY_RELU, IR_CLIP, IR_SIGMOID};
    for (int i = 0; i < 4; i++) {
        int li = ir_add_layer(g, acts[i], "a", "Act", &x, 1, &y, 1);
        g->l[li].act.alpha = 0.5f;
        g->l[li].act.lo = -0.5f;
        g->l[li].act.hi = 1.0f;
        CU_ASSERT_EQUAL(ir_eval_layer(g, &g->l[li], (const float *const[]){in}, &o, &d), 0);
        CU_ASSERT(isnan(out[0]));
    }
    CU_ASSERT_EQUAL(out[1], (float)(1.0 / (1.0 + exp(1.0)))); /* sigmoid(-1) */
    CU_ASSERT_EQUAL(out[3], 0.0f);                             /* sigmoid(-inf) */
    int gp = ir_add_layer(g, IR_GLOBAL_MAXPOOL, "gmp", "GlobalMaxPool", &x, 1, &y, 1);
    ir_set_shape(&g->t[y], 4, (int64_t[]){1, 1, 1, 1});
    CU_ASSERT_EQUAL(ir_eval_layer(g, &g->l[gp], (const float *const[]){in}, &o, &d), 0);
    CU_ASSERT(isnan(out[0]));
    in[0] = 1.0f; /* max of {1,-1,2,-inf} */
    CU_ASSERT_EQUAL(ir_eval_layer(g, &g->l[gp], (const float *const[]){in}, &o, &d), 0);
    CU_ASSERT_EQUAL(out[0], 2.0f);
    CU_ASSERT_EQUAL(d.n, 0);
    ir_graph_free(g);
}

/* LRN with an even size: ONNX sums channels c-floor((size-1)/2) ..
 * c+ceil((size-1)/2), i.e. c..c+1 for size 2 (PyTorch would take c-1..c,
 * so this case is checked by hand, not against a golden). */
static void test_lrn_even(void) {
    IrGraph *g = ir_graph_new("lrn");
    int x = ir_add_tensor(g, "x", IR_F32, IR_T_INPUT), y = ir_add_tensor(g, "y", IR_F32, IR_T_ACT);
    ir_set_shape(&g->t[x], 4, (int64_t[]){1, 4, 1, 1});
    ir_set_shape(&g->t[y], 4, (int64_t[]){1, 4, 1, 1});
    int li = ir_add_layer(g, IR_LRN, "lrn", "LRN", &x, 1, &y, 1);
    g->l[li].a.lrn = (IrLrnAttr){.size = 2, .alpha = 2.0f, .beta = 1.0f, .bias = 0.0f};
    float in[4] = {1, 2, 3, 4}, out[4], *o = out;
    IrDiag d = {0};
    CU_ASSERT_EQUAL_FATAL(ir_eval_layer(g, &g->l[li], (const float *const[]){in}, &o, &d), 0);
    /* y[c] = x[c] / (0 + 2/2 * (x[c]^2 + x[c+1]^2)) */
    CU_ASSERT_DOUBLE_EQUAL(out[0], 1.0 / 5, 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(out[1], 2.0 / 13, 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(out[2], 3.0 / 25, 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(out[3], 4.0 / 16, 1e-7);
    ir_graph_free(g);
}

/* Dropout at inference copies X and, when asked, writes an all-ones mask. */
static void test_dropout_mask(void) {
    IrGraph *g = ir_graph_new("drop");
    int x = ir_add_tensor(g, "x", IR_F32, IR_T_INPUT), y = ir_add_tensor(g, "y", IR_F32, IR_T_ACT);
    int m = ir_add_tensor(g, "mask", IR_F32, IR_T_ACT);
    ir_set_shape(&g->t[x], 1, (int64_t[]){3});
    ir_set_shape(&g->t[y], 1, (int64_t[]){3});
    ir_set_shape(&g->t[m], 1, (int64_t[]){3});
    int li = ir_add_layer(g, IR_DROPOUT, "drop", "Dropout", &x, 1, (int[]){y, m}, 2);
    float in[3] = {1, -2, 3}, out[3] = {0}, mask[3] = {0};
    float *o[2] = {out, mask};
    IrDiag d = {0};
    CU_ASSERT_EQUAL_FATAL(ir_eval_layer(g, &g->l[li], (const float *const[]){in}, o, &d), 0);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(out[i], in[i]);
        CU_ASSERT_EQUAL(mask[i], 1.0f);
    }
    ir_graph_free(g);
}

/* Wrong graphs give one message naming the layer, never a crash. */
static void expect_error(IrGraph *g, int li, const char *what) {
    IrDiag d = {0};
    float buf[4096];
    float *o[2] = {buf, buf};
    const float *in[8];
    static float data[4096];
    for (int k = 0; k < 8; k++)
        in[k] = data;
    CU_ASSERT_EQUAL(ir_eval_layer(g, &g->l[li], in, o, &d), -1);
    CU_ASSERT_EQUAL(d.n, 1);
    if (d.n == 1 && !strstr(d.msg[0], what)) {
        fprintf(stderr, "\n  message '%s' lacks '%s'\n", d.msg[0], what);
        CU_FAIL("wrong message");
    }
    if (d.n >= 1)
        CU_ASSERT_PTR_NOT_NULL(strstr(d.msg[0], g->l[li].name));
    ir_diag_free(&d);
}

static void test_bad_graphs(void) {
    IrGraph *g = ir_graph_new("bad");
    int x = ir_add_tensor(g, "x", IR_F32, IR_T_INPUT), w = ir_add_tensor(g, "w", IR_F32, IR_T_CONST);
    int y = ir_add_tensor(g, "y", IR_F32, IR_T_ACT), s = ir_add_tensor(g, "s", IR_I64, IR_T_CONST);
    ir_set_shape(&g->t[x], 4, (int64_t[]){1, 4, 5, 5});
    ir_set_shape(&g->t[w], 4, (int64_t[]){2, 3, 3, 3});
    ir_set_shape(&g->t[y], 4, (int64_t[]){1, 2, 3, 3});
    ir_set_shape(&g->t[s], 1, (int64_t[]){2});
    int c = ir_add_layer(g, IR_CONV, "c1", "Conv", (int[]){x, w}, 2, &y, 1);
    g->l[c].a.conv.group = 1;
    expect_error(g, c, "group"); /* W has 3 input channels, X 4 */
    ir_set_shape(&g->t[w], 4, (int64_t[]){2, 4, 3, 3});
    ir_set_shape(&g->t[y], 4, (int64_t[]){1, 2, 4, 3});
    expect_error(g, c, "gives [1,2,3,3]");
    ir_set_shape(&g->t[w], 4, (int64_t[]){2, 4, 7, 3});
    expect_error(g, c, "larger");
    ir_set_shape(&g->t[w], 2, (int64_t[]){2, 4});
    expect_error(g, c, "4-D");
    g->t[w].rank = -1;
    expect_error(g, c, "unknown shape");

    int p = ir_add_layer(g, IR_MAXPOOL, "p1", "MaxPool", &x, 1, &y, 1);
    expect_error(g, p, "kernel"); /* kernel 0 */
    g->l[p].a.pool.kernel[0] = g->l[p].a.pool.kernel[1] = 9;
    expect_error(g, p, "larger");

    int a = ir_add_layer(g, IR_ADD, "a1", "Add", (int[]){x, w}, 2, &y, 1);
    ir_set_shape(&g->t[w], 1, (int64_t[]){3});
    expect_error(g, a, "broadcast");
    int a1 = ir_add_layer(g, IR_ADD, "a2", "Add", &x, 1, &y, 1);
    expect_error(g, a1, "needs 2 inputs");

    int r = ir_add_layer(g, IR_RESHAPE, "r1", "Reshape", (int[]){x, s}, 2, &y, 1);
    expect_error(g, r, "element count"); /* 100 elements into 18 */
    int sh = ir_add_layer(g, IR_SHAPE, "sh", "Shape", &x, 1, &s, 1);
    IrDiag d = {0};
    float *o[1] = {NULL};
    CU_ASSERT_EQUAL(ir_eval_layer(g, &g->l[sh], (const float *const[]){NULL}, o, &d), -1);
    ir_diag_free(&d);

    int sm = ir_add_layer(g, IR_SOFTMAX, "sm", "Softmax", &x, 1, &y, 1);
    g->l[sm].a.softmax.axis = 4;
    expect_error(g, sm, "axis");

    /* ir_eval: a huge tensor is refused, not allocated. */
    IrGraph *h = ir_graph_new("huge");
    int hx = ir_add_tensor(h, "x", IR_F32, IR_T_INPUT), hy = ir_add_tensor(h, "y", IR_F32, IR_T_ACT);
    ir_set_shape(&h->t[hx], 1, (int64_t[]){4});
    ir_set_shape(&h->t[hy], 2, (int64_t[]){INT64_C(1) << 31, 4});
    ir_add_layer(h, IR_RELU, "big", "Relu", &hx, 1, &hy, 1);
    ir_graph_add_input(h, hx);
    ir_graph_add_output(h, hy);
    float xin[4] = {0};
    float *outs[1] = {NULL};
    CU_ASSERT_EQUAL(ir_eval(h, (const float *const[]){xin}, outs, &d), -1);
    CU_ASSERT(d.n == 1 && strstr(d.msg[0], "cannot allocate"));
    ir_diag_free(&d);
    ir_graph_free(h);
    ir_graph_free(g);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s GOLDEN_DIR ONNX_CASES ONNX_NODE_DIR\n", argv[0]);
        return 2;
    }
    golden_dir = argv[1];
    onnx_list = argv[2];
    onnx_dir = argv[3];
    static const TestCase tests[] = {
        {"PyTorch goldens", test_goldens},
        {"ONNX node tests", test_onnx_nodes},
        {"chain of layers", test_chain},
        {"NaN", test_nan},
        {"LRN even size", test_lrn_even},
        {"Dropout mask", test_dropout_mask},
        {"bad graphs", test_bad_graphs},
        {NULL, NULL},
    };
    return cunit_run("eval", tests);
}
