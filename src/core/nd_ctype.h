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
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "nd_target.h"

namespace ndffi {

enum class Kind : uint8_t {
  Void,
  Bool,
  Int,    // any integer type, char included
  Float,  // float, double, long double
  Pointer,
  Array,
  Record,  // struct or union (see Record::is_union)
  Enum,
  Func,
};

// Qualifiers of a type node itself (the const of "const int", not of "int *const").
enum Qual : uint8_t { QConst = 1, QVolatile = 2, QRestrict = 4 };

struct CType;

// A struct/union/enum: identity object (one per declaration of a tag), completed once.
struct Record {
  std::string tag;           // "" for an anonymous record
  std::string typedef_name;  // an anonymous record's first typedef name, for printing
  bool is_union = false;
  bool is_enum = false;
  bool complete = false;
  size_t size = 0, align = 1;
  // Microsoft's rules: the alignment that neither packing nor #pragma pack lowers when
  // the record is a member (an align(n) on it or on a member, at any depth); 0 otherwise.
  size_t required_align = 0;
  // A union's widest zero-width bit-field type, in bytes (0: none; they have no field):
  // GCC's x86-64 classification of a union counts them as INTEGER members of that type.
  uint8_t zero_width_bitfield = 0;
  struct Field {
    std::string name;
    const CType *type;
    size_t offset;
    int bit_offset = -1, bit_width = -1;
  };
  std::vector<Field> fields;
  // The named fields in order, an anonymous member's in its place, each with its offset
  // from this record's start: what a value is initialised and printed by.  Made with the
  // layout (index_named), so that making a value from a tuple walks no members.
  struct Named {
    const Field *field;
    size_t offset;
  };
  std::vector<Named> named;
  void index_named();
  std::vector<std::pair<std::string, int64_t>> enumerators;
  const CType *enum_base = nullptr;  // integer type of an enum
  // C's `T _Complex` where an ABI passes it as this struct of two T (TypeTable::complex):
  // T (float or double), the real part at offset 0 and the imaginary one after it.
  const CType *complex_of = nullptr;
  uint32_t depth = 0;  // complete: 1 + the deepest member type's depth (see CType::depth)
};

struct CType {
  Kind kind;
  uint8_t quals = 0;
  bool is_signed = false;  // Int: signedness (char follows the platform)
  bool variadic = false;   // Func
  size_t size = 0;         // 0 for void, functions and incomplete types
  size_t align = 1;
  // The alignment before a typedef's aligned(n) set `align` (TypeTable::aligned), even to
  // the same value; 0 when none did.  Microsoft's layout keeps the natural one and
  // requires the typedef's.
  size_t natural_align = 0;
  size_t length = 0;                  // Array: element count; kUnknownLength for T[]
  const CType *target = nullptr;      // Pointer: pointee; Array: element; Func: result
  std::vector<const CType *> params;  // Func
  Record *record = nullptr;           // Record / Enum
  std::string name;                   // base spelling: "int", "unsigned long", "struct handle"
  uint32_t derived = 0;               // Pointer, Array, Func: depth() when the node was made

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
  size_t alignment() const { return record ? record->align : kind == Kind::Array ? target->alignment() : align; }
  // How deeply the type nests: 0 for a scalar, 1 + the element's for an array, 1 + the
  // deepest member's for a struct or union, 1 + the pointee's for a pointer, and the
  // deepest of its result and parameters for a function, where a struct, union or enum
  // pointed to or passed counts 0: walks of a type's structure (layouts, dtypes, struct
  // values, libffi types) recurse into members held by value, and start again at a
  // record reached through a pointer or a function.  The parser refuses types deeper
  // than kMaxTypeDepth (nd_limits.h).  A record's is read from the Record (it completes
  // later); a pointer's and a function's are fixed when the node is made.
  size_t depth() const { return record ? record->depth : derived; }
  size_t depth_through_reference() const { return record ? 0 : derived; }

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
  // A scalar or pointer type `t` with alignment `align` instead of its own: what a
  // typedef with an aligned(n) attribute names (GCC lets it raise or lower alignment).
  const CType *aligned(const CType *t, size_t align);
  const CType *unqualified(const CType *t) { return qualified(t, 0); }
  const CType *pointer(const CType *target, uint8_t quals = 0, const Target &abi = host_target());
  const CType *array(const CType *elem, size_t length);
  const CType *func(const CType *result, const std::vector<const CType *> &params, bool variadic);
  const CType *record(Record *rec, uint8_t quals = 0);
  Record *new_record(const std::string &tag, bool is_union, bool is_enum);
  // `elem _Complex` (elem a floating type) as the record { elem real, imag; } with
  // Record::complex_of set: one per element type, printed "double _Complex".
  const CType *complex(const CType *elem);

 private:
  TypeTable() = default;
  const CType *intern(CType &&t);
  std::mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<CType>> by_key_;
  std::vector<std::unique_ptr<Record>> records_;
  std::unordered_map<const CType *, const CType *> complex_;
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
  std::vector<std::string> param_names;  // Function: "" for an unnamed parameter
  Spelling result;                       // Function: of the result; Variable: of the type
  std::vector<Spelling> params;          // Function: of each parameter
  std::vector<size_t> assumed_const;     // Function: parameters made const by assume_const()

  std::string str() const;                // the C prototype as written, "size_t strlen(const char *s)"
  std::string param_str(size_t i) const;  // parameter i's type as written, "size_t"
  std::string result_str() const;         // the result's type as written
};

// A named constant: a #define of a number or string, or an enumerator.
struct Constant {
  enum Kind : uint8_t { Int, Float, String } kind = Int;
  int64_t i = 0;  // Int (the bits of an unsigned value when is_unsigned)
  bool is_unsigned = false;
  double f = 0;                 // Float
  std::string s;                // String (without quotes, escapes resolved)
  const CType *type = nullptr;  // the C type: int, long, double, an enum, const char *...

  bool operator==(const Constant &o) const {
    return kind == o.kind && i == o.i && is_unsigned == o.is_unsigned && (f == o.f || (f != f && o.f != o.f)) &&
           s == o.s && type == o.type;
  }
  std::string str() const;  // as C would spell the value
};

// Where a declaration was made: the cdef call of its scope that made it (1 for the
// first; 0 when no cdef call made it) and its line and column in that call's text (1-based;
// 0 when not known).
struct Origin {
  uint32_t call = 0, line = 0, column = 0;
  explicit operator bool() const { return line != 0; }
  // "line 2, column 5 of cdef call 1", or "line 2, column 5 of this cdef call" when
  // `current` is the call that made it
  std::string str(uint32_t current = 0) const;
};

// A namespace of declarations: typedefs, tags, functions and globals.  Each library has
// one whose parent is the built-in scope (the C and <stdint.h> type names).  A scope's
// types are those of one ABI, its built-in scope's: the host's, or another's for a scope
// whose declarations are only laid out (`ndffi layout --abi`), never called.
//
// cdef() changes a scope in a transaction (begin, then commit or roll_back): what it
// adds is logged, and roll_back() takes it out again, newest first, so that a failing
// cdef leaves the scope as it was at the cost of what it added, not of what the scope
// holds.  Transactions of one scope must not overlap (the Python binding runs each cdef
// holding the GIL); look-ups may run between them.
class Scope {
 public:
  explicit Scope(const Scope *parent = nullptr)
      : parent_(parent),
        target_(parent ? parent->target_ : &host_target()),
        layout_only_(parent && parent->layout_only_) {}
  Scope(const Scope &) = delete;
  Scope &operator=(const Scope &) = delete;
  // The built-in names of an ABI; `layout_only`: for declarations that are laid out and
  // never called, which may use the types only the layout knows (__int128).
  static const Scope &builtins(const Target &abi = host_target(), bool layout_only = false);
  const Target &target() const { return *target_; }
  bool layout_only() const { return layout_only_; }

  const CType *find_typedef(const std::string &name) const;
  Record *find_tag(const std::string &tag, bool is_union, bool is_enum) const;  // here or in a parent
  Record *find_own_tag(const std::string &tag, bool is_union, bool is_enum) const;
  const Decl *find_decl(const std::string &name) const;
  const std::vector<std::string> &decl_names() const { return decl_order_; }
  const std::vector<std::string> &typedef_names() const { return typedef_order_; }
  const Constant *find_constant(const std::string &name) const;
  const std::vector<std::string> &constant_names() const { return constant_order_; }
  std::vector<Record *> tags() const;  // this scope's own struct, union and enum tags

  // Each raises DeclConflict (a std::runtime_error) when `name` is already declared
  // differently; an identical redeclaration is accepted (and changes nothing but
  // parameter names the first declaration left out).  `at`: where the declaration is.
  void add_typedef(const std::string &name, const CType *t, Origin at = {});
  void add_tag(Record *rec);
  void add_decl(Decl d, Origin at = {});
  void add_constant(const std::string &name, Constant c, Origin at = {});

  // A tag's definition: where its body was, and a digest of what went into its layout
  // beyond its members (packed, aligned, #pragma pack), so that a definition given again
  // can be told identical or not.  define_tag records it for a record of this scope
  // whose body is being read (rolling it back un-completes the record and takes out
  // what the body put in it); definition() is nullptr until then.
  struct Definition {
    Origin origin;
    uint64_t attrs = 0;
  };
  void define_tag(Record *rec, Definition d);
  const Definition *definition(const Record *rec) const;  // nullptr: not defined here

  uint32_t begin();  // starts a transaction; returns its cdef call number (1, 2, ...)
  void commit();
  void roll_back();
  uint32_t calls() const { return calls_; }

 private:
  struct TypedefEntry {
    const CType *type;
    Origin origin;
  };
  struct TagEntry {
    Record *rec;
    Definition def;
  };
  struct DeclEntry {
    Decl decl;
    Origin origin;
  };
  struct ConstantEntry {
    Constant c;
    Origin origin;
  };
  // One change made inside a transaction, with what undoes it.
  struct Undo {
    enum What : uint8_t { Typedef, Tag, Decl, Constant, ParamNames, Define } what;
    std::string key;                       // the name, or the tag's key
    std::vector<std::string> param_names;  // ParamNames: those before
  };
  void log(Undo::What what, const std::string &key, std::vector<std::string> names = {});

  Scope(const Target &abi, bool layout_only) : parent_(nullptr), target_(&abi), layout_only_(layout_only) {}
  const Scope *parent_;
  const Target *target_;
  bool layout_only_;
  std::unordered_map<std::string, TypedefEntry> typedefs_;
  std::unordered_map<std::string, TagEntry> tags_;  // key: "struct x", "union x", "enum x"
  std::unordered_map<std::string, DeclEntry> decls_;
  std::unordered_map<std::string, ConstantEntry> constants_;
  std::vector<std::string> decl_order_, typedef_order_, constant_order_;
  std::vector<Undo> undo_;
  bool in_transaction_ = false;
  uint32_t calls_ = 0;
};

// Whether `a` and `b` are one type: the same node, or the same shape made of anonymous
// records that a declaration parsed twice (a cdef run again) made twice.
bool same_shape(const CType *a, const CType *b);

// How the definition `now` of a record differs from `was`: "" when they are the same (the
// same members with the same types, offsets and bit-fields, the same size and alignment;
// for an enum, the same enumerators and integer type), else the first difference, as in
// "member 'x' is 'long x', was 'int x'".
std::string record_difference(const Record &was, const Record &now);

struct DeclConflict : std::runtime_error {
  explicit DeclConflict(const std::string &msg, Origin previous_ = {}) : std::runtime_error(msg), previous(previous_) {}
  Origin previous;  // of the declaration this one conflicts with, when known
};

}  // namespace ndffi
