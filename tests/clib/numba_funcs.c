/* C functions called from Numba-compiled code (tests/jit/test_numba.py): every scalar kind,
   arrays and structs by pointer, pointer results, and signatures Numba cannot call. */
#include <stdarg.h>
#include <stdint.h>

int iadd(int a, int b) { return a + b; }
signed char schar_neg(signed char v) { return (signed char)-v; }
unsigned short ushort_twice(unsigned short v) { return (unsigned short)(2 * v); }
unsigned long long u64_mix(unsigned long long a, unsigned char b) { return (a << 8) | b; }
_Bool is_positive(double x) { return x > 0; }
int bool_to_int(_Bool b) { return b ? 7 : -7; }
float fscale(float x, double f) { return (float)(x * f); }
enum shade { DARK = 1, LIGHT = 2 };
int shade_value(enum shade s) { return 10 * (int)s; }

/* More arguments than registers: the last ones go on the stack. */
double many_args(int a, long b, short c, unsigned char d, double e, float f, int g, long h,
                 signed char i, double j) {
    return a + b + c + d + e + f + g + h + i + j;
}

double dsum(const double *x, long n) {
    double s = 0;
    for (long i = 0; i < n; i++) s += x[i];
    return s;
}

void dscale(double *x, long n, double f) {
    for (long i = 0; i < n; i++) x[i] *= f;
}

long isum(const int32_t *x, int n) {
    long s = 0;
    for (int i = 0; i < n; i++) s += x[i];
    return s;
}

int first_int(const void *p) { return *(const int *)p; }

double *advance(double *x, long k) { return x + k; }

typedef struct { double x, y; int id; } point;

double point_norm2(const point *p, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += p[i].x * p[i].x + p[i].y * p[i].y;
    return s;
}

void point_shift(point *p, int n, double dx) {
    for (int i = 0; i < n; i++) { p[i].x += dx; p[i].id += 1; }
}

/* Signatures Numba cannot call through ndffi: struct by value, variadic, callback. */
point point_make(double x, double y) { point p = {x, y, 0}; return p; }
double point_x(point p) { return p.x; }

int sum_ints(int n, ...) {
    va_list ap;
    va_start(ap, n);
    int s = 0;
    for (int i = 0; i < n; i++) s += va_arg(ap, int);
    va_end(ap);
    return s;
}

double apply(double (*f)(double), double x) { return f(x); }

/* Sum of f(x[i]): C calls f n times. */
double apply_sum(double (*f)(double), const double *x, long n) {
    double s = 0;
    for (long i = 0; i < n; i++) s += f(x[i]);
    return s;
}

/* A function pointer in a struct field. */
typedef struct { double (*f)(double); double scale; } scaled_op;
double run_op(const scaled_op *op, double x) { return op->scale * op->f(x); }

/* An opaque handle. */
struct counter { long n; };
static struct counter the_counter;
struct counter *counter_get(void) { return &the_counter; }
long counter_bump(struct counter *c, long by) { c->n += by; return c->n; }

int isub(int a, int b) { return a - b; }

/* A callback with typed pointers. */
int call_dcmp(int (*cmp)(const double *, const double *), double a, double b) {
    return cmp(&a, &b);
}
