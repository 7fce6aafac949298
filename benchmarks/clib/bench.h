/* The C functions every contender calls; compiled once into libbench.so.
   snprintf, the variadic row, is libc's own. */
#ifndef NDFFI_BENCH_H
#define NDFFI_BENCH_H
#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    double x, y;
} vec2;

int add(int a, int b);
void noop(void);
double dsum(const double *x, long n);
vec2 vflip(vec2 v);                   /* returns (v.y, v.x) */
long slen(const char *s);             /* strlen */
double *get(void);                    /* a static array {1.5, 2.5, 3.5, 4.5} */

#ifdef __cplusplus
}
#endif
#endif
