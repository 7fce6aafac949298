// Tests of the C++ core without Python: the type model, the declaration parser, scopes,
// argument specs, call plans (direct stubs and libffi) on functions defined here, and
// closures (direct entries and libffi) called from C++.
//
// Built and run by tests/test_core.py:
//   c++ -std=c++17 -O1 -Isrc/core src/core/*.cpp tests/core/core_tests.cpp
//       $(pkg-config --cflags --libs libffi) -ldl
// Prints each failure, then "N passed, M failed" as its last line; exits non-zero on failure.
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "nd_ccall.h"
#include "nd_ccallback.h"
#include "nd_cparse.h"
#include "nd_ctype.h"
#include "nd_layout.h"

using namespace ndffi;

static int g_passed = 0, g_failed = 0;

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (cond) {                                                                  \
      g_passed++;                                                                \
    } else {                                                                     \
      g_failed++;                                                                \
      std::printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                \
    }                                                                            \
  } while (0)

template <class A, class B>
static void check_eq(const A &a, const B &b, const char *ea, const char *eb, int line) {
  if (a == b) {
    g_passed++;
  } else {
    g_failed++;
    std::ostringstream os;
    os << "FAIL " << __FILE__ << ":" << line << ": " << ea << " == " << eb << "\n    got      "
       << a << "\n    expected " << b;
    std::printf("%s\n", os.str().c_str());
  }
}
#define CHECK_EQ(a, b) check_eq((a), (b), #a, #b, __LINE__)

// Runs `body`, which must throw E; returns whether it did.
template <class E>
static bool throws(const std::function<void()> &body, std::function<void(const E &)> inspect = nullptr) {
  try {
    body();
  } catch (const E &e) {
    if (inspect) inspect(e);
    return true;
  } catch (...) {
    return false;
  }
  return false;
}

static TypeTable &T = TypeTable::get();
static const Scope &B = Scope::builtins();

static const CType *ty(const char *spelling) { return parse_type(B, spelling); }

// ---- interning ----------------------------------------------------------------------

static void test_interning() {
  const CType *i = T.int_type(4, true, "int");
  CHECK(i == ty("int"));
  CHECK(i == ty("signed int"));
  CHECK(i == ty("int32_t"));
  CHECK(i == T.int_type(4, true, "int"));
  CHECK(T.pointer(i) == T.pointer(i));
  CHECK(T.pointer(i) == ty("int *"));
  CHECK(T.pointer(T.pointer(i)) == ty("int **"));
  CHECK(T.array(i, 3) == ty("int[3]"));
  CHECK(T.array(i, 3) != T.array(i, 4));
  CHECK(T.func(i, {i, i}, false) == ty("int (int, int)"));
  CHECK(T.func(i, {i, i}, false) != T.func(i, {i, i}, true));
  CHECK(T.func(i, {i}, false) != T.func(i, {i, i}, false));
  CHECK(T.void_type() == ty("void"));
  CHECK(T.bool_type() == ty("_Bool"));
  CHECK(T.bool_type() == ty("bool"));
  CHECK(T.char_type() == ty("char"));
  CHECK(T.char_type() != ty("signed char"));
  CHECK(T.char_type() != ty("unsigned char"));
  CHECK(ty("signed char") == ty("int8_t"));
  CHECK(ty("unsigned long") == ty("size_t"));
  CHECK(ty("long") == ty("ptrdiff_t"));
  CHECK(ty("long") != ty("long long"));   // distinct types even when the same width
  CHECK(ty("double") != ty("long double"));

  // qualifiers make distinct types, and removing them gives the original back
  const CType *ci = T.qualified(i, QConst);
  CHECK(ci != i);
  CHECK(ci == ty("const int"));
  CHECK(ci == ty("int const"));
  CHECK(ci->is_const());
  CHECK(!i->is_const());
  CHECK(T.unqualified(ci) == i);
  CHECK(T.qualified(i, QConst | QVolatile) != ci);
  CHECK(T.qualified(i, QConst | QVolatile) == ty("volatile const int"));
  CHECK(T.pointer(ci) != T.pointer(i));
  CHECK(T.pointer(ci) == ty("const int *"));
  CHECK(T.pointer(i, QConst) == ty("int *const"));
  CHECK(T.pointer(i, QConst) != T.pointer(ci));
  CHECK(T.pointer(i, QRestrict) == ty("int *restrict"));
  CHECK(T.unqualified(T.pointer(i, QConst | QRestrict)) == T.pointer(i));
  // functions carry no qualifiers; a qualified array is an array of qualified elements
  const CType *fn = T.func(i, {}, false);
  CHECK(T.qualified(fn, QConst) == fn);
  CHECK(T.qualified(T.array(i, 3), QConst) == T.array(ci, 3));
  CHECK(T.array(ci, 3)->is_const());
  CHECK(T.qualified(T.array(T.array(i, 2), 3), QConst) == ty("const int[3][2]"));

  // struct tags: one Record per declaration, one type node per (record, qualifiers)
  Record *r = T.new_record("h", false, false);
  CHECK(T.record(r) == T.record(r));
  CHECK(T.record(r, QConst) != T.record(r));
  CHECK(T.record(r, QConst) == T.qualified(T.record(r), QConst));
  Record *r2 = T.new_record("h", false, false);
  CHECK(T.record(r2) != T.record(r));   // same tag, other declaration: other type
  CHECK(!T.record(r)->is_complete());
  CHECK_EQ(T.record(r)->byte_size(), size_t(0));
}

// ---- spelling -----------------------------------------------------------------------

static void test_str() {
  const CType *i = ty("int"), *c = ty("char"), *d = ty("double"), *v = ty("void");
  CHECK_EQ(i->str(), std::string("int"));
  CHECK_EQ(i->str("x"), std::string("int x"));
  CHECK_EQ(T.pointer(i)->str(), std::string("int *"));
  CHECK_EQ(T.pointer(i)->str("p"), std::string("int *p"));
  CHECK_EQ(T.pointer(T.qualified(c, QConst), QConst)->str("s"), std::string("const char *const s"));
  CHECK_EQ(T.pointer(T.pointer(T.qualified(c, QConst), QConst))->str(),
           std::string("const char *const *"));
  CHECK_EQ(T.pointer(v, QConst | QVolatile | QRestrict)->str(),
           std::string("void *const volatile restrict"));
  CHECK_EQ(T.qualified(i, QConst | QVolatile)->str("x"), std::string("const volatile int x"));
  CHECK_EQ(T.array(d, 16)->str(), std::string("double[16]"));
  CHECK_EQ(T.array(d, 16)->str("a"), std::string("double a[16]"));
  CHECK_EQ(T.array(T.array(i, 3), 2)->str(), std::string("int[2][3]"));
  CHECK_EQ(T.array(i, CType::kUnknownLength)->str("u"), std::string("int u[]"));
  CHECK_EQ(T.array(T.pointer(c), 4)->str(), std::string("char *[4]"));
  CHECK_EQ(T.pointer(T.array(i, 3))->str(), std::string("int (*)[3]"));
  CHECK_EQ(T.pointer(T.array(i, 3))->str("p"), std::string("int (*p)[3]"));
  const CType *fii = T.func(i, {i}, false);
  CHECK_EQ(fii->str(), std::string("int (int)"));
  CHECK_EQ(fii->str("f"), std::string("int f(int)"));
  CHECK_EQ(T.pointer(fii)->str(), std::string("int (*)(int)"));
  CHECK_EQ(T.pointer(fii)->str("cb"), std::string("int (*cb)(int)"));
  CHECK_EQ(T.pointer(fii, QConst)->str("cb"), std::string("int (*const cb)(int)"));
  CHECK_EQ(T.pointer(T.pointer(fii))->str(), std::string("int (**)(int)"));
  CHECK_EQ(T.array(T.pointer(fii), 4)->str("t"), std::string("int (*t[4])(int)"));
  CHECK_EQ(T.func(v, {}, false)->str(), std::string("void (void)"));
  CHECK_EQ(T.func(i, {T.pointer(T.qualified(c, QConst))}, true)->str("printf"),
           std::string("int printf(const char *, ...)"));
  CHECK_EQ(T.func(i, {}, true)->str(), std::string("int (...)"));
  // a function returning a pointer to a function: the declarator nests
  const CType *handler = T.pointer(T.func(v, {i}, false));
  const CType *signal_t = T.func(handler, {i, handler}, false);
  CHECK_EQ(signal_t->str("signal"), std::string("void (*signal(int, void (*)(int)))(int)"));
  CHECK_EQ(T.pointer(signal_t)->str(), std::string("void (*(*)(int, void (*)(int)))(int)"));
  // a pointer to a function returning a pointer to an array
  CHECK_EQ(T.pointer(T.func(T.pointer(T.array(c, 5)), {}, false))->str("x"),
           std::string("char (*(*x)(void))[5]"));
  Record *r = T.new_record("handle", false, false);
  CHECK_EQ(T.pointer(T.record(r, QConst))->str(), std::string("const struct handle *"));
  Record *u = T.new_record("", true, false);
  CHECK_EQ(T.record(u)->str(), std::string("union <anonymous>"));
  // every spelling parses back to the same type
  for (const char *s : {"int", "const char *const *", "double[16]", "int[2][3]", "int (*)[3]",
                        "int (*)(int)", "int (**)(int)", "int (*[4])(int)", "void (void)",
                        "int (const char *, ...)", "void (*(*)(int, void (*)(int)))(int)",
                        "char (*(*)(void))[5]", "void *const volatile restrict",
                        "unsigned long long", "long double", "signed char"}) {
    const CType *t = ty(s);
    CHECK_EQ(t->str(), std::string(s));
    CHECK(ty(t->str().c_str()) == t);
  }
}

static void test_decl_str() {
  const CType *i = ty("int"), *v = ty("void");
  Decl d{Decl::Function, "add", T.func(i, {i, i}, false), {"a", "b"}};
  CHECK_EQ(d.str(), std::string("int add(int a, int b)"));
  d.param_names = {"", "b"};
  CHECK_EQ(d.str(), std::string("int add(int, int b)"));
  d.param_names = {};
  CHECK_EQ(d.str(), std::string("int add(int, int)"));
  Decl n{Decl::Function, "noop", T.func(v, {}, false), {}};
  CHECK_EQ(n.str(), std::string("void noop(void)"));
  Decl pf{Decl::Function, "my_printf", ty("int (const char *, ...)"), {"fmt"}};
  CHECK_EQ(pf.str(), std::string("int my_printf(const char *fmt, ...)"));
  const CType *handler = T.pointer(T.func(v, {i}, false));
  Decl sig{Decl::Function, "signal", T.func(handler, {i, handler}, false), {"sig", "func"}};
  CHECK_EQ(sig.str(), std::string("void (*signal(int sig, void (*func)(int)))(int)"));
  Decl arr{Decl::Variable, "table", T.array(T.pointer(T.func(i, {i}, false)), 8), {}};
  CHECK_EQ(arr.str(), std::string("int (*table[8])(int)"));
  Decl var{Decl::Variable, "counter", i, {}};
  CHECK_EQ(var.str(), std::string("int counter"));
  Decl ret_arr{Decl::Function, "rows", T.func(T.pointer(T.array(i, 4)), {i}, false), {"n"}};
  CHECK_EQ(ret_arr.str(), std::string("int (*rows(int n))[4]"));
}

// ---- parser -------------------------------------------------------------------------

struct ErrorCase {
  const char *text;
  int line, column;
  const char *token, *fragment;
};

static void test_parse_errors() {
  const ErrorCase cases[] = {
      {"foo f(int);", 1, 1, "foo", "unknown type name 'foo'"},
      {"int f(int)\nint g(int);", 2, 1, "int", "expected ';'"},
      {"int f(int;", 1, 10, ";", "expected ',' or ')'"},
      {"int (*f(int);", 1, 13, ";", "expected ')'"},
      {"\n\n   int f(void, int);", 3, 10, "void", "'void' must be the only parameter"},
      {"int (f[3])(int);", 1, 6, "f", "array of functions"},
      {"int f(int)[3];", 1, 5, "f", "cannot return an array"},
      {"int f(int)(int);", 1, 5, "f", "cannot return a function"},
      {"long char c;", 1, 1, "long", "invalid combination of type specifiers 'long char'"},
      {"unsigned float f;", 1, 1, "unsigned", "'unsigned float'"},
      {"short long s;", 1, 1, "short", "'short long'"},
      {"int a(int);\nlong a(int);", 2, 6, "a", "previously 'int a(int)', now 'long a(int)'"},
      {"typedef int T; typedef long T;", 1, 29, "T", "conflicting typedef 'T'"},
      {"int f(int); /* open", 1, 13, "/*", "unterminated comment"},
      {"#include <x.h>", 1, 2, "include", "#include is not accepted"},
      {"int x@;", 1, 6, "@", "unexpected character '@'"},
      {"int x[99999999999999999999];", 1, 7, "99999999999999999999", "too large"},
      {"int x[1 << 61];", 1, 5, "x", "array is too large"},
      {"int restrict r;", 1, 5, "restrict", "'restrict' requires a pointer to an object type"},
      {"typedef int T;\nint T;", 2, 5, "T", "already declared as a typedef"},
      {"int f(int a, char *a);", 1, 20, "a", "redefinition of parameter 'a'"},
      {"int f(int x) { return x; }", 1, 14, "{", "function definitions are not accepted"},
  };
  for (const ErrorCase &c : cases) {
    Scope s(&B);
    bool thrown = throws<CDefError>([&] { cdef(s, c.text); }, [&](const CDefError &e) {
      CHECK_EQ(e.line, c.line);
      CHECK_EQ(e.column, c.column);
      CHECK_EQ(e.token, std::string(c.token));
      if (std::string(e.what()).find(c.fragment) == std::string::npos) {
        g_failed++;
        std::printf("FAIL %s: message '%s' lacks '%s'\n", c.text, e.what(), c.fragment);
      } else {
        g_passed++;
      }
    });
    if (!thrown) std::printf("FAIL no CDefError for: %s\n", c.text);
    CHECK(thrown);
    CHECK(s.decl_names().empty());
    CHECK(s.typedef_names().empty());
  }
  // hostile nesting is an error, not a stack overflow
  {
    Scope s(&B);
    std::string deep = "int " + std::string(100000, '(') + "x" + std::string(100000, ')') + ";";
    CHECK(throws<CDefError>([&] { cdef(s, deep); }, [&](const CDefError &e) {
      CHECK(std::string(e.what()).find("nested too deeply") != std::string::npos);
    }));
    std::string expr = "int x[" + std::string(100000, '-') + "1];";
    CHECK(throws<CDefError>([&] { cdef(s, expr); }));
  }
  // parse_type errors
  CHECK(throws<CDefError>([] { ty("int x"); }));
  CHECK(throws<CDefError>([] { ty("int *)"); }));
  CHECK(throws<CDefError>([] { ty("mystery_t"); }));
}

static void test_parse_and_scope() {
  Scope s(&B);
  cdef(s, "typedef struct handle *handle_t;\n"
          "handle_t h_open(const char *name), *h_all(void);\n"
          "int h_close(handle_t);  // closes\n"
          "typedef int (*cmp_t)(const void *, const void *);\n"
          "void sort(void *base, size_t n, size_t size, cmp_t cmp);\n"
          "extern int counter;");
  std::vector<std::string> names = {"h_open", "h_all", "h_close", "sort", "counter"};
  CHECK(s.decl_names() == names);
  std::vector<std::string> tds = {"handle_t", "cmp_t"};
  CHECK(s.typedef_names() == tds);
  // printed as written, typedef names kept; the types themselves are resolved
  CHECK_EQ(s.find_decl("h_open")->str(), std::string("handle_t h_open(const char *name)"));
  CHECK_EQ(s.find_decl("h_all")->str(), std::string("handle_t *h_all(void)"));
  CHECK_EQ(s.find_decl("sort")->str(), std::string("void sort(void *base, size_t n, size_t size, cmp_t cmp)"));
  CHECK_EQ(s.find_decl("sort")->param_str(1), std::string("size_t"));
  CHECK_EQ(s.find_decl("sort")->param_str(3), std::string("cmp_t"));
  CHECK_EQ(s.find_decl("h_all")->result_str(), std::string("handle_t *"));
  CHECK_EQ(s.find_decl("sort")->type->str(),
           std::string(sizeof(long) == sizeof(void *)
                           ? "void (void *, unsigned long, unsigned long, int (*)(const void *, const void *))"
                           : "void (void *, unsigned long long, unsigned long long, "
                             "int (*)(const void *, const void *))"));
  CHECK_EQ(s.find_decl("counter")->kind, Decl::Variable);
  CHECK(s.find_decl("counter")->type == ty("int"));
  Record *h = s.find_tag("handle", false, false);
  CHECK(h != nullptr);
  CHECK(s.find_tag("handle", true, false) == nullptr);   // no union handle
  CHECK(s.find_typedef("handle_t") == T.pointer(T.record(h)));
  CHECK(parse_type(s, "handle_t") == T.pointer(T.record(h)));
  CHECK(parse_type(s, "struct handle *") == T.pointer(T.record(h)));
  CHECK(s.find_typedef("size_t") == ty("size_t"));   // through the parent (built-ins)
  CHECK(s.find_decl("nothing") == nullptr);

  // repeated identical declarations are accepted; a later one may name parameters
  cdef(s, "int h_close(handle_t h); int h_close(struct handle *other);");
  CHECK_EQ(s.find_decl("h_close")->str(), std::string("int h_close(handle_t h)"));
  CHECK_EQ(s.decl_names().size(), size_t(5));
  // top-level parameter qualifiers do not make a different function
  cdef(s, "int q(const int x); int q(int y);");
  CHECK_EQ(s.find_decl("q")->str(), std::string("int q(const int x)"));

  // a conflict leaves the scope as it was, including tags and typedefs declared before it
  size_t before = s.decl_names().size();
  bool thrown = throws<CDefError>([&] {
    cdef(s, "struct newtag; typedef int newtype; int fresh(void);\nlong h_close(handle_t);");
  }, [&](const CDefError &e) {
    CHECK_EQ(e.line, 2);
    CHECK_EQ(e.column, 6);
    CHECK(std::string(e.what()).find("previously 'int h_close(handle_t h)', now 'long "
                                     "h_close(handle_t)'") != std::string::npos);
  });
  CHECK(thrown);
  CHECK_EQ(s.decl_names().size(), before);
  CHECK(s.find_decl("fresh") == nullptr);
  CHECK(s.find_typedef("newtype") == nullptr);
  CHECK(s.find_tag("newtag", false, false) == nullptr);

  // parse_type does not add tags to the scope it reads
  parse_type(s, "struct only_in_type *");
  CHECK(s.find_tag("only_in_type", false, false) == nullptr);
}

static void test_scope_conflicts() {
  Scope s(&B);
  const CType *i = ty("int"), *l = ty("long");
  s.add_decl(Decl{Decl::Function, "f", T.func(i, {i}, false), {""}});
  s.add_decl(Decl{Decl::Function, "f", T.func(i, {i}, false), {"x"}});   // identical
  CHECK_EQ(s.find_decl("f")->str(), std::string("int f(int x)"));
  std::string msg;
  CHECK(throws<DeclConflict>([&] { s.add_decl(Decl{Decl::Function, "f", T.func(l, {i}, false), {""}}); },
                             [&](const DeclConflict &e) { msg = e.what(); }));
  CHECK_EQ(msg, std::string("conflicting declaration of 'f': previously 'int f(int x)', now 'long f(int)'"));
  CHECK(throws<DeclConflict>([&] { s.add_decl(Decl{Decl::Variable, "f", T.func(i, {i}, false), {}}); }));
  CHECK(throws<DeclConflict>([&] { s.add_typedef("f", i); }));
  s.add_typedef("T", i);
  s.add_typedef("T", i);   // identical
  CHECK(throws<DeclConflict>([&] { s.add_typedef("T", l); }, [&](const DeclConflict &e) { msg = e.what(); }));
  CHECK_EQ(msg, std::string("conflicting typedef 'T': previously 'int', now 'long'"));
  CHECK(throws<DeclConflict>([&] { s.add_decl(Decl{Decl::Variable, "T", i, {}}); }));
  // a typedef of a built-in name with the same type is accepted (headers repeat them)
  s.add_typedef("size_t", ty("size_t"));
  std::vector<std::string> tds = {"T"};
  CHECK(s.typedef_names() == tds);
  std::vector<std::string> names = {"f"};
  CHECK(s.decl_names() == names);
}

// ---- arg_spec -----------------------------------------------------------------------

static void test_arg_spec() {
  struct Row {
    const char *type;
    Conv conv;
    unsigned size;
    int64_t min;
    uint64_t max;
  };
  const Row rows[] = {
      {"_Bool", Conv::Bool, 1, 0, 1},
      {"signed char", Conv::SInt, 1, -128, 127},
      {"unsigned char", Conv::UInt, 1, 0, 255},
      {"char", CHAR_MIN < 0 ? Conv::SInt : Conv::UInt, 1, CHAR_MIN, uint64_t(CHAR_MAX)},
      {"short", Conv::SInt, 2, -32768, 32767},
      {"unsigned short", Conv::UInt, 2, 0, 65535},
      {"int", Conv::SInt, 4, INT_MIN, uint64_t(INT_MAX)},
      {"const int", Conv::SInt, 4, INT_MIN, uint64_t(INT_MAX)},
      {"unsigned", Conv::UInt, 4, 0, UINT_MAX},
      {"long", Conv::SInt, sizeof(long), LONG_MIN, uint64_t(LONG_MAX)},
      {"unsigned long", Conv::UInt, sizeof(long), 0, ULONG_MAX},
      {"long long", Conv::SInt, 8, INT64_MIN, uint64_t(INT64_MAX)},
      {"unsigned long long", Conv::UInt, 8, 0, UINT64_MAX},
      {"int8_t", Conv::SInt, 1, -128, 127},
      {"uint16_t", Conv::UInt, 2, 0, 65535},
      {"int32_t", Conv::SInt, 4, INT32_MIN, uint64_t(INT32_MAX)},
      {"uint64_t", Conv::UInt, 8, 0, UINT64_MAX},
      {"size_t", Conv::UInt, sizeof(size_t), 0, SIZE_MAX},
      {"ssize_t", Conv::SInt, sizeof(size_t), PTRDIFF_MIN, uint64_t(PTRDIFF_MAX)},
      {"float", Conv::Float, 4, 0, 0},
      {"double", Conv::Double, 8, 0, 0},
      {"long double", Conv::LongDouble, sizeof(long double), 0, 0},
      {"void", Conv::Void, 0, 0, 0},
      {"void *", Conv::Pointer, sizeof(void *), 0, 0},
      {"const char *const", Conv::Pointer, sizeof(void *), 0, 0},
      {"struct opaque *", Conv::Pointer, sizeof(void *), 0, 0},
      {"int (*)(int)", Conv::FuncPtr, sizeof(void *), 0, 0},
  };
  for (const Row &r : rows) {
    const CType *t = ty(r.type);
    ArgSpec a = arg_spec(t);
    if (a.conv != r.conv || a.size != r.size || a.type != t) {
      g_failed++;
      std::printf("FAIL arg_spec(%s): conv %d size %u\n", r.type, int(a.conv), unsigned(a.size));
      continue;
    }
    g_passed++;
    if (r.conv == Conv::SInt || r.conv == Conv::UInt || r.conv == Conv::Bool) {
      if (a.min != r.min || a.max != r.max) {
        g_failed++;
        std::printf("FAIL arg_spec(%s) range [%lld, %llu], expected [%lld, %llu]\n", r.type,
                    (long long)a.min, (unsigned long long)a.max, (long long)r.min,
                    (unsigned long long)r.max);
      } else {
        g_passed++;
      }
    }
  }
  CHECK(throws<UnsupportedType>([] { arg_spec(ty("struct opaque")); }));
  CHECK(throws<UnsupportedType>([] { arg_spec(ty("int[3]")); }));
  CHECK(throws<UnsupportedType>([] { arg_spec(ty("int (int)")); }));
  CHECK(ffi_type_of(ty("int")) == &ffi_type_sint32);
  CHECK(ffi_type_of(ty("unsigned char")) == &ffi_type_uint8);
  CHECK(ffi_type_of(ty("double")) == &ffi_type_double);
  CHECK(ffi_type_of(ty("char **")) == &ffi_type_pointer);
  CHECK(ffi_type_of(ty("int[3]")) == nullptr);
}

// ---- calls --------------------------------------------------------------------------

extern "C" {
int add3(int a, int b, int c) { return a + b + c; }
double dmix(double a, float b, int c, double d) { return a * 2 + double(b) * 3 + c * 5 + d * 7; }
float fscale(float x, float y) { return x * y + 0.25f; }
long long isum6(signed char a, unsigned char b, short c, unsigned short d, int e, unsigned f) {
  return a + 2LL * b + 3LL * c + 4LL * d + 5LL * e + 6LL * f;
}
long long isum7(int a, int b, int c, int d, int e, int f, long long g) {
  return a + 2LL * b + 3LL * c + 4LL * d + 5LL * e + 6LL * f + 7LL * g;
}
double dsum9(double a, double b, double c, double d, double e, double f, double g, double h,
             double i) {
  return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h + 9 * i;
}
double interleave(int a, double b, long c, float d, unsigned char e, double f) {
  return a * 1.0 + b * 10 + double(c) * 100 + double(d) * 1000 + e * 10000.0 + f * 100000;
}
static int noop_calls = 0;
void noop(void) { noop_calls++; }
bool is_neg(int x) { return x < 0; }
unsigned char low_byte(unsigned x) { return (unsigned char)x; }
signed char neg_char(signed char x) { return (signed char)-x; }
short wrap_short(int x) { return (short)x; }
unsigned long long big(void) { return 0xFEDCBA9876543210ULL; }
const char *skip(const char *s, int n) { return s + n; }
long double ldmul(long double a, long double b) { return a * b; }
int vsum(int n, ...) {
  va_list ap;
  va_start(ap, n);
  int s = 0;
  for (int k = 0; k < n; k++) s += va_arg(ap, int);
  va_end(ap);
  return s;
}
}

// A value to store for argument i, converted as a call's converter would.
struct Val {
  enum { I, F, P } kind;
  int64_t i;
  double f;
  const void *p;
};
static Val iv(int64_t v) { return Val{Val::I, v, 0, nullptr}; }
static Val fv(double v) { return Val{Val::F, 0, v, nullptr}; }
static Val pv(const void *v) { return Val{Val::P, 0, 0, v}; }

static void store(const ArgSpec &a, unsigned char *storage, const Val &v) {
  unsigned char *dst = storage + a.offset;
  switch (a.conv) {
    case Conv::Bool: case Conv::SInt: case Conv::UInt: {
      int64_t x = v.i;   // stored extended to 64 bits
      std::memcpy(dst, &x, 8);
      break;
    }
    case Conv::Float: {
      float f = float(v.f);
      uint64_t bits = 0;
      std::memcpy(&bits, &f, 4);
      std::memcpy(dst, &bits, 8);
      break;
    }
    case Conv::Double: std::memcpy(dst, &v.f, 8); break;
    case Conv::LongDouble: {
      long double ld = v.f;
      std::memcpy(dst, &ld, sizeof ld);
      break;
    }
    case Conv::Pointer: case Conv::FuncPtr: std::memcpy(dst, &v.p, sizeof(void *)); break;
    default: break;
  }
}

// Calls `fn` of type `sig` with `args`, either through the direct stub (which must
// exist when `want_direct`) or through libffi; returns the raw result bytes.
struct Raw {
  uint64_t w[2] = {0, 0};
};
static Raw call(const char *sig, void *fn, const std::vector<Val> &args, bool direct,
                bool *had_direct = nullptr) {
  CallPlan plan;
  make_plan(plan, ty(sig), fn, direct);
  if (had_direct) *had_direct = plan.direct != nullptr;
  if (!direct) CHECK(plan.direct == nullptr);
  CHECK_EQ(plan.args.size(), args.size());
  alignas(16) unsigned char storage[512];
  std::memset(storage, 0xAB, sizeof storage);   // garbage outside the stored values
  CHECK(plan.storage <= sizeof storage);
  for (size_t k = 0; k < args.size() && k < plan.args.size(); k++) store(plan.args[k], storage, args[k]);
  Raw r;
  if (plan.direct) r.w[0] = plan.direct(plan.fn, storage);
  else call_ffi(plan, storage, r.w);
  return r;
}

static int64_t as_int(const CallPlan &, Raw r, const char *sig) {
  ArgSpec a = arg_spec(ty(sig)->target);
  if (a.conv == Conv::Bool) return int64_t(r.w[0] & 0xff);
  return a.conv == Conv::SInt ? extend_signed(r.w[0], a.size) : int64_t(extend_unsigned(r.w[0], a.size));
}
static double as_float(Raw r) {
  float f;
  uint32_t b = uint32_t(r.w[0]);
  std::memcpy(&f, &b, 4);
  return f;
}
static double as_double(Raw r) {
  double d;
  std::memcpy(&d, &r.w[0], 8);
  return d;
}

// Whether the call of `sig` went through its direct stub, as expected.
static void check_direct(const char *sig, bool had_direct, bool expect_direct) {
  if (had_direct != expect_direct) {
    g_failed++;
    std::printf("FAIL %s: direct stub %s\n", sig, had_direct ? "used" : "not used");
  } else {
    g_passed++;
  }
}

// Both engines, compared with each other and with the expected value.
static void both_int(const char *sig, void *fn, const std::vector<Val> &args, int64_t expected,
                     bool expect_direct) {
  bool had_direct = false;
  CallPlan dummy;
  int64_t d = as_int(dummy, call(sig, fn, args, true, &had_direct), sig);
  int64_t f = as_int(dummy, call(sig, fn, args, false), sig);
  check_direct(sig, had_direct, expect_direct);
  if (d != expected || f != expected) {
    g_failed++;
    std::printf("FAIL %s: direct %lld, libffi %lld, expected %lld\n", sig, (long long)d,
                (long long)f, (long long)expected);
  } else {
    g_passed++;
  }
}

static void both_real(const char *sig, void *fn, const std::vector<Val> &args, double expected,
                      bool expect_direct) {
  bool had_direct = false;
  bool is_float = ty(sig)->target == ty("float");
  Raw rd = call(sig, fn, args, true, &had_direct), rf = call(sig, fn, args, false);
  double d = is_float ? as_float(rd) : as_double(rd);
  double f = is_float ? as_float(rf) : as_double(rf);
  check_direct(sig, had_direct, expect_direct);
  if (d != expected || f != expected) {
    g_failed++;
    std::printf("FAIL %s: direct %.17g, libffi %.17g, expected %.17g\n", sig, d, f, expected);
  } else {
    g_passed++;
  }
}

static void test_calls() {
#if defined(__x86_64__) && !defined(_WIN32)
  const bool stubs = true;    // this ABI has direct stubs
#else
  const bool stubs = false;
#endif
  both_int("int (int, int, int)", (void *)add3, {iv(1), iv(20), iv(300)}, 321, stubs);
  both_int("int (int, int, int)", (void *)add3, {iv(-5), iv(INT_MAX), iv(INT_MIN)}, -6, stubs);
  both_real("double (double, float, int, double)", (void *)dmix, {fv(1.5), fv(0.25), iv(-3), fv(2)},
            1.5 * 2 + 0.25 * 3 - 15 + 14, stubs);
  both_real("float (float, float)", (void *)fscale, {fv(1.5), fv(-2.0)}, double(1.5f * -2.0f + 0.25f), stubs);
  float third = 1.0f / 3.0f;
  both_real("float (float, float)", (void *)fscale, {fv(third), fv(3.0)}, double(third * 3.0f + 0.25f), stubs);
  both_int("long long (signed char, unsigned char, short, unsigned short, int, unsigned)",
           (void *)isum6, {iv(-128), iv(255), iv(-32768), iv(65535), iv(INT_MIN), iv(UINT_MAX)},
           -128 + 2LL * 255 - 3LL * 32768 + 4LL * 65535 + 5LL * INT_MIN + 6LL * UINT_MAX, stubs);
  // seven integer arguments: beyond the six registers, libffi
  both_int("long long (int, int, int, int, int, int, long long)", (void *)isum7,
           {iv(1), iv(2), iv(3), iv(4), iv(5), iv(6), iv(INT64_C(1) << 40)},
           1 + 4 + 9 + 16 + 25 + 36 + 7 * (INT64_C(1) << 40), false);
  // nine doubles: beyond the eight xmm registers, libffi
  both_real("double (double, double, double, double, double, double, double, double, double)",
            (void *)dsum9, {fv(1), fv(1), fv(1), fv(1), fv(1), fv(1), fv(1), fv(1), fv(0.5)},
            36 + 4.5, false);
  both_real("double (int, double, long, float, unsigned char, double)", (void *)interleave,
            {iv(1), fv(2), iv(3), fv(4), iv(5), fv(6)}, 1 + 20 + 300 + 4000 + 50000 + 600000.0, stubs);
  both_int("_Bool (int)", (void *)is_neg, {iv(-7)}, 1, stubs);
  both_int("_Bool (int)", (void *)is_neg, {iv(7)}, 0, stubs);
  both_int("unsigned char (unsigned)", (void *)low_byte, {iv(0x1234FF)}, 255, stubs);
  both_int("signed char (signed char)", (void *)neg_char, {iv(5)}, -5, stubs);
  both_int("short (int)", (void *)wrap_short, {iv(0x18000)}, -32768, stubs);
  both_int("unsigned long long (void)", (void *)big, {}, int64_t(0xFEDCBA9876543210ULL), stubs);
  const char *text = "hello";
  {
    Raw d = call("const char *(const char *, int)", (void *)skip, {pv(text), iv(2)}, true);
    Raw f = call("const char *(const char *, int)", (void *)skip, {pv(text), iv(2)}, false);
    CHECK(reinterpret_cast<const char *>(d.w[0]) == text + 2);
    CHECK(reinterpret_cast<const char *>(f.w[0]) == text + 2);
  }
  {
    noop_calls = 0;
    bool had_direct = false;
    call("void (void)", (void *)noop, {}, true, &had_direct);
    call("void (void)", (void *)noop, {}, false);
    CHECK_EQ(noop_calls, 2);
    CHECK_EQ(had_direct, stubs);
  }
  {
    // long double: libffi only, result in memory
    bool had_direct = true;
    Raw r = call("long double (long double, long double)", (void *)ldmul, {fv(1.5), fv(4)}, true, &had_direct);
    CHECK(!had_direct);
    long double ld;
    std::memcpy(&ld, r.w, sizeof ld);
    CHECK(ld == 6.0L);
  }
  {
    // variadic: the fixed part planned, the rest per call
    CallPlan plan;
    make_plan(plan, ty("int (int, ...)"), (void *)vsum);
    CHECK(plan.direct == nullptr);
    CHECK(plan.type->variadic);
    alignas(16) unsigned char storage[256] = {};
    store(plan.args[0], storage, iv(3));
    std::vector<ArgSpec> extra;
    uint32_t off = plan.storage;
    for (int k = 0; k < 3; k++) {
      ArgSpec a = arg_spec(ty("int"));
      a.offset = off;
      off += 8;
      store(a, storage, iv(10 * (k + 1)));
      extra.push_back(a);
    }
    VariadicCall vc;
    CHECK(vc.prepare(plan, extra, storage));
    uint64_t ret[2] = {0, 0};
    vc.call(plan, ret);
    CHECK_EQ(extend_signed(ret[0], 4), int64_t(60));
  }
  // plans: offsets within storage, disjoint 8-byte slots
  {
    CallPlan plan;
    make_plan(plan, ty("double (int, double, long, float, unsigned char, double)"), (void *)interleave);
    std::vector<bool> used(plan.storage, false);
    bool ok = true;
    for (const ArgSpec &a : plan.args) {
      for (uint32_t k = a.offset; k < a.offset + 8; k++) {
        if (k >= plan.storage || used[k]) ok = false;
        else used[k] = true;
      }
    }
    CHECK(ok);
  }
  // a plan for a by-value struct or an array parameter is refused
  {
    CallPlan plan;
    CHECK(throws<UnsupportedType>([&] { make_plan(plan, ty("void (struct opaque)"), (void *)noop); }));
  }
}

// ---- record layout by the Microsoft and the AAPCS64 rules --------------------------------
// Layouts MSVC gives, from its documentation and GCC's description of -mms-bitfields
// (ms_struct); the host's type sizes are used, so no `long` or `long double` here.

struct MemberSpec {
  const char *name, *type;
  int bits = -1;
  size_t aligned = 0;
  bool packed = false;
};

static const Record *laid_out(LayoutRules rules, bool is_union, const std::vector<MemberSpec> &specs,
                              RecordAttrs attrs = {}) {
  Record *r = T.new_record("", is_union, false);
  std::vector<MemberDecl> members;
  for (const MemberSpec &s : specs) {
    MemberDecl m;
    m.name = s.name;
    m.type = ty(s.type);
    m.bit_width = s.bits;
    m.aligned = s.aligned;
    m.packed = s.packed;
    members.push_back(m);
  }
  layout_record(r, members, attrs, rules);
  return r;
}

static const Record *msvc_record(bool is_union, const std::vector<MemberSpec> &specs,
                                 RecordAttrs attrs = {}) {
  return laid_out(LayoutRules::MSVC, is_union, specs, attrs);
}

// The field named `name`: its offset in bits from the start of the record.
static long bit_pos(const Record *r, const char *name) {
  for (const Record::Field &f : r->fields)
    if (f.name == name) return long(8 * f.offset) + (f.bit_offset > 0 ? f.bit_offset : 0);
  return -1;
}

// Checks a laid-out record: its size, its alignment (0: not checked) and the bit
// positions of the fields named; a failure names the line of the CHECK_LAYOUT.
static void check_layout(int line, const Record *r, size_t size, size_t align,
                         std::initializer_list<std::pair<const char *, long>> bits = {}) {
  check_eq(r->size, size, "r->size", "size", line);
  if (align) check_eq(r->align, align, "r->align", "align", line);
  for (const auto &b : bits) {
    std::string what = std::string("bit_pos(r, \"") + b.first + "\")";
    check_eq(bit_pos(r, b.first), b.second, what.c_str(), "bits", line);
  }
}
#define CHECK_LAYOUT(...) check_layout(__LINE__, __VA_ARGS__)

static RecordAttrs pragma_pack(size_t n) {
  RecordAttrs a;
  a.pack = n;
  return a;
}

static void test_layout_msvc() {
  // A bit-field of a type of another size opens a new unit aligned for its type.
  CHECK_LAYOUT(msvc_record(false, {{"a", "char", 4}, {"b", "int", 4}}), 8, 4, {{"a", 0}, {"b", 32}});
  CHECK_LAYOUT(msvc_record(false, {{"a", "int", 1}, {"b", "short", 1}}), 8, 0, {{"b", 32}});
  CHECK_LAYOUT(msvc_record(false, {{"a", "char"}, {"b", "int", 4}, {"c", "char"}}), 12, 0, {{"b", 32}, {"c", 64}});
  CHECK_LAYOUT(msvc_record(false, {{"a", "long long", 40}, {"b", "int", 8}}), 16, 8, {{"b", 64}});
  CHECK_LAYOUT(msvc_record(false, {{"a", "char"}, {"b", "long long", 4}, {"c", "char"}}), 24, 0,
               {{"b", 64}, {"c", 128}});
  // Bit-fields of types of the same size share a unit while they fit; never straddle.
  CHECK_LAYOUT(msvc_record(false, {{"a", "int", 4}, {"b", "int", 4}}), 4, 0, {{"b", 4}});
  CHECK_LAYOUT(msvc_record(false, {{"a", "int", 4}, {"b", "unsigned int", 4}}), 4, 0, {{"b", 4}});
  CHECK_LAYOUT(msvc_record(false, {{"a", "int", 30}, {"b", "int", 4}}), 8, 0, {{"b", 32}});
  CHECK_LAYOUT(msvc_record(false, {{"a", "char", 4}, {"b", "char", 6}}), 2, 1, {{"b", 8}});
  // Zero-width bit-fields (the four cases of GCC's ms_struct documentation).
  CHECK_LAYOUT(msvc_record(false, {{"bf_1", "unsigned int", 12}, {"", "unsigned int", 0},
                                  {"bf_2", "unsigned int", 12}}), 8, 0);
  CHECK_LAYOUT(msvc_record(false, {{"bf_1", "unsigned int", 12}, {"bf_2", "unsigned int", 12}}), 4, 0);
  CHECK_LAYOUT(msvc_record(false, {{"foo", "char", 4}, {"", "short", 0}, {"bar", "char"}}), 4, 2, {{"bar", 16}});
  CHECK_LAYOUT(msvc_record(false, {{"foo", "char", 4}, {"", "short", 0}, {"bar", "double"}}), 16, 0, {{"bar", 64}});
  CHECK_LAYOUT(msvc_record(false, {{"foo", "char", 4}, {"", "short", 0}}), 2, 0);
  CHECK_LAYOUT(msvc_record(false, {{"foo", "char"}, {"", "long long", 0}, {"bar", "char"}}), 2, 1, {{"bar", 8}});
  CHECK_LAYOUT(msvc_record(false, {{"", "long long", 0}, {"bar", "char"}}), 1, 0);
  // In a union, bit-fields give their size but not their alignment.
  CHECK_LAYOUT(msvc_record(true, {{"a", "int", 3}, {"b", "char"}}), 4, 1);
  CHECK_LAYOUT(msvc_record(true, {{"a", "int", 3}, {"b", "short"}}), 4, 2);
  // #pragma pack caps the members' alignment; an explicit alignment is not capped.
  CHECK_LAYOUT(msvc_record(false, {{"a", "char"}, {"b", "int"}}, pragma_pack(1)), 5, 1, {{"b", 8}});
  CHECK_LAYOUT(msvc_record(false, {{"a", "char"}, {"b", "int"}, {"c", "char"}}, pragma_pack(2)), 8, 2,
               {{"b", 16}, {"c", 48}});
  CHECK_LAYOUT(msvc_record(false, {{"a", "char", 4}, {"b", "int", 4}}, pragma_pack(2)), 6, 0, {{"b", 16}});
  {
    MemberSpec b{"b", "int"};
    b.aligned = 8;
    CHECK_LAYOUT(msvc_record(false, {{"a", "char"}, b}, pragma_pack(1)), 16, 8, {{"b", 64}});
  }
  // __declspec(align(n)) on the record.
  {
    RecordAttrs a16;
    a16.aligned = 16;
    CHECK_LAYOUT(msvc_record(false, {{"a", "int"}}, a16), 16, 16);
  }
  // Ordinary members are laid out as everywhere.
  CHECK_LAYOUT(msvc_record(false, {{"c", "char"}, {"d", "double"}, {"s", "short"}}), 24, 8, {{"d", 64}, {"s", 128}});
}

// AArch64 Linux (GCC, and Clang's aarch64-linux-gnu zero-length bit-field tables): unnamed
// bit-fields align the record like named ones.  `long` is 8 bytes there as on LP64 hosts.
static void test_layout_aapcs64() {
  auto a64 = [](const std::vector<MemberSpec> &specs) { return laid_out(LayoutRules::AAPCS64, false, specs); };
  auto sysv = [](const std::vector<MemberSpec> &specs) { return laid_out(LayoutRules::SysV, false, specs); };
  struct Case {
    std::vector<MemberSpec> members;
    const char *probe;
    long offset;   // bytes
    size_t size;
  };
  const std::vector<Case> cases = {
      {{{"foo", "int", 1}, {"", "char", 0}, {"bar", "char"}}, "bar", 1, 4},                 // t1
      {{{"foo", "int", 1}, {"", "short", 0}, {"bar", "char"}}, "bar", 2, 4},                // t2
      {{{"foo", "int", 1}, {"", "int", 0}, {"bar", "char"}}, "bar", 4, 8},                  // t3
      {{{"foo", "int", 1}, {"", "long", 0}, {"bar", "char"}}, "bar", 8, 16},                // t4
      {{{"foo", "int", 1}, {"", "long long", 0}, {"bar", "char"}}, "bar", 8, 16},           // t5
      {{{"foo", "int", 1}, {"", "char", 0}, {"bar", "char", 1}, {"bar2", "char"}}, "bar2", 2, 4},
      {{{"foo", "int", 1}, {"", "short", 0}, {"bar1", "char", 1}, {"bar2", "char"}}, "bar2", 3, 4},
      {{{"foo", "int", 1}, {"", "int", 0}, {"bar1", "char", 1}, {"bar2", "char"}}, "bar2", 5, 8},
      {{{"foo", "int", 1}, {"", "long", 0}, {"bar1", "char", 1}, {"bar2", "char"}}, "bar2", 9, 16},
      {{{"foo", "int", 1}, {"", "long long", 0}, {"", "char", 0}, {"bar1", "char", 1}, {"bar2", "char"}},
       "bar2", 9, 16},                                                                           // t11
      {{{"foo", "int", 1}, {"", "char", 0}, {"", "long long", 0}, {"", "char", 0}, {"bar", "char"}},
       "bar", 8, 16},                                                                            // t12
      {{{"foo", "char"}, {"", "long", 0}, {"bar", "char"}}, "bar", 8, 16},                  // t13
      {{{"foo1", "char"}, {"", "int", 0}, {"foo2", "char", 1}, {"foo3", "short", 16}, {"", "char", 0},
        {"foo4", "short", 16}, {"bar1", "char"}, {"", "int", 0}, {"bar2", "char"}}, "bar2", 12, 16},
      {{{"foo", "char"}, {"", "char", 0}, {"", "int", 0}, {"bar", "char"}, {"", "long", 0}, {"", "char", 0}},
       "bar", 4, 8},                                                                             // t15
      {{{"", "long", 0}, {"bar", "char"}}, "bar", 0, 8},                                    // t16
      {{{"foo", "char"}, {"", "long", 0}, {"", "long", 0}, {"", "char", 0}, {"bar", "char"}}, "bar", 8, 16},
      {{{"foo1", "char"}, {"foo2", "long", 1}, {"", "char", 0}, {"foo3", "long", 32}, {"bar", "char"}},
       "bar", 6, 8},                                                                             // t19
      {{{"", "short", 0}, {"foo", "int", 1}, {"", "long", 0}, {"bar", "char"}}, "bar", 8, 16},  // t20
      {{{"foo", "char"}, {"", "short", 2}, {"bar", "char"}}, "bar", 2, 4},                  // t22
  };
  for (const Case &c : cases) {
    const Record *r = a64(c.members);
    CHECK_EQ(bit_pos(r, c.probe), 8 * c.offset);
    CHECK_EQ(r->size, c.size);
  }
  // t14: two offsets
  {
    auto r = a64({{"foo1", "char"}, {"", "int", 0}, {"foo2", "char", 1}, {"foo3", "short", 16}, {"", "char", 0},
                  {"foo4", "short", 16}, {"bar1", "char"}, {"", "int", 0}, {"bar2", "char"}});
    CHECK_EQ(bit_pos(r, "bar1"), 80);
    CHECK_EQ(r->align, 4u);
  }
  // t21: a long mix
  {
    auto r = a64({{"", "short", 0}, {"foo1", "int", 1}, {"", "char", 0}, {"foo2", "int", 16}, {"", "long", 0},
                  {"bar1", "char"}, {"bar2", "int"}, {"bar3", "long"}, {"foo3", "char", 8}, {"", "char", 0},
                  {"", "long", 0}, {"foo4", "int", 32}, {"foo5", "short", 1}, {"bar4", "long"},
                  {"foo6", "short", 16}, {"foo7", "short", 16}, {"foo8", "short", 16}});
    CHECK_EQ(bit_pos(r, "bar1"), 64);
    CHECK_EQ(bit_pos(r, "bar2"), 96);
    CHECK_EQ(bit_pos(r, "bar3"), 128);
    CHECK_EQ(bit_pos(r, "bar4"), 320);
    CHECK_EQ(r->size, 56u);
  }
  // The same declarations by the x86-64 rules: the positions agree, the alignment not.
  {
    auto r = sysv({{"foo", "char"}, {"", "long", 0}, {"bar", "char"}});
    CHECK_EQ(bit_pos(r, "bar"), 64);
    CHECK_EQ(r->size, 9u);
    CHECK_EQ(r->align, 1u);
    auto r2 = sysv({{"foo", "char"}, {"", "short", 2}, {"bar", "char"}});
    CHECK_EQ(bit_pos(r2, "bar"), 16);
    CHECK_EQ(r2->align, 1u);
  }
  // A zero-width bit-field's alignment is not capped by #pragma pack; a named one's is.
  {
    RecordAttrs p1;
    p1.pack = 1;
    auto r = laid_out(LayoutRules::AAPCS64, false, {{"a", "char"}, {"", "int", 0}, {"b", "char"}}, p1);
    CHECK_EQ(bit_pos(r, "b"), 32);
    CHECK_EQ(r->align, 4u);
    auto r2 = laid_out(LayoutRules::AAPCS64, false, {{"a", "char"}, {"", "int", 3}, {"b", "char"}}, p1);
    CHECK_EQ(r2->align, 1u);
  }
}

// An enum's integer type: GCC's by its values (smallest type when packed), MSVC's int.
static void test_enum_bases() {
  struct Case { int64_t lo, hi; bool packed; const char *sysv; };
  const Case cases[] = {{0, 5, false, "unsigned int"},      {-1, 5, false, "int"},
                        {0, 1ll << 32, false, "unsigned long"}, {-1, 1ll << 31, false, "long"},
                        {0, 200, true, "unsigned char"},     {0, 300, true, "unsigned short"},
                        {-100, 100, true, "signed char"},    {-200, 100, true, "short"},
                        {-1, 1ll << 40, true, "long"}};
  for (const Case &c : cases) {
    Record *r = TypeTable::get().new_record("", false, true);
    layout_enum(r, c.lo, c.hi, c.packed, LayoutRules::SysV);
    CHECK_EQ(r->enum_base->name, std::string(c.sysv));
    CHECK_EQ(r->size, r->enum_base->size);
    CHECK(r->complete);
    Record *m = TypeTable::get().new_record("", false, true);
    if (c.lo >= INT32_MIN && c.hi <= INT32_MAX) {
      layout_enum(m, c.lo, c.hi, c.packed, LayoutRules::MSVC);
      CHECK_EQ(m->enum_base->name, std::string("int"));
    } else {
      bool threw = false;
      try { layout_enum(m, c.lo, c.hi, c.packed, LayoutRules::MSVC); } catch (const std::runtime_error &) { threw = true; }
      CHECK(threw);
    }
  }
}

// ---- closures -------------------------------------------------------------------------

// The handler of the closures below: the sum of argument i times i + 1, as the result type.
static int closure_calls = 0;

static double closure_arg(const ArgSpec &a, const void *p) {
  switch (a.conv) {
    case Conv::SInt:
      return a.size == 1 ? *(const int8_t *)p : a.size == 2 ? *(const int16_t *)p
             : a.size == 4 ? *(const int32_t *)p : double(*(const int64_t *)p);
    case Conv::UInt:
      return a.size == 1 ? *(const uint8_t *)p : a.size == 2 ? *(const uint16_t *)p
             : a.size == 4 ? *(const uint32_t *)p : double(*(const uint64_t *)p);
    case Conv::Pointer: return double(uintptr_t(*(void *const *)p));
    case Conv::Double: return *(const double *)p;
    case Conv::Float: return *(const float *)p;
    default: return NAN;
  }
}

static void closure_handler(Closure *c, void *ret, void **args) {
  closure_calls++;
  CHECK(c->user.load() == &closure_calls);
  const CallbackPlan &plan = *c->plan;
  double s = 0;
  for (size_t i = 0; i < plan.args.size(); i++) s += closure_arg(plan.args[i], args[i]) * double(i + 1);
  switch (plan.ret.conv) {
    case Conv::SInt:
    case Conv::UInt: {
      int64_t v = int64_t(s);
      memcpy(ret, &v, 8);
      break;
    }
    case Conv::Double: memcpy(ret, &s, 8); break;
    case Conv::Float: {
      float f = float(s);
      memcpy(ret, &f, 4);
      break;
    }
    default: break;
  }
}

// Every closure of `sig` (direct, and through libffi) returns `want` for the arguments
// (for a void result: is called).
template <class F, class W, class... A>
static void check_closure(const char *sig, bool direct, int reg_args, W want, A... args) {
  using R = decltype(std::declval<F>()(args...));
  for (bool allow_direct : {true, false}) {
    const CallbackPlan &plan = callback_plan(ty(sig), allow_direct);
    CHECK_EQ(plan.direct, allow_direct && direct);
    CHECK_EQ(plan.reg_args, allow_direct ? reg_args : -1);
    // Twice: the second closure comes back from the free list.
    for (int round = 0; round < 2; round++) {
      Closure *c = closure_new(plan, closure_handler, &closure_calls);
      CHECK_EQ(c->ffi == nullptr, allow_direct && direct);
      int before = closure_calls;
      if constexpr (std::is_void<R>::value) {
        reinterpret_cast<F>(c->code)(args...);
      } else {
        R got = reinterpret_cast<F>(c->code)(args...);
        CHECK_EQ(got, R(want));
      }
      CHECK_EQ(closure_calls, before + 1);
      closure_release(c, true);
    }
  }
}

static void test_closures() {
#if defined(__x86_64__) && !defined(_WIN32)
  const bool direct = true;
#else
  const bool direct = false;
#endif
  int r = direct ? 0 : -1;   // the register entry's argument count, where there is one
  check_closure<int (*)(int)>("int (int)", direct, direct ? 1 : -1, -41, -41);
  check_closure<int (*)(void)>("int (void)", direct, r, 0);
  check_closure<void (*)(void)>("void (void)", direct, r, 0);
  check_closure<long long (*)(int, long long, unsigned char, short, void *)>(
      "long long (int, long long, unsigned char, short, void *)", direct, direct ? 5 : -1,
      (long long)(-1 + 2 * 1000000000000LL + 3 * 255 - 4 * 7 + 5 * 4096), -1, 1000000000000LL,
      (unsigned char)255, (short)-7, (void *)4096);
  check_closure<double (*)(int, unsigned)>("double (int, unsigned)", direct, direct ? 2 : -1,
                                           -3.0 + 2 * 4000000000.0, -3, 4000000000u);
  check_closure<float (*)(short)>("float (short)", direct, direct ? 1 : -1, -2.0f, (short)-2);
  // six integer arguments: no register left for the closure, the frame entry
  check_closure<int (*)(int, int, int, int, int, int)>("int (int, int, int, int, int, int)", direct, -1,
                                                       1 + 4 + 9 + 16 + 25 + 36, 1, 2, 3, 4, 5, 6);
  // floating-point arguments: the frame entry
  check_closure<double (*)(double, int, float)>("double (double, int, float)", direct, -1,
                                                0.5 + 2 * 3 + 3 * 0.25, 0.5, 3, 0.25f);
}

int main() {
  test_interning();
  test_str();
  test_decl_str();
  test_parse_errors();
  test_parse_and_scope();
  test_scope_conflicts();
  test_arg_spec();
  test_calls();
  test_closures();
  test_layout_msvc();
  test_layout_aapcs64();
  test_enum_bases();
  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed ? 1 : 0;
}
