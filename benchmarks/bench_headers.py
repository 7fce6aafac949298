"""Time importing a real C header: ndffi.load("sqlite3", header="sqlite3.h").

Each measurement runs in a fresh Python process (ndffi and NumPy already imported, and
the shared library found and opened, not timed: that is ndffi.load without header=,
printed apart) with its own cache directory:

* first time: the cache directory is empty, so libclang parses and translates the header
  (and the C compiler is asked for its include directories);
* from the cache: the same directory again; the cached declarations are checked against
  the content of every file the header included and declared with ndffi's parser, and
  clang.cindex / libclang must not even be imported.

The first run is not timed: it lets Python write the modules' bytecode caches, which
an installed package has (the editable install of ``make`` writes them on first use).

Bars: < 300 ms the first time, < 20 ms from the cache.  Prints the best and the median
of --repeat runs of each, wall clock and the process's CPU time (the CPU time is the
steadier figure on a busy machine).

``--all``: the cached import of each of 20 widely used libraries' headers (those
installed), timed as a user sees it: the whole ``ndffi.load(name, header=...)``, finding
the library included (the system search is cached with the header); bar < 20 ms each.

    python benchmarks/bench_headers.py [--repeat 7] [--header sqlite3.h --library sqlite3]
    python benchmarks/bench_headers.py --all [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

CHILD = r"""
import json, sys, time
import ndffi
from ndffi import headers as _headers
from ndffi.loading import search as _loader
from ndffi._ndffi import dlopen
header, library = sys.argv[1], sys.argv[2]
w0, c0 = time.perf_counter(), time.process_time()
handle, _ = _loader.open_library(library, (), lambda p: dlopen(p, False))
w1, c1 = time.perf_counter(), time.process_time()
lib = _headers.header_library(handle, library, False, header)
w2, c2 = time.perf_counter(), time.process_time()
assert lib.sqlite3_libversion_number() > 0 if library == "sqlite3" else True
print(json.dumps({"wall": w2 - w1, "cpu": c2 - c1, "find": w1 - w0,
                  "clang": any(m == "clang" or m.startswith(("clang.", "ndffi.headers.libclang", "ndffi.headers.translate"))
                               for m in sys.modules)}))
"""

BARS = {"first": 0.300, "cached": 0.020}

# name: (library, header, load options)
LIBRARIES = {
    "zlib": ("z", "zlib.h", {}),
    "bzip2": ("bz2", "bzlib.h", {}),
    "lzma": ("lzma", "lzma.h", {}),
    "zstd": ("zstd", "zstd.h", {}),
    "lz4": ("lz4", "lz4.h", {}),
    "sqlite3": ("sqlite3", "sqlite3.h", {}),
    "expat": ("expat", "expat.h", {}),
    "libxml2": ("xml2", "libxml/parser.h", {"include_dirs": ["/usr/include/libxml2"]}),
    "libpng": ("png16", "png.h", {}),
    "libjpeg": ("jpeg", "jpeglib.h", {"clang_args": ["-include", "stdio.h"]}),
    "libarchive": ("archive", "archive.h", {}),
    "libcurl": ("curl", "curl/curl.h", {}),
    "openssl": ("crypto", "openssl/evp.h", {}),
    "gmp": ("gmp", "gmp.h", {}),
    "uuid": ("uuid", "uuid/uuid.h", {}),
    "pcre2": ("pcre2-8", "pcre2.h", {"defines": {"PCRE2_CODE_UNIT_WIDTH": 8}}),
    "yaml": ("yaml", "yaml.h", {}),
    "libsodium": ("sodium", "sodium.h", {}),
    "ncurses": ("ncursesw", "ncurses.h", {}),
    "readline": ("readline", "readline/readline.h", {"clang_args": ["-include", "stdio.h"]}),
}

CHILD_LOAD = r"""
import json, sys, time
import ndffi
library, header, options = json.loads(sys.argv[1])
w0, c0 = time.perf_counter(), time.process_time()
lib = ndffi.load(library, header=header, **options)
w1, c1 = time.perf_counter(), time.process_time()
print(json.dumps({"wall": w1 - w0, "cpu": c1 - c0, "functions": len(lib.header["functions"]),
                  "constants": len(lib.header["constants"]),
                  "clang": any(m.startswith(("clang", "ndffi.headers.libclang", "ndffi.headers.translate"))
                               for m in sys.modules)}))
"""


def run_all(repeat, check):
    """The cached import of each installed library of LIBRARIES."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cache = tempfile.mkdtemp(prefix="ndffi-bench-headers-")
    env["NDFFI_CACHE_DIR"] = cache
    ok = True
    print(f"cached ndffi.load(name, header=...), whole, best and median of {repeat} fresh processes")
    try:
        for key, spec in LIBRARIES.items():
            arg = json.dumps(spec)
            first = subprocess.run([sys.executable, "-c", CHILD_LOAD, arg], env=env, capture_output=True, text=True)
            if first.returncode != 0:
                print(f"  {key:11} not measured: {first.stderr.strip().splitlines()[-1][:100]}")
                continue
            runs = []
            for _ in range(repeat):
                out = subprocess.run(
                    [sys.executable, "-c", CHILD_LOAD, arg], env=env, capture_output=True, text=True, check=True
                )
                r = json.loads(out.stdout.strip().splitlines()[-1])
                if r["clang"]:
                    raise SystemExit(f"{key}: a cache hit imported libclang")
                runs.append(r)
            wall = sorted(r["wall"] for r in runs)
            cpu = sorted(r["cpu"] for r in runs)
            passed = wall[0] < BARS["cached"]
            ok &= passed
            print(
                f"  {key:11} best {wall[0] * 1000:6.1f} ms  median {statistics.median(wall) * 1000:6.1f} ms"
                f"  cpu best {cpu[0] * 1000:6.1f} ms  ({runs[0]['functions']} functions, "
                f"{runs[0]['constants']} constants){'' if passed else '  MISSED'}"
            )
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return 0 if ok or not check else 1


def run(header, library, cache):
    env = dict(os.environ, NDFFI_CACHE_DIR=cache, OPENBLAS_NUM_THREADS="1")
    # Modules load from their cached bytecode, as from any installed package.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, header, library], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--header", default="sqlite3.h")
    ap.add_argument("--library", default="sqlite3")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--check", action="store_true", help="exit 1 when a bar is missed")
    ap.add_argument("--all", action="store_true", help="the cached import of 20 libraries' headers")
    args = ap.parse_args(argv)
    if args.all:
        return run_all(args.repeat, args.check)

    first, cached = [], []
    warm = tempfile.mkdtemp(prefix="ndffi-bench-headers-")
    try:
        run(args.header, args.library, warm)  # not timed: writes the bytecode caches
    finally:
        shutil.rmtree(warm, ignore_errors=True)
    for _ in range(args.repeat):
        cache = tempfile.mkdtemp(prefix="ndffi-bench-headers-")
        try:
            r = run(args.header, args.library, cache)
            assert r["clang"], "the first import should have used libclang"
            first.append(r)
            r = run(args.header, args.library, cache)
            if r["clang"]:
                raise SystemExit("a cache hit imported clang.cindex or libclang")
            cached.append(r)
        finally:
            shutil.rmtree(cache, ignore_errors=True)

    ok = True
    print(
        f"import of {args.header} for {args.library}, {args.repeat} fresh processes each "
        f"(the header part of ndffi.load({args.library!r}, header={args.header!r}))"
    )
    for label, runs, bar in (("first time", first, BARS["first"]), ("from the cache", cached, BARS["cached"])):
        wall = sorted(r["wall"] for r in runs)
        cpu = sorted(r["cpu"] for r in runs)
        best = wall[0]
        passed = best < bar
        ok &= passed
        print(
            f"  {label:15} best {best * 1000:7.1f} ms   median {statistics.median(wall) * 1000:7.1f} ms"
            f"   cpu best {cpu[0] * 1000:6.1f} ms   (bar < {bar * 1000:.0f} ms: "
            f"{'met' if passed else 'MISSED'})"
        )
    find = sorted(r["find"] for r in first + cached)
    print(
        f"  finding the library itself (ndffi.load without header=): best {find[0] * 1000:.1f} ms, "
        f"median {statistics.median(find) * 1000:.1f} ms"
    )
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
