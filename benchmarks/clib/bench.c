/* Built alone into libbench.so, so every contender makes a real call across a
   shared-library boundary (through the PLT); nothing can be inlined. */
#include "bench.h"

int add(int a, int b) { return a + b; }

void noop(void) {}

double dsum(const double *x, long n)
{
    double s = 0.0;
    for (long i = 0; i < n; i++)
        s += x[i];
    return s;
}
