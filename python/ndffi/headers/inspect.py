"""``python -m ndffi inspect``: what a shared library exports against what its header
declares."""

from __future__ import annotations

from .._ndffi import dlopen
from ..loading import elf as _elf
from ..loading import search as _loader
from .declarations import header_library


def inspect_library(lib_name, header=None, *, dirs=(), include_dirs=(), defines=None, clang_args=()):
    """What a shared library exports against what its header declares.

    Returns a dict: ``library`` (its path), ``exported`` ({name: "function" | "object"}
    from the ELF dynamic symbol table) and, with a header: ``header``, ``functions``
    and ``variables`` ({name: C declaration}), ``declared_but_missing`` and
    ``exported_but_undeclared`` (sorted names), ``function_macros`` ({name: what it
    does}) and ``skipped`` ({name: why it is not declared}).
    :func:`format_inspection` makes it text."""
    handle, _ = _loader.open_library(lib_name, dirs, _loader.fresh_opener(lambda p: dlopen(p, False)))
    path = handle.path
    exported = _elf.exported_symbols(path) if path else {}
    report = {"library": path, "header": None, "exported": exported}
    if header is None:
        return report
    lib = header_library(handle, lib_name, False, header, include_dirs, defines, clang_args)
    lib.declare_all()
    model = lib.header
    ns = lib._ns
    functions = {n: ns.decl(n)[1] for n in model["functions"]}
    variables = {n: ns.decl(n)[1] for n in model["variables"]}
    symbol_of = {n: model["aliases"].get(n, n) for n in list(functions) + list(variables)}
    declared = set(symbol_of.values())
    report.update(
        {
            "header": model["header"],
            "functions": functions,
            "variables": variables,
            "declared_but_missing": sorted(n for n, s in symbol_of.items() if s not in exported),
            "exported_but_undeclared": sorted(n for n in exported if n not in declared),
            "function_macros": {
                n: (
                    f"calls {m['forward']['target']}()"
                    if m.get("forward")
                    else f"#define {n}({', '.join(m['params'])}) {m['body']}"
                )
                for n, m in model["function_macros"].items()
            },
            "skipped": dict(model["skipped"]),
        }
    )
    return report


def format_inspection(report):
    """The text of an :func:`inspect_library` report."""
    exported = report["exported"]
    lines = []
    if report.get("header") is None:
        lines.append(f"{report['library']}: {len(exported)} exported symbols")
        lines += [f"  {exported[n]:9} {n}" for n in sorted(exported)]
        return "\n".join(lines) + "\n"
    functions, variables = report["functions"], report["variables"]
    missing, undeclared = report["declared_but_missing"], report["exported_but_undeclared"]
    lines.append(f"library: {report['library']} ({len(exported)} exported symbols)")
    lines.append(f"header:  {report['header']} ({len(functions)} functions, {len(variables)} variables)")
    lines.append("")
    lines.append(f"declared but missing from the library ({len(missing)}):")
    lines += [f"  {functions.get(n) or variables.get(n)};" for n in missing]
    lines.append(f"exported but not declared by the header ({len(undeclared)}):")
    lines += [f"  {exported[n]:9} {n}" for n in undeclared]
    lines.append("")
    lines.append(f"functions ({len(functions)}):")
    lines += [f"  {functions[n]};{'   [missing]' if n in missing else ''}" for n in sorted(functions)]
    if variables:
        lines.append(f"variables ({len(variables)}):")
        lines += [f"  {variables[n]};{'   [missing]' if n in missing else ''}" for n in sorted(variables)]
    macros = report["function_macros"]
    if macros:
        lines.append(f"function macros ({len(macros)}):")
        lines += [f"  {n}: {macros[n]}" for n in sorted(macros)]
    skipped = report["skipped"]
    if skipped:
        lines.append(f"not declared ({len(skipped)}):")
        lines += [f"  {n}: {skipped[n]}" for n in sorted(skipped)]
    return "\n".join(lines) + "\n"
