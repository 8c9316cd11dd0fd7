/* Float arithmetic in plain C; constants folded by the compiler are fine. */
#include "m7rt.h"

static const float third = 1.0f / 3;

void k(float a, float b) {
    float x = a * b; // EXPECT float-op
    m7_vst(M7_AM(0), m7_vsplat(-1.0f / 9));
    m7_vst(M7_AM(128), m7_vsplat(third));
    m7_vst(M7_AM(256), m7_vsplat(x));
}
