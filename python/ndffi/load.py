"""``ndffi.load()``: find and open a shared library (:mod:`ndffi.loading`) and make its
:class:`~ndffi.Library`, with a header's declarations (:mod:`ndffi.headers`) when
``header=`` is given."""

import os
from collections.abc import Iterable
from typing import Any

from ._ndffi import dlopen
from ._support.defines import macro_definitions
from .library import Library
from .loading import search as _loader


def load(
    name: str | os.PathLike[str] | None = None,
    *dirs: str | os.PathLike[str],
    use_errno: bool = False,
    global_symbols: bool = False,
    header: str | os.PathLike[str] | None = None,
    include_dirs: Iterable[str | os.PathLike[str]] = (),
    defines: Any = None,
    clang_args: Iterable[str] = (),
    assume_const: Any = None,
) -> Library:
    """Load a shared library.

    ``load("m")`` finds libm through the system loader; ``load("libfoo", "build")``
    searches ``build/`` first, like ``numpy.ctypeslib.load_library``, with or without
    the ``lib`` prefix and the platform's suffix; ``load("path/to/libfoo.so")`` opens a
    path; ``load(None)`` is the running process.  Raises :class:`LibraryNotFound`
    (an ``OSError``) listing every path tried.

    A file that changed since this process loaded it (rebuilt by ``make``) is loaded
    again, through a private copy (which ``lib.path`` then names): the loader itself
    would hand back the old library.  Functions taken from the earlier Library keep
    calling the old code.

    ``use_errno=True`` saves C's ``errno`` after each call for :func:`ndffi.errno`.

    ``header="zlib.h"`` declares what a C header declares (functions, types, enums,
    constants and macros), read with libclang and cached; ``include_dirs`` are searched
    first, ``defines`` ({"NAME": value}) are predefined macros, ``clang_args`` more
    compiler arguments (``["-include", "stddef.h"]`` for a header that uses ``size_t``
    without including what defines it).

    ``assume_const={"BZ2_bzBuffToBuffCompress": ["source"]}``: those functions are made
    with :meth:`Library.assume_const` (the named pointer parameters declared const), for
    a header that is not const-correct.
    """
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    promises = _promises(assume_const)

    def opener(path):
        return dlopen(path, global_symbols)

    if header is not None:
        # Reading headers (libclang, the compiler, caches) is imported only when asked for.
        from .headers import header_library
        from .headers import libsearch as _libsearch

        # The system search's answer is cached with the header's declarations.
        handle, _resolved = _libsearch.open_library(name, dirs, _loader.fresh_opener(opener))
    else:
        handle, _resolved = _loader.open_library(name, dirs, _loader.fresh_opener(opener))
    if header is not None:
        clang_args = tuple(clang_args or ())
        lib = header_library(handle, name, use_errno, header, include_dirs, defines, clang_args)
        header_options = dict(
            header=os.path.abspath(os.fspath(header)) if os.path.exists(os.fspath(header)) else os.fspath(header),
            include_dirs=tuple(os.path.abspath(os.fspath(d)) for d in include_dirs),
            defines=tuple(macro_definitions(defines)),
        )
        if clang_args:
            header_options["clang_args"] = clang_args
    else:
        lib = Library(handle, name, use_errno)
        header_options = {}
    if promises:
        model = lib.header
        unknown = [f for f in promises if model is not None and f not in model["functions"]]
        if unknown:
            raise ValueError(
                f"assume_const: {', '.join(map(repr, unknown))} "
                f"{'is' if len(unknown) == 1 else 'are'} not a function of {header!r}"
            )
        lib._promises.update(promises)
        header_options["assume_const"] = tuple(sorted(promises.items()))
    lib._record.loaded_by(name, dirs, use_errno=use_errno, global_symbols=global_symbols, **header_options)
    return lib


def _promises(assume_const):
    """{function: (parameter, ...)} of load()'s ``assume_const`` (a dict or pairs)."""
    if not assume_const:
        return {}
    items = assume_const.items() if isinstance(assume_const, dict) else assume_const
    out = {}
    for function, params in items:
        if isinstance(params, str):
            params = (params,)
        if not isinstance(function, str) or not all(isinstance(p, str) for p in params):
            raise TypeError(
                f"assume_const: expected {{function name: [parameter names]}}, got {function!r}: {params!r}"
            )
        out[function] = tuple(params)
    return out
