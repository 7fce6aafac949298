/* fibonacci.h: the functions of fibonacci.c, as a header a C program (or ndffi) reads. */
#ifndef FIBONACCI_H
#define FIBONACCI_H

#ifdef __cplusplus
extern "C" {
#endif

int fib(int a);
void fibseries(int *a, int elements, int *series);
void fibmatrix(int *a, int rows, int columns, int *matrix);

#ifdef __cplusplus
}
#endif

#endif /* FIBONACCI_H */
