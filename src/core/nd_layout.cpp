#include "nd_layout.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "nd_limits.h"

namespace ndffi {

void layout_record(Record *rec, const std::vector<MemberDecl> &members, const RecordAttrs &attrs, const Target &abi) {
  size_t total = 0;  // each member is at most kMaxObjectSize: the sum cannot wrap
  for (size_t i = 0; i < members.size(); i++) {
    layout::check_member(rec, members[i], i + 1 == members.size());
    if (members[i].bit_width < 0) total += layout::member_size(members[i].type);
    if (total > kMaxObjectSize) break;
  }
  auto too_large = [&] {
    return std::runtime_error(std::string(rec->is_union ? "union " : "struct ") +
                              (rec->tag.empty() ? "<anonymous>" : rec->tag) + " is too large (more than 2^59 bytes)");
  };
  if (total > kMaxObjectSize) throw too_large();
  rec->named.clear();
  rec->fields.clear();
  rec->required_align = 0;
  if (abi.rules == RecordRules::Microsoft) layout::microsoft(rec, members, attrs, abi);
  else layout::itanium(rec, members, attrs, abi);
  if (rec->size > kMaxObjectSize) throw too_large();
  size_t deepest = 0;
  for (const MemberDecl &m : members) deepest = std::max(deepest, m.type->depth());
  rec->depth = uint32_t(std::min<size_t>(deepest + 1, UINT32_MAX));
  rec->index_named();
  rec->complete = true;
}

void layout_enum(Record *rec, int64_t lo, int64_t hi, bool packed, const Target &abi) {
  // Microsoft's enums are int (clang, like MSVC, converts a larger value to int).
  const CType *base = abi.enums_are_int ? abi.type(Scalar::Int) : layout::itanium_enum_base(lo, hi, packed, abi);
  rec->enum_base = base;
  rec->size = base->size;
  rec->align = base->align;
  rec->depth = 1;
  rec->complete = true;
}

namespace layout {

void check_member(const Record *rec, const MemberDecl &m, bool last) {
  const CType *t = m.type;
  std::string what = "member '" + (m.name.empty() ? std::string("<anonymous>") : m.name) + "' of '" +
                     (rec->is_union ? "union " : "struct ") + (rec->tag.empty() ? "<anonymous>" : rec->tag) + "'";
  if (m.bit_width >= 0) {
    if (!t->is_integer()) throw std::runtime_error("bit-field " + what + " has non-integer type '" + t->str() + "'");
    if (size_t(m.bit_width) > 8 * t->byte_size())
      throw std::runtime_error("bit-field " + what + " is wider (" + std::to_string(m.bit_width) +
                               " bits) than its type '" + t->str() + "'");
    if (m.bit_width == 0 && !m.name.empty())
      throw std::runtime_error("zero-width bit-field " + what + " must be unnamed");
    return;
  }
  if (t->kind == Kind::Array && t->length == CType::kUnknownLength) {
    if (!last || rec->is_union)
      throw std::runtime_error("flexible array " + what + " must be the last member of a struct");
    if (!t->target->is_complete()) throw std::runtime_error(what + " has incomplete element type");
    return;
  }
  if (t->kind == Kind::Func) throw std::runtime_error(what + " has function type (use a pointer)");
  if (!t->is_complete()) throw std::runtime_error(what + " has incomplete type '" + t->str() + "'");
}

size_t member_size(const CType *t) {
  if (t->kind == Kind::Array) return t->length == CType::kUnknownLength ? 0 : t->length * member_size(t->target);
  return t->byte_size();
}

size_t member_align(const CType *t) { return t->kind == Kind::Array ? member_align(t->target) : t->alignment(); }

const Record *member_record(const CType *t) {
  while (t->kind == Kind::Array) t = t->target;
  return t->kind == Kind::Record ? t->record : nullptr;
}

}  // namespace layout
}  // namespace ndffi
