"""ndffi's version, for what records it below the package (cache keys, generated
modules).  It is written once, as ``__version__`` in ``ndffi/__init__.py``; a module of
the package runs only once ``ndffi`` is in ``sys.modules``, so it is read from there when
asked (no import of the package from below it)."""

import sys


def version():
    """``ndffi.__version__``."""
    return sys.modules[__name__.split(".")[0]].__version__
