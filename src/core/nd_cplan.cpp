#include "nd_cplan.h"

#include <climits>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "nd_abi.h"
#include "nd_limits.h"

namespace ndffi {

// Read once, when the library is loaded (see force_libffi in nd_cplan.h).
static const bool kForceLibffi = [] {
  const char *v = std::getenv("NDFFI_FORCE_LIBFFI");
  return v && *v && std::strcmp(v, "0") != 0;
}();

bool force_libffi() { return kForceLibffi; }

static uint32_t align_up(uint32_t n, uint32_t a) { return (n + a - 1) / a * a; }

ArgSpec arg_spec(const CType *t) {
  ArgSpec a{Conv::Void, 0, 0, t};
  const CType *u = t;
  switch (u->kind) {
    case Kind::Void: return a;
    case Kind::Bool: a.conv = Conv::Bool, a.size = uint8_t(u->size), a.min = 0, a.max = 1; return a;
    case Kind::Enum:
      if (!u->record->complete || !u->record->enum_base) throw UnsupportedType("incomplete type '" + t->str() + "'");
      u = u->record->enum_base;
      [[fallthrough]];
    case Kind::Int:
      a.size = uint8_t(u->size);
      if (u->is_signed) {
        a.conv = Conv::SInt;
        a.min = u->size >= 8 ? INT64_MIN : -(int64_t(1) << (8 * u->size - 1));
        a.max = u->size >= 8 ? uint64_t(INT64_MAX) : (uint64_t(1) << (8 * u->size - 1)) - 1;
      } else {
        a.conv = Conv::UInt;
        a.min = 0;
        a.max = u->size >= 8 ? UINT64_MAX : (uint64_t(1) << (8 * u->size)) - 1;
      }
      return a;
    case Kind::Float:
      a.size = uint8_t(u->size);
      a.conv = u->size == 4 ? Conv::Float : u->size == 8 ? Conv::Double : Conv::LongDouble;
      return a;
    case Kind::Pointer:
      a.size = sizeof(void *);
      a.conv = u->target->kind == Kind::Func ? Conv::FuncPtr : Conv::Pointer;
      return a;
    case Kind::Record:
      if (!u->record->complete) throw UnsupportedType("incomplete type '" + t->str() + "' cannot be passed by value");
      if (u->record->size == 0)  // a GNU empty struct: C passes nothing, libffi cannot be told so
        throw UnsupportedType("'" + t->str() + "' has no bytes (an empty struct) and cannot be passed by value");
      if (!ffi_type_of(u))
        throw UnsupportedType("'" + t->str() + "' cannot be passed by value on this platform (" + abi::kNotByValue +
                              ")");
      a.conv = Conv::Record;
      a.size = uint32_t(u->byte_size());
      return a;
    case Kind::Array: throw UnsupportedType("array type '" + t->str() + "' cannot be passed by value");
    case Kind::Func: throw UnsupportedType("function type '" + t->str() + "' is not a value");
  }
  return a;
}

static bool has_bitfields(const Record *rec) {
  for (const Record::Field &f : rec->fields)
    if (f.bit_width >= 0) return true;
  return false;
}

// The walks below recurse per nested struct: on a thread whose stack runs low, the type
// is refused rather than the stack overflowed.
static void check_stack(const Record *rec) {
  if (stack_low())
    throw UnsupportedType("a struct nested " + std::to_string(rec->depth) +
                          " levels deep is too deep for the stack of this thread to pass by value");
}

// Whether a union or a bit-field is in `rec` at any depth (through members and arrays
// held by value): then only the ABI file can describe it, from the outermost record's
// start, since a union's eightbytes depend on where in the record it lies.
static bool needs_aggregate(const Record *rec) {
  check_stack(rec);
  if (rec->is_union || has_bitfields(rec)) return true;
  for (const Record::Field &f : rec->fields) {
    const CType *t = f.type;
    while (t->kind == Kind::Array) t = t->target;
    if (t->kind == Kind::Record && t->record->complete && needs_aggregate(t->record)) return true;
  }
  return false;
}

// The scalars of a struct held by value, members' members included, with their offsets
// from its start (a struct without unions or bit-fields at any depth: !needs_aggregate).
// false when there are more than `max` or a member libffi cannot pass.
static bool leaf_elements(const Record *rec, size_t base, std::vector<std::pair<ffi_type *, size_t>> &out, size_t max) {
  check_stack(rec);
  for (const Record::Field &f : rec->fields) {
    const CType *t = f.type;
    size_t count = 1;
    while (t->kind == Kind::Array) {
      if (t->length == CType::kUnknownLength) {
        count = 0;
        break;
      }
      count *= t->length;
      t = t->target;
    }
    bool inner = t->kind == Kind::Record;
    ffi_type *e = inner ? nullptr : ffi_type_of(t);
    if (!inner && !e) return false;
    for (size_t k = 0; k < count; k++) {
      size_t at = base + f.offset + k * t->byte_size();
      if (inner ? !leaf_elements(t->record, at, out, max) : (out.push_back({e, at}), out.size() > max)) return false;
    }
  }
  return true;
}

static ffi_type *new_struct_type(const Record *rec, const std::vector<ffi_type *> &elems) {
  auto **list = new ffi_type *[elems.size() + 1];
  std::copy(elems.begin(), elems.end(), list);
  list[elems.size()] = nullptr;
  return new ffi_type{rec->size, (unsigned short)rec->align, FFI_TYPE_STRUCT, list};
}

// A struct as libffi sees it, with the size and alignment of our layout: its scalars in
// one list when libffi, which places each element at the next multiple of its alignment,
// puts every one where the layout has it (so that libffi's own walks of the type, which
// recurse per nested struct on every call, stay one level deep however deeply structs
// nest); else its members in order (an array as that many elements).  Unions and
// bit-fields at any depth go to the ABI file (every record, on an ABI that describes
// them all).
static ffi_type *record_ffi_type(const Record *rec) {
  static std::mutex mu;
  static std::unordered_map<const Record *, ffi_type *> made;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = made.find(rec);
    if (it != made.end()) return it->second;
  }
  check_stack(rec);  // before anything is kept: another thread may have the stack for it
  ffi_type *ft = nullptr;
  std::vector<std::pair<ffi_type *, size_t>> leaves;
  if (!abi::passable_record(rec)) {
    std::lock_guard<std::mutex> lock(mu);
    return made[rec] = nullptr;  // refused, by no description either
  }
  CType whole{Kind::Record};
  whole.record = const_cast<Record *>(rec);
  if (abi::libffi_refusal(&whole)) {
    // Only ndffi's engine passes it: its bytes, for the cif (see make_plan's refusal).
    ft = new_struct_type(rec, std::vector<ffi_type *>(rec->size, &ffi_type_uint8));
    std::lock_guard<std::mutex> lock(mu);
    return made[rec] = ft;
  }
  const bool aggregate = needs_aggregate(rec);
  if (aggregate || abi::kDescribesEveryRecord) {
    ft = abi::aggregate_ffi_type(rec);
  } else if (rec->size > 0 && leaf_elements(rec, 0, leaves, 64)) {
    std::vector<ffi_type *> elems;
    size_t at = 0;
    for (auto &[e, offset] : leaves) {
      at = align_up(uint32_t(at), e->alignment ? e->alignment : 1);
      if (at != offset) break;
      elems.push_back(e);
      at += e->size;
    }
    if (elems.size() == leaves.size()) ft = new_struct_type(rec, elems);
  }
  // By members, in order: not where the ABI file describes every record (its nullptr is
  // a refusal, which a description by members would pass in the wrong registers).
  if (!ft && !abi::kDescribesEveryRecord && !aggregate) {
    std::vector<ffi_type *> elems;
    bool ok = rec->size > 0;
    size_t at = 0;  // where libffi puts the next element
    for (const Record::Field &f : rec->fields) {
      const CType *t = f.type;
      size_t count = 1;
      while (t->kind == Kind::Array) {
        if (t->length == CType::kUnknownLength) {
          count = 0;
          break;
        }
        count *= t->length;
        t = t->target;
      }
      ffi_type *e = ffi_type_of(t);
      // a member only the engine passes is described by its bytes (record_ffi_type), which
      // would class it INTEGER wherever it lies: the ABI file describes the whole instead
      if (!e || abi::libffi_refusal(t)) ok = false;
      // a member out of its alignment (packed), or after a gap that libffi would not
      // leave (a zero-width bit-field's, an _Alignas'): not by members
      if (ok && count && f.offset != align_up(uint32_t(at), e->alignment ? e->alignment : 1)) ok = false;
      for (size_t k = 0; ok && k < count; k++) elems.push_back(e);
      if (ok && count) at = f.offset + count * t->byte_size();
    }
    if (ok) ft = new_struct_type(rec, elems);
    // else as the ABI file classifies it, where it can (nullptr: refused)
    if (!ft) ft = abi::aggregate_ffi_type(rec);
  }
  std::lock_guard<std::mutex> lock(mu);
  made[rec] = ft;
  return ft;
}

ffi_type *ffi_type_of(const CType *t) {
  if (t->kind == Kind::Enum && t->record->enum_base) t = t->record->enum_base;
  switch (t->kind) {
    case Kind::Void: return &ffi_type_void;
    case Kind::Bool: return &ffi_type_uint8;
    case Kind::Int:
      switch (t->size) {
        case 1: return t->is_signed ? &ffi_type_sint8 : &ffi_type_uint8;
        case 2: return t->is_signed ? &ffi_type_sint16 : &ffi_type_uint16;
        case 4: return t->is_signed ? &ffi_type_sint32 : &ffi_type_uint32;
        case 8: return t->is_signed ? &ffi_type_sint64 : &ffi_type_uint64;
      }
      return nullptr;
    case Kind::Float: return t->size == 4 ? &ffi_type_float : t->size == 8 ? &ffi_type_double : &ffi_type_longdouble;
    case Kind::Pointer: return &ffi_type_pointer;
    case Kind::Record: return record_ffi_type(t->record);
    default: return nullptr;
  }
}

ffi_type *ffi_result_type(const CType *t) {
  if (ffi_type *r = abi::result_ffi_type(t)) return r;
  return ffi_type_of(t);
}

// A call that libffi serves refuses a record only ndffi's engine passes right
// (abi::libffi_refusal), the result's or an argument's, fixed or variadic.
static void refuse_for_libffi(const CallPlan &plan, const std::vector<ArgSpec> &extra = {}) {
  std::vector<const CType *> types{plan.type->target};
  types.insert(types.end(), plan.type->params.begin(), plan.type->params.end());
  for (const ArgSpec &a : extra) types.push_back(a.type);
  for (const CType *t : types)
    if (const char *why = abi::libffi_refusal(t))
      throw UnsupportedType("'" + t->str() + "' cannot be passed by value through libffi: " + why + "; " +
                            (plan.libffi_only
                                 ? "this call is made to use libffi (NDFFI_FORCE_LIBFFI or allow_direct=False)"
                                 : "libffi serves this call, whose result ndffi's engine does not return") +
                            ". Pass a pointer to it instead");
}

void make_plan(CallPlan &plan, const CType *ftype, void *fn, bool allow_direct) {
  plan.fn = fn;
  plan.type = ftype;
  plan.ret = arg_spec(ftype->target);
  plan.args.clear();
  for (const CType *p : ftype->params) plan.args.push_back(arg_spec(p));

  plan.libffi_only = !allow_direct || force_libffi();
  plan.direct = nullptr;
  plan.engine = nullptr;
  plan.engine_plan.reset();
  if (!plan.libffi_only) {
    plan.direct = abi::plan_direct(ftype, plan.args, plan.ret, &plan.storage);
    if (!plan.direct) plan.engine = abi::plan_engine(ftype, plan.args, plan.ret, &plan.storage, &plan.engine_plan);
  }
  // (a variadic call's engine is planned per call, with the variadic arguments)
  if (!plan.direct && !plan.engine && (plan.libffi_only || !ftype->variadic)) refuse_for_libffi(plan);
  if (!plan.direct && !plan.engine) {
    // libffi reads each argument from its own slot, at least 8 bytes, aligned.
    uint32_t off = 0;
    for (size_t i = 0; i < plan.args.size(); i++) {
      uint32_t sz = std::max<uint32_t>(8, plan.args[i].size);
      uint32_t al = std::min<uint32_t>(16, std::max<uint32_t>(8, uint32_t(ftype->params[i]->alignment())));
      off = align_up(off, al);
      plan.args[i].offset = off;
      off += sz;
    }
    plan.storage = align_up(off, 16);
  }
  // The cif is prepared even with a direct stub or engine: it documents the call and
  // serves tests that compare the engines (libffi reads the engine's layout too).
  std::vector<abi::FfiPiece> pieces;
  if (!abi::ffi_pieces(ftype->target, ftype->params, &pieces))
    throw UnsupportedType("libffi cannot call '" + ftype->str() + "'");
  plan.ffi_args.clear();
  plan.ffi_offsets.clear();
  for (const abi::FfiPiece &p : pieces) {
    plan.ffi_args.push_back(p.type);
    plan.ffi_offsets.push_back(plan.args[p.arg].offset + p.offset);
  }
  ffi_type *rt = ffi_result_type(ftype->target);
  // A variadic function's cif is prepared again per call with the extra arguments;
  // this one checks the fixed part.
  if (ffi_prep_cif(&plan.cif, FFI_DEFAULT_ABI, unsigned(plan.ffi_args.size()), rt, plan.ffi_args.data()) != FFI_OK)
    throw UnsupportedType("libffi cannot call '" + ftype->str() + "'");
  abi::complete_call_cif(&plan.cif);
}

ArgSpec variadic_spec(const CType *t) {
  ArgSpec a = arg_spec(t);
  // The promoted types, made once: interning formats a key.
  static const CType *const kDouble = TypeTable::get().float_type(8, "double");
  static const CType *const kInt = TypeTable::get().int_type(4, true, "int");
  if (a.conv == Conv::Float) a = arg_spec(kDouble);
  else if ((a.conv == Conv::SInt || a.conv == Conv::UInt || a.conv == Conv::Bool) && a.size < 4) a = arg_spec(kInt);
  return a;
}

static void call_variadic_engine(const CallPlan &plan, unsigned char *storage, uint64_t *ret) {
  abi::call_variadic(*plan.engine_plan, plan.fn, storage, ret);
}

bool make_variadic_plan(CallPlan &plan, const CallPlan &fixed, const std::vector<ArgSpec> &extra) {
  plan.fn = fixed.fn;
  plan.type = fixed.type;
  plan.ret = fixed.ret;
  plan.direct = nullptr;
  plan.engine = nullptr;
  plan.args = fixed.args;
  uint32_t off = align_up(fixed.storage, 16);
  for (ArgSpec a : extra) {
    a.offset = off;
    off += align_up(std::max<uint32_t>(a.size, 8), 16);
    plan.args.push_back(a);
  }
  plan.storage = off;
  plan.libffi_only = fixed.libffi_only;
  if (!plan.libffi_only) {  // the ABI file's engine, where it has one (%al and all)
    std::vector<ArgSpec> placed(plan.args.begin() + fixed.args.size(), plan.args.end());
    if ((plan.engine_plan = abi::plan_variadic(fixed, placed))) plan.engine = call_variadic_engine;
  }
  if (!plan.engine) refuse_for_libffi(fixed, extra);
  // The registers the variadic arguments take depend on the fixed ones: one split of all.
  std::vector<const CType *> ctypes(fixed.type->params.begin(), fixed.type->params.end());
  for (const ArgSpec &a : extra) ctypes.push_back(a.type);
  std::vector<abi::FfiPiece> pieces;
  if (!abi::ffi_pieces(fixed.type->target, ctypes, &pieces)) return false;
  size_t nfixed = fixed.args.size();
  unsigned fixed_pieces = 0;
  plan.ffi_args.clear();
  plan.ffi_offsets.clear();
  for (const abi::FfiPiece &p : pieces) {
    plan.ffi_args.push_back(p.type);
    plan.ffi_offsets.push_back(plan.args[p.arg].offset + p.offset);
    fixed_pieces += p.arg < nfixed;
  }
  if (ffi_prep_cif_var(&plan.cif, FFI_DEFAULT_ABI, fixed_pieces, unsigned(plan.ffi_args.size()),
                       ffi_result_type(fixed.type->target), plan.ffi_args.data()) != FFI_OK)
    return false;
  abi::complete_call_cif(&plan.cif);
  return true;
}

}  // namespace ndffi
