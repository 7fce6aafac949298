/*
 * callbacks.c -- C that calls back into Python: the cookbook's allocator examples and
 * float** code fragment, callbacks of many signatures, stored handlers, and threads
 * that C starts (the stress test).
 */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CB_API __attribute__((visibility("default")))

/* ---- the cookbook's allocators ---- */

typedef void *(*allocator2_t)(int, int *);
typedef void *(*allocator_t)(int, int *, char);

/* "Dynamic allocation through callbacks": a 2x3 float array, data[i][j] = (i+1)*(j+1). */
CB_API void foo(allocator2_t allocator) {
    int dim = 2;
    int shape[] = {2, 3};
    float *data = NULL;
    int i, j;
    data = (float *)allocator(dim, shape);
    if (data == NULL) return;
    for (i = 0; i < shape[0]; i++)
        for (j = 0; j < shape[1]; j++) *data++ = (float)((i + 1) * (j + 1));
}

/* The Allocator class example: a 2x3x4 double array, then a 5-element int array.
   Returns how many allocations came back NULL. */
CB_API int func(allocator_t allocator) {
    int dims[] = {2, 3, 4};
    int n5[] = {5};
    int i, nulls = 0;
    double *data = (double *)allocator(3, dims, 'd');
    int *ints;
    if (data) for (i = 0; i < 24; i++) data[i] = i * 0.5;
    else nulls++;
    ints = (int *)allocator(1, n5, 'i');
    if (ints) for (i = 0; i < 5; i++) ints[i] = 10 * i;
    else nulls++;
    return nulls;
}

/* Same, with the shape as long and the element type fixed by the result type. */
CB_API void fill_with(float *(*allocator)(long, const long *), long n, float v) {
    long shape[] = {n};
    float *data = allocator(1, shape);
    long i;
    if (data) for (i = 0; i < n; i++) data[i] = v;
}

/* ---- pointer to pointers ("More useful code frags") ---- */

CB_API double sum2d(const float *const *data, int rows, int cols) {
    double s = 0;
    int i, j;
    for (i = 0; i < rows; i++)
        for (j = 0; j < cols; j++) s += data[i][j];
    return s;
}

CB_API void scale2d(float **data, int rows, int cols, float k) {
    int i, j;
    for (i = 0; i < rows; i++)
        for (j = 0; j < cols; j++) data[i][j] *= k;
}

/* The cookbook's foo(float **data, int len), doing something with each *x: row sums of
   rows of `cols` floats into out. */
CB_API void foo_rows(float **data, int len, int cols, double *out) {
    float **x = data;
    int i, j;
    for (i = 0; i < len; i++, x++) {
        out[i] = 0;
        for (j = 0; j < cols; j++) out[i] += (*x)[j];
    }
}

CB_API double sum_ragged(const double *const *rows, const int *lens, int n) {
    double s = 0;
    int i, j;
    for (i = 0; i < n; i++)
        for (j = 0; j < lens[i]; j++) s += rows[i][j];
    return s;
}

/* argv style: entries up to the terminating NULL. */
CB_API int count_rows(void *const *rows) {
    int n = 0;
    while (rows[n]) n++;
    return n;
}

CB_API size_t total_strlen(const char *const *strs) {
    size_t n = 0;
    for (; *strs; strs++) n += strlen(*strs);
    return n;
}

/* ---- callbacks of every kind ---- */

CB_API int call_int(int (*f)(int), int x) { return f(x); }

CB_API long loop_int(int (*f)(int), long n) {
    long s = 0, i;
    for (i = 0; i < n; i++) s += f((int)i);
    return s;
}

/* f(0.5), f(1.5), ... f(n - 0.5), summed */
CB_API double loop_double(double (*f)(double), long n) {
    double s = 0;
    long i;
    for (i = 0; i < n; i++) s += f((double)i + 0.5);
    return s;
}

CB_API int call_twice(int (*f)(int), int x) { return f(f(x)); }

CB_API double call_mixed(double (*f)(int8_t, uint16_t, float, double, long long, _Bool, size_t),
                         int8_t a, uint16_t b, float c, double d, long long e, _Bool g, size_t h) {
    return f(a, b, c, d, e, g, h);
}

/* Results of each integer kind, read back widened: checks C sees the exact value. */
CB_API long long ret_schar(signed char (*f)(void)) { return f(); }
CB_API long long ret_uchar(unsigned char (*f)(void)) { return f(); }
CB_API long long ret_short(short (*f)(void)) { return f(); }
CB_API long long ret_ushort(unsigned short (*f)(void)) { return f(); }
CB_API long long ret_int(int (*f)(void)) { return f(); }
CB_API unsigned long long ret_uint(unsigned int (*f)(void)) { return f(); }
CB_API long long ret_longlong(long long (*f)(void)) { return f(); }
CB_API unsigned long long ret_ulonglong(unsigned long long (*f)(void)) { return f(); }
CB_API int ret_bool(_Bool (*f)(void)) { return f() ? 1 : 0; }
CB_API double ret_float(float (*f)(void)) { return f(); }
CB_API double ret_double(double (*f)(void)) { return f(); }
CB_API double ret_longdouble(long double (*f)(long double)) { return (double)f(1.5L); }

/* More arguments than registers: 8 integers and 10 doubles (some on the stack). */
CB_API double call_wide(double (*f)(int, int, int, int, int, int, int, int, double, double, double,
                                    double, double, double, double, double, double, double)) {
    return f(1, 2, 3, 4, 5, 6, 7, 8, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5);
}

/* Pointers in and out. */
CB_API double sum_from(const double *(*f)(int), int n) {
    const double *p = f(n);
    double s = 0;
    int i;
    if (!p) return -1;
    for (i = 0; i < n; i++) s += p[i];
    return s;
}

CB_API size_t strlen_from(const char *(*f)(int), int i) {
    const char *s = f(i);
    return s ? strlen(s) : (size_t)-1;
}

CB_API void fill_through(void (*f)(double *, int), double *out, int n) { f(out, n); }

CB_API int apply_to_each(int (*f)(const int *), const int *v, int n) {
    int i, s = 0;
    for (i = 0; i < n; i++) s += f(&v[i]);
    return s;
}

/* A callback that returns a function pointer (a callback factory). */
CB_API int call_returned(int (*(*get)(int))(int), int which, int x) {
    int (*g)(int) = get(which);
    return g ? g(x) : -12345;
}

CB_API int twice_c(int x) { return 2 * x; }

/* ---- stored handlers ---- */

static int (*handler)(int);
CB_API void set_handler(int (*f)(int)) { handler = f; }
CB_API int call_handler(int x) { return handler ? handler(x) : -1; }

/* Stored handlers of three signatures that no other test uses (so their closures are
   this file's alone), one for each way a closure is entered: straight from C's
   registers (int, short), through the register frame (a double argument) and through
   libffi (seven arguments, more than the registers hold).  set_K stores a pointer,
   call_K calls the stored one, now_K calls the one it is given, remembering it:
   given_is_stored_K says whether that was the stored one.  call_K_in_thread calls the
   stored one from a thread C starts. */
#define STORED(K, R, PARAMS, ARGS)                                                      \
    typedef R(*K##_t) PARAMS;                                                           \
    static K##_t stored_##K, given_##K;                                                 \
    CB_API void set_##K(K##_t f) { stored_##K = f; }                                    \
    CB_API R call_##K(int x) { return stored_##K ? stored_##K ARGS : (R)-1; }           \
    CB_API R now_##K(K##_t f, int x) { given_##K = f; return f ARGS; }                  \
    CB_API int given_is_stored_##K(void) { return given_##K == stored_##K; }            \
    static void *K##_thread(void *arg) {                                                \
        int x = *(int *)arg;                                                            \
        *(R *)arg = call_##K(x);                                                        \
        return NULL;                                                                    \
    }                                                                                   \
    CB_API R call_##K##_in_thread(int x) {                                              \
        pthread_t t;                                                                    \
        union { int x; R r; } u;                                                        \
        u.x = x;                                                                        \
        if (pthread_create(&t, NULL, K##_thread, &u) != 0) return (R)-2;                \
        pthread_join(t, NULL);                                                          \
        return u.r;                                                                     \
    }
STORED(regs, int, (int, short), (x, 1))
STORED(frame, double, (double, short), (x, 1))
STORED(ffi, int, (short, int, int, int, int, int, int), (1, x, 2, 3, 4, 5, 6))

/* ---- memory C reads while Python code runs ---- */

/* Row sums of n rows of `cols` doubles, read after `between` ran (Python code that may
   drop the rows the table points to). */
CB_API double sum_rows_after(const double *const *rows, int n, int cols, void (*between)(void)) {
    double s = 0;
    int i, j;
    between();
    for (i = 0; i < n; i++)
        for (j = 0; j < cols; j++) s += rows[i][j];
    return s;
}

/* A gate between a call that waits inside C and another Python thread: gated_sum_rows
   says it has entered, waits until gate_open(), then reads its rows.  gate_wait_entered
   blocks until a gated call has entered. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_entered, gate_opened;

CB_API void gate_reset(void) {
    pthread_mutex_lock(&gate_mu);
    gate_entered = gate_opened = 0;
    pthread_mutex_unlock(&gate_mu);
}
CB_API void gate_wait_entered(void) {
    pthread_mutex_lock(&gate_mu);
    while (!gate_entered) pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
}
CB_API void gate_open(void) {
    pthread_mutex_lock(&gate_mu);
    gate_opened = 1;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
}
static void gate_pass(void) {
    pthread_mutex_lock(&gate_mu);
    gate_entered = 1;
    pthread_cond_broadcast(&gate_cv);
    while (!gate_opened) pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
}
CB_API double gated_sum_rows(const double *const *rows, int n, int cols) {
    double s = 0;
    int i, j;
    gate_pass();
    for (i = 0; i < n; i++)
        for (j = 0; j < cols; j++) s += rows[i][j];
    return s;
}

/* ---- threads C starts ---- */

struct job {
    int (*f)(int);
    int id, iters, bad;
    long sum;
};

static void *worker(void *arg) {
    struct job *j = (struct job *)arg;
    int i;
    for (i = 0; i < j->iters; i++) {
        int x = j->id * 1000003 + i;
        int r = j->f(x);
        if (r != 2 * x + 1) j->bad++;
        j->sum += r;
    }
    return NULL;
}

/* nthreads pthreads each call f(x) iters times and check f(x) == 2x+1; returns the number
   of wrong results, or -1 if a thread could not be started. */
CB_API long run_threads(int (*f)(int), int nthreads, int iters) {
    pthread_t t[64];
    struct job jobs[64];
    int i, started = 0;
    long bad = 0;
    if (nthreads > 64) nthreads = 64;
    for (i = 0; i < nthreads; i++) {
        jobs[i].f = f, jobs[i].id = i, jobs[i].iters = iters, jobs[i].bad = 0, jobs[i].sum = 0;
        if (pthread_create(&t[i], NULL, worker, &jobs[i]) != 0) break;
        started++;
    }
    for (i = 0; i < started; i++) {
        pthread_join(t[i], NULL);
        bad += jobs[i].bad;
    }
    return started == nthreads ? bad : -1;
}

/* One call of f(x) from a new thread; the result is written to *out. */
struct one { int (*f)(int); int x, r; };
static void *one_call(void *arg) {
    struct one *o = (struct one *)arg;
    o->r = o->f(o->x);
    return NULL;
}
CB_API int call_in_thread(int (*f)(int), int x) {
    pthread_t t;
    struct one o = {f, x, 0};
    if (pthread_create(&t, NULL, one_call, &o) != 0) return -1;
    pthread_join(t, NULL);
    return o.r;
}

/* A worker thread that calls f(x) once, then waits to be stopped: stop_worker() lets it
   exit and joins it (declared to keep the GIL, the thread exits while the GIL is held). */
static struct { pthread_t t; int (*f)(int); int x, r; volatile int stop; } worker_state;
static void *waiting_worker(void *arg) {
    (void)arg;
    worker_state.r = worker_state.f(worker_state.x);
    while (!__atomic_load_n(&worker_state.stop, __ATOMIC_ACQUIRE)) sched_yield();
    return NULL;
}
CB_API int start_worker(int (*f)(int), int x) {
    worker_state.f = f, worker_state.x = x, worker_state.r = 0, worker_state.stop = 0;
    if (pthread_create(&worker_state.t, NULL, waiting_worker, NULL) != 0) return -1;
    while (!worker_state.r) sched_yield();  /* until the callback returned */
    return worker_state.r;
}
CB_API void stop_worker(void) {
    __atomic_store_n(&worker_state.stop, 1, __ATOMIC_RELEASE);
    pthread_join(worker_state.t, NULL);
}

/* A callback returning a struct in memory writes it where C's hidden pointer says: here
   straight into a struct with a canary behind it (on x86-64 SysV, a function returning
   a struct in memory takes and returns that pointer as its first argument, which is how
   it is called here).  Returns the struct's a; last_canary() is the canary after it. */
struct s24 { long a, b, c; };
static long canary_after;
CB_API long sret_canary(void *f) {
#if defined(__x86_64__) && !defined(_WIN32)
    struct { struct s24 v; long canary; } r;
    r.canary = 0x1111111111111111L;
    ((struct s24 *(*)(struct s24 *))f)(&r.v);
    canary_after = r.canary;
    return r.v.a;
#else
    (void)f;
    return canary_after = -1;
#endif
}
CB_API long last_canary(void) { return canary_after; }

/* ---- typed opaque pointers through a callback ---- */

struct opaque;
CB_API struct opaque *call_opaque(struct opaque *(*f)(struct opaque *), struct opaque *p) {
    return f(p);
}

/* One array of n elements of typecode `code`; 1 if the allocator returned memory. */
CB_API int alloc_typed(allocator_t allocator, char code, int n) {
    return allocator(1, &n, code) != NULL;
}
