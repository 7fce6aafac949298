/*
 * foo.c -- the test library behind most of ndffi's tests.
 *
 * Starts from the ctypes cookbook's foo (bar) and adds a function for each thing the
 * FFI has to get exactly right: every scalar type in and out, mixed and long argument
 * lists (past the registers, so the libffi fallback runs), arrays, strings, opaque
 * handles, varargs, NULL and static pointers, errno.  Everything is exported.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#define FOO_API __declspec(dllexport)
typedef ptrdiff_t ssize_t;
#else
#include <sys/types.h>
#define FOO_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the cookbook's function -------------------------------------------------- */

FOO_API int bar(double *data, int len) {
    int i;
    printf("data = %p\n", (void *)data);
    for (i = 0; i < len; i++) {
        printf("data[%d] = %f\n", i, data[i]);
    }
    printf("len = %d\n", len);
    fflush(stdout);
    return len + 1;
}

/* ---- the benchmark pair and trivial calls ------------------------------------- */

FOO_API double dsum(const double *x, long n) {
    double s = 0.0;
    long i;
    for (i = 0; i < n; i++) s += x[i];
    return s;
}

FOO_API int add(int a, int b) { return a + b; }

FOO_API void noop(void) {}

FOO_API const char *version(void) { return "foo 1.0"; }

/* Exported data, for globals and for the symbol reader's 'object' kind. */
FOO_API int foo_counter = 42;
FOO_API const double foo_pi = 3.14159265358979323846;

/* Not exported: must not show up among the library's symbols. */
static int internal_helper(int x) { return x * 3; }
#ifndef _WIN32
__attribute__((visibility("hidden"))) int hidden_function(int x) { return internal_helper(x) + 1; }
#endif

/* ---- opaque handles ----------------------------------------------------------- */

struct handle {
    unsigned magic;
    char name[64];
};
#define HANDLE_MAGIC 0x48414e44u /* "HAND" */

FOO_API struct handle *h_open(const char *name) {
    struct handle *h;
    if (name == NULL) return NULL;
    h = (struct handle *)calloc(1, sizeof *h);
    if (h == NULL) return NULL;
    h->magic = HANDLE_MAGIC;
    strncpy(h->name, name, sizeof h->name - 1);
    return h;
}

/* 0 on success, -1 for NULL or a pointer that is not an open handle. */
FOO_API int h_close(struct handle *h) {
    if (h == NULL || h->magic != HANDLE_MAGIC) return -1;
    h->magic = 0;
    free(h);
    return 0;
}

FOO_API const char *h_name(struct handle *h) {
    if (h == NULL || h->magic != HANDLE_MAGIC) return NULL;
    return h->name;
}

struct other {
    int value;
};

FOO_API struct other *o_open(void) {
    struct other *o = (struct other *)malloc(sizeof *o);
    if (o) o->value = 7;
    return o;
}

FOO_API void o_close(struct other *o) { free(o); }

/* ---- varargs ------------------------------------------------------------------ */

static char printed[1024];

FOO_API int my_printf(const char *fmt, ...) {
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(printed, sizeof printed, fmt, ap);
    va_end(ap);
    return n;
}

FOO_API const char *last_printed(void) { return printed; }

/* ---- every scalar type in and out --------------------------------------------- */

#define ECHO(name, type) \
    FOO_API type echo_##name(type x) { return x; }

ECHO(schar, signed char)
ECHO(uchar, unsigned char)
ECHO(short, short)
ECHO(ushort, unsigned short)
ECHO(int, int)
ECHO(uint, unsigned int)
ECHO(long, long)
ECHO(ulong, unsigned long)
ECHO(longlong, long long)
ECHO(ulonglong, unsigned long long)
ECHO(bool, _Bool)
ECHO(char, char)
ECHO(float, float)
ECHO(double, double)
ECHO(longdouble, long double)
ECHO(int8, int8_t)
ECHO(uint8, uint8_t)
ECHO(int16, int16_t)
ECHO(uint16, uint16_t)
ECHO(int32, int32_t)
ECHO(uint32, uint32_t)
ECHO(int64, int64_t)
ECHO(uint64, uint64_t)
ECHO(size_t, size_t)
ECHO(ssize_t, ssize_t)
ECHO(ptrdiff_t, ptrdiff_t)
ECHO(intptr_t, intptr_t)
ECHO(uintptr_t, uintptr_t)

/* a + 2b + 3c + 4d + 5e + 6f + 7g: every argument has a distinct weight, so a value
 * passed in the wrong register changes the result. */
FOO_API double mix(int a, double b, float c, long d, unsigned char e, float f, double g) {
    return a + 2.0 * b + 3.0 * c + 4.0 * d + 5.0 * e + 6.0 * f + 7.0 * g;
}

/* ---- long argument lists (beyond the registers: stack arguments) -------------- */

/* sum of (i+1) * argument i */
FOO_API long long wsum_i8(int a, int b, int c, int d, int e, int f, int g, int h) {
    return 1LL * a + 2LL * b + 3LL * c + 4LL * d + 5LL * e + 6LL * f + 7LL * g + 8LL * h;
}

FOO_API double wsum_d10(double a, double b, double c, double d, double e, double f,
                        double g, double h, double i, double j) {
    return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h + 9 * i + 10 * j;
}

/* 8 ints and 10 doubles interleaved (18 arguments): the ints are weighted 1..8, the
 * doubles 0.5 * (1..10). */
FOO_API double wsum_mixed(int i1, double d1, int i2, double d2, int i3, double d3,
                          int i4, double d4, int i5, double d5, int i6, double d6,
                          int i7, double d7, int i8, double d8, double d9, double d10) {
    double si = 1.0 * i1 + 2.0 * i2 + 3.0 * i3 + 4.0 * i4 + 5.0 * i5 + 6.0 * i6 + 7.0 * i7 + 8.0 * i8;
    double sd = 1 * d1 + 2 * d2 + 3 * d3 + 4 * d4 + 5 * d5 + 6 * d6 + 7 * d7 + 8 * d8 + 9 * d9 + 10 * d10;
    return si + 0.5 * sd;
}

/* ---- arrays and strings ------------------------------------------------------- */

FOO_API void fill_ints(int *out, int n, int v) {
    int i;
    for (i = 0; i < n; i++) out[i] = v;
}

FOO_API long sum_longs(const long *x, long n) {
    long s = 0, i;
    for (i = 0; i < n; i++) s += x[i];
    return s;
}

FOO_API float sum_floats(const float *x, int n) {
    float s = 0.0f;
    int i;
    for (i = 0; i < n; i++) s += x[i];
    return s;
}

FOO_API size_t my_strlen(const char *s) { return strlen(s); }

FOO_API void upcase(char *s) {
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'z') *s = (char)(*s - 'a' + 'A');
}

FOO_API int count_bytes(const unsigned char *p, size_t n, unsigned char v) {
    int c = 0;
    size_t i;
    for (i = 0; i < n; i++) c += p[i] == v;
    return c;
}

/* ---- pointers ----------------------------------------------------------------- */

FOO_API void *identity_ptr(void *p) { return p; }

FOO_API double *null_doubles(void) { return NULL; }

static int the_static_ints[5] = {1, 2, 3, 4, 5};

FOO_API int *static_ints(void) { return the_static_ints; }

/* ---- errno, float returns, bool returns --------------------------------------- */

FOO_API int set_errno(int v) {
    errno = v;
    return -1;
}

FOO_API float fret(float x) { return x * 2.0f; }

FOO_API _Bool is_positive(double x) { return x > 0.0; }

#ifdef __cplusplus
}
#endif
