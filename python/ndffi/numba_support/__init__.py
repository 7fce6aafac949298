"""ndffi and Numba.

Inside ``@numba.njit`` code a declared C function (``lib.gauss``, a global bound to
it, or an argument) is a direct call through its C pointer with its C signature;
``ndffi.Pointer`` values are raw pointers.  A ``numba.cfunc`` is accepted wherever a C
function pointer is declared: C calls the compiled code, no Python runs per call.

Numba loads this module through its ``numba_extensions`` entry point the first time it
compiles anything, so nothing needs importing; ``import ndffi`` does not import Numba.
Running from a source tree that is not installed, call ``ndffi.numba_support.install()``.
"""

_installed = False


def install():
    """Register ndffi's types with Numba (once; Numba's entry point does it by itself)."""
    global _installed
    if _installed:
        return
    from . import _calls, _cfunc  # noqa: F401  (_calls registers Numba's typing and lowering)

    _cfunc.register()
    _installed = True


_init = install  # the numba_extensions entry point

__all__ = ["install"]
