/* C99 complex numbers by value, through pointers, in structs and in callbacks
   (tests/calls/test_complex.py). */
#include <complex.h>

double _Complex zmul(double _Complex a, double _Complex b) { return a * b; }
float _Complex zmulf(float _Complex a, float _Complex b) { return a * b; }
double zreal_plus_imag(double _Complex z) { return creal(z) + 10 * cimag(z); }

/* Nine complex doubles fill the eight vector registers and spill to the stack; the
   ints between them take the integer registers. */
double _Complex zmany(double _Complex a, int i, double _Complex b, double _Complex c, float _Complex d, int j,
                      double _Complex e, double _Complex f, double _Complex g, double _Complex h, double _Complex k,
                      float x) {
  return a + i * b + 2 * c + 3 * d + j * e + 5 * f + 7 * g + 11 * h + 13 * k + x;
}

/* The float parts of a float _Complex share one eightbyte; a float beside it takes the next register. */
float _Complex zmixf(float _Complex a, float f, float _Complex b, double d) { return a + f * b + d; }

struct zpair {
  double _Complex a;
  float _Complex b;
  int n;
};
struct zpair zpair_make(double _Complex a, float _Complex b, int n) {
  struct zpair p = {a, b, n};
  return p;
}
double _Complex zpair_sum(struct zpair p) { return p.a + p.b * p.n; }

struct zhalf {
  float _Complex z;
};
struct zhalf zhalf_conj(struct zhalf h) {
  h.z = conjf(h.z);
  return h;
}

void zscale(double _Complex *z, long n, double _Complex s) {
  for (long i = 0; i < n; i++) z[i] *= s;
}
float _Complex zsumf(const float _Complex *z, long n) {
  float _Complex s = 0;
  for (long i = 0; i < n; i++) s += z[i];
  return s;
}

double _Complex zglobal = 1.5 + 2.5 * I;

double _Complex zapply(double _Complex (*f)(double _Complex, float _Complex), double _Complex x, float _Complex y) {
  return f(x, y) * 2;
}
/* A callback of many complex arguments: some arrive on the stack. */
double _Complex zapply_many(double _Complex (*f)(double _Complex, double _Complex, double _Complex, double _Complex,
                                                 double _Complex, double _Complex),
                            double _Complex x) {
  return f(x, 2 * x, 3 * x, 4 * x, 5 * x, 6 * x);
}
