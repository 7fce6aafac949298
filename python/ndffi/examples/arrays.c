/* arrays.c: "a C function might take a pointer to the array's data, an integer
 * indicating the number of array dimensions, and two pointers to the shape and stride
 * information" -- the sum of any strided N-d array of doubles, strides in bytes. */
#include <stddef.h>

double strided_sum(const double* data, int ndim, const ptrdiff_t* shape,
                   const ptrdiff_t* strides) {
    double s = 0.0;
    ptrdiff_t i;
    if (ndim == 0) return *data;
    for (i = 0; i < shape[0]; i++) {
        const double* row = (const double*) ((const char*) data + i * strides[0]);
        s += strided_sum(row, ndim - 1, shape + 1, strides + 1);
    }
    return s;
}
