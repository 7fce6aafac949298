"""What a macro's expansion is, from clang's tree of it (for :mod:`.macros`): string
literals, initializers, the shape of an expression, the lazily evaluated expressions
(HDF5's ``H5T_NATIVE_INT``) and the calls a function-like macro forwards to."""

from __future__ import annotations

from . import libclang as lc
from .types import _Unsupported

_ESCAPES = {"n": 10, "t": 9, "r": 13, "a": 7, "b": 8, "f": 12, "v": 11, "\\": 92, '"': 34, "'": 39, "?": 63}


def string_literal(text):
    """The value of a narrow C string literal as clang spells one (``"a\\tb"``, ``u8"..."``),
    bytes that are not UTF-8 as surrogate escapes; None for a wide literal."""
    if text.startswith("u8"):
        text = text[2:]
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        return None
    body, out, i = text[1:-1], bytearray(), 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out += ch.encode("utf-8", "surrogateescape")
            i += 1
            continue
        nxt = body[i + 1 : i + 2]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt == "x":
            j = i + 2
            while j < len(body) and body[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(int(body[i + 2 : j] or "0", 16) & 0xFF)
            i = j
        elif nxt.isdigit():
            j = i + 1
            while j < len(body) and j < i + 4 and body[j] in "01234567":
                j += 1
            out.append(int(body[i + 1 : j], 8) & 0xFF)
            i = j
        else:
            return None
    return out.decode("utf-8", "surrogateescape")


def _initializer(var):
    """The initializer of an evaluation variable (its last child), or None."""
    kids = lc.children(var)
    return kids[-1] if kids else None


def _shape(c):
    """Expression cursor ``c`` as a tree of tuples, parentheses and implicit conversions
    left out: ("ref", "function" | "variable" | "constant", cursor), ("call", callee,
    [args]), ("deref", e), ("addr", e), ("seq", a, b) (the comma operator), ("cond", c,
    a, b) (``c ? a : b``), ("cast", e, to a pointer type, cursor),
    ("string", cursor), ("literal", cursor), ("op", [operands], cursor); ("none",) for
    no cursor."""
    if c is None:
        return ("none",)
    k = c.kind
    kids = lc.children(c)
    if k in (lc.E_PAREN, lc.E_UNEXPOSED) and len(kids) == 1:
        return _shape(kids[0])
    if k == lc.E_DECL_REF:
        ref = lc.getCursorReferenced(c)
        kind = {lc.CURSOR_FUNCTION: "function", lc.CURSOR_VAR: "variable", lc.CURSOR_ENUM_CONST: "constant"}.get(
            ref.kind
        )
        return ("ref", kind, ref) if kind else ("op", [], c)
    if k == lc.E_CALL and kids:
        return ("call", _shape(kids[0]), [_shape(a) for a in kids[1:]])
    if k == lc.E_CAST and kids:
        to_pointer = lc.getCanonicalType(lc.getCursorType(c)).kind == lc.T_POINTER
        return ("cast", _shape(kids[-1]), to_pointer, c)
    if k == lc.E_STRING:
        return ("string", c)
    if k in (lc.E_INTEGER, lc.E_FLOATING, lc.E_CHARACTER):
        return ("literal", c)
    if k == lc.E_UNARY and len(kids) == 1 and lc.getUnaryOperatorKind is not None:
        op = lc.getUnaryOperatorKind(c)
        if op == lc.UNOP_DEREF:
            return ("deref", _shape(kids[0]))
        if op == lc.UNOP_ADDRESS:
            return ("addr", _shape(kids[0]))
    if k == lc.E_CONDITIONAL and len(kids) == 3:
        return ("cond", _shape(kids[0]), _shape(kids[1]), _shape(kids[2]))
    if k == lc.E_BINARY and len(kids) == 2 and lc.getBinaryOperatorKind is not None:
        if lc.getBinaryOperatorKind(c) == lc.BINOP_COMMA:
            return ("seq", _shape(kids[0]), _shape(kids[1]))
    return ("op", [_shape(ch) for ch in kids if ch.kind != lc.CURSOR_TYPE_REF], c)


def _subtrees(shape):
    yield shape
    tag = shape[0]
    if tag == "call":
        yield from _subtrees(shape[1])
        for a in shape[2]:
            yield from _subtrees(a)
    elif tag in ("deref", "addr", "cast"):
        yield from _subtrees(shape[1])
    elif tag in ("seq", "cond"):
        for part in shape[1:]:
            yield from _subtrees(part)
    elif tag == "op":
        for a in shape[1]:
            yield from _subtrees(a)


def _has_comma(shape):
    return any(s[0] == "seq" for s in _subtrees(shape))


def _reads_memory(shape):
    """Does the expression call a function or read a variable (so that it has no value
    before it is evaluated in a running program)?"""
    return any(s[0] == "call" or (s[0] == "ref" and s[1] == "variable") for s in _subtrees(shape))


def _owned(tr, cursor):
    return lc.cursor_file(cursor) in tr.owned


def _lazy(tr, shape):
    """The expression as data that :mod:`ndffi.headers` evaluates when it is used:
    ["call", function, [args]], ["var", name], ["deref", e], ["addr", name],
    ["seq", a, b], ["const", value]; None when it uses anything else (arithmetic, a
    function or variable the header's files do not declare)."""
    tag = shape[0]
    if tag == "cast":
        if shape[2]:  # to a pointer: the same address
            return _lazy(tr, shape[1])
        if _reads_memory(shape[1]):  # a conversion of what is read when used: not kept
            return None
        value = lc.evaluate(shape[3])  # (int)2.7 is 2
        return ["const", value[1]] if value is not None else None
    if tag == "seq":
        a, b = _lazy(tr, shape[1]), _lazy(tr, shape[2])
        return None if a is None or b is None else ["seq", a, b]
    if tag == "cond":  # (CHAR_MIN ? H5T_NATIVE_SCHAR : H5T_NATIVE_UCHAR): chosen now
        cond = _lazy(tr, shape[1]) if not _reads_memory(shape[1]) else None
        if cond is None or cond[0] != "const":
            return None
        return _lazy(tr, shape[2] if cond[1] else shape[3])
    if tag == "deref":
        e = _lazy(tr, shape[1])
        return None if e is None else ["deref", e]
    if tag == "literal" or (tag == "op" and not _reads_memory(shape)):
        value = lc.evaluate(shape[-1])  # a constant part (-0.5)
        return ["const", value[1]] if value is not None else None
    if tag == "string":
        text = string_literal(lc.spelling(shape[1]))
        return ["const", text] if text is not None else None
    if tag == "addr":
        inner = shape[1]
        if inner[0] == "ref" and inner[1] == "variable" and _declare(tr, inner[2]):
            return ["addr", lc.spelling(inner[2])]
        return None
    if tag == "ref" and shape[1] == "variable":
        return ["var", lc.spelling(shape[2])] if _declare(tr, shape[2]) else None
    if tag == "ref" and shape[1] == "constant":
        return ["const", lc.getEnumConstantDeclValue(shape[2])]
    if tag == "call" and shape[1][0] == "ref" and shape[1][1] == "function":
        if not _declare(tr, shape[1][2]):
            return None
        args = [_lazy(tr, a) for a in shape[2]]
        if any(a is None for a in args):
            return None
        return ["call", lc.spelling(shape[1][2]), args]
    return None


def _declare(tr, cursor):
    """Declare the function or variable ``cursor`` of the header's files by its own name
    (reserved names too: ``__xmlFree``); whether it is declared."""
    if not _owned(tr, cursor):
        return False
    name = lc.spelling(cursor)
    if name not in tr.names:
        try:
            if cursor.kind == lc.CURSOR_FUNCTION:
                tr.function(cursor, name, lc.cursor_file(cursor), symbol=name)
            else:
                tr.variable(cursor, name, lc.cursor_file(cursor), symbol=name)
        except _Unsupported as exc:
            tr.skipped.setdefault(name, str(exc))
        tr.drain()
    return name in tr.decls


def _forward(tr, name, d, plan, value_of):
    target, arg_plans = plan
    call = []
    for i, (kind, value) in enumerate(arg_plans):
        if kind == "param":
            call.append(["param", value])
            continue
        t, val = value_of(f"a{d}_{i}_{name}")
        if val is None:
            return None
        if val[0] == "pointer":
            try:
                val = ("pointer", [tr.spell_value_type(t), val[1]])
            except _Unsupported:
                return None
            tr.drain()
        call.append(["const", val[0], val[1], value[0]])
    return {"target": target, "args": call}
