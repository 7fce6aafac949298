/* Callbacks entered from registers: floating and mixed integer/floating arguments in
 * every order, and data pointer arguments called once per element. */
#define CB_API __attribute__((visibility("default")))

CB_API double cr_d(double (*f)(double), double x) { return f(x); }
CB_API float cr_f(float (*f)(float), float x) { return f(x); }
CB_API double cr_id(double (*f)(int, double), int a, double b) { return f(a, b); }
CB_API double cr_di(double (*f)(double, int), double a, int b) { return f(a, b); }
CB_API long cr_dldl(long (*f)(double, long, double, long), double a, long b, double c, long d) { return f(a, b, c, d); }
CB_API float cr_fdf(float (*f)(float, double, float), float a, double b, float c) { return f(a, b, c); }
CB_API double cr_d5(double (*f)(double, double, double, double, double), double a, double b, double c, double d,
                    double e) {
    return f(a, b, c, d, e);
}
CB_API int cr_idipd(int (*f)(int, double, int *, double, int), int a, double b, int *p, double c, int d) {
    return f(a, b, p, c, d);
}
/* six arguments: more than the register entry takes */
CB_API double cr_di5(double (*f)(double, int, int, int, int, int), double a, int b, int c, int d, int e, int g) {
    return f(a, b, c, d, e, g);
}
CB_API void cr_vfd(void (*f)(float, double), float a, double b) { f(a, b); }
/* a double result whose bits come back whole, after a double argument */
CB_API unsigned long long cr_bits(double (*f)(double), double x) {
    union { double d; unsigned long long u; } r;
    r.d = f(x);
    return r.u;
}

CB_API void cr_each(void (*f)(int *), int *v, int n) {
    int i;
    for (i = 0; i < n; i++) f(&v[i]);
}
CB_API int cr_each_const(int (*f)(const int *, long), const int *v, int n) {
    int i, s = 0;
    for (i = 0; i < n; i++) s += f(&v[i], i);
    return s;
}
struct cr_pt { int x; double y; };
CB_API double cr_each_pt(double (*f)(struct cr_pt *), struct cr_pt *v, int n) {
    int i;
    double s = 0;
    for (i = 0; i < n; i++) s += f(&v[i]);
    return s;
}
CB_API unsigned long long cr_u4(unsigned long long (*f)(unsigned char, unsigned short, unsigned int, unsigned long long),
                                unsigned char a, unsigned short b, unsigned int c, unsigned long long d) {
    return f(a, b, c, d);
}

/* every count of integer arguments a register entry takes (0..5), with a long result and
   with none: each lands in its own kind of thunk */
CB_API long cr_l0(long (*f)(void)) { return f(); }
CB_API long cr_l1(long (*f)(long), long a) { return f(a); }
CB_API long cr_l2(long (*f)(long, long), long a, long b) { return f(a, b); }
CB_API long cr_l3(long (*f)(long, long, long), long a, long b, long c) { return f(a, b, c); }
CB_API long cr_l4(long (*f)(long, long, long, long), long a, long b, long c, long d) { return f(a, b, c, d); }
CB_API long cr_l5(long (*f)(long, long, long, long, long), long a, long b, long c, long d, long e) {
    return f(a, b, c, d, e);
}
CB_API void cr_v0(void (*f)(void)) { f(); }
CB_API void cr_v1(void (*f)(long), long a) { f(a); }
CB_API void cr_v2(void (*f)(long, long), long a, long b) { f(a, b); }
CB_API void cr_v3(void (*f)(long, long, long), long a, long b, long c) { f(a, b, c); }
CB_API void cr_v4(void (*f)(long, long, long, long), long a, long b, long c, long d) { f(a, b, c, d); }
CB_API void cr_v5(void (*f)(long, long, long, long, long), long a, long b, long c, long d, long e) {
    f(a, b, c, d, e);
}
