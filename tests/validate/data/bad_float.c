/* Float arithmetic in plain C; constants folded by the compiler are fine
 * (INFINITY is the builtin call __builtin_inff()). */
#include <math.h>

#include "m7rt.h"

static const float third = 1.0f / 3;

void k(float a, float b) {
    float x = a * b; // EXPECT float-op
    m7_vst(M7_AM(0), m7_vsplat(-1.0f / 9));
    m7_vst(M7_AM(128), m7_vsplat(third));
    m7_vst(M7_AM(256), m7_vsplat(x));
    m7_vst(M7_AM(384), m7_vsplat(-INFINITY));
}

void k2(int n) {
    m7_vst(M7_AM(0), m7_vsplat((float)n - 0.5f)); // EXPECT float-op
}
