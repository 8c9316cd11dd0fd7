/* fuse.c: pooling fused into the conv that feeds it.  A k x k, stride k
 * pooling without padding, reading a conv output nobody else reads, is done
 * by the conv on each finished tile in AM: the full-size output never goes
 * to DDR and the pooling layer costs nothing of its own. */
#include "backend/backend.h"

void bk_fuse_pools(IrGraph *g) {
    for (int li = 0; li < g->n_l; li++) {
        IrLayer *l = &g->l[li];
        BkSched *s = l->dead ? NULL : l->sched;
        if (!s || s->kind != BK_KIND_POOL || s->pre.present || s->post.present)
            continue;
        const IrPoolAttr *a = &l->a.pool;
        int k = a->kernel[0];
        int t = l->in[0], p = g->t[t].producer;
        if (k < 2 || k > 4 || a->kernel[1] != k || a->stride[0] != k || a->stride[1] != k || a->dilation[0] != 1 ||
            a->dilation[1] != 1 || a->pad[0] ||
            a->pad[1] || a->pad[2] || a->pad[3] || p < 0 || g->t[t].is_graph_output ||
            ir_consumer_count(g, t) != 1 || g->t[l->out[0]].is_graph_output)
            continue;
        IrLayer *cl = &g->l[p];
        BkSched *c = cl->dead ? NULL : cl->sched;
        if (!c || c->kind != BK_KIND_CONV || cl->op != IR_CONV || cl->a.conv.group != 1 || c->post.present ||
            s->out.h != c->out.h / k || s->out.w != c->out.w / k)
            continue;
        c->u.conv.pool_k = k; /* read by conv_setup before the tiling search */
        c->u.conv.pool_max = l->op == IR_MAXPOOL;
        c->out = s->out;
        c->out_tensor = l->out[0];
        s->kind = BK_KIND_FUSED;
    }
}
