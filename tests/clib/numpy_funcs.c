/* C functions for the NumPy layer's tests: ufuncs with pointer outputs, generalized
   ufuncs, status-returning functions, and signatures for the generic loop. */
#include <math.h>
#include <stdint.h>

double gauss(double x) { return exp(-0.5 * x * x); }

/* gauss over an array by a plain C loop: what a ufunc of gauss must give, bit for bit. */
void gauss_loop(const double *x, long n, double *y) {
    for (long i = 0; i < n; i++) y[i] = gauss(x[i]);
}

float gaussf(float x) { return expf(-0.5f * x * x); }

double hypot3(double x, double y, double z) { return sqrt(x * x + y * y + z * z); }

long lmuladd(long a, int b, double c) { return a * b + (long)c; }

/* Polar coordinates: two inputs, two outputs through pointers. */
void to_polar(double x, double y, double *r, double *theta) {
    *r = sqrt(x * x + y * y);
    *theta = atan2(y, x);
}

/* A result and an output pointer: quotient returned, remainder written. */
int divmod_int(int a, int b, int *rem) {
    if (b == 0) { *rem = 0; return 0; }
    *rem = a % b;
    return a / b;
}

/* Types without a compiled loop: generic path through the call plan. */
uint8_t clamp_u8(int16_t v) { return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v; }
unsigned long long mix_u64(unsigned long long a, unsigned char b) { return (a << 8) | b; }
_Bool is_odd(long long v) { return (v & 1) != 0; }
long double ld_twice(long double x) { return 2 * x; }
double scale_by(const double *factor, double x) { return *factor * x; }

/* Arrays with their lengths. */
double dsum(const double *x, long n) {
    double s = 0;
    for (long i = 0; i < n; i++) s += x[i];
    return s;
}

void cumsum(const double *x, int n, double *out) {
    double s = 0;
    for (int i = 0; i < n; i++) { s += x[i]; out[i] = s; }
}

/* (m,n),(n)->(m): matrix times vector. */
void matvec(const double *a, const double *x, int m, int n, double *y) {
    for (int i = 0; i < m; i++) {
        double s = 0;
        for (int j = 0; j < n; j++) s += a[i * n + j] * x[j];
        y[i] = s;
    }
}

/* Scale x in place by 1/norm; a status: 0 on success, 2 when x is all zeros,
   1 for a negative length. */
int normalize(double *x, int n) {
    if (n < 0) return 1;
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i] * x[i];
    if (s == 0) return 2;
    s = sqrt(s);
    for (int i = 0; i < n; i++) x[i] /= s;
    return 0;
}

/* Solve the diagonal system d * x = b in place (x holds b on entry); -1 if singular. */
int solve(const double *d, double *x, int n) {
    for (int i = 0; i < n; i++)
        if (d[i] == 0) return -1;
    for (int i = 0; i < n; i++) x[i] /= d[i];
    return 0;
}

/* Fill out with start, start+step, ...; returns the count written. */
int arange_fill(double start, double step, double *out, int n) {
    for (int i = 0; i < n; i++) out[i] = start + step * i;
    return n;
}

/* A counter, to observe that ufunc calls reach C. */
static long calls;
double counted(double x) { calls++; return x; }
long counted_calls(void) { return calls; }

/* Raises the floating-point overflow flag for large x, as exp does. */
double c_exp(double x) { return exp(x); }

/* A binary operation, for reductions and accumulations. */
double add2(double a, double b) { return a + b; }

/* A length in a short: core dimensions larger than 32767 must be refused. */
double dsum16(const double *x, short n) {
    double s = 0;
    for (short i = 0; i < n; i++) s += x[i];
    return s;
}
