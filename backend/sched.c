/* sched.c: the per-layer schedule record (BkSched) hung on l->sched:
 * making and freeing it, and the sizes of the activations it describes. */
#include <stdlib.h>

#include "backend/backend.h"

int64_t bk_act_bytes(const BkAct *a) {
    int64_t c = a->layout == BK_LAYOUT_BLOCKED ? (a->c + 31) / 32 * 32 : a->c;
    return (int64_t)a->n * c * a->h * a->w * 4;
}


static void sched_free(BkSched *s) {
    bk_moves_free(&s->mv);
    bk_moves_free(&s->pre.mv);
    bk_moves_free(&s->post.mv);
    bk_moves_free(&s->expand[0].mv);
    bk_moves_free(&s->expand[1].mv);
    free(s->cat_addr);
    free(s);
}


BkSched *bk_sched_attach(IrLayer *l) {
    if (l->sched && l->free_sched)
        l->free_sched(l->sched);
    BkSched *s = ir_xcalloc(1, sizeof *s);
    l->sched = s;
    l->free_sched = sched_free;
    l->dump_sched = bk_sched_dump;
    return s;
}

