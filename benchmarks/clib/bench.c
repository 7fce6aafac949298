/* Built alone into libbench.so, so every contender makes a real call across a
   shared-library boundary (through the PLT); nothing can be inlined. */
#include <string.h>
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

vec2 vflip(vec2 v)
{
    vec2 r = {v.y, v.x};
    return r;
}

long slen(const char *s) { return (long)strlen(s); }

static double table[4] = {1.5, 2.5, 3.5, 4.5};

double *get(void) { return table; }
