/* The shapes of libffi's own testsuite (testsuite/libffi.call and libffi.closures),
 * written for ndffi's tests (tests/calls/test_ffi_shapes.py): every scalar type as argument and
 * result, long argument lists that spill to the stack, mixes of float, double and
 * integers, structs of every size and alignment by value (arrays, nested records, float,
 * double, long double and pointer members, bit-fields), unions, struct results, long
 * double and variadic functions.  The comment before a shape names the libffi test whose
 * shape it has.
 *
 * Every function computes one of four things, so that the tests model each with one rule:
 *   - NAME(args...): s = the weighted sum of every scalar of every argument, in order,
 *     s = -0.0; k = 1; for each scalar x: s += k * x; k += 1 (in long double: an integer
 *     or floating value as it is, a pointer as its address, a string as its length, an
 *     int * as what it points to, a void (*)(void) is called and counts 0).  A scalar
 *     result is s converted to it (an integer through truncation and wrapping modulo
 *     2^64, then to the width of the type), a struct result has s + j in its j-th scalar
 *     (1-based, converted the same way), a void result leaves s in shapes_last().
 *   - S_add(S x, S y): member by member, x.m + y.m in the member's type (integers wrap).
 *   - U_echo(U x): x, for unions (the tests compare their first member).
 *   - va_*(fixed..., const char *types, ...): the weighted sum of the fixed arguments
 *     (`types` among them, as a string) and then of the variadic ones, read as `types`
 *     says (see va_take below), converted to the result as above.
 * Each NAME has a NAME_via(f, args...) that calls f(args...), a function pointer of
 * NAME's own type, and returns its result: the same shape with C calling a callback (a
 * va_* function's calls f(the sum as a double) and returns its result).
 *
 * With SHAPES_DECLARATIONS defined the preprocessor's output is the declarations alone
 * (typedefs and prototypes, without any system header), which the tests hand to cdef. */
#ifdef SHAPES_DECLARATIONS
#define DEFINE(...)
#else
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#define DEFINE(...) __VA_ARGS__
#endif

#define UNPAREN(...) __VA_ARGS__

DEFINE(
/* ---- the rules -------------------------------------------------------------------- */
static inline long double leaf_num(long double x) { return x; }
static inline long double leaf_str(const char *p) { return (long double)strlen(p); }
static inline long double leaf_ptr(const void *p) { return (long double)(uintptr_t)p; }
static inline long double leaf_intp(const int *p) { return (long double)*p; }
static inline long double leaf_fn(void (*f)(void)) { f(); return 0; }
)
#define LEAF(x) _Generic((x), char *: leaf_str, const char *: leaf_str, void *: leaf_ptr,      \
                         const void *: leaf_ptr, int *: leaf_intp, const int *: leaf_intp,       \
                         void (*)(void): leaf_fn, default: leaf_num)(x)

DEFINE(
/* s converted to a member or result type (see the rules above). */
static inline unsigned long long conv_i(long double x) {
    return x < 0 ? (unsigned long long)(long long)x : (unsigned long long)x;
}
static inline float conv_f(long double x) { return (float)x; }
static inline double conv_d(long double x) { return (double)x; }
static inline long double conv_ld(long double x) { return x; }
static inline void *conv_p(long double x) { return (void *)(uintptr_t)conv_i(x); }
static inline unsigned long long add_i(unsigned long long a, unsigned long long b) { return a + b; }
static inline float add_f(float a, float b) { return a + b; }
static inline double add_d(double a, double b) { return a + b; }
static inline long double add_ld(long double a, long double b) { return a + b; }
static inline void *add_p(const void *a, const void *b) { return (void *)((uintptr_t)a + (uintptr_t)b); }
static long double last;
)
#define SET(lv, x) ((lv) = _Generic((lv), float: conv_f, double: conv_d, long double: conv_ld,  \
                                    void *: conv_p, char *: conv_p, default: conv_i)(x))
#define ADD(a, b) _Generic((a), float: add_f, double: add_d, long double: add_ld,                \
                           void *: add_p, char *: add_p, default: add_i)((a), (b))

/* The body of a shape: the weighted sum of its arguments, then the result. */
#define W(x) sum_ += k_ * LEAF(x); k_ += 1;
#define WS(S, x) sum_ = S##_wsum((x), sum_, &k_);
#define RET(R) { R r_; SET(r_, sum_); return r_; }
#define RETS(R) { long double j_ = 1; return R##_fill(sum_, &j_); }
#define RETV { last = sum_; }

long double shapes_last(void);
DEFINE(long double shapes_last(void) { return last; })

/* A shape with a result and at least one parameter, and its driver. */
#define SHAPE(R, name, params, args, ...)                                                     \
    R name params;                                                                           \
    R name##_via(R (*via_) params, UNPAREN params);                                             \
    DEFINE(R name params { long double sum_ = -0.0L, k_ = 1; __VA_ARGS__ }                        \
           R name##_via(R (*via_) params, UNPAREN params) { return via_ args; })
/* ... without a result ... */
#define VSHAPE(name, params, args, ...)                                                       \
    void name params;                                                                        \
    void name##_via(void (*via_) params, UNPAREN params);                                       \
    DEFINE(void name params { long double sum_ = -0.0L, k_ = 1; __VA_ARGS__ }                     \
           void name##_via(void (*via_) params, UNPAREN params) { via_ args; })
/* ... without parameters. */
#define SHAPE0(R, name, ...)                                                                  \
    R name(void);                                                                            \
    R name##_via(R (*f)(void));                                                              \
    DEFINE(R name(void) { long double sum_ = -0.0L; __VA_ARGS__ }                                \
           R name##_via(R (*f)(void)) { return f(); })

/* A struct from its members: F(type, name), A(type, name, length) an array, N(struct,
   name) a nested struct, M(struct, name, length) an array of them, B(type, name, width)
   a bit-field.  With S_add, S_add_via, and the rules' S_wsum and S_fill. */
#define D_F(T, m) T m;
#define D_A(T, m, n) T m[n];
#define D_N(S, m) S m;
#define D_M(S, m, n) S m[n];
#define D_B(T, m, w) T m : w;
#define WS_F(T, m) s += *k * LEAF(v.m); *k += 1;
#define WS_A(T, m, n) for (int i = 0; i < n; i++) { s += *k * LEAF(v.m[i]); *k += 1; }
#define WS_N(S, m) s = S##_wsum(v.m, s, k);
#define WS_M(S, m, n) for (int i = 0; i < n; i++) s = S##_wsum(v.m[i], s, k);
#define WS_B(T, m, w) s += *k * (long double)v.m; *k += 1;
#define FL_F(T, m) SET(r.m, s + *j); *j += 1;
#define FL_A(T, m, n) for (int i = 0; i < n; i++) { SET(r.m[i], s + *j); *j += 1; }
#define FL_N(S, m) r.m = S##_fill(s, j);
#define FL_M(S, m, n) for (int i = 0; i < n; i++) r.m[i] = S##_fill(s, j);
#define FL_B(T, m, w) r.m = conv_i(s + *j); *j += 1;
#define AD_F(T, m) r.m = ADD(x.m, y.m);
#define AD_A(T, m, n) for (int i = 0; i < n; i++) r.m[i] = ADD(x.m[i], y.m[i]);
#define AD_N(S, m) r.m = S##_add(x.m, y.m);
#define AD_M(S, m, n) for (int i = 0; i < n; i++) r.m[i] = S##_add(x.m[i], y.m[i]);
#define AD_B(T, m, w) r.m = x.m + y.m;

#define STRUCT(S)                                                                             \
    typedef struct S { FIELDS_##S(D_F, D_A, D_N, D_M, D_B) } S;                               \
    S S##_add(S x, S y);                                                                     \
    S S##_add_via(S (*f)(S, S), S x, S y);                                                   \
    DEFINE(                                                                                  \
    static inline long double S##_wsum(S v, long double s, long double *k) {                 \
        FIELDS_##S(WS_F, WS_A, WS_N, WS_M, WS_B) return s; }                                 \
    static inline S S##_fill(long double s, long double *j) {                                \
        S r; memset(&r, 0, sizeof r); FIELDS_##S(FL_F, FL_A, FL_N, FL_M, FL_B) return r; }  \
    S S##_add(S x, S y) {                                                                    \
        S r; memset(&r, 0, sizeof r); FIELDS_##S(AD_F, AD_A, AD_N, AD_M, AD_B) return r; }  \
    S S##_add_via(S (*f)(S, S), S x, S y) { return f(x, y); })

/* A union, with U_echo and U_echo_via. */
#define UNION(U)                                                                              \
    typedef union U { FIELDS_##U(D_F, D_A, D_N, D_M, D_B) } U;                                \
    U U##_echo(U x);                                                                         \
    U U##_echo_via(U (*f)(U), U x);                                                          \
    DEFINE(U U##_echo(U x) { return x; }                                                      \
           U U##_echo_via(U (*f)(U), U x) { return f(x); })


/* A pointer argument counted by its address, whatever it points to. */
#define WP(x) sum_ += k_ * leaf_ptr(x); k_ += 1;

/* ==== every scalar type, both ways: return_*.c, cls_<type>.c, float4.c ================= */

SHAPE(_Bool, id_bool, (_Bool x), (x), W(x) RET(_Bool))
SHAPE(char, id_char, (char x), (x), W(x) RET(char))
SHAPE(signed char, id_schar, (signed char x), (x), W(x) RET(signed char))
SHAPE(unsigned char, id_uchar, (unsigned char x), (x), W(x) RET(unsigned char))
SHAPE(short, id_short, (short x), (x), W(x) RET(short))
SHAPE(unsigned short, id_ushort, (unsigned short x), (x), W(x) RET(unsigned short))
SHAPE(int, id_int, (int x), (x), W(x) RET(int))
SHAPE(unsigned int, id_uint, (unsigned int x), (x), W(x) RET(unsigned int))
SHAPE(long, id_long, (long x), (x), W(x) RET(long))
SHAPE(unsigned long, id_ulong, (unsigned long x), (x), W(x) RET(unsigned long))
SHAPE(long long, id_longlong, (long long x), (x), W(x) RET(long long))
SHAPE(unsigned long long, id_ulonglong, (unsigned long long x), (x), W(x) RET(unsigned long long))
SHAPE(int8_t, id_int8, (int8_t x), (x), W(x) RET(int8_t))
SHAPE(uint16_t, id_uint16, (uint16_t x), (x), W(x) RET(uint16_t))
SHAPE(int32_t, id_int32, (int32_t x), (x), W(x) RET(int32_t))
SHAPE(uint64_t, id_uint64, (uint64_t x), (x), W(x) RET(uint64_t))
SHAPE(size_t, id_size_t, (size_t x), (x), W(x) RET(size_t))
SHAPE(ptrdiff_t, id_ptrdiff_t, (ptrdiff_t x), (x), W(x) RET(ptrdiff_t))
SHAPE(float, id_float, (float x), (x), W(x) RET(float))
SHAPE(double, id_double, (double x), (x), W(x) RET(double))
SHAPE(long double, id_longdouble, (long double x), (x), W(x) RET(long double))
SHAPE(void *, id_pointer, (void *x), (x), W(x) RET(void *))

/* ==== a few arguments of mixed types =================================================== */

/* return_sl.c, return_ul.c, return_ll1.c */
SHAPE(long, sl2, (long a, long b), (a, b), W(a) W(b) RET(long))
SHAPE(unsigned long, ul2, (unsigned long a, unsigned long b), (a, b), W(a) W(b) RET(unsigned long))
SHAPE(long long, ll3, (int a, long long b, int c), (a, b, c), W(a) W(b) W(c) RET(long long))
/* cls_multi_schar.c, cls_multi_sshort.c, cls_multi_uchar.c, cls_multi_ushort.c,
   cls_multi_sshortchar.c, cls_multi_ushortchar.c */
SHAPE(signed char, multi_schar, (signed char a, signed char b), (a, b), W(a) W(b) RET(signed char))
SHAPE(short, multi_sshort, (short a, short b), (a, b), W(a) W(b) RET(short))
SHAPE(unsigned char, multi_uchar, (unsigned char a, unsigned char b, unsigned char c, unsigned char d),
      (a, b, c, d), W(a) W(b) W(c) W(d) RET(unsigned char))
SHAPE(unsigned short, multi_ushort, (unsigned short a, unsigned short b), (a, b), W(a) W(b) RET(unsigned short))
SHAPE(short, multi_sshortchar, (signed char a, short b, signed char c, short d), (a, b, c, d),
      W(a) W(b) W(c) W(d) RET(short))
SHAPE(unsigned short, multi_ushortchar, (unsigned char a, unsigned short b, unsigned char c, unsigned short d),
      (a, b, c, d), W(a) W(b) W(c) W(d) RET(unsigned short))
SHAPE(_Bool, multi_bool, (_Bool a, int b, _Bool c), (a, b, c), W(a) W(b) W(c) RET(_Bool))
/* negint.c, promotion.c, overread.c, bpo_38748.c */
SHAPE(int, negint, (int a, short b, signed char c), (a, b, c), W(a) W(b) W(c) RET(int))
SHAPE(int, promotion, (signed char a, short b, unsigned char c, unsigned short d), (a, b, c, d),
      W(a) W(b) W(c) W(d) RET(int))
SHAPE(int, overread, (unsigned char a, unsigned short b, unsigned int c, unsigned long d), (a, b, c, d),
      W(a) W(b) W(c) W(d) RET(int))
SHAPE(uint32_t, u32_u64, (uint32_t a, uint64_t b), (a, b), W(a) W(b) RET(uint32_t))
SHAPE(size_t, size_ptrdiff, (size_t a, ptrdiff_t b, intptr_t c), (a, b, c), W(a) W(b) W(c) RET(size_t))
/* return_dbl1.c, return_dbl2.c, return_fl1.c, return_fl2.c, return_fl3.c, align_mixed.c */
SHAPE(double, dbl1, (double a, float b, unsigned int c, double d), (a, b, c, d), W(a) W(b) W(c) W(d) RET(double))
SHAPE(double, dbl2, (double a, double b, unsigned int c, double d), (a, b, c, d), W(a) W(b) W(c) W(d) RET(double))
SHAPE(float, fl1, (float a, float b), (a, b), W(a) W(b) RET(float))
SHAPE(float, fl2, (float a, float b, float c, float d), (a, b, c, d), W(a) W(b) W(c) W(d) RET(float))
SHAPE(float, fl3, (float a, float b, unsigned int c, float d), (a, b, c, d), W(a) W(b) W(c) W(d) RET(float))
SHAPE(float, align_mixed, (int a, double b, int c, double d), (a, b, c, d), W(a) W(b) W(c) W(d) RET(float))
/* float1.c, float2.c, float3.c */
SHAPE(double, float_to_double, (float a), (a), W(a) RET(double))
SHAPE(long double, float_to_longdouble, (float a), (a), W(a) RET(long double))
SHAPE(double, float3a, (float a, double b, long double c), (a, b, c), W(a) W(b) W(c) RET(double))
SHAPE(double, float3b, (long double a, double b, float c), (a, b, c), W(a) W(b) W(c) RET(double))
SHAPE(long double, ld_mixed, (int a, long double b, double c, long double d, float e), (a, b, c, d, e),
      W(a) W(b) W(c) W(d) W(e) RET(long double))
/* strlen.c, strlen2.c, strlen3.c, strlen4.c, x32.c */
SHAPE(unsigned int, my_strlen, (char *s), (s), W(s) RET(unsigned int))
SHAPE(int, strlen2, (const char *s, float a), (s, a), W(s) W(a) RET(int))
SHAPE(int, strlen3, (float a, const char *s), (a, s), W(a) W(s) RET(int))
SHAPE(int, strlen4, (float a, const char *s, int i), (a, s, i), W(a) W(s) W(i) RET(int))
SHAPE(int, deref, (int *p), (p), W(p) RET(int))
/* cls_pointer.c, cls_pointer_stack.c */
SHAPE(void *, pointer2, (void *a, void *b), (a, b), W(a) W(b) RET(void *))
SHAPE(long, ld_char_pairs, (long double a1, char b1, long double a2, char b2, long double a3, char b3,
                            long double a4, char b4),
      (a1, b1, a2, b2, a3, b3, a4, b4), W(a1) W(b1) W(a2) W(b2) W(a3) W(b3) W(a4) W(b4) RET(long))

/* ==== long argument lists: arguments on the stack ====================================== */

/* many.c, many2.c, many_double.c, cls_longdouble.c */
SHAPE(float, many_float, (float a1, float a2, float a3, float a4, float a5, float a6, float a7,
                          float a8, float a9, float a10, float a11, float a12, float a13),
      (a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13),
      W(a1) W(a2) W(a3) W(a4) W(a5) W(a6) W(a7) W(a8) W(a9) W(a10) W(a11) W(a12) W(a13) RET(float))
SHAPE(uint8_t, many_uint8, (uint8_t a1, uint8_t a2, uint8_t a3, uint8_t a4, uint8_t a5, uint8_t a6,
                            uint8_t a7),
      (a1, a2, a3, a4, a5, a6, a7), W(a1) W(a2) W(a3) W(a4) W(a5) W(a6) W(a7) RET(uint8_t))
SHAPE(double, many_double, (double a1, double a2, double a3, double a4, double a5, double a6,
                            double a7, double a8, double a9, double a10, double a11, double a12,
                            double a13),
      (a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13),
      W(a1) W(a2) W(a3) W(a4) W(a5) W(a6) W(a7) W(a8) W(a9) W(a10) W(a11) W(a12) W(a13) RET(double))
SHAPE(long double, many_longdouble, (long double a1, long double a2, long double a3, long double a4,
                                     long double a5, long double a6, long double a7, long double a8),
      (a1, a2, a3, a4, a5, a6, a7, a8), W(a1) W(a2) W(a3) W(a4) W(a5) W(a6) W(a7) W(a8) RET(long double))
/* many_mixed.c */
SHAPE(double, many_mixed, (double f1, double f2, long i1, double f3, double f4, long i2, double f5,
                           double f6, long i3, double f7, double f8, long i4, double f9, double f10,
                           long i5, double f11, double f12, long i6, double f13),
      (f1, f2, i1, f3, f4, i2, f5, f6, i3, f7, f8, i4, f9, f10, i5, f11, f12, i6, f13),
      W(f1) W(f2) W(i1) W(f3) W(f4) W(i2) W(f5) W(f6) W(i3) W(f7) W(f8) W(i4) W(f9) W(f10) W(i5)
      W(f11) W(f12) W(i6) W(f13) RET(double))
/* closure_fn0.c, closure_loc_fn0.c */
SHAPE(int, closure_fn0, (unsigned long long a1, int a2, unsigned long long a3, int a4, short a5,
                         unsigned long long a6, int a7, int a8, double a9, int a10, int a11, float a12,
                         int a13, int a14, int a15, int a16),
      (a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16),
      W(a1) W(a2) W(a3) W(a4) W(a5) W(a6) W(a7) W(a8) W(a9) W(a10) W(a11) W(a12) W(a13) W(a14)
      W(a15) W(a16) RET(int))
/* closure_fn1.c */
SHAPE(int, closure_fn1, (float a1, float a2, float a3, float a4, short a5, float a6, float a7, int a8,
                         double a9, int a10, int a11, float a12, int a13, int a14, int a15, int a16),
      (a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16),
      W(a1) W(a2) W(a3) W(a4) W(a5) W(a6) W(a7) W(a8) W(a9) W(a10) W(a11) W(a12) W(a13) W(a14)
      W(a15) W(a16) RET(int))
/* closure_fn2.c */
SHAPE(int, closure_fn2, (double a1, double a2, double a3, double a4, short a5, double a6, double a7,
                         int a8, double a9, int a10, int a11, float a12, int a13, float a14, int a15,
                         int a16),
      (a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16),
      W(a1) W(a2) W(a3) W(a4) W(a5) W(a6) W(a7) W(a8) W(a9) W(a10) W(a11) W(a12) W(a13) W(a14)
      W(a15) W(a16) RET(int))
/* closure_fn3.c */
SHAPE(int, closure_fn3, (float a1, float a2, float a3, float a4, float a5, float a6, float a7,
                         float a8, double a9, int a10, float a11, float a12, int a13, float a14,
                         float a15, int a16),
      (a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16),
      W(a1) W(a2) W(a3) W(a4) W(a5) W(a6) W(a7) W(a8) W(a9) W(a10) W(a11) W(a12) W(a13) W(a14)
      W(a15) W(a16) RET(int))
/* closure_fn4.c */
SHAPE(int, closure_fn4, (unsigned long long a1, unsigned long long a2, unsigned long long a3,
                         unsigned long long a4, unsigned long long a5, unsigned long long a6,
                         unsigned long long a7, unsigned long long a8, unsigned long long a9,
                         unsigned long long a10, unsigned long long a11, unsigned long long a12,
                         unsigned long long a13, unsigned long long a14, unsigned long long a15, int a16),
      (a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16),
      W(a1) W(a2) W(a3) W(a4) W(a5) W(a6) W(a7) W(a8) W(a9) W(a10) W(a11) W(a12) W(a13) W(a14)
      W(a15) W(a16) RET(int))
/* closure_fn5.c */
SHAPE(int, closure_fn5, (unsigned long long a1, unsigned long long a2, unsigned long long a3,
                         unsigned long long a4, unsigned long long a5, unsigned long long a6,
                         unsigned long long a7, unsigned long long a8, unsigned long long a9,
                         unsigned long long a10, int a11, unsigned long long a12,
                         unsigned long long a13, unsigned long long a14, unsigned long long a15, int a16),
      (a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16),
      W(a1) W(a2) W(a3) W(a4) W(a5) W(a6) W(a7) W(a8) W(a9) W(a10) W(a11) W(a12) W(a13) W(a14)
      W(a15) W(a16) RET(int))
/* closure_fn6.c */
SHAPE(int, closure_fn6, (unsigned long long a1, unsigned long long a2, unsigned long long a3,
                         unsigned long long a4, int a5, double a6, double a7, float a8, double a9,
                         double a10, int a11, float a12, int a13, int a14, double a15, double a16),
      (a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16),
      W(a1) W(a2) W(a3) W(a4) W(a5) W(a6) W(a7) W(a8) W(a9) W(a10) W(a11) W(a12) W(a13) W(a14)
      W(a15) W(a16) RET(int))
/* closure_simple.c */
SHAPE(int, closure_simple, (int a, int b, int c, int d), (a, b, c, d), W(a) W(b) W(c) W(d) RET(int))
/* cls_many_mixed_args.c */
SHAPE(double, many_mixed_args, (double a1, double a2, double a3, double a4, long a5, double a6,
                                double a7, double a8, double a9, long a10, double a11, long a12,
                                double a13, long a14, double a15, long a16),
      (a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16),
      W(a1) W(a2) W(a3) W(a4) W(a5) W(a6) W(a7) W(a8) W(a9) W(a10) W(a11) W(a12) W(a13) W(a14)
      W(a15) W(a16) RET(double))
/* cls_many_mixed_float_double.c */
SHAPE(double, mixed_float_double, (double a1, float a2, double a3, double a4, double a5, double a6,
                                   double a7, float a8, float a9, double a10, float a11, float a12),
      (a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12),
      W(a1) W(a2) W(a3) W(a4) W(a5) W(a6) W(a7) W(a8) W(a9) W(a10) W(a11) W(a12) RET(double))
/* twelve pointers and integers: six in registers, the rest on the stack */
SHAPE(void *, many_pointers, (void *a1, int a2, void *a3, long a4, void *a5, char a6, void *a7,
                              short a8, void *a9, long long a10, void *a11, unsigned a12),
      (a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12),
      W(a1) W(a2) W(a3) W(a4) W(a5) W(a6) W(a7) W(a8) W(a9) W(a10) W(a11) W(a12) RET(void *))

/* ==== structs by value: struct*.c, struct_by_value_*.c, struct_return_*.c, offsets.c ==== */

#define FIELDS_st1(F, A, N, M, B) F(unsigned char, uc) F(double, d) F(unsigned int, ui)
STRUCT(st1)
#define FIELDS_st2(F, A, N, M, B) F(double, d1) F(double, d2)
STRUCT(st2)
#define FIELDS_st3(F, A, N, M, B) F(int, si)
STRUCT(st3)
#define FIELDS_st4(F, A, N, M, B) F(unsigned, ui1) F(unsigned, ui2) F(unsigned, ui3)
STRUCT(st4)
#define FIELDS_st5(F, A, N, M, B) F(char, c1) F(char, c2)
STRUCT(st5)
#define FIELDS_st6(F, A, N, M, B) F(float, f) F(double, d)
STRUCT(st6)
#define FIELDS_st7(F, A, N, M, B) F(float, f1) F(float, f2) F(double, d)
STRUCT(st7)
#define FIELDS_st8(F, A, N, M, B) F(float, f1) F(float, f2) F(float, f3) F(float, f4)
STRUCT(st8)
#define FIELDS_st9(F, A, N, M, B) F(float, f) F(int, i)
STRUCT(st9)
#define FIELDS_st10(F, A, N, M, B) F(int, s32) F(float, f32) F(signed char, s8)
STRUCT(st10)
SHAPE0(st10, make_st10, RETS(st10))
#define FIELDS_bv2(F, A, N, M, B) F(unsigned, ui01) F(unsigned, ui02)
STRUCT(bv2)
#define FIELDS_bv3(F, A, N, M, B) F(unsigned, ui01) F(unsigned, ui02) F(unsigned, ui03)
STRUCT(bv3)
#define FIELDS_bv3f(F, A, N, M, B) F(float, f01) F(float, f02) F(float, f03)
STRUCT(bv3f)
#define FIELDS_bv4(F, A, N, M, B) F(unsigned, ui01) F(unsigned, ui02) F(unsigned, ui03) F(unsigned, ui04)
STRUCT(bv4)
#define FIELDS_bv4f(F, A, N, M, B) F(float, f01) F(float, f02) F(float, f03) F(float, f04)
STRUCT(bv4f)
#define FIELDS_bvbig(F, A, N, M, B) A(unsigned, ui, 17)
STRUCT(bvbig)
#define FIELDS_bvsmall(F, A, N, M, B) F(unsigned, ui17)
STRUCT(bvsmall)
#define FIELDS_h2(F, A, N, M, B) F(short, x) F(short, y)
STRUCT(h2)
#define FIELDS_h8(F, A, N, M, B) F(int, a) F(int, b) F(int, c) F(int, d) F(int, e) F(int, f) F(int, g) F(int, h)
STRUCT(h8)
#define FIELDS_offsets(F, A, N, M, B) F(char, c) F(float, f) F(char, c2) F(int, i)
STRUCT(offsets)
#define FIELDS_arrays(F, A, N, M, B) F(int, n) A(double, v, 3) A(char, name, 8) A(short, m, 4)
STRUCT(arrays)
#define FIELDS_bools(F, A, N, M, B) F(_Bool, a) F(char, b) F(_Bool, c) F(long long, d)
STRUCT(bools)
/* s55.c */
#define FIELDS_s55(F, A, N, M, B) F(float, f)
STRUCT(s55)
SHAPE(s55, f55, (s55 ts, float f), (ts, f), WS(s55, ts) W(f) RETS(s55))
/* struct results made from scalars (struct10.c, and for ufuncs) */
SHAPE(st10, st10_make, (int s32, float f32, signed char s8), (s32, f32, s8), W(s32) W(f32) W(s8) RETS(st10))
SHAPE(st6, st6_make, (double d), (d), W(d) RETS(st6))
SHAPE(h2, h2_make, (short x, short y), (x, y), W(x) W(y) RETS(h2))
/* pr1172638.c */
#define FIELDS_pr_point(F, A, N, M, B) F(long, x) F(long, y)
STRUCT(pr_point)
#define FIELDS_pr_rect(F, A, N, M, B) F(long, left) F(long, top) F(long, right) F(long, bottom)
STRUCT(pr_rect)
SHAPE(pr_rect, pr_test, (int i, pr_rect ar, pr_rect *br, pr_point cp, pr_rect dr, pr_rect *er,
                         pr_point fp, pr_rect gr),
      (i, ar, br, cp, dr, er, fp, gr),
      W(i) WS(pr_rect, ar) WP(br) WS(pr_point, cp) WS(pr_rect, dr) WP(er) WS(pr_point, fp)
      WS(pr_rect, gr) RETS(pr_rect))
/* struct_int_float.c: six {unsigned long; float}, the last ones on the stack */
#define FIELDS_int_float(F, A, N, M, B) F(unsigned long, i) F(float, f)
STRUCT(int_float)
SHAPE(float, six_int_float, (int_float a, int_float b, int_float c, int_float d, int_float e, int_float f),
      (a, b, c, d, e, f), WS(int_float, a) WS(int_float, b) WS(int_float, c) WS(int_float, d)
      WS(int_float, e) WS(int_float, f) RET(float))
/* pyobjc_tc.c */
#define FIELDS_point_f(F, A, N, M, B) F(float, x) F(float, y)
STRUCT(point_f)
#define FIELDS_size_f(F, A, N, M, B) F(float, h) F(float, w)
STRUCT(size_f)
#define FIELDS_rect_f(F, A, N, M, B) N(point_f, o) N(size_f, s)
STRUCT(rect_f)
SHAPE(int, pyobjc_tc, (int o, const char *s, point_f p, rect_f r, int last), (o, s, p, r, last),
      W(o) W(s) WS(point_f, p) WS(rect_f, r) W(last) RET(int))
/* large_struct_by_value.c, many_small_structs.c, many_large_structs.c */
#define FIELDS_big8(F, A, N, M, B) A(int, v, 8)
STRUCT(big8)
SHAPE(int, sum_big, (big8 s), (s), WS(big8, s) RET(int))
#define FIELDS_ss(F, A, N, M, B) F(int, a) F(int, b)
STRUCT(ss)
SHAPE(ss, many_small, (ss s0, ss s1, ss s2, ss s3, ss s4, ss s5, ss s6, ss s7, ss s8, ss s9, ss s10,
                       ss s11, ss s12, ss s13, ss s14, ss s15),
      (s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15),
      WS(ss, s0) WS(ss, s1) WS(ss, s2) WS(ss, s3) WS(ss, s4) WS(ss, s5) WS(ss, s6) WS(ss, s7)
      WS(ss, s8) WS(ss, s9) WS(ss, s10) WS(ss, s11) WS(ss, s12) WS(ss, s13) WS(ss, s14) WS(ss, s15)
      RETS(ss))
#define FIELDS_bytes20(F, A, N, M, B) A(unsigned char, b, 20)
STRUCT(bytes20)
SHAPE(int, sum_bytes, (bytes20 s0, bytes20 s1, bytes20 s2, bytes20 s3, bytes20 s4, bytes20 s5,
                       bytes20 s6, bytes20 s7, bytes20 s8, bytes20 s9),
      (s0, s1, s2, s3, s4, s5, s6, s7, s8, s9),
      WS(bytes20, s0) WS(bytes20, s1) WS(bytes20, s2) WS(bytes20, s3) WS(bytes20, s4)
      WS(bytes20, s5) WS(bytes20, s6) WS(bytes20, s7) WS(bytes20, s8) WS(bytes20, s9) RET(int))
/* callback.c, callback2.c, callback3.c, callback4.c: a struct and a function pointer */
#define FIELDS_cb12a(F, A, N, M, B) F(unsigned char, c1) A(double, s, 2) F(unsigned char, c2)
STRUCT(cb12a)
#define FIELDS_just_d(F, A, N, M, B) F(double, d)
STRUCT(just_d)
#define FIELDS_cb12b(F, A, N, M, B) N(just_d, s1) A(double, s, 2) F(unsigned char, c2)
STRUCT(cb12b)
#define FIELDS_c_d(F, A, N, M, B) F(unsigned char, c) F(double, d)
STRUCT(c_d)
#define FIELDS_cb12c(F, A, N, M, B) N(c_d, s1) A(double, s, 2) F(unsigned char, c2)
STRUCT(cb12c)
#define FIELDS_d_c(F, A, N, M, B) F(double, d) F(unsigned char, c)
STRUCT(d_c)
#define FIELDS_cb12d(F, A, N, M, B) F(unsigned char, c1) M(d_c, s, 2) F(unsigned char, c2)
STRUCT(cb12d)
SHAPE(cb12a, struct_and_callback1, (cb12a ts, void (*func)(void)), (ts, func), WS(cb12a, ts) W(func) RETS(cb12a))
SHAPE(cb12b, struct_and_callback2, (cb12b ts, void (*func)(void)), (ts, func), WS(cb12b, ts) W(func) RETS(cb12b))
SHAPE(cb12c, struct_and_callback3, (cb12c ts, void (*func)(void)), (ts, func), WS(cb12c, ts) W(func) RETS(cb12c))
SHAPE(cb12d, struct_and_callback4, (cb12d ts, void (*func)(void)), (ts, func), WS(cb12d, ts) W(func) RETS(cb12d))

/* ==== structs of closures: cls_<n>byte.c, cls_3float.c, problem1.c ====================== */

#define FIELDS_cls1_1(F, A, N, M, B) F(unsigned char, a)
STRUCT(cls1_1)
#define FIELDS_cls2(F, A, N, M, B) F(unsigned char, a) F(unsigned char, b)
STRUCT(cls2)
#define FIELDS_cls3_1(F, A, N, M, B) F(unsigned char, a) F(unsigned char, b) F(unsigned char, c)
STRUCT(cls3_1)
#define FIELDS_cls3a(F, A, N, M, B) F(unsigned short, a) F(unsigned char, b)
STRUCT(cls3a)
#define FIELDS_cls3b(F, A, N, M, B) F(unsigned char, a) F(unsigned short, b)
STRUCT(cls3b)
#define FIELDS_cls4_1(F, A, N, M, B) A(unsigned char, a, 4)
STRUCT(cls4_1)
#define FIELDS_cls4(F, A, N, M, B) F(unsigned short, a) F(unsigned short, b)
STRUCT(cls4)
#define FIELDS_cls5_1(F, A, N, M, B) A(unsigned char, a, 5)
STRUCT(cls5_1)
#define FIELDS_cls5(F, A, N, M, B) F(unsigned short, a) F(unsigned short, b) F(unsigned char, c)
STRUCT(cls5)
#define FIELDS_cls6_1(F, A, N, M, B) A(unsigned char, a, 6)
STRUCT(cls6_1)
#define FIELDS_cls6(F, A, N, M, B) F(unsigned short, a) F(unsigned short, b) F(unsigned char, c) F(unsigned char, d)
STRUCT(cls6)
#define FIELDS_cls7_1(F, A, N, M, B) A(unsigned char, a, 7)
STRUCT(cls7_1)
#define FIELDS_cls7(F, A, N, M, B) F(unsigned short, a) F(unsigned short, b) F(unsigned char, c) F(unsigned short, d)
STRUCT(cls7)
#define FIELDS_cls8(F, A, N, M, B) F(int, a) F(float, b)
STRUCT(cls8)
#define FIELDS_cls9a(F, A, N, M, B) F(int, a) F(double, b)
STRUCT(cls9a)
#define FIELDS_cls9b(F, A, N, M, B) F(double, a) F(int, b)
STRUCT(cls9b)
#define FIELDS_cls12(F, A, N, M, B) F(int, a) F(int, b) F(int, c)
STRUCT(cls12)
#define FIELDS_cls16(F, A, N, M, B) F(int, a) F(double, b) F(int, c)
STRUCT(cls16)
#define FIELDS_cls18(F, A, N, M, B) F(double, a) F(unsigned char, b) F(unsigned char, c) F(double, d)
STRUCT(cls18)
#define FIELDS_cls19(F, A, N, M, B) F(double, a) F(unsigned char, b) F(unsigned char, c) F(double, d) F(unsigned char, e)
STRUCT(cls19)
#define FIELDS_cls20a(F, A, N, M, B) F(double, a) F(double, b) F(int, c)
STRUCT(cls20a)
#define FIELDS_cls20b(F, A, N, M, B) F(int, a) F(double, b) F(double, c)
STRUCT(cls20b)
#define FIELDS_cls24(F, A, N, M, B) F(double, a) F(double, b) F(int, c) F(float, d)
STRUCT(cls24)
SHAPE(cls24, cls24_4, (cls24 b0, cls24 b1, cls24 b2, cls24 b3), (b0, b1, b2, b3),
      WS(cls24, b0) WS(cls24, b1) WS(cls24, b2) WS(cls24, b3) RETS(cls24))
#define FIELDS_cls64(F, A, N, M, B) A(double, d, 8)
STRUCT(cls64)
#define FIELDS_cls3float(F, A, N, M, B) F(float, f) F(float, g) F(float, h)
STRUCT(cls3float)
#define FIELDS_problem1(F, A, N, M, B) F(double, a) F(double, b) F(double, c)
STRUCT(problem1)
/* cls_dbls_struct.c, testclosure.c: structs to functions without a result */
#define FIELDS_dbls(F, A, N, M, B) F(double, x) F(double, y)
STRUCT(dbls)
VSHAPE(take_dbls, (dbls p), (p), WS(dbls, p) RETV)
#define FIELDS_floats4(F, A, N, M, B) F(float, a) F(float, b) F(float, c) F(float, d)
STRUCT(floats4)
VSHAPE(take_floats4, (floats4 arg), (arg), WS(floats4, arg) RETV)

/* ==== alignment: cls_align_<type>.c ===================================================== */

#define FIELDS_al_double(F, A, N, M, B) F(unsigned char, a) F(double, b) F(unsigned char, c)
STRUCT(al_double)
#define FIELDS_al_float(F, A, N, M, B) F(unsigned char, a) F(float, b) F(unsigned char, c)
STRUCT(al_float)
#define FIELDS_al_longdouble(F, A, N, M, B) F(unsigned char, a) F(long double, b) F(unsigned char, c)
STRUCT(al_longdouble)
#define FIELDS_al_pointer(F, A, N, M, B) F(unsigned char, a) F(void *, b) F(unsigned char, c)
STRUCT(al_pointer)
#define FIELDS_al_sint16(F, A, N, M, B) F(unsigned char, a) F(short, b) F(unsigned char, c)
STRUCT(al_sint16)
#define FIELDS_al_sint32(F, A, N, M, B) F(unsigned char, a) F(int, b) F(unsigned char, c)
STRUCT(al_sint32)
#define FIELDS_al_sint64(F, A, N, M, B) F(unsigned char, a) F(long long, b) F(unsigned char, c)
STRUCT(al_sint64)
#define FIELDS_al_uint16(F, A, N, M, B) F(unsigned char, a) F(unsigned short, b) F(unsigned char, c)
STRUCT(al_uint16)
#define FIELDS_al_uint32(F, A, N, M, B) F(unsigned char, a) F(unsigned int, b) F(unsigned char, c)
STRUCT(al_uint32)
#define FIELDS_al_uint64(F, A, N, M, B) F(unsigned char, a) F(unsigned long long, b) F(unsigned char, c)
STRUCT(al_uint64)
/* cls_align_longdouble_split.c, cls_align_longdouble_split2.c, cls_longdouble.c */
#define FIELDS_ld_split(F, A, N, M, B) A(long double, x, 7)
STRUCT(ld_split)
#define FIELDS_ld_split2(F, A, N, M, B) A(long double, x, 5) F(double, f) F(long double, g)
STRUCT(ld_split2)
#define FIELDS_just_ld(F, A, N, M, B) F(long double, x)
STRUCT(just_ld)
#define FIELDS_ld_int(F, A, N, M, B) F(long double, x) F(int, i)
STRUCT(ld_int)
SHAPE(long double, ld_structs, (just_ld a, int i, ld_int b, double d), (a, i, b, d),
      WS(just_ld, a) W(i) WS(ld_int, b) W(d) RET(long double))

/* ==== nested records: nested_struct*.c, single_entry_structs*.c ========================= */

/* nested_struct.c, nested_struct1.c */
#define FIELDS_n16a(F, A, N, M, B) F(double, a) F(float, b) F(int, c)
STRUCT(n16a)
#define FIELDS_n16b(F, A, N, M, B) F(int, ii) F(double, dd) F(float, ff)
STRUCT(n16b)
#define FIELDS_ncomb(F, A, N, M, B) N(n16a, d) N(n16b, e)
STRUCT(ncomb)
SHAPE(ncomb, nested_struct, (n16a b0, n16b b1, ncomb b2), (b0, b1, b2),
      WS(n16a, b0) WS(n16b, b1) WS(ncomb, b2) RETS(ncomb))
SHAPE(ncomb, nested_struct1, (n16a b0, n16b b1, ncomb b2, n16a b3), (b0, b1, b2, b3),
      WS(n16a, b0) WS(n16b, b1) WS(ncomb, b2) WS(n16a, b3) RETS(ncomb))
/* nested_struct2.c .. nested_struct10.c: an inner record and a trailing char */
#define FIELDS_ulong_c(F, A, N, M, B) F(unsigned long, a) F(unsigned char, b)
STRUCT(ulong_c)
#define FIELDS_ulong_c_c(F, A, N, M, B) N(ulong_c, x) F(unsigned char, y)
STRUCT(ulong_c_c)
SHAPE(ulong_c_c, nested_struct2, (ulong_c b0, ulong_c_c b1), (b0, b1), WS(ulong_c, b0) WS(ulong_c_c, b1) RETS(ulong_c_c))
#define FIELDS_ull_c(F, A, N, M, B) F(unsigned long long, a) F(unsigned char, b)
STRUCT(ull_c)
#define FIELDS_ull_c_c(F, A, N, M, B) N(ull_c, x) F(unsigned char, y)
STRUCT(ull_c_c)
SHAPE(ull_c_c, nested_struct3, (ull_c b0, ull_c_c b1), (b0, b1), WS(ull_c, b0) WS(ull_c_c, b1) RETS(ull_c_c))
#define FIELDS_dbl_c(F, A, N, M, B) F(double, a) F(unsigned char, b)
STRUCT(dbl_c)
#define FIELDS_dbl_c_c(F, A, N, M, B) N(dbl_c, x) F(unsigned char, y)
STRUCT(dbl_c_c)
SHAPE(dbl_c_c, nested_struct4, (dbl_c b0, dbl_c_c b1), (b0, b1), WS(dbl_c, b0) WS(dbl_c_c, b1) RETS(dbl_c_c))
#define FIELDS_ld_c(F, A, N, M, B) F(long double, a) F(unsigned char, b)
STRUCT(ld_c)
#define FIELDS_ld_c_c(F, A, N, M, B) N(ld_c, x) F(unsigned char, y)
STRUCT(ld_c_c)
SHAPE(ld_c_c, nested_struct5, (ld_c b0, ld_c_c b1), (b0, b1), WS(ld_c, b0) WS(ld_c_c, b1) RETS(ld_c_c))
#define FIELDS_long_c(F, A, N, M, B) F(long, d) F(unsigned char, e)
STRUCT(long_c)
SHAPE(dbl_c_c, nested_struct6, (dbl_c b0, dbl_c_c b1, long_c b2), (b0, b1, b2),
      WS(dbl_c, b0) WS(dbl_c_c, b1) WS(long_c, b2) RETS(dbl_c_c))
SHAPE(ull_c_c, nested_struct8, (ull_c b0, ull_c_c b1, ull_c b2), (b0, b1, b2),
      WS(ull_c, b0) WS(ull_c_c, b1) WS(ull_c, b2) RETS(ull_c_c))
#define FIELDS_c_ull(F, A, N, M, B) F(unsigned char, a) F(unsigned long long, b)
STRUCT(c_ull)
#define FIELDS_c_ull_c(F, A, N, M, B) N(c_ull, x) F(unsigned char, y)
STRUCT(c_ull_c)
SHAPE(c_ull_c, nested_struct9, (c_ull b0, c_ull_c b1, ulong_c b2), (b0, b1, b2),
      WS(c_ull, b0) WS(c_ull_c, b1) WS(ulong_c, b2) RETS(c_ull_c))
#define FIELDS_c_ull_c_u(F, A, N, M, B) F(unsigned char, y) N(ull_c, x) F(unsigned int, z)
STRUCT(c_ull_c_u)
SHAPE(c_ull_c_u, nested_struct10, (ull_c b0, c_ull_c_u b1, ull_c b2), (b0, b1, b2),
      WS(ull_c, b0) WS(c_ull_c_u, b1) WS(ull_c, b2) RETS(c_ull_c_u))
/* nested_struct11.c, nested_struct12.c, nested_struct13.c: records of floats */
#define FIELDS_fa(F, A, N, M, B) F(float, a_x) F(float, a_y)
STRUCT(fa)
#define FIELDS_fb(F, A, N, M, B) F(float, b_x) F(float, b_y)
STRUCT(fb)
#define FIELDS_fab(F, A, N, M, B) N(fa, a) N(fb, b)
STRUCT(fab)
SHAPE(fab, nested_struct11, (int x, int y, int z, fab source, int i, int j, int k2),
      (x, y, z, source, i, j, k2), W(x) W(y) W(z) WS(fab, source) W(i) W(j) W(k2) RETS(fab))
#define FIELDS_f_fa(F, A, N, M, B) F(float, e1) N(fa, e2)
STRUCT(f_fa)
SHAPE(float, nested_struct12, (float a, f_fa b), (a, b), W(a) WS(f_fa, b) RET(float))
SHAPE(f_fa, nested_struct13, (float a, f_fa b), (a, b), W(a) WS(f_fa, b) RETS(f_fa))
/* single_entry_structs1.c, single_entry_structs2.c, single_entry_structs3.c */
#define FIELDS_one_int(F, A, N, M, B) F(int, a)
STRUCT(one_int)
SHAPE(one_int, single_entry1, (int b0, one_int b1), (b0, b1), W(b0) WS(one_int, b1) RETS(one_int))
#define FIELDS_in_ss(F, A, N, M, B) N(ss, y)
STRUCT(in_ss)
SHAPE(in_ss, single_entry2, (int b0, in_ss b1), (b0, b1), W(b0) WS(in_ss, b1) RETS(in_ss))
#define FIELDS_in_one_int(F, A, N, M, B) N(one_int, y)
STRUCT(in_one_int)
SHAPE(in_one_int, single_entry3, (int b0, in_one_int b1), (b0, b1), W(b0) WS(in_one_int, b1) RETS(in_one_int))

/* ==== struct results in memory: stret_*.c, huge_struct.c ================================ */

#define FIELDS_s72(F, A, N, M, B) A(double, d, 9)
STRUCT(s72)
SHAPE(s72, stret_medium, (s72 b0, s72 b1, s72 b2, s72 b3), (b0, b1, b2, b3),
      WS(s72, b0) WS(s72, b1) WS(s72, b2) WS(s72, b3) RETS(s72))
#define FIELDS_s72i(F, A, N, M, B) A(double, d, 8) F(long long, i)
STRUCT(s72i)
SHAPE(s72i, stret_medium2, (s72i b0, s72i b1, s72i b2, s72i b3), (b0, b1, b2, b3),
      WS(s72i, b0) WS(s72i, b1) WS(s72i, b2) WS(s72i, b3) RETS(s72i))
#define FIELDS_s108(F, A, N, M, B) A(double, d, 13) F(int, n)
STRUCT(s108)
SHAPE(s108, stret_large, (s108 b0, s108 b1, s108 b2, s108 b3), (b0, b1, b2, b3),
      WS(s108, b0) WS(s108, b1) WS(s108, b2) WS(s108, b3) RETS(s108))
#define FIELDS_s116(F, A, N, M, B) A(double, d, 14) F(int, o)
STRUCT(s116)
SHAPE(s116, stret_large2, (s116 b0, s116 b1, s116 b2, s116 b3), (b0, b1, b2, b3),
      WS(s116, b0) WS(s116, b1) WS(s116, b2) WS(s116, b3) RETS(s116))
#define HUGE_GROUP(F, n) F(uint8_t, ui8_##n) F(int8_t, si8_##n) F(uint16_t, ui16_##n) F(int16_t, si16_##n) \
    F(uint32_t, ui32_##n) F(int32_t, si32_##n) F(uint64_t, ui64_##n) F(int64_t, si64_##n)           \
    F(float, f_##n) F(double, d_##n) F(long double, ld_##n) F(void *, p_##n)
#define FIELDS_huge(F, A, N, M, B) HUGE_GROUP(F, 1) HUGE_GROUP(F, 2) HUGE_GROUP(F, 3) HUGE_GROUP(F, 4) \
    F(uint8_t, ui8_5) F(int8_t, si8_5)
STRUCT(huge)
#define HUGE_PARAMS(n) uint8_t ui8_##n, int8_t si8_##n, uint16_t ui16_##n, int16_t si16_##n,        \
    uint32_t ui32_##n, int32_t si32_##n, uint64_t ui64_##n, int64_t si64_##n, float f_##n,          \
    double d_##n, long double ld_##n, const char *p_##n
#define HUGE_ARGS(n) ui8_##n, si8_##n, ui16_##n, si16_##n, ui32_##n, si32_##n, ui64_##n, si64_##n,    \
    f_##n, d_##n, ld_##n, p_##n
#define HUGE_W(n) W(ui8_##n) W(si8_##n) W(ui16_##n) W(si16_##n) W(ui32_##n) W(si32_##n) W(ui64_##n) \
    W(si64_##n) W(f_##n) W(d_##n) W(ld_##n) W(p_##n)
SHAPE(huge, huge_struct, (HUGE_PARAMS(1), HUGE_PARAMS(2), HUGE_PARAMS(3), HUGE_PARAMS(4),
                          uint8_t ui8_5, int8_t si8_5),
      (HUGE_ARGS(1), HUGE_ARGS(2), HUGE_ARGS(3), HUGE_ARGS(4), ui8_5, si8_5),
      HUGE_W(1) HUGE_W(2) HUGE_W(3) HUGE_W(4) W(ui8_5) W(si8_5) RETS(huge))

/* ==== bit-fields ========================================================================= */

#define FIELDS_bf_int_float(F, A, N, M, B) B(int, a, 3) F(float, f)
STRUCT(bf_int_float)
#define FIELDS_bf_split(F, A, N, M, B) B(unsigned, a, 4) B(unsigned, b, 28) F(double, d)
STRUCT(bf_split)
#define FIELDS_bf_wide(F, A, N, M, B) B(long long, a, 40) B(long long, b, 24) F(float, f)
STRUCT(bf_wide)
#define FIELDS_bf_mixed(F, A, N, M, B) F(unsigned char, c) B(unsigned, a, 1) B(int, b, 7) N(cls8, in)
STRUCT(bf_mixed)
SHAPE(double, bitfields, (bf_int_float a, int i, bf_split b, bf_wide c, bf_mixed d), (a, i, b, c, d),
      WS(bf_int_float, a) W(i) WS(bf_split, b) WS(bf_wide, c) WS(bf_mixed, d) RET(double))

/* ==== unions: compared through their first member ======================================= */

#define FIELDS_u_dl(F, A, N, M, B) F(double, d) F(long, l)
UNION(u_dl)
#define FIELDS_u_fd(F, A, N, M, B) F(double, d) F(float, f)
UNION(u_fd)
#define FIELDS_u_f4d2(F, A, N, M, B) A(float, f, 4) A(double, d, 2)
UNION(u_f4d2)
#define FIELDS_u_mix(F, A, N, M, B) N(point_f, s) F(double, d) F(long, l)
UNION(u_mix)
#define FIELDS_u_sse(F, A, N, M, B) N(st6, s) A(float, g, 3)
UNION(u_sse)
#define FIELDS_u_big(F, A, N, M, B) A(char, c, 20) F(int, i)
UNION(u_big)
#define FIELDS_u_ci(F, A, N, M, B) F(int, i) F(char, c)
UNION(u_ci)
#define FIELDS_u_f3(F, A, N, M, B) A(float, f, 3) F(int, i)
UNION(u_f3)

/* ==== variadic functions: va_*.c, float_va.c, cls_*_va.c ================================ */

/* The variadic arguments of a va_* function, read as `types` says, one letter each:
   b B h H signed/unsigned char and short (promoted to int), i I int and unsigned,
   l L long and unsigned long, q Q long long and unsigned long long, f a float (promoted
   to double), d double, D long double, p void *, s const char *, S a vsmall and T a
   vlarge struct by value, F a double (*)(double) (called with the weight, counting its
   result).  Their scalars go on the weighted sum after the fixed arguments'. */
#define FIELDS_vsmall(F, A, N, M, B) F(unsigned char, a) F(unsigned char, b)
STRUCT(vsmall)
#define FIELDS_vlarge(F, A, N, M, B) F(unsigned, a) F(unsigned, b) F(unsigned, c) F(unsigned, d) F(unsigned, e)
STRUCT(vlarge)
DEFINE(
static long double va_take(const char *types, va_list *ap, long double s, long double *k) {
    for (const char *t = types; *t; t++) {
        long double x = 0;
        switch (*t) {
            case 'b': x = (signed char)va_arg(*ap, int); break;
            case 'B': x = (unsigned char)va_arg(*ap, int); break;
            case 'h': x = (short)va_arg(*ap, int); break;
            case 'H': x = (unsigned short)va_arg(*ap, int); break;
            case 'i': x = va_arg(*ap, int); break;
            case 'I': x = va_arg(*ap, unsigned); break;
            case 'l': x = va_arg(*ap, long); break;
            case 'L': x = va_arg(*ap, unsigned long); break;
            case 'q': x = va_arg(*ap, long long); break;
            case 'Q': x = va_arg(*ap, unsigned long long); break;
            case 'f': case 'd': x = va_arg(*ap, double); break;
            case 'D': x = va_arg(*ap, long double); break;
            case 'p': x = leaf_ptr(va_arg(*ap, void *)); break;
            case 's': x = leaf_str(va_arg(*ap, const char *)); break;
            case 'S': s = vsmall_wsum(va_arg(*ap, vsmall), s, k); continue;
            case 'T': s = vlarge_wsum(va_arg(*ap, vlarge), s, k); continue;
            case 'F': { double (*f)(double) = va_arg(*ap, double (*)(double)); x = f((double)*k); break; }
        }
        s += *k * x;
        *k += 1;
    }
    return s;
}
)
/* A variadic shape: `fixed` are the parameters before `types`, W_fixed their sum;
   NAME_via(f, fixed..., types, ...) returns f(the sum as a double). */
#define VA_SHAPE(R, name, fixed, W_fixed, SETR)                                               \
    R name(UNPAREN fixed, const char *types, ...);                                           \
    R name##_via(R (*via_)(double), UNPAREN fixed, const char *types, ...);                  \
    DEFINE(R name(UNPAREN fixed, const char *types, ...) {                                    \
               long double sum_ = -0.0L, k_ = 1; va_list ap;                                  \
               W_fixed W(types) va_start(ap, types); sum_ = va_take(types, &ap, sum_, &k_);   \
               va_end(ap); SETR }                                                             \
           R name##_via(R (*via_)(double), UNPAREN fixed, const char *types, ...) {           \
               long double sum_ = -0.0L, k_ = 1; va_list ap;                                  \
               W_fixed W(types) va_start(ap, types); sum_ = va_take(types, &ap, sum_, &k_);   \
               va_end(ap); return via_((double)sum_); })
/* va_1.c, va_2.c, va_struct1.c */
VA_SHAPE(int, va_int, (int n), W(n), RET(int))
/* va_3.c */
VA_SHAPE(int, va_char_float, (char a1, float a2), W(a1) W(a2), RET(int))
/* float_va.c */
VA_SHAPE(double, va_double, (unsigned int x, double y), W(x) W(y), RET(double))
/* cls_longdouble_va.c, cls_uint_va.c, cls_ulong_va.c */
VA_SHAPE(long double, va_longdouble, (long double x), W(x), RET(long double))
VA_SHAPE(unsigned int, va_uint, (unsigned int x), W(x), RET(unsigned int))
VA_SHAPE(unsigned long, va_ulong, (unsigned long x), W(x), RET(unsigned long))
VA_SHAPE(float, va_float, (float x), W(x), RET(float))
/* cls_struct_va1.c, with a struct result */
VA_SHAPE(vlarge, va_struct, (int n), W(n), RETS(vlarge))
