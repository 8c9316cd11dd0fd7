/* The other device rules: float data through pointers, indirect calls,
 * registers from initialisers, pointers as addresses, functions only
 * declared, and a run-time SM address with no declared SM use. */
#include "m7rt.h"

void helper(void);

void k(const float *w, void (*f)(void), int n) {
    m7_vec a = {{0}, 0}; // EXPECT private
    float x = w[2]; // EXPECT deref
    f(); // EXPECT call
    helper(); // EXPECT call
    m7_addr p = (m7_addr)w; // EXPECT addr-cast
    m7_vst(M7_AM(0), m7_vsplat(x));
    m7_vst(M7_AM(128), a);
    m7_sst(M7_SM(4 * (uint64_t)n), m7_sld(M7_SM(0))); // EXPECT mem-decl
    m7_dma_wait((int)p);
}

/* A plan of constants the code generator chose: its floats are immediates
 * of m7_vsplat, fine; anywhere else they are data read in plain C. */
typedef struct {
    float alpha, recip[4];
} Plan;

void scale(const Plan *p, int i) {
    m7_vec v = m7_vmul(m7_vld(M7_AM(0)), m7_vsplat(p->alpha));
    m7_vst(M7_AM(0), m7_vmul(v, m7_vsplat(p->recip[i & 3])));
    float a = p->alpha; // EXPECT deref
    m7_vst(M7_AM(128), m7_vsplat(a));
}
