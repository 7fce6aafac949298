"""Reading declarations out of C and C++ sources, for :mod:`ndffi.building`: the
preprocessed text is split into tokens (each with its file, line and whether a system
header holds it), top-level statements (``extern "C"`` and namespace blocks looked
through, function bodies skipped), and classified as types, functions and variables;
GCC's ``-aux-info`` lists the functions a C source defines.  :func:`declarations` keeps
what the project's own files declare and the library exports, and :func:`_select` what
ndffi's parser accepts."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple


class _Tok(NamedTuple):
    kind: str  # id, num, str, chr, p
    text: str
    file: str
    line: int
    system: bool
    pack: int = 0  # the #pragma pack in effect (0: none)


_PRAGMA_PACK = re.compile(r"^\s*#\s*pragma\s+pack\s*\(([^)]*)\)")


def _pack_pragma(args, stack, pack):
    """The #pragma pack in effect after ``#pragma pack(args)``, as GCC and MSVC read it:
    ``(n)``, ``()``, ``(push[, id][, n])``, ``(pop[, id])``; ``stack`` keeps pushed values."""
    parts = [a.strip() for a in args.split(",") if a.strip()]
    nums = [int(a) for a in parts if a.isdigit()]
    if not parts:
        return 0
    if parts[0] == "push":
        stack.append(pack)
        return nums[-1] if nums else pack
    if parts[0] == "pop":
        return stack.pop() if stack else 0
    return nums[-1] if nums else pack


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<str>(?:u8|[LuU])?"(?:\\.|[^"\\])*")
  | (?P<chr>(?:u8|[LuU])?'(?:\\.|[^'\\])*')
  | (?P<id>[A-Za-z_$][\w$]*)
  | (?P<num>\.?\d(?:[eEpP][+-]|[\w.'])*)
  | (?P<p>\.\.\.|::|->|\[\[|\]\]|&&|\|\||<<=|>>=|<<|>>|\+\+|--|[-+*/%&|^!=<>]=?|[{}()\[\];,.?:~\#@\\`])
""",
    re.X,
)
_LINEMARKER = re.compile(r'^\s*#\s*(?:line\s+)?(\d+)\s+"((?:\\.|[^"\\])*)"([\s\d]*)$')


_ESCAPES = {
    ord(k): v.encode() for k, v in {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}.items()
}


def _unquote(quoted):
    r"""The file name of a linemarker, whose ``"..."`` escapes ``\``, ``\"``, C's
    ``\n`` and the like, and (for bytes that are not printable) ``\ooo``; other bytes
    are as the file system has them.  The text was decoded like a file name
    (``os.fsdecode``), so it is encoded back to bytes, unescaped and decoded again: a
    name in any encoding survives."""
    raw = os.fsencode(quoted)
    if b"\\" not in raw:
        return quoted
    out, i = bytearray(), 0
    while i < len(raw):
        c = raw[i]
        if c == 0x5C and i + 1 < len(raw):
            octal = re.match(rb"[0-7]{1,3}", raw[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(), 8) & 0xFF)
                i += 1 + len(octal.group())
                continue
            out += _ESCAPES.get(raw[i + 1], bytes([raw[i + 1]]))  # \n in a name is a newline
            i += 2
            continue
        out.append(c)
        i += 1
    return os.fsdecode(bytes(out))


def _tokens(text):
    """Tokens of preprocessed text, each with the file and line it came from and whether
    that file is a system header (linemarker flag 3)."""
    out = []
    file, line, system = "", 1, False
    pack, stack = 0, []
    for raw in text.split("\n"):
        stripped = raw.lstrip()
        if stripped.startswith("#"):
            m = _LINEMARKER.match(raw)
            if m:
                line = int(m.group(1))
                file = _unquote(m.group(2))
                system = "3" in m.group(3).split()
            p = _PRAGMA_PACK.match(raw)
            if p:
                pack = _pack_pragma(p.group(1), stack, pack)
            continue  # other #pragma, #ident: not declarations
        pos = 0
        while pos < len(raw):
            m = _TOKEN.match(raw, pos)
            if m is None:
                pos += 1
                continue
            pos = m.end()
            kind = m.lastgroup
            if kind != "ws":
                out.append(_Tok(kind, m.group(), file, line, system, pack))
        line += 1
    return out


_DROP = {
    "__extension__",
    "_Noreturn",
    "noreturn",
    "__cdecl",
    "__stdcall",
    "__fastcall",
    "__thiscall",
    "__vectorcall",
    "override",
    "final",
    "__wur",
}
_RENAME = {
    "__restrict": "restrict",
    "__restrict__": "restrict",
    "__inline": "inline",
    "__inline__": "inline",
    "__const": "const",
    "__volatile__": "volatile",
    "__volatile": "volatile",
    "__signed__": "signed",
    "__signed": "signed",
    "__typeof__": "typeof",
    "__alignof__": "_Alignof",
}
_WITH_PARENS = {
    "__attribute__",
    "__attribute",
    "__declspec",
    "__asm__",
    "__asm",
    "asm",
    "noexcept",
    "throw",
    "alignas",
    "_Alignas",
    "__pragma",
}
_KEYWORDS = {
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
    "bool",
    "const",
    "volatile",
    "restrict",
    "struct",
    "union",
    "enum",
    "class",
    "typedef",
    "extern",
    "static",
    "inline",
    "register",
    "auto",
    "sizeof",
    "return",
    "_Complex",
    "_Atomic",
    "operator",
    "template",
    "typename",
    "virtual",
    "friend",
}


# What in an attribute changes a type's layout: kept in type declarations.
_LAYOUT_WORDS = {"packed", "__packed__", "aligned", "__aligned__", "align"}
# What the declaration parser refuses (a size, layout, byte order or calling convention
# it does not model): kept everywhere, so that what uses it is left out and said so.
_REFUSED_WORDS = {
    w
    for name in (
        "mode",
        "vector_size",
        "ext_vector_type",
        "scalar_storage_order",
        "ms_struct",
        "gcc_struct",
        "ms_abi",
        "sysv_abi",
    )
    for w in (name, f"__{name}__")
}


def _clean(toks, cxx=False, keep_layout=False):
    """Drop attributes, asm labels, exception specifications and compiler spellings the
    declaration parser does not need; in C++ code, spell ``bool`` and ``std::`` types
    the C way.  ``keep_layout``: keep the attributes that change a layout (packed,
    aligned, _Alignas, __declspec(align)), for type declarations."""
    out, i, n = [], 0, len(toks)
    while i < n:
        t = toks[i]
        w = t.text
        if w in _WITH_PARENS:
            start = i
            i += 1
            if i < n and toks[i].text == "(":
                depth = 0
                while i < n:
                    depth += toks[i].text == "("
                    depth -= toks[i].text == ")"
                    i += 1
                    if depth == 0:
                        break
            group = toks[start:i]
            if any(g.text in _REFUSED_WORDS for g in group) or (
                keep_layout and (w in ("_Alignas", "alignas") or any(g.text in _LAYOUT_WORDS for g in group))
            ):
                out += group
            continue
        if w == "[[":
            while i < n and toks[i].text != "]]":
                i += 1
            i += 1
            continue
        if w in _DROP:
            i += 1
            continue
        if w in _RENAME:
            t = t._replace(text=_RENAME[w])
        if cxx:
            if w == "std" and i + 1 < n and toks[i + 1].text == "::":
                i += 2
                continue
            if w == "bool":
                t = t._replace(text="_Bool")
        out.append(t)
        i += 1
    return out


def _join(toks):
    """Declaration text from tokens, spaced the way C is usually written."""
    words = [t.text for t in toks]
    out = []
    for i, w in enumerate(words):
        if out:
            prev = words[i - 1]
            wordish = lambda s: s[0].isalnum() or s[0] in "_$\"'"  # noqa: E731
            if (
                (wordish(prev) and wordish(w))
                or prev in (",", ";", "{")
                or w == "}"
                or (w == "{" and (wordish(prev) or prev == ")"))
                or (prev == "}" and wordish(w))
                or (w == "*" and (wordish(prev) or prev == ")"))
                or (
                    w == "(" and prev not in ("(", "*") and wordish(prev) and i + 1 < len(words) and words[i + 1] == "*"
                )
                or (w == "..." and prev == ",")
            ):
                out.append(" ")
        out.append(w)
    return "".join(out).replace(", ...", ", ...")


@dataclass
class _Item:
    kind: str  # "type", "function", "variable" or "other"
    name: str | None
    text: str
    file: str
    line: int
    system: bool
    definition: bool
    extern_c: bool
    static: bool


def _statements(toks):
    """Split the top level of a translation unit into statements: yields (tokens,
    is_function_definition, in_extern_c).  ``extern "C" { }`` and ``namespace { }``
    blocks are looked through; function bodies are skipped."""
    ctx = []  # stack of True (extern "C"), False (extern "C++"), None (namespace)
    cur, paren, brace = [], 0, 0
    i, n = 0, len(toks)

    def extern_c():
        return next((c for c in reversed(ctx) if c is not None), False)

    while i < n:
        t = toks[i]
        w = t.text
        if not cur and paren == 0 and brace == 0:
            if w == "extern" and i + 2 < n and toks[i + 1].kind == "str" and toks[i + 2].text == "{":
                ctx.append(toks[i + 1].text == '"C"')
                i += 3
                continue
            if w == "namespace" or (w == "inline" and i + 1 < n and toks[i + 1].text == "namespace"):
                j = i + 1
                while j < n and toks[j].text not in ("{", ";", "="):
                    j += 1
                if j < n and toks[j].text == "{":
                    ctx.append(None)
                    i = j + 1
                    continue
            if w == "}" and ctx:
                ctx.pop()
                i += 1
                continue
            if w == ";":
                i += 1
                continue
        cur.append(t)
        if w == "(":
            paren += 1
        elif w == ")":
            paren -= 1
        elif w == "{" and paren == 0:
            if brace == 0 and _is_function_body(cur[:-1]):
                depth = 1
                i += 1
                while i < n and depth:
                    depth += toks[i].text == "{"
                    depth -= toks[i].text == "}"
                    i += 1
                yield cur[:-1], True, extern_c()
                cur = []
                continue
            brace += 1
        elif w == "}" and paren == 0:
            brace -= 1
            head = _definition_head(cur) if brace == 0 else None
            if head is not None:
                yield head, True, extern_c()
                cur = []
        elif w == ";" and paren == 0 and brace == 0:
            yield cur[:-1], False, extern_c()
            cur = []
        i += 1


def _definition_head(toks):
    """The tokens before the braced body of a top-level statement that ends with that
    body: a function definition whose declarator :func:`_is_function_body` does not read
    (C++'s trailing return type ``auto f() -> T { }``, as in <vector>); None for a type
    definition or an initializer (``struct s { } x;``, ``int a[] = { }``), which end at
    their ``;``."""
    depth = 0
    for k, t in enumerate(toks):
        depth += t.text == "("
        depth -= t.text == ")"
        if t.text == "{" and depth == 0:
            head = _clean(toks[:k])
            if not any(x.text == "(" for x in head):
                return None
            level = 0
            for j, x in enumerate(head):
                level += x.text == "("
                level -= x.text == ")"
                if x.text == "=" and level == 0 and not (j and head[j - 1].text == "operator"):
                    return None
            return toks[:k]
    return None


def _is_function_body(toks):
    toks = _clean(toks)
    while toks and toks[-1].text in ("const", "volatile"):
        toks = toks[:-1]
    if not toks or toks[-1].text != ")":
        return False
    depth = 0
    for k, t in enumerate(toks):
        depth += t.text == "("
        depth -= t.text == ")"
        # an initializer, not C++'s operator= (whose definition <vector> holds)
        if t.text == "=" and depth == 0 and not (k and toks[k - 1].text == "operator"):
            return False
    return True


def _classify(toks, definition, extern_c, cxx):
    raw = toks
    toks = _clean(toks, cxx)
    if not toks:
        return None

    def type_text():
        """The type's declaration with what changes its layout: its layout attributes, and
        the #pragma pack in effect where it is defined."""
        kept = _clean(raw, cxx, keep_layout=True)
        if kept and kept[0].text == "extern" and len(kept) > 1 and kept[1].kind == "str":
            kept = kept[2:]
        text = _join(kept) + ";"
        pack = next((t.pack for t in kept if t.text == "{"), kept[0].pack if kept else 0)
        return f"#pragma pack(push, {pack})\n{text}\n#pragma pack(pop)" if pack else text

    first = toks[0]
    words = [t.text for t in toks]
    base = dict(file=first.file, line=first.line, system=first.system, definition=definition, extern_c=extern_c)
    if words[0] == "extern" and len(words) > 1 and toks[1].kind == "str":
        base["extern_c"] = toks[1].text == '"C"'
        toks, words = toks[2:], words[2:]
        if not toks:
            return None
    if words[0] == "typedef":
        return _Item("type", None, type_text(), static=False, **base)
    if words[0] in ("struct", "union", "enum") and not definition:
        if "{" in words[1:3] and "=" not in words[: words.index("{")]:
            depth, end = 0, None
            for k, w in enumerate(words):
                depth += w == "{"
                depth -= w == "}"
                if w == "}" and depth == 0:
                    end = k
                    break
            if end == len(words) - 1:
                return _Item("type", words[1] if toks[1].kind == "id" else None, type_text(), static=False, **base)
        elif len(words) == 2:
            return _Item("type", words[1], type_text(), static=False, **base)
    if "<" in words or "::" in words or "operator" in words or "template" in words:
        return _Item("other", None, "", static=False, **base)
    depth, p, eq = 0, None, None
    for k, w in enumerate(words):
        if w == "(" and depth == 0 and p is None:
            p = k
        if w == "=" and depth == 0 and eq is None:
            eq = k
        depth += w in ("(", "{")
        depth -= w in (")", "}")
    if not definition and (eq is not None or p is None or toks[p - 1].kind != "id" or words[p - 1] in _KEYWORDS):
        return _variables(toks, base)
    if p and toks[p - 1].kind == "id" and words[p - 1] not in _KEYWORDS:
        name = words[p - 1]
        static = "static" in words[:p]
        keep = [t for t in toks if t.text not in ("extern", "inline", "static", "virtual")]
        return _Item("function", name, _join(keep) + ";", static=static, **base)
    return _Item("other", None, "", static=False, **base)


def _variables(toks, base):
    """A file-scope variable definition or declaration (``int n = 3, *p;``) as a
    declaration without initializers, named by its first declarator."""
    declarators, cur, depth = [], [], 0
    for t in toks:
        if t.text in ("(", "[", "{"):
            depth += 1
        elif t.text in (")", "]", "}"):
            depth -= 1
        if t.text == "," and depth == 0:
            declarators.append(cur)
            cur = []
        else:
            cur.append(t)
    declarators.append(cur)
    kept = []
    for d in declarators:
        eq = next((k for k, t in enumerate(d) if t.text == "=" and _depth_at(d, k) == 0), None)
        kept.append(d[:eq] if eq is not None else d)
    words = [t.text for t in kept[0]]
    # the declared name: the first identifier a declarator ends or closes on
    ends = ("[", ")", None)
    name = next(
        (
            t.text
            for k, t in enumerate(kept[0])
            if t.kind == "id" and t.text not in _KEYWORDS and (words[k + 1] if k + 1 < len(words) else None) in ends
        ),
        None,
    )
    if name is None or "typedef" in words:
        return _Item("other", None, "", static=False, **base)
    text = ", ".join(_join([t for t in d if t.text not in ("extern", "static")]) for d in kept)
    # a declaration, not a definition: the header it goes into may be included anywhere
    return _Item("variable", name, "extern " + text + ";", static="static" in words, **base)


def _depth_at(toks, k):
    depth = 0
    for t in toks[:k]:
        depth += t.text in ("(", "[", "{")
        depth -= t.text in (")", "]", "}")
    return depth


def _scan(text, cxx=False):
    """Declarations of a preprocessed translation unit, in source order."""
    items = []
    for toks, definition, extern_c in _statements(_tokens(text)):
        item = _classify(toks, definition, extern_c, cxx)
        if item is not None:
            items.append(item)
            if (
                cxx
                and item.kind == "type"
                and item.name
                and item.text.startswith(("struct", "union", "enum"))
                and not item.system
            ):
                # C++ names a struct without the keyword; C needs the typedef.
                kw = item.text.split(None, 1)[0]
                items.append(
                    _Item(
                        "type",
                        item.name,
                        f"typedef {kw} {item.name} {item.name};",
                        item.file,
                        item.line,
                        False,
                        False,
                        item.extern_c,
                        False,
                    )
                )
    return items


# An entry's file name is written as it is: it may hold newlines (never "*/").
_AUX = re.compile(
    r"^/\* (?P<file>(?:(?!\*/).)*?):(?P<line>\d+):(?P<kind>[NO][CF]) \*/ "
    r"(?P<decl>[^\n]*?;)",
    re.M | re.S,
)


def _aux_functions(text):
    """Functions defined (``NF``/``OF``) according to a GCC ``-aux-info`` file."""
    out = []
    for m in _AUX.finditer(text):
        if not m["kind"].endswith("F"):
            continue
        toks = [t._replace(file=m["file"], line=int(m["line"])) for t in _tokens(m["decl"][:-1])]
        item = _classify(toks, True, True, False)
        if item is not None and item.kind == "function":
            out.append(item)
    return out


def _own(item, own_files, cwd):
    return not item.system and os.path.realpath(os.path.join(cwd, item.file)) in own_files


def declarations(plan, jobs, results, lib_path, langs):
    """The declarations found in the header or the sources, as text (cdef= text is
    added when loading), a warning naming what was left out, or None, and the functions
    of C++ sources defined with C++ linkage, which cannot be declared ([name, file,
    line]: a Library says so when one is asked for).  ``jobs`` and ``results``: the
    compile and preprocess commands run and their processes; ``langs``: the language
    each preprocessed file is read as."""
    if plan.cdef is not None and plan.header is None:
        return "", None, []
    from ..loading import elf as _elf

    try:
        exported = _elf.exported_symbols(str(lib_path))
    except OSError:
        exported = {}
    cwd = os.getcwd()
    types, functions, variables, own_files, cxx_linkage = [], [], [], set(), []
    for (what, _cmd, src, _aux), proc in zip(jobs, results, strict=False):
        if what != "preprocess":
            continue
        cxx = langs[src] == "c++"
        items = _scan(proc.stdout, cxx)
        for it in items:
            if not it.system and it.file and not it.file.startswith("<"):
                own_files.add(os.path.realpath(os.path.join(cwd, it.file)))
        own = [it for it in items if _own(it, own_files, cwd)]
        types += [it for it in own if it.kind == "type"]
        if cxx and src != plan.header:
            cxx_linkage += [
                it for it in own if it.kind == "function" and it.definition and not it.static and not it.extern_c
            ]
        variables += [it for it in own if it.kind == "variable" and not it.static and (it.extern_c or not cxx)]
        use_aux = (
            not cxx and src != plan.header and any(a is not None and s == src for w, _c, s, a in jobs if w == "compile")
        )
        if use_aux:
            continue
        functions += [
            it
            for it in own
            if it.kind == "function"
            and not it.static
            and (it.extern_c or not cxx)
            and (src == plan.header or it.definition)
        ]
    for what, _cmd, _src, aux in jobs:
        if what == "compile" and aux is not None:
            try:
                text = os.fsdecode(Path(aux).read_bytes())
            except OSError:
                text = ""
            functions += [
                it
                for it in _aux_functions(text)
                if not it.static and os.path.realpath(os.path.join(cwd, it.file)) in own_files
            ]
    if exported:
        functions = [f for f in functions if exported.get(f.name) == "function"]
    # a variable is declared where the library defines it: exported as data
    variables = [v for v in variables if exported.get(v.name) == "object"]
    seen, unique = set(), []
    for f in functions + variables:
        if f.name not in seen:
            seen.add(f.name)
            unique.append(f)
    text, warning = _select(types, unique, plan)
    c_names = {f.name for f in unique}
    mangled = sorted({(f.name, os.path.basename(f.file), f.line) for f in cxx_linkage if f.name not in c_names})
    return text, warning, [list(m) for m in mangled]


def _select(types, functions, plan):
    """The declarations the parser accepts; functions it cannot read are reported."""
    from .._ndffi import CDefError, Namespace

    texts, seen = [], set()
    for it in types + functions:
        if it.text not in seen:
            seen.add(it.text)
            texts.append(it)
    try:
        Namespace().cdef("\n".join(it.text for it in texts))
        accepted, skipped = texts, []
    except CDefError:
        ns, accepted, skipped = Namespace(), [], []
        for it in texts:
            try:
                ns.cdef(it.text)
                accepted.append(it)
            except CDefError as exc:
                skipped.append((it, str(exc).splitlines()[0]))
    bad = [(it, why) for it, why in skipped if it.kind in ("function", "variable")]
    msg = None
    if bad:
        causes = [
            f"{it.name or it.text[:40]} at {os.path.basename(it.file)}:{it.line} ({why})"
            for it, why in skipped
            if it.kind == "type"
        ]
        msg = (
            f"ndffi.build({plan.name!r}): {len(bad)} function(s) left out because the "
            f"declaration parser cannot read them yet: "
            + "; ".join(f"{it.name} at {os.path.basename(it.file)}:{it.line} ({why})" for it, why in bad)
            + (". Types left out: " + "; ".join(causes) if causes else "")
            + ". Declare them with cdef= to use them."
        )
    if not bad and not any(it.kind == "function" for it in accepted):
        where = (
            os.path.basename(plan.header)
            if plan.header is not None
            else ", ".join(os.path.basename(p) for p, _ in plan.sources) or plan.inline[0]
        )
        msg = (
            f"ndffi.build({plan.name!r}): found no function to declare in {where}: "
            f"only functions the library exports are declared (not static or hidden "
            f'ones; in C++ only extern "C" ones). Declare functions with cdef= to '
            f"use them."
        )
    if not accepted:
        return "", msg
    return "\n".join(it.text for it in accepted) + "\n", msg
