"""Command line of the header tools: ``inspect`` and ``generate``.

``python -m ndffi`` hands these two commands here (``add_*_arguments`` fill its
sub-parsers, ``run_*`` run them); ``python -m ndffi.cli.headers inspect|generate ...``
runs them on their own.  Exit status: 0 success, 1 failure (``inspect``: something
the header declares is missing from the library), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys

OK, FAILURE, USAGE = 0, 1, 2


def add_preprocessor_arguments(p):
    """-I and -D, as C compilers take them (``ndffi build`` has them too)."""
    p.add_argument(
        "-I",
        dest="include_dirs",
        action="append",
        default=[],
        metavar="DIR",
        help="search DIR for headers before the system directories (repeatable)",
    )
    p.add_argument(
        "-D", dest="defines", action="append", default=[], metavar="NAME[=VALUE]", help="predefine a macro (repeatable)"
    )


def _clang_args(args):
    return [a for h in getattr(args, "include", []) for a in ("-include", h)]


def _common(p):
    add_preprocessor_arguments(p)
    p.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="HEADER",
        help="include HEADER first, for a header that uses names it does not include (repeatable)",
    )
    p.add_argument(
        "-L",
        dest="lib_dirs",
        action="append",
        default=[],
        metavar="DIR",
        help="search DIR for the library first (repeatable)",
    )


def add_inspect_arguments(p):
    p.add_argument("library", metavar="LIBRARY", help="a library name ndffi.load finds, or a path")
    p.add_argument("--header", metavar="HEADER", help="compare with what this C header declares")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    _common(p)
    return p


def add_generate_arguments(p):
    p.add_argument(
        "header", metavar="HEADER", help="the C header (a path, or found in -I and the system include directories)"
    )
    p.add_argument(
        "-l", "--library", help="the library the header declares (default: the symbols of the running process)"
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE.py",
        help="write the module here and its stub next to it (default: print the module)",
    )
    p.add_argument("--force", action="store_true", help="replace files at --output that ndffi generate did not write")
    _common(p)
    return p


def _error(command, message):
    print(f"ndffi {command}: error: {message}", file=sys.stderr)


def run_inspect(args):
    from .. import LibraryNotFound
    from ..headers import HeaderError, format_inspection, inspect_library

    try:
        report = inspect_library(
            args.library,
            args.header,
            dirs=args.lib_dirs,
            include_dirs=args.include_dirs,
            defines=args.defines,
            clang_args=_clang_args(args),
        )
    except (LibraryNotFound, HeaderError, ImportError) as exc:
        _error("inspect", str(exc))
        return FAILURE
    except OSError as exc:
        _error("inspect", f"cannot read {args.library}: {exc}")
        return FAILURE
    if args.json:
        print(json.dumps(report, indent=1, sort_keys=True))
    else:
        sys.stdout.write(format_inspection(report))
    return FAILURE if report.get("declared_but_missing") else OK


def run_generate(args):
    from ..headers import HeaderError
    from ..headers.generate import generate

    try:
        result = generate(
            args.header,
            library=args.library,
            output=args.output,
            include_dirs=args.include_dirs,
            defines=args.defines,
            lib_dirs=args.lib_dirs,
            clang_args=_clang_args(args),
            force=args.force,
        )
    except (HeaderError, ImportError, OSError, ValueError) as exc:
        _error("generate", str(exc))
        return FAILURE
    if args.output is None:
        sys.stdout.write(result)
    else:
        for path in result:
            print(f"wrote {path}", file=sys.stderr)
    return OK


def main(argv=None):
    parser = argparse.ArgumentParser(prog="ndffi", description="ndffi's C header tools.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_inspect_arguments(
        sub.add_parser("inspect", help="a library's exported symbols against what its header declares")
    ).set_defaults(func=run_inspect)
    add_generate_arguments(
        sub.add_parser("generate", help="write a Python module and type stub for a C header")
    ).set_defaults(func=run_generate)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return USAGE
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
