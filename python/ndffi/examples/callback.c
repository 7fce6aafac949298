/* callback.c: the cookbook's "dynamic allocation through callbacks" example.
 *
 * foo() asks its caller for a 2x3 float array through a callback and fills it;
 * func() does the same with the Allocator class's callback, which also takes the
 * NumPy type character of the array it wants (here 'd', a 2x3x4 float64 array). */
#include <stdio.h>

typedef void*(*allocator_t)(int, int*);

void foo(allocator_t allocator) {
   int dim = 2;
   int shape[] = {2, 3};
   float* data = NULL;
   int i, j;
   printf("foo calling allocator\n");
   data = (float*) allocator(dim, shape);
   printf("allocator returned in foo\n");
   printf("data = 0x%p\n", (void*) data);
   for (i = 0; i < shape[0]; i++) {
      for (j = 0; j < shape[1]; j++) {
         *data++ = (i + 1) * (j + 1);
      }
   }
}

typedef void*(*typed_allocator_t)(int, int*, char);

void func(typed_allocator_t allocator) {
   int dims[] = {2, 3, 4};
   int i, n = 2 * 3 * 4;
   double* data = (double*) allocator(3, dims, 'd');
   for (i = 0; i < n; i++) {
      data[i] = 0.5 * i;
   }
}
