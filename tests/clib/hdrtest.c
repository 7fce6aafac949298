/* The library of include/hdrtest.h: what the header importer's tests call. */
#define HDRTEST_DLL 1
#include "include/hdrtest.h"

#include <stdalign.h>
#include <string.h>

int hdr_counter = 3;
static int hdr_negate(int x) { return -x; }
hdr_op_t hdr_op_global = hdr_negate;
hdr_op_t *hdr_current_op(void) { return &hdr_op_global; }
const char hdr_name[] = "hdrtest";

point hdr_add(point a, point b) { point r = {a.x + b.x, a.y + b.y}; return r; }

int hdr_vsum(int n, va_list ap) {
    int s = 0;
    for (int i = 0; i < n; i++) s += va_arg(ap, int);
    return s;
}

int hdr_sum(int n, ...) {
    va_list ap;
    va_start(ap, n);
    int s = hdr_vsum(n, ap);
    va_end(ap);
    return s;
}

const char *hdr_version(void) { return HDR_VERSION; }

int hdr_call(hdr_callback fn, void *context, int value) { return fn(context, value); }

int (*hdr_pass(int (*fn)(void *, int)))(void *, int) { return fn; }

int __hdr_double(int x) { return 2 * x; }

int hdr_make_(int x, const char *version, int point_size) {
    return strcmp(version, HDR_VERSION) == 0 && point_size == (int)sizeof(point) ? x * 10 : -1;
}

int hdr_sentinel(hdr_callback fn) { return fn == HDR_SENTINEL; }

int hdr_vec_sum(const vec3 v) { return v[0] + v[1] + v[2]; }

hdr_word hdr_word_of(int i) { hdr_word w; w.i = i; return w; }

double hdr_tagged_value(struct tagged t) { return t.kind == HDR_KIND_INT ? (double)t.value.i : t.value.r; }

int hdr_argc(const char *const *argv) { int n = 0; while (argv[n]) n++; return n; }

size_t hdr_count_nodes(const struct node *head) {
    size_t n = 0;
    for (; head; head = head->next) n++;
    return n;
}

_Complex double hdr_complex(double re) { return re; }
_Complex long double hdr_complexl(long double re) { return re; }

int hdr_print(FILE *out, const char *text) { return fputs(text, out); }

/* Exported, but not in the header. */
int hdr_hidden(void) { return 42; }

#define LAYOUT(T, ...)                                                           \
    if (strcmp(type, #T) == 0) {                                                 \
        size_t offs[] = {sizeof(T), alignof(T), __VA_ARGS__};                    \
        return what < (int)(sizeof offs / sizeof offs[0]) ? (long)offs[what] : -1; \
    }

long hdr_layout(const char *type, int what) {
    LAYOUT(struct packed2, offsetof(struct packed2, c), offsetof(struct packed2, d),
           offsetof(struct packed2, i))
    LAYOUT(struct packed1, offsetof(struct packed1, c), offsetof(struct packed1, i),
           offsetof(struct packed1, s))
    LAYOUT(struct aligned, offsetof(struct aligned, c), offsetof(struct aligned, i))
    LAYOUT(struct polygon, offsetof(struct polygon, n), offsetof(struct polygon, corners),
           offsetof(struct polygon, flags), offsetof(struct polygon, tiny),
           offsetof(struct polygon, weights))
    LAYOUT(struct flags, offsetof(struct flags, i), offsetof(struct flags, color))
    LAYOUT(struct wide, offsetof(struct wide, tag), offsetof(struct wide, big),
           offsetof(struct wide, ld))
    LAYOUT(struct tagged, offsetof(struct tagged, kind), offsetof(struct tagged, value))
    LAYOUT(hdr_word, offsetof(hdr_word, i), offsetof(hdr_word, b))
    LAYOUT(enum hdr_tiny, 0)
    return -1;
}
