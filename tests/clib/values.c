/* Values C receives and hands back: structs and function pointers through `...`, long
   double, struct results for ufuncs, function pointers read from C (tests/calls/test_safety_values.py). */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

/* ---- structs through `...` ---------------------------------------------------------- */

struct va_il { long a; double b; };        /* INTEGER, SSE */
struct va_ff { float x, y; };              /* one SSE eightbyte */
struct va_if { int i; float f; };          /* one INTEGER eightbyte */
struct va_dd { double x, y; };             /* SSE, SSE */
struct va_big { long a, b, c; double d; }; /* 32 bytes: in memory */
struct va_c3 { char c[3]; };               /* 3 bytes */

/* Each reads n arguments of its struct type and writes every field, in order, to out. */
void va_get_il(double *out, int n, ...) {
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++) {
    struct va_il v = va_arg(ap, struct va_il);
    out[2 * i] = (double)v.a, out[2 * i + 1] = v.b;
  }
  va_end(ap);
}

void va_get_ff(double *out, int n, ...) {
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++) {
    struct va_ff v = va_arg(ap, struct va_ff);
    out[2 * i] = v.x, out[2 * i + 1] = v.y;
  }
  va_end(ap);
}

void va_get_if(double *out, int n, ...) {
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++) {
    struct va_if v = va_arg(ap, struct va_if);
    out[2 * i] = v.i, out[2 * i + 1] = v.f;
  }
  va_end(ap);
}

void va_get_dd(double *out, int n, ...) {
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++) {
    struct va_dd v = va_arg(ap, struct va_dd);
    out[2 * i] = v.x, out[2 * i + 1] = v.y;
  }
  va_end(ap);
}

void va_get_big(double *out, int n, ...) {
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++) {
    struct va_big v = va_arg(ap, struct va_big);
    out[4 * i] = (double)v.a, out[4 * i + 1] = (double)v.b, out[4 * i + 2] = (double)v.c;
    out[4 * i + 3] = v.d;
  }
  va_end(ap);
}

void va_get_c3(double *out, int n, ...) {
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++) {
    struct va_c3 v = va_arg(ap, struct va_c3);
    for (int k = 0; k < 3; k++) out[3 * i + k] = v.c[k];
  }
  va_end(ap);
}

/* A struct, a double, an int, a struct: the variadic part mixes the register classes. */
double va_mixed(int n, ...) {
  va_list ap;
  va_start(ap, n);
  struct va_il a = va_arg(ap, struct va_il);
  double d = va_arg(ap, double);
  int i = va_arg(ap, int);
  struct va_ff f = va_arg(ap, struct va_ff);
  va_end(ap);
  return (double)a.a * 1000 + a.b * 100 + d * 10 + i + f.x * 0.5 + f.y * 0.25 + n * 0;
}

/* The address of a struct through `...` (ndffi.cast("struct va_il *", v)). */
long va_deref(int n, ...) {
  va_list ap;
  va_start(ap, n);
  struct va_il *p = va_arg(ap, struct va_il *);
  va_end(ap);
  return p ? p->a : -1;
}

/* ---- function pointers through `...`: as curl_easy_setopt takes them --------------- */

int va_call_int(int option, ...) {
  va_list ap;
  va_start(ap, option);
  int (*f)(int) = va_arg(ap, int (*)(int));
  int x = va_arg(ap, int);
  va_end(ap);
  return f ? f(x) + option * 0 : -1;
}

void *va_pass_ptr(int option, ...) {
  va_list ap;
  va_start(ap, option);
  void *p = va_arg(ap, void *);
  va_end(ap);
  return p;
}

int vt_twice(int x) { return 2 * x; }

int call_int_fp(int (*f)(int), int x) { return f(x); }

/* ---- long double ------------------------------------------------------------------- */

double ld_echo_d(double x) { return x; }
float ld_echo_f(float x) { return x; }
long double ld_echo(long double x) { return x; }
long double ld_next(long double x) { return nextafterl(x, INFINITY); }
long double ld_sum3(long double a, double b, long double c) { return a + b + c; }
/* The long double's 10 significant bytes, to compare with what Python sent. */
void ld_bytes(long double x, unsigned char *out) { memcpy(out, &x, sizeof x); }

struct ld_rec { long double v; int k; };
struct ld_rec ld_rec_make(long double v, int k) { struct ld_rec r = {v, k}; return r; }
long double ld_rec_get(const struct ld_rec *r) { return r->v; }
struct d_rec { double d; float f; };
double d_rec_get(const struct d_rec *r) { return r->d + r->f; }

long double ld_call(long double (*cb)(long double), long double x) { return cb(x); }
double d_call(double (*cb)(double), double x) { return cb(x); }
float f_call(float (*cb)(float), float x) { return cb(x); }

/* ---- structs for ufuncs ------------------------------------------------------------ */

struct upt { double x; int k; };
struct upt upt_make(double x, int k) { struct upt r = {x * 2, k + 1}; return r; }
double upt_norm(struct upt p) { return p.x * p.k; }
struct upt upt_scale(struct upt p, double s) { struct upt r = {p.x * s, p.k * 2}; return r; }
struct ubig { long a, b, c; };
struct ubig ubig_make(long a) { struct ubig r = {a, -a, a * a}; return r; }

/* ---- function pointers read from C ------------------------------------------------ */

int vt_add1(int x) { return x + 1; }
double vt_hyp(double a, double b) { return sqrt(a * a + b * b); }

int (*g_int_fn)(int) = vt_twice;
void (*g_null_fn)(void) = NULL;
struct vt_ops { int (*f)(int); double (*g)(double, double); };
struct vt_ops g_ops = {vt_add1, vt_hyp};

int (*vt_pick(int k))(int) { return k ? vt_add1 : vt_twice; }
struct vt_ops vt_get_ops(void) { return g_ops; }
