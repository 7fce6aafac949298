/*
 * threads.c -- for testing that calls release the GIL and are thread safe.
 *
 * slow_sum sleeps (without holding any lock of its own) and then sums: N threads each
 * calling it with sleep_ms take about sleep_ms in total when the GIL is released, and
 * N * sleep_ms when it is not.
 */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#ifdef _WIN32
#include <windows.h>
#define THREADS_API __declspec(dllexport)
#else
#include <time.h>
#define THREADS_API __attribute__((visibility("default")))
#endif

static void sleep_ms_(int ms) {
    if (ms <= 0) return;
#ifdef _WIN32
    Sleep((DWORD)ms);
#else
    struct timespec req, rem;
    req.tv_sec = ms / 1000;
    req.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&req, &rem) != 0 && errno == EINTR) req = rem;
#endif
}

THREADS_API long slow_sum(const long *x, long n, int sleep_ms) {
    long s = 0, i;
    sleep_ms_(sleep_ms);
    for (i = 0; i < n; i++) s += x[i];
    return s;
}
