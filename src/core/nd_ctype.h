// The C type model: one immutable, interned node per distinct C type.
//
// Types are created only through TypeTable::intern*, so two structurally equal types
// are the same pointer and type identity is pointer equality.  Nodes are never freed
// (like LuaJIT's ctype state, the set of types a program declares is small and bounded).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "nd_target.h"

namespace ndffi {

enum class Kind : uint8_t {
  Void,
  Bool,
  Int,      // any integer type, char included
  Float,    // float, double, long double
  Pointer,
  Array,
  Record,   // struct or union (see Record::is_union)
  Enum,
  Func,
};

// Qualifiers of a type node itself (the const of "const int", not of "int *const").
enum Qual : uint8_t { QConst = 1, QVolatile = 2, QRestrict = 4 };

struct CType;

// A struct/union/enum: identity object (one per declaration of a tag), completed once.
struct Record {
  std::string tag;            // "" for an anonymous record
  std::string typedef_name;   // an anonymous record's first typedef name, for printing
  bool is_union = false;
  bool is_enum = false;
  bool complete = false;
  size_t size = 0, align = 1;
  // Microsoft's rules: the alignment that neither packing nor #pragma pack lowers when
  // the record is a member (an align(n) on it or on a member, at any depth); 0 otherwise.
  size_t required_align = 0;
  struct Field {
    std::string name;
    const CType *type;
    size_t offset;
    int bit_offset = -1, bit_width = -1;
  };
  std::vector<Field> fields;
  std::vector<std::pair<std::string, int64_t>> enumerators;
  const CType *enum_base = nullptr;  // integer type of an enum
};

struct CType {
  Kind kind;
  uint8_t quals = 0;
  bool is_signed = false;     // Int: signedness (char follows the platform)
  bool variadic = false;      // Func
  size_t size = 0;            // 0 for void, functions and incomplete types
  size_t align = 1;
  size_t length = 0;          // Array: element count; kUnknownLength for T[]
  const CType *target = nullptr;   // Pointer: pointee; Array: element; Func: result
  std::vector<const CType *> params;  // Func
  Record *record = nullptr;        // Record / Enum
  std::string name;           // base spelling: "int", "unsigned long", "struct handle"

  static constexpr size_t kUnknownLength = SIZE_MAX;

  bool is_const() const { return quals & QConst; }
  bool is_integer() const { return kind == Kind::Int || kind == Kind::Bool || kind == Kind::Enum; }
  bool is_arith() const { return is_integer() || kind == Kind::Float; }
  bool is_pointer() const { return kind == Kind::Pointer; }
  bool is_complete() const;
  // Size and alignment in bytes; for a struct, union or enum they are read from its
  // Record, which is completed after the type node is first made.
  // An array of them is sized through its element, for the same reason.
  size_t byte_size() const {
    if (record) return record->size;
    if (kind == Kind::Array) return length == kUnknownLength ? 0 : target->byte_size() * length;
    return size;
  }
  size_t alignment() const {
    return record ? record->align : kind == Kind::Array ? target->alignment() : align;
  }

  // C spelling, with `decl` (a name, or "" for an abstract type) placed where C puts it:
  // str("x") of `const double *` is "const double *x"; of `int (*)(int)` is "int (*x)(int)".
  std::string str(const std::string &decl = "") const;
};

// The global table of interned types.  Thread safe.
class TypeTable {
 public:
  static TypeTable &get();

  const CType *void_type();
  const CType *bool_type();
  // An integer (Kind::Int) or floating (Kind::Float) type of `size` bytes and alignment
  // `align`, as an ABI has it (Target::type gives them by their C names).
  const CType *scalar(Kind kind, size_t size, size_t align, bool is_signed, const char *name);
  // The host's char, and integer and floating types of a size with the host's alignment.
  const CType *char_type();
  const CType *int_type(size_t size, bool is_signed, const char *name);
  const CType *float_type(size_t size, const char *name);
  const CType *qualified(const CType *t, uint8_t quals);
  const CType *unqualified(const CType *t) { return qualified(t, 0); }
  const CType *pointer(const CType *target, uint8_t quals = 0, const Target &abi = host_target());
  const CType *array(const CType *elem, size_t length);
  const CType *func(const CType *result, const std::vector<const CType *> &params, bool variadic);
  const CType *record(Record *rec, uint8_t quals = 0);
  Record *new_record(const std::string &tag, bool is_union, bool is_enum);

 private:
  TypeTable() = default;
  const CType *intern(CType &&t);
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<CType>> by_key_;
  std::vector<std::unique_ptr<Record>> records_;
};

// A declared function or global variable.
// How a declaration spelled a type whose base it named by a typedef: the spelling of
// the base the type model prints (`from`, "const unsigned long") and the one written
// (`to`, "const size_t").  Empty when the base was written as the model prints it.
struct Spelling {
  std::string from, to;
  // `printed` (a CType::str() of the type) with its base as written
  std::string apply(const std::string &printed) const;
};

struct Decl {
  enum Kind : uint8_t { Function, Variable } kind;
  std::string name;
  const CType *type;
  std::vector<std::string> param_names;   // Function: "" for an unnamed parameter
  Spelling result;                        // Function: of the result; Variable: of the type
  std::vector<Spelling> params;           // Function: of each parameter

  std::string str() const;   // the C prototype as written, "size_t strlen(const char *s)"
  std::string param_str(size_t i) const;   // parameter i's type as written, "size_t"
  std::string result_str() const;          // the result's type as written
};

// A named constant: a #define of a number or string, or an enumerator.
struct Constant {
  enum Kind : uint8_t { Int, Float, String } kind = Int;
  int64_t i = 0;               // Int (the bits of an unsigned value when is_unsigned)
  bool is_unsigned = false;
  double f = 0;                // Float
  std::string s;               // String (without quotes, escapes resolved)
  const CType *type = nullptr; // the C type: int, long, double, an enum, const char *...

  bool operator==(const Constant &o) const {
    return kind == o.kind && i == o.i && is_unsigned == o.is_unsigned &&
           (f == o.f || (f != f && o.f != o.f)) && s == o.s && type == o.type;
  }
  std::string str() const;   // as C would spell the value
};

// A namespace of declarations: typedefs, tags, functions and globals.  Each library has
// one whose parent is the built-in scope (the C and <stdint.h> type names).  A scope's
// types are those of one ABI, its built-in scope's: the host's, or another's for a scope
// whose declarations are only laid out (`ndffi layout --abi`), never called.
class Scope {
 public:
  explicit Scope(const Scope *parent = nullptr)
      : parent_(parent), target_(parent ? parent->target_ : &host_target()),
        layout_only_(parent && parent->layout_only_) {}
  // The built-in names of an ABI; `layout_only`: for declarations that are laid out and
  // never called, which may use the types only the layout knows (__int128).
  static const Scope &builtins(const Target &abi = host_target(), bool layout_only = false);
  const Target &target() const { return *target_; }
  bool layout_only() const { return layout_only_; }

  const CType *find_typedef(const std::string &name) const;
  Record *find_tag(const std::string &tag, bool is_union, bool is_enum) const;
  const Decl *find_decl(const std::string &name) const;
  const std::vector<std::string> &decl_names() const { return decl_order_; }
  const std::vector<std::string> &typedef_names() const { return typedef_order_; }
  const Constant *find_constant(const std::string &name) const;
  const std::vector<std::string> &constant_names() const { return constant_order_; }
  std::vector<Record *> tags() const;   // this scope's own struct, union and enum tags

  // Each raises DeclConflict (a std::runtime_error) when `name` is already declared
  // differently; an identical redeclaration is accepted.
  void add_typedef(const std::string &name, const CType *t);
  void add_tag(Record *rec);
  void add_decl(Decl d);
  void add_constant(const std::string &name, Constant c);

 private:
  Scope(const Target &abi, bool layout_only) : parent_(nullptr), target_(&abi), layout_only_(layout_only) {}
  const Scope *parent_;
  const Target *target_;
  bool layout_only_;
  std::unordered_map<std::string, const CType *> typedefs_;
  std::unordered_map<std::string, Record *> tags_;   // key: "struct x", "union x", "enum x"
  std::unordered_map<std::string, Decl> decls_;
  std::unordered_map<std::string, Constant> constants_;
  std::vector<std::string> decl_order_, typedef_order_, constant_order_;
};

struct DeclConflict : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace ndffi
