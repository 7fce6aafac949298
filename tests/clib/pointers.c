/* Structs with pointer fields, argv tables and pointers into arguments, for the tests of
   what keeps the memory behind a Pointer or a struct value alive, bounded and read-only. */
#include <stddef.h>
#include <string.h>

typedef struct { double *x; int n; } particles;

/* Every element of p->x moves by dt; the sum after. */
double particles_step(particles *p, double dt) {
    double s = 0;
    for (int i = 0; i < p->n; i++) { p->x[i] += dt; s += p->x[i]; }
    return s;
}

double particles_sum(const particles *p) {
    double s = 0;
    for (int i = 0; i < p->n; i++) s += p->x[i];
    return s;
}

/* By value, both ways: a result whose field points into the argument. */
particles particles_make(double *x, int n) { particles p = {x, n}; return p; }
double particles_sum_val(particles p) { return particles_sum(&p); }

/* An out-parameter: C stores the argument's address into the struct. */
void particles_init(particles *p, double *x, int n) { p->x = x; p->n = n; }

/* Nested structs, arrays of structs and a string field. */
typedef struct { particles parts[2]; const char *name; } system_t;
double system_sum(const system_t *s) { return particles_sum(&s->parts[0]) + particles_sum(&s->parts[1]); }
size_t system_name_len(const system_t *s) { return s->name ? strlen(s->name) : 0; }

typedef struct { particles inner; int tag; } wrapped;
double wrapped_sum(const wrapped *w) { return particles_sum(&w->inner) + w->tag; }

/* A union of a pointer and an integer. */
typedef union { double *p; long i; } ptr_or_int;
double poi_first(const ptr_or_int *u) { return u->p[0]; }

/* A linked list. */
struct node { struct node *next; double *data; int n; };
double list_sum(const struct node *h) {
    double s = 0;
    for (; h; h = h->next) for (int i = 0; i < h->n; i++) s += h->data[i];
    return s;
}

/* argv tables. */
size_t argv_total(int argc, char **argv) {
    size_t n = 0;
    for (int i = 0; i < argc; i++) n += argv[i] ? strlen(argv[i]) : 0;
    return n;
}
double rows_total(double **rows, int nrows, int ncols) {
    double s = 0;
    for (int i = 0; i < nrows; i++) for (int j = 0; j < ncols; j++) s += rows[i][j];
    return s;
}

/* Results into an argument's memory. */
char *char_at(char *s, long i) { return s + i; }
const char *cchar_at(const char *s, long i) { return s + i; }
double *double_at(double *x, long i) { return x + i; }
void *void_at(void *p, long i) { return (char *)p + i; }

/* Writes through a non-const parameter. */
void put_byte(char *p, int v) { p[0] = (char)v; }
void put_double(double *p, double v) { p[0] = v; }
double get_double(const double *p) { return p[0]; }
void zero_bytes(void *p, size_t n) { memset(p, 0, n); }

/* C's own memory: a struct and a table of doubles that outlive every call. */
static double c_values[4] = {1, 2, 3, 4};
static particles c_particles = {c_values, 4};
particles *c_particles_get(void) { return &c_particles; }
double *c_values_get(void) { return c_values; }

/* A callback fills a struct. */
typedef double (*particles_cb)(particles *);
double call_with_particles(particles_cb cb, particles *p) { return cb(p); }

/* A function pointer in a struct. */
typedef struct { double (*f)(double); double scale; } fnbox;
double fnbox_call(const fnbox *b, double x) { return b->f ? b->scale * b->f(x) : -1; }

/* An array of pointers inside a struct. */
typedef struct { const char *names[3]; int n; } namelist;
size_t namelist_total(const namelist *l) {
    size_t t = 0;
    for (int i = 0; i < l->n; i++) t += l->names[i] ? strlen(l->names[i]) : 0;
    return t;
}

/* An out-parameter through a pointer to a pointer: *out points into s. */
void find_char(char *s, int c, char **out) { *out = strchr(s, c); }

/* A struct by value handed to a callback. */
typedef struct { double a, b; } pair;
double call_with_pair(double (*cb)(pair), double a, double b) { pair p = {a, b}; return cb(p); }
double scribble(double x) { volatile double junk[64]; for (int i = 0; i < 64; i++) junk[i] = -x; return junk[7]; }
