/*
 * calls.c -- C functions for tests/calls/test_call.py that foo.c does not have.
 *
 * wait_flag shows deterministically, without timing assertions, whether a call holds
 * the GIL: it announces that it has started (flags[0] = 1), then waits for another
 * thread to set flags[1].  Python code can set flags[1] only if the GIL was released.
 */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#ifdef _WIN32
#include <windows.h>
#define CALLS_API __declspec(dllexport)
#else
#include <time.h>
#define CALLS_API __attribute__((visibility("default")))
#endif

static void sleep_1ms(void) {
#ifdef _WIN32
    Sleep(1);
#else
    struct timespec req = {0, 1000000L};
    nanosleep(&req, NULL);
#endif
}

/* Sets flags[0] to 1, then waits up to timeout_ms for flags[1] to become nonzero.
 * Returns 1 if it did, 0 on timeout. */
CALLS_API int wait_flag(int *flags, int timeout_ms) {
    int waited;
    __atomic_store_n(&flags[0], 1, __ATOMIC_SEQ_CST);
    for (waited = 0; waited < timeout_ms; waited++) {
        if (__atomic_load_n(&flags[1], __ATOMIC_SEQ_CST)) return 1;
        sleep_1ms();
    }
    return __atomic_load_n(&flags[1], __ATOMIC_SEQ_CST) != 0;
}
