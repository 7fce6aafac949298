"""Real C headers: ``ndffi.load("z", header="zlib.h")``.

The stages, in order: :mod:`.model` imports a header into its *model* (from the cache,
:mod:`.cache`, or through libclang: :mod:`.libclang`, :mod:`.translate` with
:mod:`.types` and :mod:`.macros`), checked against ndffi's own parser;
:mod:`.declarations` gives a Library the model's declarations; :mod:`.inspect` compares
a library with its header, :mod:`.generate` writes a module for it; :mod:`.libsearch`
remembers where the system search found a header's library.  Importing this package
loads no libclang.
"""

from .._support.compiler import include_dirs as compiler_include_dirs
from ..errors import HeaderError, HeaderNotFound, LayoutMismatch
from .cache import NEEDS_LIBCLANG, libclang_version
from .declarations import HeaderDeclarations, header_library
from .inspect import format_inspection, inspect_library
from .model import check_model, clang_args, import_header, resolve_header

__all__ = [
    "HeaderError",
    "HeaderNotFound",
    "LayoutMismatch",
    "HeaderDeclarations",
    "NEEDS_LIBCLANG",
    "check_model",
    "clang_args",
    "compiler_include_dirs",
    "format_inspection",
    "header_library",
    "import_header",
    "inspect_library",
    "libclang_version",
    "resolve_header",
]
