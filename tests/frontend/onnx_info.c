/* onnx_info: loads an ONNX model with the frontend and prints its layers
 * and shapes (a debugging aid, also used to time big models by hand). */
#include <stdio.h>
#include <stdlib.h>

#include "frontend.h"
#include "shape.h"

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
