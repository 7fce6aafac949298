"""The macros of a C header, for :mod:`ndffi.headers.translate`: the #define and #undef
lines read from the header's files (:func:`scan_macros`), the evaluation variables
appended to the translation unit for clang to evaluate (:func:`main_source`), and the
constants, pointers and callable function-like macros made from their values
(:func:`macro_values`)."""

from __future__ import annotations

import bisect
import os
import re

from . import libclang as lc
from .expansions import _forward, _has_comma, _initializer, _lazy, _owned, _reads_memory, _shape, string_literal
from .types import _Unsupported, c_float, c_int, c_string, is_reserved

# The standard C and POSIX headers (and the C library's plumbing), by the name they are
# included as: a header's own declarations stop where it includes one of these.  Their
# declarations stay reachable as the types the header's declarations use.
STANDARD_HEADERS = frozenset(
    """
assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h locale.h
math.h setjmp.h signal.h stdalign.h stdarg.h stdatomic.h stdbool.h stddef.h stdint.h stdio.h
stdlib.h stdnoreturn.h string.h tgmath.h threads.h time.h uchar.h wchar.h wctype.h
stdckdint.h stdbit.h
aio.h arpa/inet.h cpio.h dirent.h dlfcn.h fcntl.h fmtmsg.h fnmatch.h ftw.h glob.h grp.h
iconv.h langinfo.h libgen.h monetary.h mqueue.h ndbm.h net/if.h netdb.h netinet/in.h
netinet/tcp.h nl_types.h poll.h pthread.h pwd.h regex.h sched.h search.h semaphore.h
spawn.h strings.h stropts.h sys/ipc.h sys/mman.h sys/msg.h sys/resource.h sys/select.h
sys/sem.h sys/shm.h sys/socket.h sys/stat.h sys/statvfs.h sys/time.h sys/times.h
sys/types.h sys/uio.h sys/un.h sys/utsname.h sys/wait.h syslog.h tar.h termios.h trace.h
ulimit.h unistd.h utime.h utmpx.h wordexp.h
features.h alloca.h malloc.h endian.h sys/cdefs.h sys/param.h sys/ioctl.h
windows.h winapi.h
""".split()
)


# ---- macros, read from the header's files -------------------------------------------

_INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*([<"])([^>"\n]+)[>"]', re.M)
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+|/\*.*?\*/|/\*.*\Z|//[^\n]*)
  | (?P<str>(?:u8|[uUL])?"(?:[^"\\\n]|\\.)*")
  | (?P<chr>[uUL]?'(?:[^'\\\n]|\\.)*')
  | (?P<num>\.?\d(?:[eEpP][+-]|[\w.])*)
  | (?P<id>[A-Za-z_$]\w*)
  | (?P<punct>\.\.\.|<<=|>>=|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||\#\#|[-+*/%&|^!~<>=?:,;.()\[\]{}\#])
""",
    re.X | re.S,
)


def macro_tokens(text):
    """The C tokens of ``text`` as (kind, text) pairs; comments and line splices dropped."""
    text = text.replace("\\\r\n", " ").replace("\\\n", " ")
    out = []
    pos, n = 0, len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        if m is None:
            out.append(("other", text[pos]))
            pos += 1
            continue
        pos = m.end()
        if m.lastgroup != "ws":
            out.append((m.lastgroup, m.group()))
    return out


class MacroDef:
    """One #define (or #undef: ``undef``) line of a header file."""

    __slots__ = ("name", "params", "text", "path", "line", "undef", "_tokens")

    def __init__(self, name, params, text, path, line, undef=False):
        self.name, self.params, self.text = name, params, text
        self.path, self.line, self.undef = path, line, undef
        self._tokens = None

    @property
    def tokens(self):
        if self._tokens is None:
            self._tokens = macro_tokens(self.text)
        return self._tokens

    @property
    def body(self):
        return _join(self.tokens)


_DIRECTIVE = re.compile(rb"#[ \t]*(define|undef)[ \t]+([A-Za-z_]\w*)((?:\\\r?\n|[^\n])*)")
_COMMENT = re.compile(r"/\*.*?\*/|/\*.*|//.*", re.S)
_INT_LITERAL = re.compile(r"-?\s*(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*")
# Without a suffix: 3.4e38f is a float whose value is not the double 3.4e38 (clang's
# evaluation has it).
_FLOAT_LITERAL = re.compile(r"-?\s*(?:\d+\.\d*|\.\d+|\d+(?=[eE]))(?:[eE][+-]?\d+)?")
_STRING_LITERALS = re.compile(r'(?:"(?:[^"\\\n]|\\.)*"\s*)+')
_CHAR_LITERAL = re.compile(r"'(?:[^'\\\n]|\\.)+'")


def literal_text(text):
    """The text of a macro body that is one plain literal (an integer, floating, string
    or character constant, maybe negated or in parentheses), which ndffi's parser reads
    with C's rules as clang would; else None."""
    if "/" in text:
        text = _COMMENT.sub(" ", text)
    t = text.replace("\\\n", " ").strip()
    if not t:
        return None
    inner = t[1:-1].strip() if t[0] == "(" and t[-1] == ")" else t
    if not inner:
        return None
    c = inner[0]
    if c == '"':
        ok = _STRING_LITERALS.fullmatch(inner)
    elif c == "'":
        ok = _CHAR_LITERAL.fullmatch(inner)
    else:
        ok = _INT_LITERAL.fullmatch(inner) or _FLOAT_LITERAL.fullmatch(inner)
    return t if ok else None


def scan_macros(header, user_dirs, system_dirs):
    """The #define and #undef lines of ``header`` and of the files it includes (found
    the way the preprocessor finds them, not followed into standard headers), in the
    order the preprocessor meets them (an included file's at its #include, before what
    follows it): {name: [MacroDef, ...]}.  Which are in force is told apart afterwards,
    by the parts of each file the preprocessor skipped."""
    out = {}
    seen = {header}

    def scan(path, depth):
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            return
        events = [(m.start(), "include", m) for m in _INCLUDE.finditer(data)]
        events += [(m.start(), "directive", m) for m in _DIRECTIVE.finditer(data)]
        line, last = 1, 0
        for start, what, m in sorted(events, key=lambda e: e[0]):
            if what == "include":
                spelled = m.group(2).decode("utf-8", "replace").strip()
                if spelled in STANDARD_HEADERS or depth >= 200:
                    continue
                dirs = ([os.path.dirname(path)] if m.group(1) == b'"' else []) + list(user_dirs) + list(system_dirs)
                for d in dirs:
                    candidate = os.path.normpath(os.path.join(d, spelled))
                    if os.path.isfile(candidate):
                        if candidate not in seen:
                            seen.add(candidate)
                            scan(candidate, depth + 1)
                        break
                continue
            bol = data.rfind(b"\n", 0, start) + 1
            if data[bol:start].strip(b" \t"):
                continue  # not at the start of a line
            line += data.count(b"\n", last, start)
            last = start
            name = m.group(2).decode()
            rest = m.group(3).decode("utf-8", "surrogateescape")
            if m.group(1) == b"undef":
                out.setdefault(name, []).append(MacroDef(name, None, "", path, line, undef=True))
                continue
            params = None
            if rest.startswith("("):
                close = rest.find(")")
                if close < 0:
                    continue
                params = [p.strip() for p in rest[1:close].replace("\\\n", " ").split(",") if p.strip()]
                rest = rest[close + 1 :]
            out.setdefault(name, []).append(MacroDef(name, params, rest, path, line))

    scan(header, 0)
    return out


def _closes_at_end(tokens):
    """Does the '(' that ``tokens`` starts with close at its last token?"""
    depth = 0
    for i, (kind, t) in enumerate(tokens):
        if kind != "punct":
            continue
        if t == "(":
            depth += 1
        elif t == ")":
            depth -= 1
            if depth == 0:
                return i == len(tokens) - 1
    return False


def _strip_parens(tokens):
    while len(tokens) >= 2 and tokens[0][1] == "(" and _closes_at_end(tokens):
        tokens = tokens[1:-1]
    return tokens


def _split_args(tokens):
    args, cur, depth = [], [], 0
    for tok in tokens:
        kind, t = tok
        if kind == "punct" and t in ("(", "["):
            depth += 1
        elif kind == "punct" and t in (")", "]"):
            depth -= 1
        if kind == "punct" and t == "," and depth == 0:
            args.append(cur)
            cur = []
        else:
            cur.append(tok)
    args.append(cur)
    return args


def _balanced(tokens):
    depth = 0
    for kind, t in tokens:
        if kind == "punct":
            if t in ("(", "["):
                depth += 1
            elif t in (")", "]"):
                depth -= 1
                if depth < 0:
                    return False
    return depth == 0


def _join(tokens):
    return " ".join(t for _, t in tokens)


_NOT_EXPRESSIONS = {"{", "}", ";", "#", "##"}
_NOT_ALONE = {
    "extern",
    "static",
    "const",
    "volatile",
    "inline",
    "__inline",
    "__inline__",
    "register",
    "typedef",
    "struct",
    "union",
    "enum",
    "void",
    "char",
    "short",
    "int",
    "long",
    "float",
    "double",
    "signed",
    "unsigned",
    "_Bool",
    "__extension__",
    "__attribute__",
    "__declspec",
    "__asm__",
    "asm",
    "restrict",
    "__restrict",
}


def _is_expression(tokens):
    if not tokens or not _balanced(tokens):
        return False
    if {t for _, t in tokens} & _NOT_EXPRESSIONS:
        return False
    return not (len(tokens) == 1 and tokens[0][1] in _NOT_ALONE)


def _may_be_pointer(tokens):
    """Could the expression be a pointer (a cast to a pointer or typedef, a name)?"""
    s = _strip_parens(tokens)
    if len(s) == 1:
        return s[0][0] == "id"
    for i in range(len(tokens) - 2):
        if tokens[i][1] == "(" and tokens[i + 1][0] == "id":
            j = i + 1
            while j < len(tokens) and (tokens[j][0] == "id" or tokens[j][1] == "*"):
                j += 1
            if (
                j < len(tokens)
                and tokens[j][1] == ")"
                and j + 1 < len(tokens)
                and tokens[j + 1][1] not in (")", ",", "+", "|", "&", "<<", ">>", "*", "/", "?", ":")
            ):
                return True
    return False


def _may_be_type(tokens):
    """Could the expansion be a type name (``PCRE2_SUFFIX(pcre2_callout_block_)``)?"""
    return any(k == "id" for k, _ in tokens) and all(
        k == "id" or (k == "punct" and t in ("(", ")", ",", "*")) for k, t in tokens
    )


def _may_be_string(tokens):
    s = _strip_parens(tokens)
    return any(k == "str" for k, _ in tokens) or (len(s) == 1 and s[0][0] == "id")


def _forward_plan(params, body):
    """(function, [("param", index) | ("expr", (text, tokens))]) when a function-like
    macro's ``body`` is one call whose arguments are its parameters or expressions that
    do not use them (constants, if clang can evaluate them)."""
    if "..." in params or "__VA_ARGS__" in {t for _, t in body}:
        return None
    body = _strip_parens(body)
    if len(body) < 3 or body[0][0] != "id" or body[1][1] != "(" or not _closes_at_end(body[1:]):
        return None
    inner = body[2:-1]
    plans = []
    for arg in _split_args(inner) if inner else []:
        arg = _strip_parens(arg)
        if not arg:
            return None
        if len(arg) == 1 and arg[0][1] in params:
            plans.append(("param", params.index(arg[0][1])))
            continue
        if {t for _, t in arg} & set(params) or not _is_expression(arg):
            return None
        plans.append(("expr", (_join(arg), arg)))
    return body[0][1], plans


def main_source(header_path, macros):
    """The translation unit: the header, then, for each macro that is not a plain
    literal, variables initialized with it (when it is defined), whose values clang
    evaluates.  Returns (source, {id: plan}) with the plans of function-like macros."""
    lines = [f'#include "{header_path}"']
    plans = {}
    for name, defs in macros.items():
        if is_reserved(name):
            continue
        exprs = []
        object_like = None
        for d, m in enumerate(defs):
            if m.undef:
                continue
            if m.params is None:
                if literal_text(m.text) is None and _is_expression(m.tokens):
                    object_like = (f"m_{name}", name, m.tokens)
            else:
                plan = _forward_plan(m.params, m.tokens)
                plans[(name, d)] = plan
                if plan is not None:
                    for i, (kind, value) in enumerate(plan[1]):
                        if kind == "expr":
                            exprs.append((f"a{d}_{i}_{name}", value[0], value[1]))
        if object_like is not None:
            exprs.append(object_like)
        typename = object_like is not None and _may_be_type(object_like[2])
        if not exprs:
            continue
        lines.append(f"#ifdef {name}")
        if typename:
            lines.append(f"typedef {name} __ndffi_t_m_{name};")
        for ident, expr, toks in exprs:
            lines.append(f"static __auto_type __ndffi_v_{ident} = ({expr});")
            if _may_be_pointer(toks):
                lines.append(f"static const unsigned long long __ndffi_p_{ident} = (unsigned long long)({expr});")
            if _may_be_string(toks):
                lines.append(f"static const char __ndffi_s_{ident}[] = {expr};")
        lines.append("#endif")
    return "\n".join(lines) + "\n", plans


# ---- their values -------------------------------------------------------------------


def _in_force(defs, skipped):
    """The definition of a macro in force at the end of the header (None if it is not
    defined): the last #define or #undef outside the skipped parts of its file."""
    current = None
    for d, m in enumerate(defs):
        ranges = skipped.get(m.path)
        if ranges is None:
            continue  # a file the header does not own
        i = bisect.bisect_right(ranges, (m.line, float("inf"))) - 1
        if i >= 0 and ranges[i][0] <= m.line <= ranges[i][1]:
            continue  # in a skipped #if branch
        current = None if m.undef else (d, m)
    return current


def macro_values(tr, macros, plans, main_vars, skipped):
    """The values of the header's macros, from the evaluation declarations.

    Object-like macros first, so that a function-like macro may call a function that an
    object-like one names (``#define pcre2_compile PCRE2_SUFFIX(pcre2_compile_)``)."""
    cursors = {}
    for c in main_vars:
        cursors[lc.spelling(c)[len("__ndffi_") :]] = c

    def value_of(ident):
        c = cursors.get("v_" + ident)
        if c is None:
            return None, None
        value = lc.evaluate(c)
        t = lc.getCursorType(c)
        if value is None and lc.getCanonicalType(t).kind == lc.T_POINTER:
            sc = cursors.get("s_" + ident)
            value = lc.evaluate(sc) if sc is not None else None
            if value is not None and value[0] != "string":
                value = None
            if value is None:
                # A string literal, maybe in casts and parentheses: (const xmlChar *)"..."
                shape = _shape(_initializer(c))
                while shape[0] == "cast":
                    shape = shape[1]
                if shape[0] == "string":
                    text = string_literal(lc.spelling(shape[1]))
                    value = ("string", text) if text is not None else None
            if value is None:
                pc = cursors.get("p_" + ident)
                address = lc.evaluate(pc) if pc is not None else None
                if address is not None and address[0] == "int":
                    value = ("pointer", address[1] & 0xFFFFFFFFFFFFFFFF)
        return t, value

    out = {"defines": {}, "constants": [], "pointers": {}, "function_macros": {}, "other": {}, "expressions": {}}
    in_force = []
    for name, defs in macros.items():
        if is_reserved(name):
            continue
        found = _in_force(defs, skipped)
        if found is not None:
            in_force.append((name, found[0], found[1]))
    where_used = _where_used(macros, {name: m for name, _, m in in_force})
    for name, _d, m in in_force:
        if m.params is None:
            if name in where_used and name not in tr.names:
                why = (
                    "is the compiler's version"
                    if where_used[name] in _COMPILER_MACROS
                    else "depends on where it is used"
                )
                tr.skipped.setdefault(
                    name, f"its value {why} ({where_used[name]}), not the library's: #define {name} {m.body}"
                )
                continue
            _object_macro(tr, name, m, cursors, value_of, out)
    for name, d, m in in_force:
        if m.params is None:
            continue
        plan = plans.get((name, d))
        if (
            plan is not None
            and plan[0] == name
            and tr.names.get(name) == "function"
            and [a for a in plan[1]] == [("param", i) for i in range(len(m.params))]
        ):
            continue  # #define f(a, b) f(a, b): the function itself (curl_easy_setopt)
        entry = {"params": m.params, "body": m.body, "forward": None}
        if plan is not None and tr.names.get(plan[0]) == "function":
            entry["forward"] = _forward(tr, name, d, plan, value_of)
        out["function_macros"][name] = entry
        tr.locations.setdefault(name, [m.path, m.line])
    return out


_PLACE_MACROS = frozenset(
    """__FILE__ __LINE__ __func__ __FUNCTION__ __PRETTY_FUNCTION__
__COUNTER__ __DATE__ __TIME__ __TIMESTAMP__ __BASE_FILE__ __FILE_NAME__ __INCLUDE_LEVEL__""".split()
)
# clang's are not the system compiler's (libclang says __GNUC__ 4, __GNUC_MINOR__ 2)
_COMPILER_MACROS = frozenset(
    """__GNUC__ __GNUC_MINOR__ __GNUC_PATCHLEVEL__ __VERSION__
__clang__ __clang_major__ __clang_minor__ __clang_patchlevel__ __clang_version__""".split()
)
_PLACE_MACROS |= _COMPILER_MACROS


def _where_used(macros, in_force):
    """{name: the predefined macro} of the macros whose expansion depends on the place
    it is expanded at (``#define OPENSSL_LINE __LINE__``) or on the compiler that
    expands it (``__GNUC__``), through other macros too."""
    memo = {}

    def uses(name, depth=0):
        if name in memo:
            return memo[name]
        memo[name] = None  # a macro does not expand itself again
        m = in_force.get(name)
        found = None
        if m is not None and depth < 64:
            for kind, t in m.tokens:
                if kind != "id":
                    continue
                found = t if t in _PLACE_MACROS else uses(t, depth + 1)
                if found:
                    break
        memo[name] = found
        return found

    return {name: uses(name) for name in in_force if uses(name)}


def _object_macro(tr, name, m, cursors, value_of, out):
    """Classify one object-like macro in force: a constant (number, string, pointer),
    another name of a function, variable or type, an expression over the library's
    functions and variables evaluated when used, or none of these (listed, with why)."""
    loc = [m.path, m.line]
    if name in tr.names or not m.text.strip():
        return
    named = _strip_parens(m.tokens)
    if len(named) == 1 and named[0][1] in tr.function_cursors:
        # Another name of a function (#define mpz_add __gmpz_add): the function, as it.
        c, fid = tr.function_cursors[named[0][1]]
        _alias_function(tr, name, c, fid, named[0][1], loc)
        return
    literal = literal_text(m.text)
    if literal is not None:
        out["defines"][name] = f"#define {name} {literal}"
        _constant(tr, name, loc, out)
        return
    vc = cursors.get("v_m_" + name)
    shape = _shape(_initializer(vc)) if vc is not None else ("none",)
    if shape[0] == "ref" and shape[1] in ("function", "variable") and _owned(tr, shape[2]):
        ref = shape[2]
        target = lc.spelling(ref)
        if shape[1] == "function":
            _alias_function(tr, name, ref, lc.cursor_file(ref), target, loc)
        else:
            _alias_variable(tr, name, ref, target, loc)
        return
    tc = cursors.get("t_m_" + name)
    if (
        tc is not None
        and (shape[0] == "none" or shape[:2] == ("op", []))
        and lc.getTypedefDeclUnderlyingType(tc).kind != lc.T_INVALID
    ):
        # A type name (#define pcre2_callout_block PCRE2_SUFFIX(pcre2_callout_block_)).
        try:
            text = "typedef " + tr.spell(lc.getTypedefDeclUnderlyingType(tc), name, full=False) + ";"
        except _Unsupported as exc:
            tr.skipped.setdefault(name, str(exc))
            return
        tr.drain()
        tr.chunks.append(text)
        tr.names[name] = "typedef"
        tr.types.append(name)
        tr.locations.setdefault(name, loc)
        return
    lazy = _lazy(tr, shape) if _reads_memory(shape) else None
    if lazy is not None:
        out["expressions"][name] = lazy
        tr.names[name] = "expression"
        tr.locations.setdefault(name, loc)
        return
    if _has_comma(shape) or (lc.getBinaryOperatorKind is None and len(_split_args(_strip_parens(m.tokens))) > 1):
        # (a libclang older than 17 does not tell the operators apart: the macro's own
        # top-level commas, then)
        tr.skipped.setdefault(
            name, f"a comma expression (a list of values), not one C constant: #define {name} {m.body}"
        )
        return
    t, value = value_of("m_" + name)
    if value is None:
        if m.tokens:
            out["other"][name] = m.body
        return
    kind, v = value
    canon = lc.getCanonicalType(t).kind
    try:
        if kind == "int":
            out["defines"][name] = f"#define {name} {c_int(v, canon)}"
        elif kind == "float":
            out["defines"][name] = f"#define {name} {c_float(v, canon == lc.T_FLOAT)}"
        elif kind == "string":
            out["defines"][name] = f"#define {name} {c_string(v)}"
        else:
            out["pointers"][name] = [tr.spell_value_type(t), v]
            tr.drain()
    except _Unsupported:
        out["other"][name] = m.body
        return
    _constant(tr, name, loc, out)


def _constant(tr, name, loc, out):
    tr.names[name] = "constant"
    out["constants"].append(name)
    tr.locations.setdefault(name, loc)


def _alias_function(tr, name, c, fid, symbol, loc):
    try:
        tr.function(c, name, fid, symbol=symbol)
    except _Unsupported as exc:
        tr.skipped.setdefault(name, str(exc))
    tr.drain()
    if name in tr.decls:
        tr.locations[name] = loc


def _alias_variable(tr, name, c, symbol, loc):
    try:
        tr.variable(c, name, lc.cursor_file(c), symbol=symbol)
    except _Unsupported as exc:
        tr.skipped.setdefault(name, str(exc))
    tr.drain()
    if name in tr.decls:
        tr.locations[name] = loc
