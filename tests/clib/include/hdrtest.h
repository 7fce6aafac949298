/* A header with what real headers have, for ndffi's header importer.  Its library is
   hdrtest.c; every layout here is also reported by the compiler through hdr_layout(). */
#ifndef HDRTEST_H
#define HDRTEST_H

#include <stdarg.h>
#include <stdio.h>
#include "hdrtest_types.h"

#ifdef HDRTEST_DLL
#  define HDR_API __attribute__((visibility("default")))
#  define HDR_BUILD 2
#else
#  define HDR_API
#  define HDR_BUILD 1
#endif

#define HDR_VERSION "2.5"
#define HDR_VERSION_NUM ((2 << 8) | 5)
#define HDR_SCALE 0.25
#define HDR_TINY 1.5f
#define HDR_BIG 0xFFFFFFFFFFULL
#define HDR_NEG (-7)
#define HDR_CHAR 'A'
#define HDR_POINT_SIZE ((int)sizeof(point))
#define HDR_SENTINEL ((hdr_callback)-1)
#define HDR_NOTHING
#define HDR_TYPE unsigned long
#define HDR_CALL hdr_version()

typedef int (*hdr_callback)(void *context, int value);

enum hdr_color { HDR_RED = -1, HDR_GREEN = 5, HDR_BLUE };
typedef enum { HDR_SMALL = 1, HDR_LARGE = 1 << 20 } hdr_size;
enum __attribute__((packed)) hdr_tiny { HDR_TINY_A = 1, HDR_TINY_B = 200 };

#pragma pack(push, 2)
struct packed2 { char c; double d; int i; };
#pragma pack(pop)

struct __attribute__((packed)) packed1 { char c; int32_t i; uint16_t s; };

struct aligned { char c; int i __attribute__((aligned(16))); } __attribute__((aligned(32)));

/* An array of structs and a flexible array member. */
struct polygon {
    int n;
    point corners[4];
    struct flags flags;
    enum hdr_tiny tiny;
    double weights[];
};

struct wide { char tag; __int128 big; long double ld; };

struct node { int value; struct node *next; };

/** Adds two points, by value. */
HDR_API point hdr_add(point a, point b);

HDR_API int hdr_sum(int n, ...);   /* sums n ints */

HDR_API int hdr_vsum(int n, va_list ap);

HDR_API const char *hdr_version(void);

/* Calls fn(context, value) and returns its result. */
HDR_API int hdr_call(hdr_callback fn, void *context, int value);

/* Returns fn itself. */
HDR_API int (*hdr_pass(int (*fn)(void *, int)))(void *, int);

HDR_API int __hdr_double(int x);
#define hdr_double __hdr_double   /* the library's symbol has another name */

HDR_API int hdr_make_(int x, const char *version, int point_size);
#define hdr_make(x) hdr_make_((x), HDR_VERSION, HDR_POINT_SIZE)
#define hdr_twice(x) ((x) * 2)

/* sizeof/offsetof of the structs above as the C compiler lays them out:
   what = 0 for sizeof, 1 for alignof, 2 + k for the offset of member k. */
HDR_API long hdr_layout(const char *type, int what);

HDR_API int hdr_sentinel(hdr_callback fn);

HDR_API int hdr_vec_sum(const vec3 v);

HDR_API hdr_word hdr_word_of(int i);

HDR_API double hdr_tagged_value(struct tagged t);

HDR_API int hdr_argc(const char *const *argv);

HDR_API size_t hdr_count_nodes(const struct node *head);

HDR_API _Complex double hdr_complex(double re);
HDR_API _Complex long double hdr_complexl(long double re);

/* Declared here, but the library does not define it. */
HDR_API int hdr_missing(void);

HDR_API int hdr_print(FILE *out, const char *text);

static inline int hdr_inline(int x) { return x + 1; }

HDR_API extern int hdr_counter;
/* Function pointers C gives back: a global, and one behind a function (libxml2's
   #define xmlFree (*(__xmlFree())) in its thread-local builds). */
typedef int (*hdr_op_t)(int);
HDR_API extern hdr_op_t hdr_op_global;
HDR_API hdr_op_t *hdr_current_op(void);
#define hdr_op (*(hdr_current_op()))
HDR_API extern const char hdr_name[];

#endif
