// Core tests: a scope's transactions (a failing cdef leaves it as it was), declaring
// again (identical or conflicting), and the limits on nesting and type depth.

#include <pthread.h>

#include <algorithm>
#include <string>
#include <vector>

#include "check.h"
#include "nd_limits.h"

namespace core_tests {

static std::string repeat(const std::string &s, int n) {
  std::string out;
  for (int i = 0; i < n; i++) out += s;
  return out;
}

static bool mentions(const std::string &what, const char *fragment) {
  if (what.find(fragment) != std::string::npos) return true;
  std::printf("FAIL message '%s' lacks '%s'\n", what.c_str(), fragment);
  return false;
}

// ---- transactions -------------------------------------------------------------------

void test_transactions() {
  Scope s(&B);
  cdef(s, "struct later; int f(int); typedef int T;\n#define N 1\nenum e { A, B };");
  CHECK_EQ(s.calls(), 1u);
  Record *later = s.find_tag("later", false, false);
  CHECK(later && !later->complete);
  // A cdef that adds one of each kind, completes `struct later`, names f's parameter,
  // and then fails: all of it is taken out again, newest first.
  CHECK(throws<CDefError>([&] {
    cdef(s, "struct later { int x; double y; }; struct fresh { int a; };\n"
            "int f(int named); int g(void); typedef long U;\n#define M 2\nenum e2 { C };\n"
            "int f(long);");
  }));
  CHECK_EQ(s.calls(), 2u);
  CHECK(!later->complete && later->fields.empty() && later->size == 0 && later->depth == 0);
  CHECK(s.find_tag("fresh", false, false) == nullptr);
  CHECK(s.find_tag("e2", false, true) == nullptr);
  CHECK(s.find_decl("g") == nullptr && s.find_typedef("U") == nullptr);
  CHECK(s.find_constant("M") == nullptr && s.find_constant("C") == nullptr);
  CHECK_EQ(s.find_decl("f")->str(), std::string("int f(int)"));   // the name is not kept
  CHECK((s.decl_names() == std::vector<std::string>{"f"}));
  CHECK((s.typedef_names() == std::vector<std::string>{"T"}));
  CHECK((s.constant_names() == std::vector<std::string>{"N", "A", "B"}));
  // ... and the scope takes the same declarations afterwards, differently too
  cdef(s, "struct later { char c; }; struct fresh { long a; }; int f(int named); int g(void);");
  CHECK(later->complete && later->size == 1);
  CHECK_EQ(s.find_decl("f")->str(), std::string("int f(int named)"));
  CHECK_EQ(s.calls(), 3u);
  // a body that fails half way leaves a declared tag as it was
  cdef(s, "enum fwd;");
  CHECK(throws<CDefError>([&] { cdef(s, "enum fwd { P, Q = nothing };"); }));
  CHECK(throws<CDefError>([&] { cdef(s, "struct twice { struct twice { int a; } in; };"); },
                          [&](const CDefError &e) { CHECK(mentions(e.what(), "nested redefinition of 'struct twice'")); }));
  Record *fwd = s.find_tag("fwd", false, true);
  CHECK(fwd && !fwd->complete && fwd->enumerators.empty() && s.find_constant("P") == nullptr);
  cdef(s, "enum fwd { R };");
  CHECK(fwd->complete && fwd->enumerators.size() == 1);
  // outside a transaction (the built-in scope is made so), nothing is logged
  Scope plain(&B);
  plain.add_typedef("X", ty("int"));
  plain.roll_back();
  CHECK(plain.find_typedef("X") == ty("int"));
}

// ---- declaring again ----------------------------------------------------------------

void test_redefinitions() {
  Scope s(&B);
  const char *text =
      "typedef struct W { int t; char d[12]; struct { short a, b; } in; unsigned f : 3; } W;\n"
      "union U { int i; float f; };\n"
      "enum color { RED, GREEN = 5, BLUE };\n"
      "struct P { char c; int i; } __attribute__((packed));\n"
      "#pragma pack(2)\nstruct Q { char c; int i; };\n#pragma pack()\n"
      "struct O { struct I { int x; } i; struct O *next; };\n"
      "void use(W *w, enum color c);\n#define SIZE 16\nextern int counter;";
  cdef(s, text);
  const CType *w = parse_type(s, "struct W"), *u = parse_type(s, "union U"), *c = parse_type(s, "enum color");
  const CType *inner = parse_type(s, "struct I");
  cdef(s, text);   // run again: accepted, the same types
  cdef(s, "struct W; union U; enum color; struct W *p(void);");   // forward declarations after
  CHECK(parse_type(s, "struct W") == w && parse_type(s, "union U") == u && parse_type(s, "enum color") == c);
  CHECK(parse_type(s, "struct I") == inner && s.find_typedef("W") == w && w->is_complete());
  CHECK_EQ(s.find_constant("GREEN")->i, int64_t(5));

  struct Conflict {
    const char *text, *fragment;
  };
  const Conflict conflicts[] = {
      {"struct W { int t; char d[13]; struct { short a, b; } in; unsigned f : 3; };",
       "member 'd' is 'char d[13]', was 'char d[12]'"},
      {"struct W { int t; char d[12]; struct { short a, b; } in; unsigned f : 4; };", "member 'f'"},
      {"struct W { int t; char d[12]; struct { short a, c; } in; unsigned f : 3; };", "member 'in'"},
      {"struct W { int t; char d[12]; struct { short a, b; } in; };", "member 'f' ('unsigned int f : 3') is missing"},
      {"union U { int i; float f; double d; };", "member 'd' ('double d') is new"},
      {"union U { int i; float g; };", "member 'f' is 'float g', was 'float f'"},
      {"enum color { RED, GREEN = 5, BLUE, PINK };", "enumerator 'PINK' is new"},
      {"enum color { RED, GREEN = 5 };", "enumerator 'BLUE' is missing"},
      {"enum color { RED, GREEN = 5, BLUE } __attribute__((packed));", "its integer type is 'unsigned char'"},
      {"enum color { RED, GREEN = 6, BLUE };", "conflicting definition of 'GREEN': previously 5, now 6"},
      {"struct P { char c; int i; };", "member 'i' is at offset 4, was at 1"},
      {"struct Q { char c; int i; };", "member 'i' is at offset 4, was at 2"},
      {"#pragma pack(4)\nstruct Q { char c; short s; };", "member 'i' is 'short s', was 'int i'"},
      {"struct I { int x; } __attribute__((aligned(4)));", "what lays it out differs"},
      {"struct O { struct I { long x; } i; struct O *next; };", "conflicting definition of 'struct I'"},
  };
  for (const Conflict &k : conflicts) {
    size_t names = s.decl_names().size();
    bool thrown = throws<CDefError>([&] { cdef(s, k.text); }, [&](const CDefError &e) {
      CHECK(mentions(e.what(), k.fragment));
      CHECK(e.previous.call == 1 && e.previous.line > 0 && e.previous.column > 0);
      CHECK(mentions(e.what(), "of cdef call 1, again at line "));
    });
    if (!thrown) std::printf("FAIL accepted: %s\n", k.text);
    CHECK(thrown);
    CHECK_EQ(s.decl_names().size(), names);
  }
  CHECK(parse_type(s, "struct W") == w && w->record->fields.size() == 4);

  // the positions of both definitions, and which call made the first
  bool thrown = throws<CDefError>([&] { cdef(s, "int x;\n  union U { long l; };"); }, [&](const CDefError &e) {
    CHECK_EQ(e.line, 2);
    CHECK_EQ(e.column, 9);
    CHECK_EQ(e.previous.line, 2u);
    CHECK_EQ(e.previous.column, 7u);
    CHECK_EQ(e.previous.call, 1u);
    CHECK(mentions(e.what(), "(first at line 2, column 7 of cdef call 1, again at line 2, column 9)"));
  });
  CHECK(thrown);
  thrown = throws<CDefError>([&] { cdef(s, "struct N { int a; };\nstruct N { int b; };"); }, [&](const CDefError &e) {
    CHECK(mentions(e.what(), "first at line 1, column 8 of this cdef call, again at line 2, column 8"));
  });
  CHECK(thrown);
  // functions, globals, typedefs and constants: the same again is accepted, another is not
  cdef(s, "void use(W *, enum color); extern int counter; typedef struct W W;\n#define SIZE (8 * 2)");
  for (const char *bad : {"void use(W *w, int c);", "extern long counter;", "typedef int W;", "#define SIZE 17",
                          "int counter(void);"}) {
    CHECK(throws<CDefError>([&] { cdef(s, bad); }, [&](const CDefError &e) {
      CHECK(e.previous.call == 1);
      CHECK(mentions(e.what(), "(first at line "));
    }));
  }
}

// ---- limits on nesting and depth ------------------------------------------------------

// A chain of `n` declarations, each one level deeper than the one before.
static std::string chain(const char *kind, int n) {
  std::string s;
  for (int i = 0; i < n; i++) {
    std::string me = std::to_string(i), prev = std::to_string(i - 1);
    if (std::string(kind) == "struct")
      s += i ? "struct s" + me + " { struct s" + prev + " x; };\n" : "struct s0 { int a; };\n";
    else if (std::string(kind) == "pointer")
      s += i ? "typedef p" + prev + " *p" + me + ";\n" : "typedef int p0;\n";
    else if (std::string(kind) == "array")
      s += i ? "typedef a" + prev + " a" + me + "[1];\n" : "typedef int a0;\n";
    else
      s += i ? "typedef void f" + me + "(f" + prev + " *);\n" : "typedef void f0(void);\n";
  }
  return s;
}

static void at_limit_and_past(const char *kind, int ok, const char *fragment) {
  Scope s(&B);
  cdef(s, chain(kind, ok));
  if (std::string(kind) == "struct")   // the deepest struct, by pointer and by value
    cdef(s, "struct s999 *first(const struct s999 *p); struct s999 echo(struct s999 v);"
            "typedef struct s999 (*echo_t)(struct s999);");
  Scope t(&B);
  bool thrown = throws<CDefError>([&] { cdef(t, chain(kind, ok + 1)); }, [&](const CDefError &e) {
    CHECK_EQ(e.line, ok + 1);   // the first declaration past the limit
    CHECK(mentions(e.what(), fragment));
  });
  if (!thrown) std::printf("FAIL %s chain of %d accepted\n", kind, ok + 1);
  CHECK(thrown);
  CHECK(t.decl_names().empty() && t.typedef_names().empty());
}

// A scope of another ABI's types (laid out only) takes part in transactions and
// redeclarations like the host's: what Microsoft's rules keep beyond size and alignment
// (the alignment packing does not lower) is undone with the body and tells two
// definitions apart.
void test_other_abi_scopes() {
  Scope s(&Scope::builtins(targets::x86_64_windows, /*layout_only=*/true));
  CHECK(&s.target() == &targets::x86_64_windows && s.layout_only());
  cdef(s, "struct later;");
  Record *later = s.find_tag("later", false, false);
  CHECK(throws<CDefError>([&] { cdef(s, "struct later { __declspec(align(8)) int x; }; int f(int); int f(long);"); }));
  CHECK(later && !later->complete && later->required_align == 0);
  cdef(s, "struct later { __declspec(align(8)) int x; };");
  CHECK_EQ(later->required_align, size_t(8));
  CHECK_EQ(parse_type(s, "long")->byte_size(), size_t(4));   // the ABI's, not the host's
  // spelled alike, laid out alike alone, but not as members under #pragma pack
  CHECK(throws<CDefError>([&] {
    cdef(s, "typedef struct { __declspec(align(4)) int x; } T;\ntypedef struct { int x; } T;");
  }, [&](const CDefError &e) { CHECK(mentions(e.what(), "its required alignment is 1, was 4")); }));
  cdef(s, "typedef struct { __declspec(align(4)) int x; } T;\ntypedef struct { __declspec(align(4)) int x; } T;");
}

void test_depth_limits() {
  const size_t L = kMaxTypeDepth;
  // depths as the type model counts them
  CHECK_EQ(ty("int")->depth(), size_t(0));
  CHECK_EQ(ty("int **")->depth(), size_t(2));
  CHECK_EQ(ty("int (*)[3]")->depth(), size_t(2));
  CHECK_EQ(ty("int (*)(char **)")->depth(), size_t(3));
  Scope s(&B);
  cdef(s, "struct a { int x; }; struct b { struct a y[2]; }; struct n { struct n *next; };");
  CHECK_EQ(parse_type(s, "struct b")->depth(), size_t(3));
  CHECK_EQ(parse_type(s, "struct n")->depth(), size_t(2));
  // a struct pointed to or passed is walked on its own: it counts 0 there
  CHECK_EQ(parse_type(s, "struct b *")->depth(), size_t(1));
  CHECK_EQ(parse_type(s, "struct b (*)(struct b)")->depth(), size_t(1));
  CHECK_EQ(parse_type(s, "struct b[4]")->depth(), size_t(4));

  // chains through typedefs and tags: at the limit accepted, one past it refused
  at_limit_and_past("struct", int(L), "'struct s1000': type is nested too deeply (more than 1000 levels");
  at_limit_and_past("pointer", int(L) + 1, "'p1001': type is nested too deeply");
  at_limit_and_past("array", int(L) + 1, "'a1001': type is nested too deeply");
  at_limit_and_past("function", int(L) + 1, "type is nested too deeply");
  // a chain of typedef names for one type does not nest
  {
    Scope a(&B);
    std::string text = "typedef int t0;\n";
    for (int i = 1; i < 20000; i++) text += "typedef t" + std::to_string(i - 1) + " t" + std::to_string(i) + ";\n";
    cdef(a, text);
    CHECK(a.find_typedef("t19999") == ty("int"));
  }

  // lexical nesting: 200 levels of declarators, bodies and type names, 200 of expressions
  struct Case {
    std::string ok, past;
  };
  auto wrap = [](const std::string &open, const std::string &mid, const std::string &close, int n) {
    return repeat(open, n) + mid + repeat(close, n);
  };
  const Case cases[] = {
      {"int " + wrap("(", "x", ")", 199) + ";", "int " + wrap("(", "x", ")", 200) + ";"},
      {wrap("struct {", "int a;", "} x;", 199) + ";", wrap("struct {", "int a;", "} x;", 200) + ";"},
      {"int f(" + wrap("int (*)(", "", ")", 198) + ");", "int f(" + wrap("int (*)(", "", ")", 199) + ");"},
      {"int x[" + wrap("(", "1", ")", 199) + "];", "int x[" + wrap("(", "1", ")", 200) + "];"},
      {"int x[" + repeat("-", 198) + "1];", "int x[" + repeat("-", 200) + "1];"},
      {"int x[" + repeat("1?", 199) + "1" + repeat(":1", 199) + "];",
       "int x[" + repeat("1?", 200) + "1" + repeat(":1", 200) + "];"},
      // expressions in type names in expressions add up, as declarators do
      {"int x[" + wrap("sizeof(char[", "1", "])", 99) + "];", "int x[" + wrap("sizeof(char[", "1", "])", 100000) + "];"},
  };
  for (const Case &k : cases) {
    Scope a(&B);
    bool ok = !throws<CDefError>([&] { cdef(a, k.ok); });
    if (!ok) std::printf("FAIL refused at the limit: %.60s...\n", k.ok.c_str());
    CHECK(ok);
    CHECK(throws<CDefError>([&] { cdef(a, k.past); }, [&](const CDefError &e) {
      CHECK(mentions(e.what(), "nested too deeply"));
    }));
  }

  // a thread with a small stack gets the same error earlier instead of overflowing (the
  // smallest stack a thread may have is 16 KiB on x86-64 Linux, 128 KiB on AArch64)
  const size_t least = std::max<size_t>(64 * 1024, size_t(PTHREAD_STACK_MIN));
  for (size_t size : {least, 4 * least}) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    CHECK_EQ(pthread_attr_setstacksize(&attr, size), 0);
    struct Job {
      std::string text;
      std::string error;
      bool done = false;
    } job{"int x[" + repeat("(", 199) + "1" + repeat(")", 199) + "]; " + wrap("struct {", "int a;", "} y;", 199) + ";"};
    pthread_t th;
    int rc = pthread_create(&th, &attr, [](void *p) -> void * {
      auto *j = static_cast<Job *>(p);
      Scope a(&B);
      try {
        cdef(a, j->text);
      } catch (const CDefError &e) {
        j->error = e.what();
      }
      j->done = true;
      return nullptr;
    }, &job);
    CHECK_EQ(rc, 0);
    if (rc == 0) pthread_join(th, nullptr);
    pthread_attr_destroy(&attr);
    CHECK(job.done);
    if (size == least) CHECK(mentions(job.error, "nested too deeply for the stack of this thread"));
  }
}

}  // namespace core_tests
