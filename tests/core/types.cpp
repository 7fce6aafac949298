// Core tests: interning of types, their C spelling, the declaration parser and scopes,
// and argument specs.

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

#include "check.h"

namespace core_tests {

// ---- interning ----------------------------------------------------------------------

void test_interning() {
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

void test_str() {
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

void test_decl_str() {
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

void test_parse_errors() {
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

void test_parse_and_scope() {
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

void test_scope_conflicts() {
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

void test_arg_spec() {
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

}  // namespace core_tests
