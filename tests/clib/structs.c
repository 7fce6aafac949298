/* Structs, unions, enums and globals for the struct tests. */
#include <stdio.h>
#include <string.h>

/* The cookbook's sample.c as the package ships it: Weather and print_weather. */
#include "../../python/ndffi/examples/sample.c"

int sum_timestamps(const Weather *w, int n) {
    int s = 0;
    for (int i = 0; i < n; i++) s += w[i].timestamp;
    return s;
}

void stamp_weather(Weather *w, int n, int base) {
    for (int i = 0; i < n; i++) { w[i].timestamp = base + i; snprintf(w[i].desc, sizeof w[i].desc, "day %d", i); }
}

typedef struct { double x, y; } vec2;
vec2 vadd(vec2 a, vec2 b) { vec2 r = {a.x + b.x, a.y + b.y}; return r; }
double vdot(const vec2 *a, const vec2 *b) { return a->x * b->x + a->y * b->y; }

typedef union { int i; float f; unsigned char b[4]; } word;
word word_from_float(float f) { word w; w.f = f; return w; }
int word_int(word w) { return w.i; }

struct flags { unsigned ready : 1; unsigned mode : 3; int level; };
struct flags make_flags(unsigned ready, unsigned mode, int level) {
    struct flags f = {0}; f.ready = ready; f.mode = mode; f.level = level; return f;
}
int flags_sum(struct flags f) { return (int)f.ready * 1000 + (int)f.mode * 100 + f.level; }

#pragma pack(push, 1)
struct packed { char c; double d; };
#pragma pack(pop)
double packed_d(const struct packed *p) { return p->d; }

enum color { RED, GREEN = 5, BLUE };
int color_value(enum color c) { return (int)c * 10; }
enum color next_color(enum color c) { return c == RED ? GREEN : c == GREEN ? BLUE : RED; }

int counter = 0;
int bump(void) { return ++counter; }
double table[4] = {1.5, 2.5, 3.5, 4.5};

/* Round trips by value for sizes 1 to 32 bytes, mixed members. */
typedef struct { char a; } s1;
typedef struct { char a; char b; } s2;
typedef struct { char a, b, c; } s3;
typedef struct { float f; } s4;
typedef struct { int i; float f; } s8;
typedef struct { double d; int i; float f; } s16;
typedef struct { double d; long l; char c; } s17;   /* 24 with padding; 17 bytes of data */
typedef struct { char c[17]; } s17p;
typedef struct { float a; double b; int c; } s24;
typedef struct { double a, b; long c; float d; } s32;
typedef struct { vec2 p; int tag; } nested;
typedef union { double d; long l; } u8;
typedef union { float f[3]; int i; } u12;

#define ROUND(T) T round_##T(T v) { return v; }
ROUND(s1) ROUND(s2) ROUND(s3) ROUND(s4) ROUND(s8) ROUND(s16) ROUND(s17) ROUND(s17p)
ROUND(s24) ROUND(s32) ROUND(nested) ROUND(u8) ROUND(u12)

/* Functions that compute from the members, so that arguments are seen by C. */
double s16_sum(s16 v) { return v.d + v.i + v.f; }
double s24_sum(s24 v) { return v.a + v.b + v.c; }
double s32_sum(s32 v) { return v.a + v.b + (double)v.c + v.d; }
int s3_sum(s3 v) { return v.a + v.b + v.c; }
double nested_sum(nested v) { return v.p.x + v.p.y + v.tag; }
s8 s8_make(int i, float f) { s8 r = {i, f}; return r; }

/* Pointers to records returned to Python, global records and arrays of records. */
static Weather days[3] = {{100, "sunny"}, {101, "rain"}, {102, "fog"}};
Weather *weather_days(int *n) { *n = 3; return days; }
Weather history[2] = {{7, "old"}, {8, "older"}};
vec2 origin = {1.5, -2.5};
double origin_norm2(void) { return origin.x * origin.x + origin.y * origin.y; }
int history_sum(void) { return history[0].timestamp + history[1].timestamp; }

/* Arrays inside a struct, passed by value and by pointer. */
typedef struct { int n; double v[3]; char name[8]; short m[2][2]; } arrays_t;
double arrays_sum(arrays_t a) {
    double s = a.n + a.v[0] + a.v[1] + a.v[2];
    for (int i = 0; i < 2; i++) for (int j = 0; j < 2; j++) s += a.m[i][j];
    return s + (double)strlen(a.name);
}
arrays_t arrays_make(int n) {
    arrays_t a = {0};
    a.n = n; a.v[0] = 0.5; a.v[1] = 1.5; a.v[2] = 2.5; strcpy(a.name, "made");
    a.m[0][0] = 1; a.m[0][1] = 2; a.m[1][0] = 3; a.m[1][1] = 4;
    return a;
}

/* Each member of a by-value struct seen by C, for the round trips. */
double s32_fields(s32 v, int k) { return k == 0 ? v.a : k == 1 ? v.b : k == 2 ? (double)v.c : v.d; }
double u12_f2(u12 v) { return v.f[2]; }
long u8_bits(u8 v) { return v.l; }
int flags_level(const struct flags *f) { return f->level * 10 + (int)f->mode; }

/* Unions and bit-field structs by value: each is classified by ndffi for libffi. */
typedef union { float f; double d; } uf;                          /* SSE */
typedef union { float f[4]; double d[2]; } uf16;                  /* SSE, SSE */
typedef union { struct { float a, b; } s; double d; long l; } umix;  /* INTEGER */
typedef union { struct { double d; float f; } s; float g[3]; } usse; /* SSE, SSE */
typedef union { char c[20]; int i; } ubig;                        /* memory */
typedef union { long double ld; long l; } uld;                    /* memory */
typedef struct { int a : 3; float f; } bfs;                       /* INTEGER */
typedef struct { unsigned a : 4, b : 28; double d; } bfd;         /* INTEGER, SSE */
typedef struct { long long a : 40; long long b : 24; float f; } bf12; /* INTEGER, SSE */
typedef struct { u8 u; float f; } su;                             /* a union inside */
typedef struct { long double x; } sld;                            /* x87 */
ROUND(uf) ROUND(uf16) ROUND(umix) ROUND(usse) ROUND(ubig) ROUND(uld) ROUND(bfs) ROUND(bfd)
ROUND(bf12) ROUND(su) ROUND(sld)
double uf16_sum(uf16 v) { return v.f[0] + v.f[1] + v.f[2] + v.f[3]; }
double umix_sum(umix v) { return v.s.a + v.s.b; }
double usse_sum(usse v) { return v.s.d + v.s.f; }
int ubig_sum(ubig v) { int s = 0; for (int i = 0; i < 20; i++) s += v.c[i]; return s; }
long uld_l(uld v) { return v.l; }
double bfs_sum(bfs v) { return v.a + v.f; }
double bfd_sum(bfd v) { return v.a * 1000.0 + v.b + v.d; }
double bf12_sum(bf12 v) { return (double)v.a + (double)v.b + v.f; }
double su_sum(su v) { return v.u.d + v.f; }
long double sld_twice(sld v) { return 2 * v.x; }
typedef struct { sld inner[1]; } sld_nested;                      /* x87 too */
sld_nested make_sld_nested(long double x) { sld_nested r = {{{x}}}; return r; }
long double sld_from_callback(sld (*f)(long double), long double x) { return f(x).x + 1; }
/* Mixed arguments: registers of both kinds run out, so later ones go to the stack. */
double mixed_args(uf a, int i, uf16 b, double d, bfd c, umix e, usse f, bfs g, double h, s32 k) {
    return a.d + i + (b.f[0] + b.f[3]) + d + (c.a + c.b + c.d) + (e.s.a + e.s.b) + (f.s.d + f.s.f)
         + (g.a + g.f) + h + (k.a + k.d);
}
double packed_byval(struct packed p) { return p.d + p.c; }

/* Records aligned to 16 by a member's attribute, by their own, and an aligned one-double
   struct (padded, so no HFA on AArch64): after an int, on the stack, in pairs. */
typedef struct { _Alignas(16) long a; long b; } al16m;
typedef struct { long a, b; } __attribute__((aligned(16))) al16r;
typedef struct { double d; } __attribute__((aligned(16))) al16d;
long al16m_after_int(int x, al16m s) { return x * 1000 + s.a * 10 + s.b; }
long al16r_on_stack(long a, long b, long c, long d, long e, long f, long g, long h, int i, al16r s) {
  return a + b + c + d + e + f + g + h + i * 100 + s.a * 10 + s.b;
}
double al16d_pair(double x, al16d a, al16d b) { return x * 100 + a.d * 10 + b.d; }
