#include "nd_cexpr.h"
#include "nd_limits.h"

#include <cctype>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace ndffi {

static const CType *int_t() { return TypeTable::get().int_type(4, true, "int"); }
static const CType *uint_t() { return TypeTable::get().int_type(4, false, "unsigned int"); }
// The first of long and long long that has 8 bytes on the scope's ABI.
static const CType *wide_t(const Target &abi, bool is_unsigned) {
  bool l = abi.long_.size == 8;
  return abi.type(is_unsigned ? (l ? Scalar::ULong : Scalar::ULongLong) : (l ? Scalar::Long : Scalar::LongLong));
}
static const CType *double_t() { return TypeTable::get().float_type(8, "double"); }

static Constant make_int(int64_t v, bool is_unsigned, const CType *t = nullptr) {
  Constant c;
  c.kind = Constant::Int;
  c.i = v;
  c.is_unsigned = is_unsigned;
  c.type = t ? t : is_unsigned ? uint_t() : int_t();  // 0 or 1 of a comparison
  return c;
}

static Constant make_float(double d) {
  Constant c;
  c.kind = Constant::Float;
  c.f = d;
  c.type = double_t();
  return c;
}

// A floating operation's result in its type by the usual arithmetic conversions: float
// (rounded to it) when neither operand is a double or long double, else double.
static Constant float_result(double r, const Constant &a, const Constant &b) {
  auto narrow = [](const Constant &c) { return c.kind != Constant::Float || c.type->byte_size() == 4; };
  Constant c = make_float(r);
  if (narrow(a) && narrow(b)) {
    c.f = double(float(r));
    c.type = TypeTable::get().float_type(4, "float");
  }
  return c;
}

// Integer arithmetic is done in C's types: after the integer promotions (char, short,
// _Bool and small enums become int) an operand is int, unsigned int, long or unsigned
// long; a binary operation converts both to their common type (the usual arithmetic
// conversions, LP64 or LLP64 alike: the wider type wins, and of two of one width the
// unsigned one), and the result wraps to that type's width, as C does: ~0u is
// 0xffffffff and (1 << 31) is INT_MIN.
struct IntType {
  size_t size;  // 4 or 8
  bool is_unsigned;
};

static IntType promoted(const Constant &c) {
  size_t size = 8;
  if (c.type) size = c.type->byte_size();
  if (size < 4) return {4, false};
  return {size > 4 ? size_t(8) : size_t(4), c.is_unsigned};
}

static IntType common(IntType a, IntType b) {
  if (a.size == b.size) return {a.size, a.is_unsigned || b.is_unsigned};
  return a.size > b.size ? a : b;
}

// `v` converted to type `t`: the low bits, sign-extended when `t` is signed.
static int64_t convert(int64_t v, IntType t) {
  if (t.size >= 8) return v;
  uint64_t bits = uint64_t(v) & 0xffffffffu;
  if (!t.is_unsigned && (bits >> 31)) bits |= ~uint64_t(0xffffffffu);
  return int64_t(bits);
}

static Constant typed_int(const Target &abi, int64_t v, IntType t) {
  const CType *type = t.size == 4 ? (t.is_unsigned ? uint_t() : int_t()) : wide_t(abi, t.is_unsigned);
  return make_int(convert(v, t), t.is_unsigned, type);
}

static double as_double(const Constant &c) {
  return c.kind == Constant::Float ? c.f : c.is_unsigned ? double(uint64_t(c.i)) : double(c.i);
}

static bool truth(const Constant &c) { return c.kind == Constant::Float ? c.f != 0 : c.i != 0; }

void ConstExpr::error(const Token &t, const std::string &msg) { throw_cdef_error(src_, t.pos, msg, t.text); }

struct ConstExpr::Level {
  ConstExpr &e;
  explicit Level(ConstExpr &expr) : e(expr) {
    if (e.depth_ >= kMaxNesting)
      e.error(e.peek(), "expression is nested too deeply (more than " + std::to_string(kMaxNesting) + " levels)");
    if (e.depth_ > kUncheckedNesting && stack_low())
      e.error(e.peek(), "expression is nested too deeply for the stack of this thread");
    e.depth_++;
  }
  ~Level() { e.depth_--; }
};

Constant ConstExpr::eval() { return conditional(); }

int64_t ConstExpr::integer() {
  const Token &at = peek();
  Constant c = conditional();
  if (c.kind != Constant::Int) error(at, "expected an integer constant expression");
  if (c.is_unsigned && uint64_t(c.i) > uint64_t(INT64_MAX)) error(at, "integer constant is too large");
  return c.i;
}

Constant ConstExpr::conditional() {
  Constant c = binary(0);
  if (accept("?")) {
    Level level(*this);  // `a ? b ? c : d : e` nests to the right
    Constant a = conditional();
    if (!accept(":")) error(peek(), "expected ':'");
    Constant b = conditional();
    Constant r = truth(c) ? a : b;
    // The result has the common type of both branches, as in C: 1 ? 2 : 3u is unsigned.
    if (a.kind == Constant::Int && b.kind == Constant::Int)
      return typed_int(scope_.target(), r.i, common(promoted(a), promoted(b)));
    if (a.kind == Constant::Float && b.kind == Constant::Int) return make_float(as_double(r));
    if (a.kind == Constant::Int && b.kind == Constant::Float) return make_float(as_double(r));
    return r;
  }
  return c;
}

static int precedence(const Token &t) {
  if (t.kind != Tok::Punct) return -1;
  static const std::pair<const char *, int> table[] = {{"||", 1}, {"&&", 2}, {"|", 3}, {"^", 4},  {"&", 5},  {"==", 6},
                                                       {"!=", 6}, {"<", 7},  {">", 7}, {"<=", 7}, {">=", 7}, {"<<", 8},
                                                       {">>", 8}, {"+", 9},  {"-", 9}, {"*", 10}, {"/", 10}, {"%", 10}};
  for (auto &e : table)
    if (t.text == e.first) return e.second;
  return -1;
}

Constant ConstExpr::binary(int min_prec) {
  Constant lhs = unary();
  for (;;) {
    const Token &op = peek();
    int prec = precedence(op);
    if (prec < 0 || prec < min_prec) return lhs;
    p_++;
    Constant rhs = binary(prec + 1);
    lhs = apply(op, lhs, rhs);
  }
}

Constant ConstExpr::apply(const Token &opt, const Constant &a, const Constant &b) {
  const std::string &op = opt.text;
  if (a.kind == Constant::String || b.kind == Constant::String)
    error(opt, "a string cannot be an operand of '" + op + "'");
  if (op == "&&") return make_int(truth(a) && truth(b), false);
  if (op == "||") return make_int(truth(a) || truth(b), false);
  if (a.kind == Constant::Float || b.kind == Constant::Float) {
    double x = as_double(a), y = as_double(b);
    if (op == "+") return float_result(x + y, a, b);
    if (op == "-") return float_result(x - y, a, b);
    if (op == "*") return float_result(x * y, a, b);
    if (op == "/") return float_result(x / y, a, b);
    if (op == "<") return make_int(x < y, false);
    if (op == ">") return make_int(x > y, false);
    if (op == "<=") return make_int(x <= y, false);
    if (op == ">=") return make_int(x >= y, false);
    if (op == "==") return make_int(x == y, false);
    if (op == "!=") return make_int(x != y, false);
    error(opt, "'" + op + "' needs integer operands");
  }
  bool shift = op == "<<" || op == ">>";
  // A shift has the type of its promoted left operand; the others the common type.  A
  // shift of an int by 32 or more (undefined in C) is done in 64 bits, as the author
  // of `1 << 40` meant.
  IntType t = shift ? promoted(a) : common(promoted(a), promoted(b));
  if (shift && t.size < 8 && (b.is_unsigned ? uint64_t(b.i) >= 32 : b.i >= 32)) t.size = 8;
  int64_t sx = convert(a.i, t), sy = shift ? b.i : convert(b.i, t);
  uint64_t x = uint64_t(sx), y = uint64_t(sy);
  if (t.size < 8 && t.is_unsigned) x &= 0xffffffffu, y = shift ? y : y & 0xffffffffu;
  bool u = t.is_unsigned;
  if (op == "<" || op == ">" || op == "<=" || op == ">=" || op == "==" || op == "!=") {
    bool r = op == "=="   ? x == y
             : op == "!=" ? x != y
             : u          ? (op == "<"    ? x < y
                             : op == ">"  ? x > y
                             : op == "<=" ? x <= y
                                          : x >= y)
                          : (op == "<"    ? sx < sy
                             : op == ">"  ? sx > sy
                             : op == "<=" ? sx <= sy
                                          : sx >= sy);
    return make_int(r, false);
  }
  if ((op == "/" || op == "%") && y == 0) error(opt, "division by zero");
  if (shift && (b.is_unsigned ? uint64_t(b.i) > 63 : (b.i < 0 || b.i > 63))) error(opt, "shift count out of range");
  uint64_t r;
  if (op == "+") r = x + y;
  else if (op == "-") r = x - y;
  else if (op == "*") r = x * y;
  else if (op == "/") r = u ? x / y : uint64_t(sx == INT64_MIN && sy == -1 ? sx : sx / sy);
  else if (op == "%") r = u ? x % y : uint64_t(sx == INT64_MIN && sy == -1 ? 0 : sx % sy);
  else if (op == "<<") r = x << y;
  else if (op == ">>") r = u ? x >> y : uint64_t(sx >> sy);
  else if (op == "&") r = x & y;
  else if (op == "|") r = x | y;
  else r = x ^ y;
  return typed_int(scope_.target(), int64_t(r), t);
}

Constant ConstExpr::unary() {
  Level level(*this);
  const Token &t = peek();
  if (accept("-")) {
    Constant v = unary();
    if (v.kind == Constant::Float) {
      Constant r = v;  // of its own type
      r.f = -v.f;
      return r;
    }
    if (v.kind != Constant::Int) error(t, "'-' needs a number");
    return typed_int(scope_.target(), int64_t(0 - uint64_t(v.i)), promoted(v));
  }
  if (accept("+")) {
    Constant v = unary();
    return v.kind == Constant::Int ? typed_int(scope_.target(), v.i, promoted(v)) : v;
  }
  if (accept("~")) {
    Constant v = unary();
    if (v.kind != Constant::Int) error(t, "'~' needs an integer");
    return typed_int(scope_.target(), ~v.i, promoted(v));
  }
  if (accept("!")) return make_int(!truth(unary()), false);
  if (accept("sizeof")) {
    bool paren = is("(");
    if (paren && hooks_.at_type_name) {
      size_t save = p_;
      p_++;
      if (hooks_.at_type_name()) {
        const CType *ty = hooks_.type_name();
        if (!accept(")")) error(peek(), "expected ')'");
        if (!ty->is_complete()) error(t, "sizeof of incomplete type '" + ty->str() + "'");
        const Target &abi = scope_.target();
        return make_int(int64_t(ty->byte_size()), true, abi.type(abi.size));
      }
      p_ = save;
    }
    error(t, "sizeof needs a type name in parentheses");
  }
  if (is("(") && hooks_.at_type_name) {
    size_t save = p_;
    p_++;
    if (hooks_.at_type_name()) {
      const CType *ty = hooks_.type_name();
      if (!accept(")")) error(peek(), "expected ')'");
      return cast(ty, unary(), t);
    }
    p_ = save;
  }
  return primary();
}

Constant ConstExpr::cast(const CType *t, const Constant &v, const Token &at) {
  if (v.kind == Constant::String) error(at, "a string cannot be cast");
  if (t->kind == Kind::Float) {
    double d = as_double(v);
    if (t->size == 4) d = double(float(d));
    Constant c = make_float(d);
    c.type = t;
    return c;
  }
  if (t->kind == Kind::Pointer || t->is_integer()) {
    // C conversion: the value modulo 2**bits (pointers: an address-sized integer).
    uint64_t bits = v.kind == Constant::Float ? uint64_t(int64_t(v.f)) : uint64_t(v.i);
    size_t size = t->byte_size();
    const CType *base = t->kind == Kind::Enum && t->record->enum_base ? t->record->enum_base : t;
    bool is_signed = t->kind != Kind::Pointer && base->is_signed;
    if (t->kind == Kind::Bool) return make_int(bits != 0, false, t);
    if (size < 8) {
      uint64_t mask = (uint64_t(1) << (8 * size)) - 1;
      bits &= mask;
      if (is_signed && (bits >> (8 * size - 1))) bits |= ~mask;
    }
    return make_int(int64_t(bits), !is_signed, t);
  }
  if (t->kind == Kind::Void) return v;
  error(at, "cannot cast a constant to '" + t->str() + "'");
}

Constant ConstExpr::primary() {
  const Token &t = peek();
  if (accept("(")) {
    Constant v = conditional();
    if (!accept(")")) error(peek(), "expected ')'");
    return v;
  }
  if (t.kind == Tok::Number) {
    p_++;
    return number(t);
  }
  if (t.kind == Tok::Char) {
    p_++;
    return character(t);
  }
  if (t.kind == Tok::String) return string();
  if (t.kind == Tok::Ident) {
    if (const Constant *c = scope_.find_constant(t.text)) {
      p_++;
      return *c;
    }
    error(t, "'" + t.text + "' is not a constant");
  }
  error(t, t.kind == Tok::End || t.kind == Tok::EndLine ? "expected a constant expression, got the end"
                                                        : "expected a constant expression, got '" + t.text + "'");
}

Constant ConstExpr::number(const Token &t) {
  const std::string &s = t.text;
  bool hex = s.size() > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
  bool is_float = !hex && (s.find_first_of(".eE") != std::string::npos);
  if (hex && s.find_first_of("pP") != std::string::npos) is_float = true;
  if (is_float) {
    std::string body = s;
    while (!body.empty() && strchr("fFlL", body.back())) body.pop_back();
    char *end = nullptr;
    const bool single = s.back() == 'f' || s.back() == 'F';
    double d = single ? double(strtof(body.c_str(), &end)) : strtod(body.c_str(), &end);  // rounded once
    if (!end || *end) error(t, "invalid floating constant '" + s + "'");
    Constant c = make_float(d);
    if (single) c.type = TypeTable::get().float_type(4, "float");
    return c;
  }
  size_t end = s.size();
  bool u = false;
  int longs = 0;
  while (end > 0 && strchr("uUlL", s[end - 1])) {
    if (s[end - 1] == 'u' || s[end - 1] == 'U') u = true;
    else longs++;
    end--;
  }
  std::string digits = s.substr(0, end);
  int base = 10;
  size_t i = 0;
  if (hex) base = 16, i = 2;
  else if (digits.size() > 1 && digits[0] == '0') base = 8, i = 1;
  if (i >= digits.size() && base == 16) error(t, "invalid integer constant '" + s + "'");
  uint64_t v = 0;
  for (; i < digits.size(); i++) {
    char c = digits[i];
    int d = isdigit((unsigned char)c) ? c - '0' : isxdigit((unsigned char)c) && base == 16 ? tolower(c) - 'a' + 10 : 99;
    if (d >= base) error(t, "invalid integer constant '" + s + "'");
    if (v > (UINT64_MAX - uint64_t(d)) / uint64_t(base)) error(t, "integer constant is too large");
    v = v * uint64_t(base) + uint64_t(d);
  }
  // C's type of an integer constant: the first that holds the value of int, unsigned int
  // (hexadecimal and octal only), long, unsigned long (the unsigned ones from the start
  // with a U suffix; long from the start with an L suffix).
  bool any_base_unsigned = base != 10 || u;
  if (!u && !longs && v <= uint64_t(INT_MAX)) return make_int(int64_t(v), false, int_t());
  if (!longs && any_base_unsigned && v <= UINT_MAX) return make_int(int64_t(v), true, uint_t());
  if (!u && v <= uint64_t(INT64_MAX)) return make_int(int64_t(v), false, wide_t(scope_.target(), false));
  if (!any_base_unsigned) error(t, "integer constant is too large");
  return make_int(int64_t(v), true, wide_t(scope_.target(), true));
}

// The value of one escape sequence or character at s[i], advancing i.
static int64_t read_char(const std::string &s, size_t &i, bool *ok) {
  *ok = true;
  if (s[i] != '\\') return (unsigned char)s[i++];
  i++;
  if (i >= s.size()) return *ok = false, 0;
  char c = s[i++];
  switch (c) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7': {
      int v = c - '0';
      for (int k = 0; k < 2 && i < s.size() && s[i] >= '0' && s[i] <= '7'; k++) v = v * 8 + (s[i++] - '0');
      if (v > 0xff) *ok = false;  // '\777': out of a char's range, an error in C
      return v & 0xff;
    }
    case 'x': {
      // As in C, the digits run on as long as there are any, and a value past a char's
      // range is an error (not truncated, and never an overflow here).
      int v = 0, n = 0;
      while (i < s.size() && isxdigit((unsigned char)s[i])) {
        int d = isdigit((unsigned char)s[i]) ? s[i] - '0' : tolower((unsigned char)s[i]) - 'a' + 10;
        v = v > 0xff ? v : v * 16 + d;
        i++, n++;
      }
      if (!n || v > 0xff) *ok = false;
      return v & 0xff;
    }
    case 'a': return '\a';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'v': return '\v';
    case 'e': return 27;
    case '\\':
    case '\'':
    case '"':
    case '?': return c;
    default: *ok = false; return 0;
  }
}

Constant ConstExpr::character(const Token &t) {
  std::string body = t.text.substr(1, t.text.size() - 2);
  size_t i = 0;
  bool ok;
  if (body.empty()) error(t, "empty character constant");
  int64_t v = read_char(body, i, &ok);
  if (!ok || i != body.size()) error(t, "invalid character constant " + t.text);
  // A character constant has type int, with the value of a char: '\xff' is -1 where
  // char is signed.
  return make_int(scope_.target().char_signed ? int64_t(int8_t(v)) : int64_t(uint8_t(v)), false, int_t());
}

Constant ConstExpr::string() {
  Constant c;
  c.kind = Constant::String;
  TypeTable &T = TypeTable::get();
  c.type = T.pointer(T.qualified(scope_.target().type(Scalar::Char), QConst), 0, scope_.target());
  while (peek().kind == Tok::String) {  // adjacent literals are one string
    const Token &t = peek();
    std::string body = t.text.substr(1, t.text.size() - 2);
    for (size_t i = 0; i < body.size();) {
      bool ok;
      int64_t v = read_char(body, i, &ok);
      if (!ok) error(t, "invalid escape sequence in " + t.text);
      c.s += char(v);
    }
    p_++;
  }
  return c;
}

}  // namespace ndffi
