// The table of ABIs, the host's entry, and the scalar types each one gives.
#include "nd_target.h"

#include <cstddef>
#include <stdexcept>

#include "nd_ctype.h"

namespace ndffi {

SizeAlign Target::operator[](Scalar s) const {
  switch (s) {
    case Scalar::Bool:
    case Scalar::Char:
    case Scalar::SChar:
    case Scalar::UChar: return {1, 1};
    case Scalar::Short:
    case Scalar::UShort: return {2, 2};
    case Scalar::Int:
    case Scalar::UInt:
    case Scalar::Float: return {4, 4};
    case Scalar::Long:
    case Scalar::ULong: return long_;
    case Scalar::LongLong:
    case Scalar::ULongLong: return long_long;
    case Scalar::Int128:
    case Scalar::UInt128: return int128;
    case Scalar::Double: return double_;
    case Scalar::LongDouble: return long_double;
    case Scalar::Pointer: return pointer;
    case Scalar::Count: break;
  }
  return {};
}

bool Target::is_signed(Scalar s) const {
  switch (s) {
    case Scalar::Char: return char_signed;
    case Scalar::SChar:
    case Scalar::Short:
    case Scalar::Int:
    case Scalar::Long:
    case Scalar::LongLong:
    case Scalar::Int128:
    case Scalar::Float:
    case Scalar::Double:
    case Scalar::LongDouble: return true;
    default: return false;
  }
}

const char *scalar_name(Scalar s) {
  static const char *const names[kScalars] = {"_Bool",       "char",
                                              "signed char", "unsigned char",
                                              "short",       "unsigned short",
                                              "int",         "unsigned int",
                                              "long",        "unsigned long",
                                              "long long",   "unsigned long long",
                                              "__int128",    "unsigned __int128",
                                              "float",       "double",
                                              "long double", "void *"};
  return s < Scalar::Count ? names[size_t(s)] : "?";
}

const CType *Target::type(Scalar s) const {
  // Each thread keeps the types of the targets it used last (every Target is a static
  // table entry, and interned types live as long as the table): a parse asks for a scalar
  // type per specifier, and interning one builds a key and takes the table's lock.
  struct Recent {
    const Target *target = nullptr;
    const CType *types[kScalars] = {};
  };
  static thread_local Recent recent[4];
  static thread_local unsigned next = 0;
  Recent *r = nullptr;
  for (Recent &x : recent)
    if (x.target == this) r = &x;
  if (!r) {
    r = &recent[next++ % 4];
    *r = Recent{this, {}};
  }
  const CType *&cached = r->types[size_t(s)];
  if (!cached) cached = make_type(s);
  return cached;
}

const CType *Target::make_type(Scalar s) const {
  SizeAlign sa = (*this)[s];
  if (!sa.size) return nullptr;
  TypeTable &T = TypeTable::get();
  switch (s) {
    case Scalar::Bool: return T.bool_type();
    case Scalar::Pointer: return T.pointer(T.void_type(), 0, *this);
    case Scalar::Float:
    case Scalar::Double:
    case Scalar::LongDouble: return T.scalar(Kind::Float, sa.size, sa.align, true, scalar_name(s));
    default: return T.scalar(Kind::Int, sa.size, sa.align, is_signed(s), scalar_name(s));
  }
}

const std::vector<const Target *> &all_targets() {
  using namespace targets;
  static const std::vector<const Target *> all = {&x86_64_linux,   &x86_64_darwin,   &x86_64_windows,
                                                  &x86_64_mingw,   &i686_linux,      &aarch64_linux,
                                                  &aarch64_darwin, &aarch64_windows, &armv7_linux_gnueabihf};
  return all;
}

const Target *find_target(const std::string &name) {
  for (const Target *t : all_targets())
    if (name == t->name || name == t->triple) return t;
  return nullptr;
}

// ---- the host ---------------------------------------------------------------------

namespace {

template <class T>
struct InStruct {
  char c;
  T x;
};
template <class T>
constexpr SizeAlign measured() {
  return {uint8_t(sizeof(T)), uint8_t(offsetof(InStruct<T>, x))};
}

// The entry this build's compiler targets; nullptr for an ABI the table lacks.
const Target *host_entry() {
  using namespace targets;
#if defined(__x86_64__) || defined(_M_X64)
#if defined(_WIN32) && defined(_MSC_VER)
  return &x86_64_windows;
#elif defined(_WIN32)
  return &x86_64_mingw;
#elif defined(__APPLE__)
  return &x86_64_darwin;
#else
  return &x86_64_linux;
#endif
#elif defined(__aarch64__) || defined(_M_ARM64)
#if defined(_WIN32)
  return &aarch64_windows;
#elif defined(__APPLE__)
  return &aarch64_darwin;
#else
  return &aarch64_linux;
#endif
#elif defined(__i386__) && defined(__linux__)
  return &i686_linux;
#elif defined(__arm__) && defined(__linux__) && defined(__ARM_PCS_VFP)
  return &armv7_linux_gnueabihf;
#else
  return nullptr;
#endif
}

// The facts the compiler building ndffi knows: the whole entry for an ABI the table
// lacks (Itanium rules, or Microsoft's under MSVC), and the check of the table's entry.
Target compiler_target() {
  Target t;
  t.name = "host";
  t.triple = "";
  t.long_ = measured<long>();
  t.long_long = measured<long long>();
#if defined(__SIZEOF_INT128__)
  t.int128 = measured<__int128>();
#endif
  t.double_ = measured<double>();
  t.long_double = measured<long double>();
  t.long_double_format = sizeof(long double) == sizeof(double) ? "IEEE binary64 (the same as double)" : "?";
  t.pointer = measured<void *>();
  t.char_signed = char(-1) < 0;
  t.wchar = sizeof(wchar_t) == 2 ? Scalar::UShort : wchar_t(-1) < 0 ? Scalar::Int : Scalar::UInt;
  t.size = sizeof(size_t) == sizeof(unsigned)        ? Scalar::UInt
           : sizeof(size_t) == sizeof(unsigned long) ? Scalar::ULong
                                                     : Scalar::ULongLong;
  t.int64 = sizeof(long) == 8 ? Scalar::Long : Scalar::LongLong;
  t.intmax = t.int64;
#if defined(_MSC_VER)
  t.rules = RecordRules::Microsoft;
  t.enums_are_int = true;
#endif
  t.max_align_t = measured<std::max_align_t>();
  return t;
}

bool same(SizeAlign a, SizeAlign b) { return a.size == b.size && a.align == b.align; }

}  // namespace

const Target &host_target() {
  static const Target *host = []() -> const Target * {
    static const Target compiler = compiler_target();
    const Target *entry = host_entry();
    // The table's entry must say what the compiler says, or every layout would be wrong.
    for (size_t i = 0; entry && i < kScalars; i++) {
      Scalar s = Scalar(i);
      if (s == Scalar::Int128 && !compiler.has(s)) continue;  // a compiler without __int128
      if (!same((*entry)[s], compiler[s]) || entry->is_signed(s) != compiler.is_signed(s))
        throw std::logic_error(std::string("ndffi's ABI table for ") + entry->name + " says '" + scalar_name(s) +
                               "' has size " + std::to_string((*entry)[s].size) + " and alignment " +
                               std::to_string((*entry)[s].align) + ", but the compiler that built it gives " +
                               std::to_string(compiler[s].size) + " and " + std::to_string(compiler[s].align));
    }
    const Target *t = entry ? entry : &compiler;
#if defined(__GNUC__) && !defined(__clang__)
    // Built by GCC, for libraries built by GCC: its layout where it and clang differ.
    static Target gcc = *t;
    gcc.gcc_layout = true;
    if (t->rules == RecordRules::Itanium) return &gcc;
#endif
    return t;
  }();
  return *host;
}

}  // namespace ndffi
