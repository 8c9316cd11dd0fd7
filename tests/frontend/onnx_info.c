/* onnx_info: loads an ONNX model with the frontend and prints its layers
 * and shapes (a debugging aid, also used to time big models by hand). */
#include <stdio.h>
#include <stdlib.h>

#include "frontend/frontend.h"
#include "ir/shape.h"

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: onnx_info model.onnx [batch]\n");
        return 2;
    }
    FrontendOptions opt = {argc > 2 ? atoll(argv[2]) : 0};
    IrDiag d = {0};
    IrGraph *g = frontend_load_onnx(argv[1], &opt, &d);
    if (!g) {
        ir_diag_print(&d, stderr);
        ir_diag_free(&d);
        return 1;
    }
    /* Constant bytes and a checksum, to compare loads of the same weights. */
    int64_t bytes = 0;
    double sum = 0;
    for (int i = 0; i < g->n_t; i++) {
        IrTensor *t = &g->t[i];
        int64_t n = ir_numel(t);
        if (t->role != IR_T_CONST || !t->f32 || n < 0)
            continue;
        bytes += n * 4;
        for (int64_t k = 0; k < n; k++)
            sum += t->f32[k] * (double)(k % 7 + 1);
    }
    printf("constants: %lld bytes of float32, checksum %.9g\n", (long long)bytes, sum);
    char s[160];
    printf("graph %s opset %lld: %d tensors, %d layers\n", g->name, (long long)g->opset, g->n_t, g->n_l);
    for (int i = 0; i < g->n_l; i++) {
        IrLayer *l = &g->l[i];
        if (l->dead)
            continue;
        printf("  %-24s %-14s -> %s %s\n", l->name, ir_op_name(l->op), g->t[l->out[0]].name,
               ir_shape_str(&g->t[l->out[0]], s, sizeof s));
    }
    ir_graph_free(g);
    ir_diag_free(&d);
    return 0;
}
