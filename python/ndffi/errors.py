"""Exceptions and warnings raised by ndffi, for every stage (below all of them), and the
text of the messages that say how to fix a mistake (computed only when raising)."""

from __future__ import annotations

import re
from typing import NamedTuple

from ._ndffi import Error  # noqa: F401  (ndffi.Error: see below)

# ndffi.Error, the base of ndffi's own exceptions (``except ndffi.Error``), made by the
# compiled core so that its CDefError derives from it too.  Each is also the built-in
# exception its kind of failure is (RuntimeError, OSError, ValueError), except that a
# header that does not parse is no ImportError: an ``except ImportError`` around an
# optional import does not hide it.


def did_you_mean(name, names):
    """ "; did you mean 'stats'?" for the names close to ``name`` among ``names``, else ""."""
    import difflib

    return suggestion(difflib.get_close_matches(name, sorted(set(names)), n=3))


def suggestion(matches):
    """ "; did you mean 'a' or 'b'?" for the names ``matches``, "" for none."""
    if not matches:
        return ""
    shown = [repr(m) for m in matches]
    return "; did you mean " + (shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]) + "?"


def layout_problem(arr):
    """Why array ``arr`` is not one C-contiguous block: "Fortran-ordered (F-contiguous)" or
    "not contiguous (strides (16,))"; "" when it is C-contiguous."""
    if arr.flags.c_contiguous:
        return ""
    if arr.flags.f_contiguous:
        return "Fortran-ordered (F-contiguous)"
    return f"not contiguous (strides {arr.strides})"


def contiguity_fix(writable, fortran):
    """What to pass instead of an array that is not C-contiguous: a copy where C only
    reads, never where C writes (the caller would not see the changes)."""
    transposed = ", or x.T (the same memory, C-ordered) if C expects column-major order" if fortran else ""
    if not writable:
        return "pass np.ascontiguousarray(x)" + transposed
    return (
        "C writes through this pointer and a copy would not be seen by the caller: pass a C-contiguous "
        "array (make it with np.ascontiguousarray(x) or order='C', pass it and read the result from it)" + transposed
    )


class LibraryNotFound(Error, OSError):
    """A shared library could not be found or loaded.

    ``tried`` lists every path or name that was tried, with the reason each failed.
    """

    def __init__(self, name, tried):
        self.name = name
        self.tried = list(tried)
        lines = "\n".join(f"  {path}: {why}" for path, why in self.tried)
        super().__init__(f"cannot load library {name!r}; tried:\n{lines}")


class BuildWarning(UserWarning):
    """Something about a build the caller should know: a function of the sources that
    could not be declared (the declaration parser does not read one of its types yet)
    and was left out, or no function found to declare at all."""


class CacheWarning(BuildWarning):
    """ndffi's cache directory (``$NDFFI_CACHE_DIR``, ``~/.cache/ndffi``) is not used:
    another user could write it, or it cannot be created.  Builds and header imports
    still work, without the cache."""


# ---- building ---------------------------------------------------------------------------


class Diagnostic(NamedTuple):
    """One compiler message: ``file:line:column: severity: message``."""

    file: str
    line: int
    column: int | None
    severity: str
    message: str

    def __str__(self):
        col = f"{self.column}:" if self.column is not None else ""
        return f"{self.file}:{self.line}:{col} {self.severity}: {self.message}"


_DIAGNOSTIC = re.compile(
    r"^(?P<file>[^\s:][^:\n]*):(?P<line>\d+):(?:(?P<col>\d+):)?\s*"
    r"(?P<sev>fatal error|error|warning|note):\s*(?P<msg>.*)$",
    re.M,
)


def parse_diagnostics(output):
    """The ``file:line:col: severity: message`` lines of a compiler's output."""
    return [
        Diagnostic(m["file"], int(m["line"]), int(m["col"]) if m["col"] else None, m["sev"], m["msg"].strip())
        for m in _DIAGNOSTIC.finditer(output or "")
    ]


class BuildError(Error, RuntimeError):
    """Compiling or linking failed, or no compiler was found.

    A ``RuntimeError`` (not an ``OSError``: the files were there, the code did not
    build).  The message holds the compiler's diagnostics (``file:line:col: error: ...``)
    and the command line.  Attributes: ``command`` (the argument list, or None),
    ``output`` (everything the compiler printed), ``returncode`` and ``diagnostics``
    (a list of :class:`Diagnostic`, errors and warnings in the order printed).
    """

    def __init__(self, message, *, command=None, output="", returncode=None):
        self.command = list(command) if command else None
        self.output = output or ""
        self.returncode = returncode
        self.diagnostics = parse_diagnostics(self.output)
        text = message
        if self.output.strip():
            text += "\n" + self.output.rstrip()
        if self.command:
            import shlex  # only when a build failed

            text += "\ncommand: " + shlex.join(self.command)
        super().__init__(text)


# ---- headers ----------------------------------------------------------------------------


class HeaderError(Error):
    """A C header could not be imported: clang reports errors in it.  Not an
    ``ImportError`` (which means that a module is missing): ``except ImportError``
    around an optional import does not swallow a header that does not parse."""

    def __init__(self, header, errors, args=()):
        self.header = header
        self.errors = list(errors)
        shown = "\n".join("  " + e for e in self.errors[:20])
        more = f"\n  ... and {len(self.errors) - 20} more" if len(self.errors) > 20 else ""
        hint = ""
        if any("file not found" in e for e in self.errors):
            search = [a[2:] for a in args if a.startswith("-I")] + [
                args[i + 1] for i, a in enumerate(args) if a == "-isystem" and i + 1 < len(args)
            ]
            hint = "\nsearched (add directories with include_dirs=[...]): " + ", ".join(search)
        needs = _headers_needed(self.errors)
        if needs:
            hint += (
                "\nthe header uses names it does not include; include their headers first: "
                "clang_args=[" + ", ".join(f'"-include", "{h}"' for h in needs) + "]"
                " (python -m ndffi: " + " ".join(f"--include {h}" for h in needs) + ")"
            )
        super().__init__(
            f"cannot import header {header!r}: clang reports {len(self.errors)} error(s):\n{shown}{more}{hint}"
        )


# Where the standard names a header leaves undeclared are declared.
_STANDARD_NAMES = {
    "stddef.h": ("size_t", "ptrdiff_t", "NULL", "wchar_t", "max_align_t", "offsetof"),
    "stdint.h": tuple(f"{p}int{n}_t" for p in ("", "u") for n in (8, 16, 32, 64))
    + ("intptr_t", "uintptr_t", "intmax_t", "uintmax_t", "SIZE_MAX", "INT32_MAX", "UINT32_MAX"),
    "stdbool.h": ("bool", "true", "false"),
    "stdio.h": ("FILE",),
    "sys/types.h": ("ssize_t", "off_t", "pid_t"),
    "stdarg.h": ("va_list",),
    "time.h": ("time_t", "clock_t"),
}


def _headers_needed(errors):
    """The standard headers that declare the names clang's errors say are unknown."""
    unknown = set()
    for e in errors:
        m = re.search(r"(?:unknown type name|use of undeclared identifier) '(\w+)'", e)
        if m:
            unknown.add(m.group(1))
    return [h for h, names in _STANDARD_NAMES.items() if unknown & set(names)]


class HeaderNotFound(HeaderError):
    """The header is not in the current directory nor in any include directory."""

    def __init__(self, header, tried):
        self.header = header
        self.errors = []
        self.tried = list(tried)
        Exception.__init__(
            self,
            f"header {header!r} not found; looked for:\n"
            + "\n".join("  " + t for t in self.tried)
            + "\n(add its directory with include_dirs=[...])",
        )


class LayoutMismatch(Error, RuntimeError):
    """Internal error: ndffi's layout of a struct differs from clang's.  A bug in one of
    them; the message names the type and the first difference."""

    def __init__(self, type_name, detail):
        self.type_name = type_name
        super().__init__(
            f"internal error: the layout ndffi computes for '{type_name}' differs "
            f"from clang's: {detail} (please report it, with the header)"
        )


def public(*classes):
    """Show ``classes`` as ``ndffi.X`` (their ``__module__``) in tracebacks and reprs:
    where users find them, not the private module that defines them."""
    for cls in classes:
        cls.__module__ = "ndffi"
