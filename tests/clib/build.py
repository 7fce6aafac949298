"""Build the C test libraries (tests/clib/*.c -> <outdir>/lib<name>.so).

The package's example sources that the tests call as they are (``EXAMPLE_SOURCES``, in
python/ndffi/examples) are built the same way, so that one copy of each serves both; a
test source may also ``#include`` an example source.

Used by tests/conftest.py at test-run time; also runnable by hand:

    python3 tests/clib/build.py [outdir]

Uses the system C compiler ($CC, else cc).  A library is rebuilt only when its source
(or a file it includes with ``#include "..."``, or this file, which holds the flags) is
newer than it.  Outputs are written to a temporary file and renamed into place, so
concurrent test processes (pytest-xdist) never see a half-written library.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parents[1] / "python" / "ndffi" / "examples"
EXAMPLE_SOURCES = ["fibonacci.c"]
CFLAGS = ["-O1", "-g", "-fPIC", "-shared", "-Wall"]


class CLibBuildError(RuntimeError):
    """A test library failed to compile; the message carries the compiler output."""


def compiler() -> list:
    """The C compiler command: $CC (may carry flags) or cc."""
    cc = os.environ.get("CC", "").strip()
    return shlex.split(cc) if cc else ["cc"]


def sources() -> list:
    return sorted(HERE.glob("*.c")) + [EXAMPLES / name for name in EXAMPLE_SOURCES]


_LOCAL_INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


def _inputs(src: Path, seen=None) -> set:
    """``src`` and the files it includes with ``#include "..."``, transitively."""
    seen = set() if seen is None else seen
    if src in seen or not src.exists():
        return seen
    seen.add(src)
    for name in _LOCAL_INCLUDE.findall(src.read_text(errors="replace")):
        _inputs((src.parent / name).resolve(), seen)
    return seen


def _stale(src: Path, out: Path) -> bool:
    if not out.exists():
        return True
    built = out.stat().st_mtime_ns
    inputs = _inputs(src.resolve()) | {Path(__file__)}
    return any(path.stat().st_mtime_ns > built for path in inputs)


def build_one(src, outdir) -> str:
    """Compile ``src`` into ``outdir/lib<stem>.so`` if stale; return the library path."""
    src, outdir = Path(src), Path(outdir)
    out = outdir / f"lib{src.stem}.so"
    if not _stale(src, out):
        return str(out)
    outdir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".lib{src.stem}.", suffix=".so.tmp", dir=outdir)
    os.close(fd)
    cmd = compiler() + CFLAGS + ["-o", tmp, str(src), "-lm"]
    try:
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
        except FileNotFoundError as exc:
            raise CLibBuildError(
                f"cannot build test library {out.name}: C compiler {cmd[0]!r} not found (set $CC): {exc}"
            ) from None
        except subprocess.TimeoutExpired as exc:
            raise CLibBuildError(f"building {out.name} timed out: {shlex.join(cmd)}") from exc
        if proc.returncode != 0:
            raise CLibBuildError(
                f"building test library {out.name} failed (exit {proc.returncode}):\n$ {shlex.join(cmd)}\n{proc.stdout}"
            )
        os.chmod(tmp, 0o755)  # mkstemp made it 0600
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return str(out)


def build_clibs(outdir) -> dict:
    """Build every tests/clib/*.c and the example sources into ``outdir``; return
    ``{name: library path}``."""
    return {src.stem: build_one(src, outdir) for src in sources()}


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else str(HERE / "build")
    for name, path in build_clibs(target).items():
        print(f"{name}: {path}")
