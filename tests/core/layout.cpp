// Core tests: record layout by the Microsoft and AAPCS64 rules (the SysV rules are checked
// against the compiler by tests/cdef/test_layout.py), and the integer types of enums.

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

// ---- record layout by the Microsoft and the AAPCS64 rules --------------------------------
// Layouts MSVC gives, from its documentation and GCC's description of -mms-bitfields
// (ms_struct); the host's type sizes are used, so no `long` or `long double` here.

struct MemberSpec {
  const char *name, *type;
  int bits = -1;
  size_t aligned = 0;
  bool packed = false;
};

static const Record *laid_out(const Target &abi, bool is_union, const std::vector<MemberSpec> &specs,
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
  layout_record(r, members, attrs, abi);
  return r;
}

static const Record *msvc_record(bool is_union, const std::vector<MemberSpec> &specs,
                                 RecordAttrs attrs = {}) {
  return laid_out(targets::x86_64_windows, is_union, specs, attrs);
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
  check_eq(r->size, size, "r->size", "size", __FILE__, line);
  if (align) check_eq(r->align, align, "r->align", "align", __FILE__, line);
  for (const auto &b : bits) {
    std::string what = std::string("bit_pos(r, \"") + b.first + "\")";
    check_eq(bit_pos(r, b.first), b.second, what.c_str(), "bits", __FILE__, line);
  }
}
#define CHECK_LAYOUT(...) check_layout(__LINE__, __VA_ARGS__)

static RecordAttrs pragma_pack(size_t n) {
  RecordAttrs a;
  a.pack = n;
  return a;
}

void test_layout_msvc() {
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
void test_layout_aapcs64() {
  auto a64 = [](const std::vector<MemberSpec> &specs) { return laid_out(targets::aarch64_linux, false, specs); };
  auto sysv = [](const std::vector<MemberSpec> &specs) { return laid_out(targets::x86_64_linux, false, specs); };
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
    auto r = laid_out(targets::aarch64_linux, false, {{"a", "char"}, {"", "int", 0}, {"b", "char"}}, p1);
    CHECK_EQ(bit_pos(r, "b"), 32);
    CHECK_EQ(r->align, 4u);
    auto r2 = laid_out(targets::aarch64_linux, false, {{"a", "char"}, {"", "int", 3}, {"b", "char"}}, p1);
    CHECK_EQ(r2->align, 1u);
  }
}

// An enum's integer type: GCC's and clang's by its values (smallest type when packed),
// MSVC's int.
void test_enum_bases() {
  struct Case { int64_t lo, hi; bool packed; const char *sysv; };
  const Case cases[] = {{0, 5, false, "unsigned int"},      {-1, 5, false, "int"},
                        {0, 1ll << 32, false, "unsigned long"}, {-1, 1ll << 31, false, "long"},
                        {0, 200, true, "unsigned char"},     {0, 300, true, "unsigned short"},
                        {-100, 100, true, "signed char"},    {-200, 100, true, "short"},
                        {-1, 1ll << 40, true, "long"}};
  for (const Case &c : cases) {
    Record *r = TypeTable::get().new_record("", false, true);
    layout_enum(r, c.lo, c.hi, c.packed, targets::x86_64_linux);
    CHECK_EQ(r->enum_base->name, std::string(c.sysv));
    CHECK_EQ(r->size, r->enum_base->size);
    CHECK(r->complete);
    Record *m = TypeTable::get().new_record("", false, true);
    layout_enum(m, c.lo, c.hi, c.packed, targets::x86_64_windows);   // int, whatever the values
    CHECK_EQ(m->enum_base->name, std::string("int"));
    // Where long has 4 bytes, the 8-byte enums are long long (aligned to 4 on i386).
    Record *w = TypeTable::get().new_record("", false, true);
    layout_enum(w, c.lo, c.hi, c.packed, targets::i686_linux);
    std::string want = c.sysv;
    if (want == "long" || want == "unsigned long") want += " long";
    CHECK_EQ(w->enum_base->name, want);
    CHECK_EQ(w->align, w->size == 8 ? 4u : w->size);
  }
}

// The host's entry of the ABI table says what the compiler says (host_target() refuses
// an entry that does not, so this checks that it is the entry, not the fallback).
void test_host_target() {
  const Target &h = host_target();
  CHECK_EQ(h[Scalar::Long].size, sizeof(long));
  CHECK_EQ(h[Scalar::Pointer].size, sizeof(void *));
  CHECK_EQ(h[Scalar::LongDouble].size, sizeof(long double));
  CHECK_EQ(h.is_signed(Scalar::Char), char(-1) < 0);
  CHECK(find_target(h.name) != nullptr || std::string(h.name) == "host");
#if defined(__x86_64__) && defined(__linux__)
  CHECK_EQ(std::string(h.name), std::string("x86_64-linux"));
#endif
  // GCC's layout where GCC and clang differ, when GCC built this; clang's for the table.
#if defined(__GNUC__) && !defined(__clang__)
  CHECK(h.gcc_layout || h.rules == RecordRules::Microsoft);
#else
  CHECK(!h.gcc_layout);
#endif
  CHECK(!find_target(h.name) || !find_target(h.name)->gcc_layout);
  // Every ABI's name finds its entry; the scalar types are what their names say.
  for (const Target *t : all_targets()) {
    CHECK(find_target(t->name) == t);
    CHECK_EQ(t->type(Scalar::Long)->size, size_t(t->long_.size));
    CHECK_EQ(t->type(Scalar::Pointer)->align, size_t(t->pointer.align));
    CHECK_EQ(t->type(Scalar::Char)->is_signed, t->char_signed);
    CHECK_EQ(t->has(Scalar::Int128), t->pointer.size == 8);
  }
  CHECK(find_target("vax-ultrix") == nullptr);
}

}  // namespace core_tests
