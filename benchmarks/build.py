"""Build every benchmark contender into benchmarks/_build/ (gitignored).

    python benchmarks/build.py [-v] [--force]

Targets (all -O2, all calling the C functions in libbench.so, built alone):
  libbench.so               clib/bench.c
  libbenchdecl.so           add0 ... add{DECL_FUNCS-1}, generated (the declare row)
  _bench_floor_hold*.so     ext/floor.c, METH_FASTCALL, GIL held over the call
  _bench_floor_release*.so  ext/floor.c -DFLOOR_RELEASE_GIL
  _bench_floor_buf*.so      ext/floor.c -DFLOOR_BUFFER (dsum via the buffer protocol)
  _bench_pybind11*.so       ext/pybind11_mod.cpp
  _bench_nanobind*.so       ext/nanobind_mod.cpp + nanobind's src/nb_combined.cpp
  _bench_cffi_api*.so       cffi API mode (ffi.set_source + ffi.compile)

Modules link to libbench.so with an rpath of $ORIGIN. A target is rebuilt only
when the hash of its inputs (source files, command lines, tool versions)
changes. A target whose Python package (pybind11, nanobind, cffi) is not
installed is skipped with a reason, not treated as an error.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
CLIB = os.path.join(HERE, "clib")
EXT = os.path.join(HERE, "ext")
BUILD = os.path.join(HERE, "_build")
EXT_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")
CC = os.environ.get("CC", "gcc")
CXX = os.environ.get("CXX", "g++")
OPT = ["-O2", "-DNDEBUG", "-fPIC"]
PY_INC = ["-I" + sysconfig.get_paths()["include"]]
LINK_BENCH = ["-L" + BUILD, "-lbench", "-Wl,-rpath,$ORIGIN"]

CFFI_CDEF = """
typedef struct { double x, y; } vec2;
int add(int a, int b);
void noop(void);
double dsum(const double *x, long n);
vec2 vflip(vec2 v);
long slen(const char *s);
double *get(void);
int snprintf(char *buf, size_t n, const char *fmt, ...);
"""

LIBBENCH = os.path.join(BUILD, "libbench.so")
LIBDECL = os.path.join(BUILD, "libbenchdecl.so")
# The declare row declares and calls a function never declared before in each
# iteration: addK(a, b) returns a + b + K, so a call bound to the wrong symbol fails.
DECL_FUNCS = 4000
_print_lock = threading.Lock()


class Skip(Exception):
    """A target cannot be built here because a Python package is missing."""


class BuildError(Exception):
    pass


def module_path(name: str) -> str:
    return os.path.join(BUILD, name + EXT_SUFFIX)


def _have(pkg: str) -> bool:
    return importlib.util.find_spec(pkg) is not None


def _version(pkg: str) -> str:
    try:
        from importlib.metadata import version

        return version(pkg)
    except Exception:
        return "?"


def _digest(files: list[str], cmds: list[list[str]], extra: str = "") -> str:
    h = hashlib.sha256()
    for f in files:
        with open(f, "rb") as fh:
            h.update(f.encode() + b"\0" + fh.read() + b"\0")
    h.update(json.dumps(cmds).encode())
    h.update((extra + sys.version + EXT_SUFFIX).encode())
    return h.hexdigest()


def _fresh(name: str, outputs: list[str], digest: str) -> bool:
    stamp = os.path.join(BUILD, name + ".stamp")
    if not all(os.path.exists(o) for o in outputs) or not os.path.exists(stamp):
        return False
    with open(stamp) as fh:
        return fh.read().strip() == digest


def _stamp(name: str, digest: str) -> None:
    with open(os.path.join(BUILD, name + ".stamp"), "w") as fh:
        fh.write(digest + "\n")


def _run(cmd: list[str], verbose: bool) -> None:
    if verbose:
        with _print_lock:
            print("  $ " + " ".join(cmd), flush=True)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        raise BuildError("command failed: %s\n%s" % (" ".join(cmd), p.stdout))


def _steps(
    name: str, inputs: list[str], outputs: list[str], cmds: list[list[str]], verbose: bool, extra: str = ""
) -> str:
    """Run cmds unless the stamp says outputs are up to date; returns a status."""
    digest = _digest(inputs, cmds, extra)
    if _fresh(name, outputs, digest):
        return "up to date"
    for cmd in cmds:
        _run(cmd, verbose)
    _stamp(name, digest)
    return "built"


# --- targets -----------------------------------------------------------------


def build_libbench(verbose: bool) -> str:
    src = os.path.join(CLIB, "bench.c")
    cmd = [CC, *OPT, "-shared", "-I" + CLIB, src, "-o", LIBBENCH]
    return _steps("libbench", [src, os.path.join(CLIB, "bench.h")], [LIBBENCH], [cmd], verbose)


def decl_source() -> str:
    return "".join("int add%d(int a, int b) { return a + b + %d; }\n" % (k, k) for k in range(DECL_FUNCS))


def build_libdecl(verbose: bool) -> str:
    src = os.path.join(BUILD, "benchdecl.c")
    text = decl_source()
    if not os.path.exists(src) or open(src).read() != text:
        with open(src, "w") as fh:
            fh.write(text)
    cmd = [CC, "-O1", "-fPIC", "-shared", src, "-o", LIBDECL]
    return _steps("libbenchdecl", [src], [LIBDECL], [cmd], verbose)


def _floor(mod: str, defines: list[str], verbose: bool) -> str:
    try:
        import numpy
    except ImportError:
        raise Skip("numpy not installed") from None
    src = os.path.join(EXT, "floor.c")
    out = module_path(mod)
    cmd = [CC, *OPT, "-shared", *defines, *PY_INC, "-I" + numpy.get_include(), "-I" + CLIB, src, "-o", out, *LINK_BENCH]
    return _steps(mod, [src, os.path.join(CLIB, "bench.h")], [out], [cmd], verbose, extra=numpy.__version__)


def build_floor_hold(verbose: bool) -> str:
    return _floor("_bench_floor_hold", [], verbose)


def build_floor_release(verbose: bool) -> str:
    return _floor("_bench_floor_release", ["-DFLOOR_RELEASE_GIL"], verbose)


def build_floor_buf(verbose: bool) -> str:
    return _floor("_bench_floor_buf", ["-DFLOOR_BUFFER"], verbose)


def build_pybind11(verbose: bool) -> str:
    if not _have("pybind11"):
        raise Skip("pybind11 not installed")
    import pybind11

    src = os.path.join(EXT, "pybind11_mod.cpp")
    out = module_path("_bench_pybind11")
    cmd = [
        CXX,
        *OPT,
        "-std=c++17",
        "-shared",
        "-fvisibility=hidden",
        *PY_INC,
        "-I" + pybind11.get_include(),
        "-I" + CLIB,
        src,
        "-o",
        out,
        *LINK_BENCH,
    ]
    return _steps(
        "_bench_pybind11", [src, os.path.join(CLIB, "bench.h")], [out], [cmd], verbose, extra=_version("pybind11")
    )


def build_nanobind(verbose: bool) -> str:
    # Follows the recipe at the top of nanobind's src/nb_combined.cpp (the
    # documented way to build without CMake), with -O2 throughout.
    if not _have("nanobind"):
        raise Skip("nanobind not installed")
    import nanobind

    nb_root = os.path.dirname(nanobind.include_dir())
    flags = [
        *OPT,
        "-std=c++17",
        "-fvisibility=hidden",
        "-DNB_COMPACT_ASSERTIONS",
        *PY_INC,
        "-I" + nanobind.include_dir(),
        "-I" + os.path.join(nb_root, "ext", "robin_map", "include"),
    ]
    core_src = os.path.join(nanobind.source_dir(), "nb_combined.cpp")
    core_obj = os.path.join(BUILD, "libnanobind.o")
    core_cmd = [
        CXX,
        *flags,
        "-fno-strict-aliasing",
        "-ffunction-sections",
        "-fdata-sections",
        "-c",
        core_src,
        "-o",
        core_obj,
    ]
    # The core object is cached on its own: it takes the longest to compile.
    status = _steps("libnanobind", [core_src], [core_obj], [core_cmd], verbose, extra=_version("nanobind"))
    src = os.path.join(EXT, "nanobind_mod.cpp")
    obj = os.path.join(BUILD, "nanobind_mod.o")
    out = module_path("_bench_nanobind")
    cmds = [
        [CXX, *flags, "-I" + CLIB, "-c", src, "-o", obj],
        [CXX, "-shared", "-Wl,--gc-sections", obj, core_obj, "-o", out, *LINK_BENCH],
    ]
    st2 = _steps(
        "_bench_nanobind",
        [src, core_obj, os.path.join(CLIB, "bench.h")],
        [out],
        cmds,
        verbose,
        extra=_version("nanobind"),
    )
    return "built" if "built" in (status, st2) else "up to date"


def build_cffi_api(verbose: bool) -> str:
    if not _have("cffi"):
        raise Skip("cffi not installed")
    # Built in a child process: cffi's compile chdir()s and goes through
    # setuptools, neither of which should touch this (threaded) process.
    inputs = [os.path.join(CLIB, "bench.h")]
    cmd = [sys.executable, os.path.abspath(__file__), "--cffi-api-child"]
    out = module_path("_bench_cffi_api")
    return _steps(
        "_bench_cffi_api", inputs, [out], [cmd], verbose, extra=_version("cffi") + _version("setuptools") + CFFI_CDEF
    )


def _cffi_api_child() -> None:
    import cffi

    ffi = cffi.FFI()
    ffi.cdef(CFFI_CDEF)
    ffi.set_source(
        "_bench_cffi_api",
        '#include <stdio.h>\n#include "bench.h"',
        include_dirs=[CLIB],
        libraries=["bench"],
        library_dirs=[BUILD],
        extra_compile_args=["-O2"],
        extra_link_args=["-Wl,-rpath,$ORIGIN"],
    )
    path = ffi.compile(tmpdir=BUILD, verbose=False)
    print(path)


TARGETS = {
    "libbenchdecl": build_libdecl,
    "floor_hold": build_floor_hold,
    "floor_release": build_floor_release,
    "floor_buf": build_floor_buf,
    "nanobind": build_nanobind,  # the slowest: start it first
    "pybind11": build_pybind11,
    "cffi_api": build_cffi_api,
}


def build(verbose: bool = False, force: bool = False) -> dict[str, str]:
    """Build everything; returns {target: status}, where status is 'built',
    'up to date', 'skipped: <why>' or 'error: <message>'. libbench failing
    raises BuildError since nothing can run without it."""
    os.makedirs(BUILD, exist_ok=True)
    if force:
        for f in os.listdir(BUILD):
            if f.endswith(".stamp"):
                os.remove(os.path.join(BUILD, f))
    results = {"libbench": build_libbench(verbose)}
    workers = max(1, min(len(TARGETS), os.cpu_count() or 1))
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        futs = {name: pool.submit(fn, verbose) for name, fn in TARGETS.items()}
        for name, fut in futs.items():
            try:
                results[name] = fut.result()
            except Skip as e:
                results[name] = "skipped: %s" % e
            except BuildError as e:
                results[name] = "error: %s" % e
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-v", "--verbose", action="store_true", help="echo commands")
    ap.add_argument("--force", action="store_true", help="rebuild everything")
    ap.add_argument("--cffi-api-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.cffi_api_child:
        _cffi_api_child()
        return 0
    try:
        results = build(args.verbose, args.force)
    except BuildError as e:
        print("libbench: error: %s" % e, file=sys.stderr)
        return 1
    for name, status in results.items():
        print("%-14s %s" % (name, status))
    return 1 if any(s.startswith("error") for s in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
