"""`import ndffi` costs little more than `import numpy`: compiling (ndffi.build/inline),
reading headers (libclang), generating modules, Numba and Dask support and the standard
library modules only they need are imported when first used, not by `import ndffi`.
Checked by the modules a fresh interpreter holds after the import (not by timing it)."""

import subprocess
import sys

# Modules `import ndffi` must not import (whether or not they are installed): what only
# building, headers, Numba, Dask or the command line need.
HEAVY = [
    "clang",
    "clang.cindex",
    "numba",
    "dask",
    "distributed",
    "concurrent.futures",
    "subprocess",
    "sysconfig",
    "hashlib",
    "json",
    "tempfile",
    "shutil",
    "logging",
    "difflib",
    "dataclasses",
    "secrets",
    "shlex",
    "ndffi.building",
    "ndffi.headers",
    "ndffi._support.compiler",
    "ndffi._support.cache",
    "ndffi.numba_support",
    "ndffi.cli",
]


def modules_after(statement):
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()


def test_import_ndffi_imports_no_build_header_numba_or_dask_machinery():
    out = modules_after("import ndffi")
    assert "ndffi._ndffi" in out
    # what NumPy itself imports is no cost of ndffi's (NumPy 2.2 on Python 3.10 imports
    # subprocess, through platform)
    imported = sorted(set(HEAVY) & set(out) - set(modules_after("import numpy")))
    assert not imported, f"`import ndffi` imports {imported}: import them where they are used"


def test_the_lazy_names_are_there_when_used():
    code = (
        "import sys, ndffi\n"
        "names = dir(ndffi)\n"
        "assert all(n in names for n in ('build', 'inline', 'generate')), names\n"
        "assert 'ndffi.building' not in sys.modules\n"
        "from ndffi import inline\n"
        "assert inline is ndffi.inline and ndffi.build.__module__ == 'ndffi.building'\n"
        "assert ndffi.generate.__module__ == 'ndffi.headers.generate'\n"
        "assert all(hasattr(ndffi, n) for n in ndffi.__all__)\n"
        "try:\n"
        "    ndffi.no_such_name\n"
        "except AttributeError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert "no_such_name" in out
