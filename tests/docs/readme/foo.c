/* libfoo: the functions README.md's examples call as ndffi.load("libfoo", "build"). */
#include <math.h>
#include <stdio.h>

typedef struct Weather_t { int timestamp; char desc[12]; } Weather;
typedef struct { double x, y; } vec2;
typedef struct { double *x; int n; } particles;
typedef struct { double x, y; int id; } point;

int counter = 0;

double dsum(const double *x, long n) {
    double s = 0;
    for (long i = 0; i < n; i++) s += x[i];
    return s;
}

void dscale(double *x, long n, double f) {
    for (long i = 0; i < n; i++) x[i] *= f;
}

double gauss(double x) { return exp(-0.5 * x * x); }

void print_weather(Weather *w, int nelems) {
    for (int i = 0; i < nelems; i++) printf("%d %.12s\n", w[i].timestamp, w[i].desc);
}

vec2 vadd(vec2 a, vec2 b) {
    vec2 r = { a.x + b.x, a.y + b.y };
    return r;
}

double particles_step(particles *p, double dt) {
    double s = 0;
    for (int i = 0; i < p->n; i++) { p->x[i] += dt; s += p->x[i]; }
    return s;
}

double point_norm2(const point *p, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += p[i].x * p[i].x + p[i].y * p[i].y;
    return s;
}
