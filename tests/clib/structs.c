/* Structs, unions, enums and globals for the struct tests. */
#include <stdio.h>
#include <string.h>

/* The seed's sample.c */
typedef struct Weather_t {
    int timestamp;
    char desc[12];
} Weather;

void print_weather(Weather* w, int nelems)
{
    int i;
    for (i=0;i<nelems;++i) {
        printf("timestamp: %d\ndescription: %s\n\n", w[i].timestamp, w[i].desc);
    }
}

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
