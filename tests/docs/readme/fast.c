/* README's build example with flags, defines, include directories and libraries. */
#include <math.h>
#include "fast.h"
double fast_norm(const double *x) {
    double s = 0;
    for (int i = 0; i < N; i++) s += x[i] * x[i];
    return sqrt(s) * FAST_SCALE;
}
