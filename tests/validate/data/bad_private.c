/* Reading a register's private members. */
#include "m7rt.h"

void k(void) {
    m7_vec v = m7_vld(M7_AM(0));
    float f = v.m7_private_lane[3]; // EXPECT private
    m7_vst(M7_AM(128), m7_vsplat(f));
}
