"""``defines=``: the predefined macros of a build or a header import, read one way."""

from __future__ import annotations

import re

__all__ = ["macro_definitions"]

_NAME = re.compile(r"[A-Za-z_]\w*")


def macro_definitions(defines):
    """``defines`` as ``["NAME", "NAME=VALUE", ...]`` (for ``-D``): a dict ``{"N": 4,
    "DEBUG": None}`` (``None``/``True`` for a bare ``-DNAME``, ``False`` left out), one
    ``"NAME[=VALUE]"`` string, or a list of those strings and ``(name, value)`` pairs.
    Raises ValueError for a name that is not a C macro name."""
    if not defines:
        return []
    if isinstance(defines, str):
        defines = [defines]
    items = defines.items() if isinstance(defines, dict) else (_pair(d) for d in defines)
    out = []
    for name, value in items:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError(f"defines: {name!r} is not a C macro name")
        if value is None or value is True:
            out.append(name)
        elif value is not False:
            out.append(f"{name}={value}")
    return out


def _pair(item):
    if isinstance(item, str):
        name, sep, value = item.partition("=")
        return name, value if sep else None
    return tuple(item)
