"""The C declaration parser and the type model, table driven.

Each declaration table row is (cdef text, expected prototypes of the functions and
variables it adds, in order); each type row is (type spelling, expected canonical
spelling, size, alignment, kind); each error row is (cdef text, line, column, offending
text, message fragment).  Expected prototype strings are asserted exactly: they are the
C spelling of the model (typedef names resolved, top-level parameter qualifiers kept).
"""

import ctypes
import re

import pytest

import ndffi
from conftest import CHAR_SIGNED

LONG = ctypes.sizeof(ctypes.c_long)
PTR = ctypes.sizeof(ctypes.c_void_p)
LONGDOUBLE = ctypes.sizeof(ctypes.c_longdouble)


def cdef(text):
    ns = ndffi.Namespace()
    names = ns.cdef(text)
    return ns, names


def protos(text):
    ns, names = cdef(text)
    return [ns.decl(n)[1] for n in names]


# ---- declarations ---------------------------------------------------------------------

PROTOTYPES = [
    # named, unnamed and mixed parameters
    ("int add(int a, int b);", ["int add(int a, int b)"]),
    ("int add(int, int);", ["int add(int, int)"]),
    ("int f(int x, double);", ["int f(int x, double)"]),
    # (void), () and ...
    ("int f(void);", ["int f(void)"]),
    ("int f();", ["int f(void)"]),
    ("void f(void);", ["void f(void)"]),
    ("int my_printf(const char *fmt, ...);", ["int my_printf(const char *fmt, ...)"]),
    ("int f(int, ...);", ["int f(int, ...)"]),
    ("int f(...);", ["int f(...)"]),
    # every scalar spelling, canonicalised
    ("unsigned f(unsigned a);", ["unsigned int f(unsigned int a)"]),
    ("signed f(signed a);", ["int f(int a)"]),
    ("long int f(long int);", ["long f(long)"]),
    ("int long f(long signed int);", ["long f(long)"]),
    ("long long unsigned int f(void);", ["unsigned long long f(void)"]),
    ("unsigned long long f(long long int);", ["unsigned long long f(long long)"]),
    ("long int long a; int long long b; signed long long c;", ["long long a", "long long b", "long long c"]),
    ("signed char f(unsigned char);", ["signed char f(unsigned char)"]),
    ("short int f(short);", ["short f(short)"]),
    ("int short f(signed short int);", ["short f(short)"]),
    ("unsigned short int f(short unsigned);", ["unsigned short f(unsigned short)"]),
    ("unsigned long int f(long unsigned);", ["unsigned long f(unsigned long)"]),
    ("_Bool f(_Bool b, bool c);", ["_Bool f(_Bool b, bool c)"]),
    ("char f(char c);", ["char f(char c)"]),
    ("float f(float); double g(double);", ["float f(float)", "double g(double)"]),
    ("long double f(long double x);", ["long double f(long double x)"]),
    # <stdint.h> and <stddef.h> names resolve to the canonical type of their width
    # typedef names are printed as written (their types: test_typedef_names_resolve)
    (
        "int8_t f(uint8_t, int16_t, uint16_t, int32_t, uint32_t);",
        ["int8_t f(uint8_t, int16_t, uint16_t, int32_t, uint32_t)"],
    ),
    ("int64_t f(uint64_t);", ["int64_t f(uint64_t)"]),
    ("size_t f(ssize_t, ptrdiff_t, intptr_t, uintptr_t);", ["size_t f(ssize_t, ptrdiff_t, intptr_t, uintptr_t)"]),
    # pointers with qualifiers in every position
    ("const char *const *f(const char *const *p);", ["const char *const *f(const char *const *p)"]),
    ("char const *const p;", ["const char *const p"]),
    ("int const *p;", ["const int *p"]),
    ("const volatile int *p;", ["const volatile int *p"]),
    ("char *volatile *restrict p;", ["char *volatile *restrict p"]),
    ("int *const restrict x;", ["int *const restrict x"]),
    ("int *const volatile *const *x;", ["int *const volatile *const *x"]),
    (
        "void *memcpy(void *restrict dst, const void *restrict src, size_t n);",
        ["void *memcpy(void *restrict dst, const void *restrict src, size_t n)"],
    ),
    ("int f(const int x);", ["int f(const int x)"]),
    ("typedef char *str; const str p;", ["const str p"]),
    ("typedef int *ip; restrict ip p;", ["restrict ip p"]),
    ("void **pp; int ***ppp;", ["void **pp", "int ***ppp"]),
    # arrays
    ("double a[16];", ["double a[16]"]),
    ("int b[2][3];", ["int b[2][3]"]),
    ("extern int c[];", ["int c[]"]),
    ("int d[][4];", ["int d[][4]"]),
    ("const char *names[8];", ["const char *names[8]"]),
    ("int (*pa)[3];", ["int (*pa)[3]"]),
    ("typedef int A[3]; const A x; volatile A *q;", ["const A x", "volatile int (*q)[3]"]),
    # array parameters decay to pointers
    ("void f(int a[], int b[3][4], double c[16]);", ["void f(int *a, int (*b)[4], double *c)"]),
    ("void f(int a[static 3], int b[const 2]);", ["void f(int *a, int *b)"]),
    ("int main(int argc, char *argv[]);", ["int main(int argc, char **argv)"]),
    ("typedef int A[3]; void f(const A a);", ["void f(const int *a)"]),
    # function parameters decay to function pointers
    ("int f(int g(void));", ["int f(int (*g)(void))"]),
    ("int f(int (int));", ["int f(int (*)(int))"]),
    # function pointers and typedefs of them
    ("void (*handler)(int);", ["void (*handler)(int)"]),
    (
        "int qsort_r(void *base, size_t n, int (*cmp)(const void *, const void *));",
        ["int qsort_r(void *base, size_t n, int (*cmp)(const void *, const void *))"],
    ),
    ("typedef int (*cb)(int, double); cb get(cb c);", ["cb get(cb c)"]),
    (
        "typedef void fn_t(int); fn_t *p; fn_t q; void r(fn_t f);",
        ["void (*p)(int)", "void q(int)", "void r(void (*f)(int))"],
    ),
    ("void (*fs[4])(void);", ["void (*fs[4])(void)"]),
    ("int (**pp)(int);", ["int (**pp)(int)"]),
    ("void (*const cp)(void);", ["void (*const cp)(void)"]),
    # functions returning function pointers
    ("int (*signal(int, void (*)(int)))(int);", ["int (*signal(int, void (*)(int)))(int)"]),
    ("void (*signal(int sig, void (*func)(int)))(int);", ["void (*signal(int sig, void (*func)(int)))(int)"]),
    ("char (*(*x(void))[5])(void);", ["char (*(*x(void))[5])(void)"]),
    ("int (*(*f(int))(double))(char);", ["int (*(*f(int))(double))(char)"]),
    # redundant parentheses
    ("int ((x)); int (y)(int);", ["int x", "int y(int)"]),
    # comments
    ("int f(int a); // a comment\nint g(void); /* another */", ["int f(int a)", "int g(void)"]),
    ("int /* mid */ f(/* nothing */ void) // trailing\n;", ["int f(void)"]),
    ("/* multi\n   line\n   comment */ int f(int);", ["int f(int)"]),
    ("int f(int); /* a // nested-looking */ int g(int);", ["int f(int)", "int g(int)"]),
    # several declarations per string and per line
    ("int a(int), *b(void);", ["int a(int)", "int *b(void)"]),
    ("int x, *y, z[4], (*w)(int);", ["int x", "int *y", "int z[4]", "int (*w)(int)"]),
    ("int f(int); int g(int);\n\ndouble h(double);", ["int f(int)", "int g(int)", "double h(double)"]),
    (";; int f(int);;", ["int f(int)"]),
    # repeated identical declarations; the first spelling and its names stay
    ("int a(int); int a(int);", ["int a(int)"]),
    ("int a(int); int a(int x);", ["int a(int x)"]),  # a later one names a parameter
    ("int a(int y); int a(int x);", ["int a(int y)"]),
    ("int a(const int y); int a(int x);", ["int a(const int y)"]),  # top-level qualifiers
    ("void *m(void *restrict); void *m(void *p);", ["void *m(void *restrict p)"]),
    ("int x[2][3]; int x[2][3];", ["int x[2][3]"]),
    ("typedef int T; typedef int T; T f(T);", ["T f(T)"]),
    ("typedef long L; L f(long); long f(L);", ["L f(long)"]),
    # opaque structs, typedefs of them, unions and enums by pointer
    (
        "struct handle; struct handle *h_open(const char *name); int h_close(struct handle *);",
        ["struct handle *h_open(const char *name)", "int h_close(struct handle *)"],
    ),
    ("struct handle *h_open(void);", ["struct handle *h_open(void)"]),  # first use declares it
    ("typedef struct handle handle_t; handle_t *h(const handle_t *);", ["handle_t *h(const handle_t *)"]),
    ("typedef struct h2 *hp; hp g(hp);", ["hp g(hp)"]),
    ("struct s; extern struct s x;", ["struct s x"]),
    ("union u *up; enum e *ep;", ["union u *up", "enum e *ep"]),
    # decorations skipped
    ("int f(int) __attribute__((nonnull(1)));", ["int f(int)"]),
    ('__attribute__((visibility("default"))) int f(int);', ["int f(int)"]),
    ("int __attribute__((unused)) x;", ["int x"]),
    ("void *p __attribute__((aligned(16)));", ["void *p"]),
    ('int f(int) __asm__("g");', ["int f(int)"]),
    ("extern int f(int); extern int counter;", ["int f(int)", "int counter"]),
    ("static inline int f(int);", ["int f(int)"]),
    ("static __inline__ int f(int); __extension__ extern int g(void);", ["int f(int)", "int g(void)"]),
    ("_Noreturn void die(void);", ["void die(void)"]),
    ("int f(register int x);", ["int f(int x)"]),
    ("const char *__restrict s; int __const c;", ["const char *restrict s", "const int c"]),
    # constant expressions in array sizes
    ("int x[2*8+1];", ["int x[17]"]),
    ("int x[(1<<4)|1];", ["int x[17]"]),
    ("int x[0x10], y[010], z[16u], w[4UL];", ["int x[16]", "int y[8]", "int z[16]", "int w[4]"]),
    ("int x[100/7%5], y[-(-3)], z[~-4], v[6^3&7];", ["int x[4]", "int y[3]", "int z[3]", "int v[5]"]),
    # typedef names used as declared names (parameters may shadow typedefs)
    ("typedef int I; int f(int I); I I2;", ["int f(int I)", "I I2"]),
]


@pytest.mark.parametrize("text, expected", PROTOTYPES, ids=[r[0][:60] for r in PROTOTYPES])
def test_declarations(text, expected):
    assert protos(text) == expected


@pytest.mark.parametrize(
    "text, name, resolved",
    [
        (
            "int8_t f(uint8_t, int16_t, uint16_t, int32_t, uint32_t);",
            "f",
            "signed char (unsigned char, short, unsigned short, int, unsigned int)",
        ),
        ("int64_t f(uint64_t);", "f", "long (unsigned long)" if LONG == 8 else "long long (unsigned long long)"),
        (
            "size_t f(ssize_t, ptrdiff_t, intptr_t, uintptr_t);",
            "f",
            "unsigned long (long, long, long, unsigned long)"
            if LONG == PTR
            else "unsigned long long (long long, long long, long long, unsigned long long)",
        ),
        ("typedef char *str; const str p;", "p", "char *const"),
        ("typedef int *ip; restrict ip p;", "p", "int *restrict"),
        ("typedef int A[3]; const A x;", "x", "const int[3]"),
        ("typedef int (*cb)(int, double); cb get(cb c);", "get", "int (*(int (*)(int, double)))(int, double)"),
        ("typedef struct h2 *hp; hp g(hp);", "g", "struct h2 *(struct h2 *)"),
    ],
)
def test_typedef_names_resolve(text, name, resolved):
    # a declaration prints as written; its type is what the typedef names stand for
    ns, _ = cdef(text)
    assert str(ns.decl(name)[2]) == resolved


def test_decl_kind_and_type():
    ns, names = cdef("double dsum(const double *x, long n); extern int counter;int (*cbs[2])(int);")
    assert names == ["dsum", "counter", "cbs"]
    kind, proto, t = ns.decl("dsum")
    assert (kind, proto) == ("function", "double dsum(const double *x, long n)")
    assert t.kind == "function" and str(t) == "double (const double *, long)"
    assert t.item == ns.type("double")
    assert t == ns.type("double (const double *, long)")
    kind, proto, t = ns.decl("counter")
    assert (kind, proto, t.kind, t.size) == ("variable", "int counter", "int", 4)
    kind, proto, t = ns.decl("cbs")
    assert (kind, t.kind, t.length, t.size, str(t)) == ("variable", "array", 2, 2 * PTR, "int (*[2])(int)")
    assert ns.decl("nothing") is None


def test_cdef_returns_only_new_names():
    ns = ndffi.Namespace()
    assert ns.cdef("int f(int); typedef int T;") == ["f"]
    assert ns.cdef("int f(int x); int g(T);") == ["g"]
    assert ns.names() == ["f", "g"]
    assert ns.typedef_names() == ["T"]
    assert ns.decl("f")[1] == "int f(int x)"


def test_declarations_across_cdef_calls():
    ns = ndffi.Namespace()
    ns.cdef("typedef struct handle *handle_t;")
    ns.cdef("handle_t open_it(void); void close_it(handle_t);")
    assert ns.decl("open_it")[1] == "handle_t open_it(void)"
    # the same struct tag in a later cdef call is the same type
    assert ns.decl("close_it")[2] == ns.type("void (struct handle *)")
    assert ns.typedef("handle_t") == ns.type("struct handle *")
    ns.cdef("void close_it(struct handle *h);")  # identical redeclaration, names it
    assert ns.decl("close_it")[1] == "void close_it(handle_t h)"  # the first spelling stays


def test_undeclared_tag_in_type_name():
    # A type name may mention a struct tag no cdef declared; it is not added to the
    # namespace, so each such type() is a new incomplete struct.
    ns = ndffi.Namespace()
    t = ns.type("struct nowhere *")
    assert (str(t), t.item.kind, t.item.size) == ("struct nowhere *", "struct", 0)
    ns.cdef("struct nowhere *make(void);")  # first use in a cdef declares the tag
    assert ns.type("struct nowhere *") == ns.type("struct nowhere *") == ns.decl("make")[2].item


def test_opaque_struct():
    ns, _ = cdef("struct handle; typedef struct handle handle_t;")
    t = ns.typedef("handle_t")
    assert t == ns.type("struct handle")
    assert (t.kind, t.size, str(t)) == ("struct", 0, "struct handle")
    p = ns.type("handle_t *")
    assert (p.kind, p.size, str(p), p.item) == ("pointer", PTR, "struct handle *", t)
    assert ns.type("const handle_t *") == ns.type("const struct handle *")
    # a different tag is a different type; struct, union and enum share the tags' names
    assert ns.type("struct other *") != p
    with pytest.raises(ndffi.CDefError, match="'handle' is already the tag of a struct"):
        ns.type("union handle *")


# ---- type names -------------------------------------------------------------------------

TYPES = [
    # spelling, canonical spelling, size, alignment, kind
    ("void", "void", 0, 1, "void"),
    ("_Bool", "_Bool", 1, 1, "bool"),
    ("bool", "_Bool", 1, 1, "bool"),
    ("char", "char", 1, 1, "int"),
    ("signed char", "signed char", 1, 1, "int"),
    ("unsigned char", "unsigned char", 1, 1, "int"),
    ("char signed", "signed char", 1, 1, "int"),
    ("short", "short", 2, 2, "int"),
    ("short int", "short", 2, 2, "int"),
    ("signed short int", "short", 2, 2, "int"),
    ("unsigned short", "unsigned short", 2, 2, "int"),
    ("unsigned short int", "unsigned short", 2, 2, "int"),
    ("int", "int", 4, 4, "int"),
    ("signed", "int", 4, 4, "int"),
    ("signed int", "int", 4, 4, "int"),
    ("unsigned", "unsigned int", 4, 4, "int"),
    ("unsigned int", "unsigned int", 4, 4, "int"),
    ("long", "long", LONG, LONG, "int"),
    ("long int", "long", LONG, LONG, "int"),
    ("signed long", "long", LONG, LONG, "int"),
    ("unsigned long", "unsigned long", LONG, LONG, "int"),
    ("long unsigned int", "unsigned long", LONG, LONG, "int"),
    ("long long", "long long", 8, 8, "int"),
    ("long long int", "long long", 8, 8, "int"),
    ("signed long long int", "long long", 8, 8, "int"),
    ("long long unsigned int", "unsigned long long", 8, 8, "int"),
    ("unsigned long long", "unsigned long long", 8, 8, "int"),
    ("float", "float", 4, 4, "float"),
    ("double", "double", 8, 8, "float"),
    ("long double", "long double", LONGDOUBLE, ctypes.alignment(ctypes.c_longdouble), "float"),
    ("double long", "long double", LONGDOUBLE, ctypes.alignment(ctypes.c_longdouble), "float"),
    # <stdint.h>, <stddef.h>
    ("int8_t", "signed char", 1, 1, "int"),
    ("uint8_t", "unsigned char", 1, 1, "int"),
    ("int16_t", "short", 2, 2, "int"),
    ("uint16_t", "unsigned short", 2, 2, "int"),
    ("int32_t", "int", 4, 4, "int"),
    ("uint32_t", "unsigned int", 4, 4, "int"),
    ("int64_t", "long" if LONG == 8 else "long long", 8, 8, "int"),
    ("uint64_t", "unsigned long" if LONG == 8 else "unsigned long long", 8, 8, "int"),
    ("size_t", "unsigned long" if LONG == PTR else "unsigned long long", PTR, PTR, "int"),
    ("ssize_t", "long" if LONG == PTR else "long long", PTR, PTR, "int"),
    ("ptrdiff_t", "long" if LONG == PTR else "long long", PTR, PTR, "int"),
    ("intptr_t", "long" if LONG == PTR else "long long", PTR, PTR, "int"),
    ("uintptr_t", "unsigned long" if LONG == PTR else "unsigned long long", PTR, PTR, "int"),
    # qualified scalars
    ("const int", "const int", 4, 4, "int"),
    ("int const", "const int", 4, 4, "int"),
    ("volatile const unsigned", "const volatile unsigned int", 4, 4, "int"),
    # pointers
    ("void *", "void *", PTR, PTR, "pointer"),
    ("const char *", "const char *", PTR, PTR, "pointer"),
    ("char *const", "char *const", PTR, PTR, "pointer"),
    ("const char *const *", "const char *const *", PTR, PTR, "pointer"),
    ("char *restrict", "char *restrict", PTR, PTR, "pointer"),
    ("int *volatile *const", "int *volatile *const", PTR, PTR, "pointer"),
    ("int **", "int **", PTR, PTR, "pointer"),
    # arrays
    ("double[16]", "double[16]", 128, 8, "array"),
    ("int[2][3]", "int[2][3]", 24, 4, "array"),
    ("char[2][3][4]", "char[2][3][4]", 24, 1, "array"),
    ("int[]", "int[]", 0, 4, "array"),
    ("const char[12]", "const char[12]", 12, 1, "array"),
    ("char *[4]", "char *[4]", 4 * PTR, PTR, "array"),
    ("int (*)[3]", "int (*)[3]", PTR, PTR, "pointer"),
    ("int[2*8+1]", "int[17]", 68, 4, "array"),
    # functions and function pointers
    ("int (int)", "int (int)", 0, 1, "function"),
    ("int(const void *, const void *)", "int (const void *, const void *)", 0, 1, "function"),
    ("int (*)(int)", "int (*)(int)", PTR, PTR, "pointer"),
    ("void (*)(void)", "void (*)(void)", PTR, PTR, "pointer"),
    ("void (*)()", "void (*)(void)", PTR, PTR, "pointer"),
    ("int (*)(const char *, ...)", "int (*)(const char *, ...)", PTR, PTR, "pointer"),
    ("int (**)(void)", "int (**)(void)", PTR, PTR, "pointer"),
    ("int (*const)(int)", "int (*const)(int)", PTR, PTR, "pointer"),
    ("int (*[4])(int)", "int (*[4])(int)", 4 * PTR, PTR, "array"),
    ("void (*(*)(int))(double)", "void (*(*)(int))(double)", PTR, PTR, "pointer"),
    ("int (*(int))(int)", "int (*(int))(int)", 0, 1, "function"),
    ("int (*)(int a, double b)", "int (*)(int, double)", PTR, PTR, "pointer"),  # names dropped
    ("int (*)(int x[3])", "int (*)(int *)", PTR, PTR, "pointer"),
    # opaque records
    ("struct handle *", "struct handle *", PTR, PTR, "pointer"),
    ("const struct handle *", "const struct handle *", PTR, PTR, "pointer"),
    ("union u *", "union u *", PTR, PTR, "pointer"),
]


@pytest.mark.parametrize("spelling, canonical, size, align, kind", TYPES, ids=[r[0] for r in TYPES])
def test_type_names(spelling, canonical, size, align, kind):
    ns = ndffi.Namespace()
    ns.cdef("struct handle; union u;")
    t = ns.type(spelling)
    assert (str(t), t.cname, t.size, t.alignment, t.kind) == (canonical, canonical, size, align, kind)
    # the canonical spelling parses back to the same (interned) type
    assert ns.type(canonical) == t
    assert hash(ns.type(canonical)) == hash(t)


def test_type_details():
    ns = ndffi.Namespace()
    a = ns.type("int[2][3]")
    assert (a.length, str(a.item), a.item.length, a.item.item) == (2, "int[3]", 3, ns.type("int"))
    assert ns.type("int[]").length is None
    assert ns.type("int *").length is None and ns.type("int").item is None
    p = ns.type("const char *const *")
    assert not p.is_const
    assert p.item.is_const and str(p.item) == "const char *const"
    assert p.item.item.is_const and p.item.item == ns.type("const char")
    assert ns.type("char *const").is_const
    assert ns.type("const int[4]").is_const  # an array of const is const
    assert ns.type("const int[4]").item == ns.type("const int")
    f = ns.type("int (*)(int)")
    assert f.item == ns.type("int (int)") and f.item.item == ns.type("int")


INTERNED = [
    ("int", "signed int"),
    ("int", "int32_t"),
    ("unsigned", "uint32_t"),
    ("long", "int64_t" if LONG == 8 else "long"),
    ("unsigned char", "uint8_t"),
    ("signed char", "int8_t"),
    ("size_t", "uintptr_t"),
    ("ptrdiff_t", "ssize_t"),
    ("const int *", "int const *"),
    ("char *const", "char * const"),
    ("int (*)(int)", "int (*)(int x)"),
    ("void (*)(void)", "void (*)()"),
    ("int[2][3]", "int[1+1][3]"),
    ("_Bool", "bool"),
]


@pytest.mark.parametrize("a, b", INTERNED)
def test_interned_equal(a, b):
    ns = ndffi.Namespace()
    assert ns.type(a) == ns.type(b)


DISTINCT = [
    ("int", "const int"),
    ("int", "volatile int"),
    ("const int", "const volatile int"),
    ("int *", "int *const"),
    ("int *", "int *restrict"),
    ("const int *", "int *const"),
    ("char", "signed char"),
    ("char", "unsigned char"),
    ("signed char", "unsigned char"),
    ("long", "long long"),
    ("unsigned long", "unsigned long long"),
    ("double", "long double"),
    ("int[2]", "int[3]"),
    ("int[]", "int *"),
    ("int (*)(int)", "int (*)(int, ...)"),
    ("int (*)(int)", "long (*)(int)"),
    ("void *", "char *"),
    ("struct a *", "struct b *"),
    ("struct a *", "union a *"),
]


@pytest.mark.parametrize("a, b", DISTINCT)
def test_interned_distinct(a, b):
    ns = ndffi.Namespace()
    assert ns.type(a) != ns.type(b)


def test_char_signedness_follows_platform():
    # char is distinct from signed char and unsigned char and has the platform's
    # signedness (seen through a C cast, which wraps)
    ns = ndffi.Namespace()
    assert ns.cast("signed char", 255).value == -1
    assert ns.cast("unsigned char", -1).value == 255
    assert ns.cast("char", 255).value == (-1 if CHAR_SIGNED else 255)
    assert str(ns.type("char").dtype) == ("int8" if CHAR_SIGNED else "uint8")


# ---- errors -----------------------------------------------------------------------------


def raises_at(parse, text, line, column, token, fragment):
    """``parse(text)`` raises a CDefError at ``line``, ``column`` on ``token`` whose message
    holds ``fragment``; returns the error."""
    with pytest.raises(ndffi.CDefError) as info:
        parse(text)
    e = info.value
    assert (e.line, e.column, e.text) == (line, column, token), str(e)
    assert fragment in str(e)
    return e


ERRORS = [
    # text, line, column, offending text, message fragment
    ("foo f(int);", 1, 1, "foo", "unknown type name 'foo'"),
    ("int f(bar x);", 1, 7, "bar", "unknown type name 'bar'"),
    ("int f(int);\nint g(uint128_t);", 2, 7, "uint128_t", "unknown type name 'uint128_t'"),
    ("const f(void);", 1, 7, "f", "unknown type name 'f'"),  # no implicit int
    ("extern x;", 1, 8, "x", "unknown type name 'x'"),
    ("const;", 1, 6, ";", "expected a type specifier"),
    # missing ';'
    ("int f(int)", 1, 11, "", "expected ';'"),
    ("int f(int)\nint g(int);", 2, 1, "int", "expected ';'"),
    ("int x int y;", 1, 7, "int", "expected ';'"),
    ("int f(int) __THROW;", 1, 12, "__THROW", "expected ';'"),
    # unbalanced parentheses
    ("int f(int;", 1, 10, ";", "expected ',' or ')'"),
    ("int f(int));", 1, 11, ")", "expected ';'"),
    ("int (*f(int);", 1, 13, ";", "expected ')'"),
    ("int f(int (*)(int);", 1, 19, ";", "expected ',' or ')'"),
    ("int f(int x y);", 1, 13, "y", "expected ',' or ')'"),
    ("int f(int) __attribute__((unused);", 1, 34, ";", "expected ')'"),
    ("void f(int,);", 1, 12, ")", "expected a type"),
    ("void f(..., int);", 1, 11, ",", "expected ')'"),
    # void not alone
    ("int f(void, int);", 1, 7, "void", "'void' must be the only parameter"),
    ("int f(int, void);", 1, 12, "void", "'void' must be the only parameter"),
    ("int f(void x);", 1, 7, "void", "'void' must be the only parameter"),
    ("void x;", 1, 6, "x", "variable 'x' declared void"),
    ("void a[3];", 1, 6, "a", "array of void"),
    # arrays of functions, functions returning arrays or functions
    ("int (f[3])(int);", 1, 6, "f", "'f': array of functions is not allowed"),
    ("typedef int fn(int); fn arr[2];", 1, 25, "arr", "array of functions"),
    ("int f(int)[3];", 1, 5, "f", "'f': a function cannot return an array"),
    ("int f(int)(int);", 1, 5, "f", "'f': a function cannot return a function"),
    ("typedef int A[2]; A g(void);", 1, 21, "g", "a function cannot return an array"),
    ("struct s; struct s xs[3];", 1, 20, "xs", "array of incomplete type 'struct s'"),
    ("int m[3][];", 1, 5, "m", "array of incomplete type 'int[]'"),
    # invalid specifier combinations
    ("long char c;", 1, 1, "long", "invalid combination of type specifiers 'long char'"),
    ("unsigned float f;", 1, 1, "unsigned", "'unsigned float'"),
    ("short long s;", 1, 1, "short", "'short long'"),
    ("const long long long x;", 1, 7, "long", "'long long long'"),
    ("signed unsigned x;", 1, 1, "signed", "'signed unsigned'"),
    ("short double d;", 1, 1, "short", "'short double'"),
    ("long float f;", 1, 1, "long", "'long float'"),
    ("long long double f;", 1, 1, "long", "'long long double'"),
    ("unsigned double d;", 1, 1, "unsigned", "'unsigned double'"),
    ("signed void *v;", 1, 1, "signed", "'signed void'"),
    ("unsigned _Bool b;", 1, 1, "unsigned", "'unsigned _Bool'"),
    ("short short s;", 1, 1, "short", "'short short'"),
    # the spelling in the message is the specifier words, not what parentheses hold
    ("_Alignas(int) long char c;", 1, 15, "long", "specifiers 'long char'\n"),
    ("long __attribute__((aligned(sizeof(int)))) const char c;", 1, 1, "long", "specifiers 'long char'\n"),
    ("typedef unsigned signed int u;", 1, 9, "unsigned", "specifiers 'unsigned signed int'\n"),
    ("int int x;", 1, 5, "int", "two base types"),
    ("char int x;", 1, 6, "int", "two base types"),
    ("int struct s *x;", 1, 5, "struct", "two base types"),
    ("size_t long x;", 1, 8, "long", "'long' after 'size_t'"),
    ("int restrict x;", 1, 5, "restrict", "'restrict' requires a pointer to an object type"),
    ("int f(int restrict);", 1, 11, "restrict", "'restrict' requires a pointer to an object type"),
    ("void (*restrict fp)(void);", 1, 17, "fp", "'restrict' requires a pointer to an object type"),
    ("typedef void (*fp)(void); restrict fp q;", 1, 27, "restrict", "not 'void (*)(void)'"),
    # hostile nesting gets an error, not a stack overflow
    ("int " + "(" * 1000 + "x" + ")" * 1000 + ";", 1, 205, "(", "nested too deeply"),
    ("int x[" + "-" * 100000 + "1];", 1, 207, "-", "nested too deeply"),
    ("int f(" + "int (*)(" * 300 + ")" * 300 + ");", 1, 1596, "*", "nested too deeply"),
    ("int " + "*" * 5000 + "p;", 1, 5005, "p", "declarator is too complex"),
    # conflicting redeclarations: the message names both prototypes
    (
        "int a(int);\nlong a(int);",
        2,
        6,
        "a",
        "conflicting declaration of 'a': previously 'int a(int)', now 'long a(int)'",
    ),
    ("int a(int x); int a(int x, ...);", 1, 19, "a", "previously 'int a(int x)', now 'int a(int x, ...)'"),
    ("int a(int x); int a(long x);", 1, 19, "a", "previously 'int a(int x)', now 'int a(long x)'"),
    ("int a(int *x); int a(const int *x);", 1, 20, "a", "previously 'int a(int *x)', now 'int a(const int *x)'"),
    ("int v; double v;", 1, 15, "v", "previously 'int v', now 'double v'"),
    ("int v; int v(void);", 1, 12, "v", "previously 'int v', now 'int v(void)'"),
    ("int x[2]; int x[3];", 1, 15, "x", "previously 'int x[2]', now 'int x[3]'"),
    ("int f(int a, int a);", 1, 18, "a", "redefinition of parameter 'a'"),
    # typedef conflicts
    ("typedef int T; typedef long T;", 1, 29, "T", "conflicting typedef 'T': previously 'int', now 'long'"),
    ("typedef int T; int T(void);", 1, 20, "T", "'T' is already declared as a typedef of 'int'"),
    ("int T(void); typedef int T;", 1, 26, "T", "'T' is already declared as 'int T(void)'"),
    # lexical errors
    ("int f(int); /* unterminated", 1, 13, "/*", "unterminated comment"),
    ("int f(int);\n\n  /* never\n closed", 3, 3, "/*", "unterminated comment"),
    ("#define F(x) (x)\nint f(int) = 1;", 2, 14, "1", "initializers"),
    ("int f(int);\n  #include <stdio.h>", 2, 4, "include", "#include is not accepted"),
    ("#pragma pack(3)\nstruct s { int a; };", 1, 14, "3", "#pragma pack takes"),
    (
        "typedef double d3[3] __attribute__((aligned(16)));",
        1,
        16,
        "d3",
        "'d3': an aligned(16) attribute on a typedef of 'double[3]' (alignment 8) is not supported",
    ),
    (
        "typedef struct { char c; } T32 __attribute__((aligned(32)));",
        1,
        28,
        "T32",
        "aligned(32) attribute on a typedef",
    ),  # noqa: E501
    ("int f(int) @;", 1, 12, "@", "unexpected character '@'"),
    ("int\tf(int)\t@;", 1, 12, "@", "unexpected character '@'"),
    ("int $x;", 1, 5, "$", "unexpected character '$'"),
    ("int f(int)\u00a7;", 1, 11, "\u00a7", "unexpected character"),
    ("int `x`;", 1, 5, "`", "unexpected character '`'"),
    ("int f(int)\x00;", 1, 11, "\x00", "unexpected character"),
    # columns count characters, not bytes
    ("/* \u00e9t\u00e9 */ long char c;", 1, 11, "long", "'long char'"),
    ("int \u00e9;", 1, 5, "\u00e9", "unexpected character '\u00e9'"),
    # constants
    ("int x[99999999999999999999];", 1, 7, "99999999999999999999", "integer constant is too large"),
    ("int x[0xFFFFFFFFFFFFFFFF];", 1, 7, "0xFFFFFFFFFFFFFFFF", "integer constant is too large"),
    ("int x[9223372036854775808];", 1, 7, "9223372036854775808", "integer constant is too large"),
    ("int x[9223372036854775807];", 1, 5, "x", "array is too large"),
    ("int x[1 << 62][4];", 1, 5, "x", "array is too large"),
    ("struct h { char a[0x2000000000000000]; };", 1, 17, "a", "array is too large"),
    ("struct g { char a[1LL << 58]; char b[1LL << 58]; char c[1LL << 58]; };", 1, 8, "g", "struct g is too large"),
    ("union u { char a[1LL << 58]; }; struct w { union u x[2]; char b[1LL << 58]; };", 1, 40, "w", "too large"),
    # attributes that change a size, layout, byte order or calling convention the type
    # model does not follow: refused, never a wrong layout or call
    ("typedef int i64 __attribute__((__mode__(__DI__)));", 1, 32, "__mode__", "(mode)) sets the size"),
    ("typedef float v4 __attribute__((vector_size(16)));", 1, 33, "vector_size", "SIMD vector"),
    ("struct __attribute__((ms_struct)) m { char a:3; short b:3; };", 1, 23, "ms_struct", "struct layout"),
    ("int __attribute__((ms_abi)) f(int);", 1, 20, "ms_abi", "calling convention"),
    (
        'typedef struct { char c; } be __attribute__((scalar_storage_order("big-endian")));',
        1,
        46,
        "scalar_storage_order",
        "byte order",
    ),
    # struct, union and enum tags share one name space
    ("union u1 { int a; }; struct u1 { int a; };", 1, 29, "u1", "'u1' is already the tag of a union"),
    ("struct s; union s *p;", 1, 17, "s", "'s' is already the tag of a struct"),
    ("enum e { A }; struct e { int x; };", 1, 22, "e", "'e' is already the tag of an enum"),
    ("int x[-1];", 1, 7, "-", "array size is negative"),
    ("int x[2-3];", 1, 7, "2", "array size is negative"),
    ("int x[1/0];", 1, 8, "/", "division by zero"),
    ("int x[1 << 64];", 1, 9, "<<", "shift count out of range"),
    ("int x[08];", 1, 7, "08", "invalid integer constant"),
    ("int x[1.5];", 1, 7, "1.5", "expected an integer constant expression"),
    ("int x[n];", 1, 7, "n", "'n' is not a constant"),
    # things that are not declarations
    ("int x = 3;", 1, 9, "3", "initializers are not accepted"),
    ("int f(int x) { return x; }", 1, 14, "{", "function definitions are not accepted"),
    ("int *;", 1, 6, ";", "expected a name"),
    ("int (*)(int);", 1, 7, ")", "expected a name"),
    ("int * int x;", 1, 7, "int", "expected a name"),
    ("))", 1, 1, ")", "expected a type"),
    ("int f(void) const;", 1, 13, "const", "expected ';'"),
]


@pytest.mark.parametrize("text, line, column, token, fragment", ERRORS, ids=[r[0][:50] for r in ERRORS])
def test_errors(text, line, column, token, fragment):
    ns = ndffi.Namespace()
    e = raises_at(ns.cdef, text, line, column, token, fragment)
    assert isinstance(e, ValueError)
    # the message starts with the position and quotes the offending line with a caret
    first, *rest = str(e).splitlines()
    assert first.startswith(f"line {line}, column {column}: ")
    src_line = "".join(" " if ord(c) < 32 else c for c in text.splitlines()[line - 1])
    assert rest[0].strip() == src_line.strip()
    assert rest[1].index("^") - rest[0].index(src_line) == column - 1
    # nothing of a failed cdef is added
    assert ns.names() == [] and ns.typedef_names() == []


TYPE_ERRORS = [
    ("foo", 1, 1, "foo", "unknown type name"),
    ("int x", 1, 5, "x", "unexpected name in a type"),
    ("int *", None, None, None, None),  # valid
    ("int[3] *", 1, 8, "*", "unexpected text after the type"),
    ("int (int)[2]", 1, 5, "(", "a function cannot return an array"),
    ("int [2](int)", 1, 5, "[", "array of functions is not allowed"),
    ("int (*)(void, int)", 1, 9, "void", "'void' must be the only parameter"),
    ("", 1, 1, "", "expected a type"),
]


@pytest.mark.parametrize("text, line, column, token, fragment", TYPE_ERRORS)
def test_type_name_errors(text, line, column, token, fragment):
    ns = ndffi.Namespace()
    if line is None:
        ns.type(text)
        return
    raises_at(ns.type, text, line, column, token, fragment)


def test_failed_cdef_leaves_nothing_behind():
    ns = ndffi.Namespace()
    ns.cdef("int keep(int); typedef int kept_t;")
    with pytest.raises(ndffi.CDefError):
        ns.cdef("int f(int); typedef double d_t; int (*g)(void);\nint keep(long);")  # conflicts on the last line
    assert ns.names() == ["keep"]
    assert ns.typedef_names() == ["kept_t"]
    assert ns.decl("f") is None and ns.decl("g") is None
    assert ns.typedef("d_t") is None
    assert ns.decl("keep")[1] == "int keep(int)"
    with pytest.raises(ndffi.CDefError):
        ns.type("d_t")
    # a parameter name that a failed cdef would have added is not kept either
    with pytest.raises(ndffi.CDefError):
        ns.cdef("int keep(int named); int broken(")
    assert ns.decl("keep")[1] == "int keep(int)"
    # after the failure the namespace still works and the same text parses once fixed
    assert ns.cdef("int f(int); typedef double d_t; int (*g)(void);") == ["f", "g"]
    assert str(ns.typedef("d_t")) == "double"


def test_error_attributes_multiline():
    text = "int ok(int);\n/* comment */ double fine(double);\n  long char c;\n"
    with pytest.raises(ndffi.CDefError) as info:
        ndffi.Namespace().cdef(text)
    e = info.value
    assert (e.line, e.column, e.text) == (3, 3, "long")
    assert str(e).splitlines()[1:] == ["      long char c;", "      ^"]


def test_builtin_typedefs_can_be_redeclared_identically():
    # headers often repeat the <stddef.h> typedefs; the same type is accepted
    ns = ndffi.Namespace()
    size_t = "unsigned long" if LONG == PTR else "unsigned long long"
    ns.cdef(f"typedef {size_t} size_t; size_t n(void);")
    assert ns.decl("n")[1] == "size_t n(void)" and str(ns.decl("n")[2]) == f"{size_t} (void)"


# ---- spellings checked by the C compiler -------------------------------------------------

SCALARS = [
    "int",
    "char",
    "signed char",
    "unsigned char",
    "short",
    "unsigned short",
    "unsigned",
    "long",
    "unsigned long",
    "long long",
    "unsigned long long",
    "float",
    "double",
    "long double",
    "_Bool",
    "void",
    "struct S",
    "union U",
    "size_t",
]


def _random_types(rng, count):
    """A typedef chain per random type: each step derives T_{i+1} from T_i by a pointer
    (with qualifiers), a qualifier, an array or a function, so the C text is unambiguous
    whatever the parser's spelling rules.  Returns (typedef lines, [(name, kind)]) with kind
    one of "void", "incomplete" (struct, union, T[]), "object", "function"."""
    lines, finals = [], []
    for k in range(count):
        quals = rng.choice(["", "", "const ", "volatile ", "const volatile "])
        base = rng.choice(SCALARS)
        prev = f"t{k}_0"
        lines.append(f"typedef {quals}{base} {prev};")
        kind = "void" if base == "void" else "incomplete" if base.startswith(("struct", "union")) else "object"
        is_array = False
        for step in range(1, rng.randint(1, 6)):
            name = f"t{k}_{step}"
            choice = rng.random()
            if choice < 0.35 or (kind == "void" and choice < 0.7):
                q = rng.choice(
                    ["", "", "const", "volatile", "const volatile"]
                    + ([] if kind == "function" else ["restrict", "const restrict"])
                )
                lines.append(f"typedef {prev} *{q} {name};")
                kind, is_array = "object", False
            elif choice < 0.5 and kind in ("object", "incomplete"):
                lines.append(f"typedef {rng.choice(['const', 'volatile'])} {prev} {name};")
            elif choice < 0.75 and kind == "object":
                n = rng.choice(["", "1", "2", "3", "16", "2*4+1"])
                lines.append(f"typedef {prev} {name}[{n}];")
                kind, is_array = ("incomplete" if n == "" else "object"), True
            elif kind != "function" and not is_array:
                params = []
                for j in range(rng.randint(0, 4)):
                    params.append(
                        rng.choice(
                            SCALARS[:-5]
                            + [
                                f"t{k}_0 *",
                                "const char *",
                                "int[4]",
                                "double (int)",
                                f"void (*a{j})(int)",
                                "const int *const",
                                f"int a{j}",
                            ]
                        )
                    )
                if params and rng.random() < 0.2:
                    params.append("...")
                lines.append(f"typedef {prev} {name}({', '.join(params) or 'void'});")
                kind, is_array = "function", False
            else:
                lines.append(f"typedef {prev} *{name};")
                kind, is_array = "object", False
            prev = name
        finals.append((prev, kind))
    return lines, finals


def test_spellings_are_valid_c_of_the_same_type(tmp_path):
    import random
    import shutil
    import subprocess

    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler")
    rng = random.Random(20240611)
    lines, finals = _random_types(rng, 250)
    decls = [f"extern {name} v_{name};" for name, kind in finals if kind != "void"]
    text = "struct S; union U;\n" + "\n".join(lines + decls)
    ns = ndffi.Namespace()
    ns.cdef(text)
    c = ["#include <stddef.h>", text]
    for name, kind in finals:
        t = ns.typedef(name)
        # the abstract spelling names the same type (top-level qualifiers aside) ...
        c.append(f'_Static_assert(__builtin_types_compatible_p({name}, {t.cname}), "{name}");')
        if kind == "object":
            c.append(f'_Static_assert(sizeof({name}) == {t.size}, "size {name}");')
            c.append(f'_Static_assert(_Alignof({name}) == {t.alignment}, "align {name}");')
        if kind != "void":
            # ... and the declaration redeclares the variable or function exactly
            # (qualifiers at every level must agree for that)
            c.append(f"extern {ns.decl('v_' + name)[1]};")
    src = tmp_path / "spell.c"
    src.write_text("\n".join(c) + "\n")
    proc = subprocess.run([cc, "-std=gnu11", "-fsyntax-only", str(src)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[:4000]


def test_hexadecimal_floating_constants_keep_their_exponent_sign():
    ns = ndffi.Namespace()
    ns.cdef("#define Q 0x1p-2\n#define R 0x10-1\n#define S 1.5e-3\n")
    assert ns.constant("Q")[0] == 0.25
    assert ns.constant("R")[0] == 15
    assert ns.constant("S")[0] == 1.5e-3


def test_directives_between_members_and_enumerators():
    # real headers define a member's flags next to it
    ns = ndffi.Namespace()
    ns.cdef(
        "struct dev { unsigned flags;\n#define DEV_READY 0x1\n#define DEV_BUSY (1 << 3)\n int id; };\n"
        "enum mode { M_A = 2,\n#define M_FIRST M_A\n M_B, M_C\n#pragma weak nothing\n};"
    )
    assert ns.constant("DEV_READY")[0] == 1 and ns.constant("DEV_BUSY")[0] == 8
    assert ns.type("struct dev").size == 8
    assert ns.constant("M_C")[0] == 4 and ns.constant("M_FIRST")[0] == 2
    # a directive inside a body still has to end its line
    with pytest.raises(ndffi.CDefError, match="unexpected text at the end of the directive"):
        ns.cdef("struct bad { int a;\n#pragma pack(1) int b; };")


def test_typedef_attributes_that_change_nothing_are_accepted():
    ns = ndffi.Namespace()
    # the kernel's __aligned_u64 on x86-64, packed on a typedef (GCC ignores it), and an
    # aligned struct whose attribute belongs to the struct
    ns.cdef(
        "typedef unsigned long long __aligned_u64 __attribute__((aligned(8)));"
        "typedef struct { char c; int x; } pt __attribute__((packed));"
        "typedef struct { char c; } __attribute__((aligned(32))) a32;"
        "int after; typedef int plain;"
    )
    assert ns.type("__aligned_u64").alignment == 8
    assert (ns.type("pt").size, ns.type("pt").alignment) == (8, 4)
    assert (ns.type("a32").size, ns.type("a32").alignment) == (32, 32)
    assert ns.type("plain").alignment == 4


@pytest.mark.parametrize(
    "spelling, fragment",
    [
        ("struct Weahter", "'struct Weahter' is an incomplete type"),  # a typo: declared nowhere
        ("struct fwd", "'struct fwd' is an incomplete type"),  # declared without members
        ("union nope", "incomplete type"),
        ("int[]", "incomplete type"),
        ("void", "void has no size"),
        ("int (int)", "a function type has no size"),
    ],
)
def test_sizeof_a_type_without_a_size_is_an_error(spelling, fragment):
    # as C's sizeof refuses it: never 0
    lib = ndffi.load(None).cdef("struct fwd; struct full { int x; };")
    with pytest.raises(TypeError, match=rf"^sizeof\({re.escape(repr(spelling))}\): .*{re.escape(fragment)}"):
        lib.sizeof(spelling)
    if spelling in ("void", "int[]"):
        with pytest.raises(TypeError, match=re.escape(fragment)):
            ndffi.sizeof(spelling)
    assert lib.sizeof("struct full") == 4 and ndffi.sizeof("char[0]") == 0
