"""ndffi.layout(): how an ABI lays out C declarations, without a compiler for it.

    ndffi.layout("struct s { char c; long x; };", abi="x86_64-windows")
    # {"abi": "x86_64-windows", "scalars": {"char": {"size": 1, "align": 1, "signed": True}, ...},
    #  "types": {"struct s": {"size": 8, "align": 4,
    #                         "fields": [{"name": "c", "offset": 0, "type": "char"},
    #                                    {"name": "x", "offset": 4, "type": "long"}]}}}

The same parser and layout rules as every declaration ndffi calls, with the sizes, the
signedness of char and the record rules of the ABI named (the host's by default), and
the types only layouts know yet (``__int128``, ``_Complex``).  Each ABI's facts and
rules are checked against clang's ``-target`` by the test suite; the host's layout
follows the compiler that built ndffi where GCC and clang differ.
"""

from __future__ import annotations

from ._ndffi import _abis, _host_abi, _layout


def layout(decls: str, abi: str | None = None) -> dict[str, object]:
    """The layout of C declarations ``decls`` on ``abi`` (a name of :func:`abis`, or
    clang's target triple for it; None: the host's): ``{"abi", "scalars", "types"}``.

    ``scalars`` gives the size, alignment and signedness of every scalar type of the ABI
    (``__int128`` where it has one) and of the standard typedefs (``size_t``,
    ``wchar_t``, ...; ``"type"``: the type each names), and ``max_align_t``.  ``types``
    gives every struct, union and enum the declarations define (by tag, "struct s", and
    by typedef name) with its size and alignment; a struct's or union's ``fields`` in
    order, each with its byte ``offset`` and, for a bit-field, ``bit_offset`` (in bits
    from the start of the record) and ``bit_width``; the members of anonymous structs
    and unions among them at their own offsets; an enum's ``underlying`` integer type
    and ``enumerators``.  A member whose type is an unnamed struct gets an entry of its
    own named after it ("struct s.inner").

    Raises CDefError for declarations that do not parse, ValueError for an unknown ABI.
    """
    if not isinstance(decls, str):
        raise TypeError(f"layout(): decls must be a str of C declarations, not {type(decls).__name__}")
    if abi is not None and not isinstance(abi, str):
        raise TypeError(f"layout(): abi must be a str (one of {', '.join(_abis())}) or None, not {type(abi).__name__}")
    return _layout(decls, abi)


def abis() -> dict[str, str]:
    """``{name: clang target triple}`` of every ABI :func:`layout` knows."""
    return dict(_abis())


def host_abi() -> str:
    """The name of the ABI this build of ndffi calls C on ("x86_64-linux")."""
    return _host_abi()
