/* rows.c: the cookbook's pointer-to-pointers function, "do something with *x" made
 * concrete: the sum of each row, and every element scaled in place. */

void foo(float** data, int len, int columns, float scale, float* sums) {
    float** x = data;
    for (int i = 0; i < len; i++, x++) {
        sums[i] = 0.0f;
        for (int j = 0; j < columns; j++) {
            sums[i] += (*x)[j];
            (*x)[j] *= scale;
        }
    }
}
