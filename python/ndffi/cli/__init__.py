"""The ndffi command line: ``python -m ndffi`` or ``ndffi``.

    ndffi build fibonacci.c -o build/     # build/libfibonacci.so and build/fibonacci.h
    ndffi demo                            # the ctypes cookbook's examples, ported and checked
    ndffi bench                           # the benchmark table (source checkout only)
    ndffi inspect build/libfibonacci.so [--cdef build/fibonacci.h]
    ndffi generate zlib.h -l z -o zlib_ffi.py   # a module and stub from a header
    ndffi layout --abi aarch64-darwin decls.h   # sizes, alignments, offsets on another ABI (JSON)

Exit status: 0 success, 1 failure (a build error, a failed example, a declared symbol the
library lacks, ...), 2 wrong usage or a feature this installation does not have.
Progress of long steps goes to stderr, results to stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import subprocess
import sys
import warnings
from pathlib import Path

OK, FAILURE, USAGE = 0, 1, 2


def _progress(message):
    print(f"ndffi: {message}", file=sys.stderr, flush=True)


class _ProgressHandler(logging.Handler):
    def emit(self, record):
        try:
            _progress(record.getMessage())
        except Exception:  # never let progress output break a command
            pass


def _error(command, message):
    print(f"ndffi {command}: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# build


def cmd_build(args):
    from .. import building as _build
    from .._ndffi import CDefError

    cflags = [flag for group in args.cflags for flag in shlex.split(group)]
    cdef = None
    if args.cdef:
        try:
            cdef = Path(args.cdef).read_text()
        except OSError as exc:
            _error("build", f"cannot read --cdef file: {exc}")
            return FAILURE
    output = args.output or "."
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", _build.CacheWarning)
            built = _build.compile_library(
                args.sources,
                name=args.name,
                lang=args.lang,
                cflags=cflags,
                include_dirs=args.include_dirs,
                libraries=args.libraries,
                library_dirs=args.library_dirs,
                defines=args.defines,
                header=args.header,
                cdef=cdef,
                output_dir=output,
                force=args.force,
            )
        for w in caught:
            print(f"warning: {w.message}", file=sys.stderr)
    except _build.BuildError as exc:
        print(exc, file=sys.stderr)
        return FAILURE
    except (OSError, ValueError, TypeError, CDefError) as exc:
        _error("build", str(exc))
        return FAILURE
    if not built.compiled:
        _progress(f"up to date (cached in {built.entry})")
    if built.warning:
        print(f"warning: {built.warning}", file=sys.stderr)
    print(built.output_library)
    print(built.output_header)
    return OK


# ---------------------------------------------------------------------------------------
# demo


def cmd_demo(args):
    from . import demo as _demo

    return _demo.run(only=args.only, list_only=args.list)


# ---------------------------------------------------------------------------------------
# bench


def _benchmark_script():
    here = Path(__file__).resolve().parent
    for root in (here.parents[2], Path.cwd()):
        script = root / "benchmarks" / "run.py"
        if script.is_file():
            return script
    return None


def cmd_bench(args):
    script = _benchmark_script()
    if script is None:
        _error(
            "bench",
            "the benchmarks are part of the source checkout (benchmarks/run.py), "
            "which this installation does not include; in a clone of ndffi run "
            "'make bench' or 'python -m ndffi bench' from its top directory",
        )
        return FAILURE
    _progress(f"running {script} (builds the comparison extensions on first use; this takes a while)")
    rc = subprocess.call([sys.executable, str(script)] + list(args.args), cwd=script.parent.parent)
    return OK if rc == 0 else FAILURE


# ---------------------------------------------------------------------------------------
# inspect


def _library_path(name):
    if os.path.isfile(name):
        return name
    from .. import load

    return load(name).path


def cmd_inspect(args):
    if args.header is not None:
        from .headers import run_inspect

        return run_inspect(args)
    from .._ndffi import CDefError, Namespace
    from ..errors import LibraryNotFound
    from ..loading import elf as _elf

    try:
        path = _library_path(args.library)
        symbols = _elf.exported_symbols(path)
    except LibraryNotFound as exc:
        _error("inspect", str(exc))
        return FAILURE
    except OSError as exc:
        _error("inspect", f"cannot read {args.library}: {exc}")
        return FAILURE
    if not symbols:
        _error(
            "inspect",
            f"{path}: no exported symbols found (inspect reads ELF shared "
            f"libraries; this file is not one, or exports nothing)",
        )
        return FAILURE

    if args.cdef is None:
        if args.json:
            print(json.dumps({"library": path, "symbols": symbols}, indent=1, sort_keys=True))
        else:
            print(f"{path}: {len(symbols)} exported symbols")
            for name in sorted(symbols):
                print(f"  {symbols[name]:9} {name}")
        return OK

    ns = Namespace()
    try:
        ns.cdef(Path(args.cdef).read_text())
    except OSError as exc:
        _error("inspect", f"cannot read --cdef file: {exc}")
        return FAILURE
    except CDefError as exc:
        _error("inspect", f"{args.cdef}: {exc}")
        return FAILURE
    declared = {}
    for name in ns.names():
        decl = ns.decl(name)
        if decl is not None:
            declared[name] = decl[1]
    missing = sorted(n for n in declared if n not in symbols)
    undeclared = sorted(n for n in symbols if n not in declared)
    matched = sorted(n for n in declared if n in symbols)
    if args.json:
        print(
            json.dumps(
                {
                    "library": path,
                    "declared_and_exported": matched,
                    "declared_but_missing": missing,
                    "exported_but_undeclared": undeclared,
                },
                indent=1,
            )
        )
    else:
        print(f"{path}: {len(symbols)} exported, {len(declared)} declared in {args.cdef}, {len(matched)} both")
        print(f"declared but missing from the library ({len(missing)}):")
        for name in missing:
            print(f"  {declared[name]}")
        print(f"exported but not declared ({len(undeclared)}):")
        for name in undeclared:
            print(f"  {symbols[name]:9} {name}")
    return FAILURE if missing else OK


# ---------------------------------------------------------------------------------------
# layout


def cmd_layout(args):
    from .. import abis, host_abi, layout
    from .._ndffi import CDefError

    if args.list:
        for name, triple in abis().items():
            print(f"{name:24} {triple}{'   (this host)' if name == host_abi() else ''}")
        return OK
    if args.decls is None:
        _error("layout", "give a file of C declarations (or - for standard input), or --list")
        return USAGE
    try:
        text = sys.stdin.read() if args.decls == "-" else Path(args.decls).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        _error("layout", f"cannot read {args.decls}: {exc}")
        return FAILURE
    try:
        report = layout(text, abi=args.abi)
    except CDefError as exc:
        _error("layout", f"{'<stdin>' if args.decls == '-' else args.decls}: {exc}")
        return FAILURE
    print(json.dumps(report, indent=args.indent))
    return OK


# ---------------------------------------------------------------------------------------


def _parser():
    from .. import __version__
    from . import headers as _cli_headers

    p = argparse.ArgumentParser(
        prog="ndffi",
        description="ndffi: call C from Python and NumPy, fast and checked.",
        epilog="exit status: 0 success, 1 failure, 2 usage error or unavailable feature",
    )
    p.add_argument("--version", action="version", version=f"ndffi {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    b = sub.add_parser(
        "build",
        help="compile C/C++ sources into a shared library and its declarations",
        description="Compile C/C++ sources with the system compiler into OUTPUT/libNAME.so "
        "and write the declarations of its functions to OUTPUT/NAME.h, a C "
        "header that ndffi.load(...).cdef() reads.  Builds are cached by "
        "content.  A file in OUTPUT that ndffi did not write is never replaced "
        "(exit status 1) unless --force.",
    )
    b.add_argument("sources", nargs="+", metavar="SOURCE", help="C or C++ source files")
    b.add_argument("-o", "--output", metavar="DIR", help="output directory (default: .)")
    b.add_argument("-n", "--name", help="library name (default: the first source's stem)")
    b.add_argument("--lang", choices=["c", "c++"], help="compile every source as this language")
    b.add_argument(
        "--cflags",
        action="append",
        default=[],
        metavar="FLAGS",
        help="extra compiler flags, split like a shell (repeatable)",
    )
    _cli_headers.add_preprocessor_arguments(b)
    b.add_argument(
        "-l", dest="libraries", action="append", default=[], metavar="LIB", help="link with library LIB (repeatable)"
    )
    b.add_argument(
        "-L",
        dest="library_dirs",
        action="append",
        default=[],
        metavar="DIR",
        help="library directory, also the run path (repeatable)",
    )
    b.add_argument("--header", metavar="FILE", help="take the declarations from this header instead of the sources")
    b.add_argument("--cdef", metavar="FILE", help="take the declarations from this file of C declarations")
    b.add_argument(
        "--force",
        action="store_true",
        help="replace OUTPUT/libNAME.so and OUTPUT/NAME.h even when ndffi did not write them",
    )
    b.set_defaults(func=cmd_build)

    d = sub.add_parser(
        "demo",
        help="run the ctypes cookbook's examples, ported to ndffi",
        description="Run every example of the ctypes cookbook, ported to ndffi, printing "
        "its code and output.  Exit status 0 when every example that can run "
        "printed what it should; examples of features not built yet are listed "
        "as not available.",
    )
    d.add_argument("--list", action="store_true", help="list the examples and exit")
    d.add_argument(
        "--only", action="append", default=[], metavar="NAME", help="run only this example (repeatable; see --list)"
    )
    d.set_defaults(func=cmd_demo)

    be = sub.add_parser(
        "bench",
        help="run the benchmarks (needs the source checkout)",
        description="Run benchmarks/run.py of the source checkout: ns per call against "
        "ctypes, cffi, pybind11, nanobind and a hand-written extension.  "
        "Arguments after 'bench' are passed on (e.g. --callgrind).",
    )
    be.add_argument("args", nargs=argparse.REMAINDER, help="arguments for benchmarks/run.py")
    be.set_defaults(func=cmd_bench)

    i = sub.add_parser(
        "inspect",
        help="list a shared library's exported symbols",
        description="List the functions and data a shared library (ELF) exports.  With "
        "--header (a C header, read with libclang) or --cdef (a file of C "
        "declarations), compare them: declared but missing, exported but "
        "undeclared, and each function's signature; the exit status is 1 when "
        "something declared is missing from the library.",
    )
    _cli_headers.add_inspect_arguments(i)
    i.add_argument("--cdef", metavar="FILE", help="C declarations to compare with")
    i.set_defaults(func=cmd_inspect)

    g = sub.add_parser(
        "generate",
        help="generate a Python module and type stub from a C header",
        description="Generate an importable Python module (the declarations embedded: no "
        "libclang needed to import it) and its .pyi stub from a C header.",
    )
    _cli_headers.add_generate_arguments(g)
    g.set_defaults(func=_cli_headers.run_generate)

    from .. import abis

    lo = sub.add_parser(
        "layout",
        help="sizes, alignments and member offsets of C declarations on an ABI",
        description="Print as JSON how an ABI lays out C declarations (the syntax cdef() "
        "reads): the size, alignment and signedness of every scalar type, and "
        "the size and alignment of every struct, union and enum with the offset "
        "of each member (bit offset and width of bit-fields).  Each ABI's rules "
        "are checked against clang's -target; no compiler for it is needed.",
    )
    lo.add_argument("decls", nargs="?", metavar="DECLS.h", help="a file of C declarations, or - for standard input")

    def abi_name(text):
        for name, triple in abis().items():
            if text in (name, triple):
                return name
        raise argparse.ArgumentTypeError(f"unknown ABI {text!r} (known: {', '.join(abis())})")

    lo.add_argument(
        "--abi",
        type=abi_name,
        metavar="ABI",
        help="the ABI to lay out for (default: this host's): one of "
        + ", ".join(abis())
        + ", or clang's target triple for it",
    )
    lo.add_argument("--list", action="store_true", help="list the ABIs and their clang targets")
    lo.add_argument("--indent", type=int, default=1, metavar="N", help="JSON indentation (default 1)")
    lo.set_defaults(func=cmd_layout)
    return p


def main(argv=None):
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        if getattr(args, "command", None) == "bench":  # options for benchmarks/run.py
            args.args = list(args.args) + extra
        else:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return USAGE
    handler = _ProgressHandler()
    logger = logging.getLogger("ndffi")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `ndffi inspect lib | head`
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return OK
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
