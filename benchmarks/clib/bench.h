/* The three C functions every contender calls; compiled once into libbench.so. */
#ifndef NDFFI_BENCH_H
#define NDFFI_BENCH_H
#ifdef __cplusplus
extern "C" {
#endif

int add(int a, int b);
void noop(void);
double dsum(const double *x, long n);

#ifdef __cplusplus
}
#endif
#endif
