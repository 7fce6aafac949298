/* Types of hdrtest.h, in a file of their own: a header's own includes are part of it. */
#ifndef HDRTEST_TYPES_H
#define HDRTEST_TYPES_H

#include <stddef.h>
#include <stdint.h>

/** A point of the plane. */
typedef struct point { double x, y; } point;

/* Flags in bit-fields, with an anonymous union and a nested anonymous struct. */
struct flags {
    unsigned ready : 1;
    unsigned mode : 3;
    unsigned : 0;
    signed level : 5;
    union { int32_t i; float f; };
    struct { uint8_t r, g, b; } color;
};

typedef int vec3[3];

/* A tagged union with an anonymous enum for its tag. */
struct tagged { enum { HDR_KIND_INT, HDR_KIND_REAL } kind; union { long i; double r; } value; };

typedef union { int i; float f; unsigned char b[4]; } hdr_word;

#endif
