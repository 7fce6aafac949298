"""The shape of the tree, checked: what a reader of the code relies on without reading it all.

- No import cycle among ndffi's modules.  Every ``import`` and ``from ... import`` of
  python/ndffi is read with ``ast``, those inside functions included (a function-level
  import hides a cycle from Python, not from a reader); relative imports are resolved,
  and ``from pkg import name`` is an edge to the module ``pkg.name`` when there is one,
  else to ``pkg``.  The compiled core (``ndffi._ndffi``) imports nothing of the package.
- Each part of the package imports only from parts below it (or from itself).  A part is
  the first name under ``ndffi``: a subpackage (``ndffi.headers.translate`` is part of
  ``headers``) or a top-level module (``ndffi.library``); ``LAYERS`` below lists them
  from the bottom up, parts of one layer may import each other.  Renaming a module
  inside a subpackage changes nothing here; a new part needs its place in ``LAYERS``.
- No source file of src/ or python/ is longer than ``MAX_FILE_LINES``.
- No function is longer than ``MAX_FUNCTION_LINES``: Python functions by ``ast``
  (decorators to the last line), C++ functions, methods, constructors and lambdas of
  src/ by libclang's extents, nested ones counted on their own as well.
- Each helper the package needs in several places is written once.  A helper is found
  by what it does, so that a copy under another name is found too:

  * the cache directory: a function named ``cache_dir``, or one that reads
    ``NDFFI_CACHE_DIR``;
  * the atomic file writer: a function named ``*atomic*``, or one that calls
    ``os.replace`` (write aside, then replace);
  * the parser of ``defines``: a function whose name holds ``define`` (or is
    ``macro_definitions``);
  * the compiler finder: a function named ``compiler``/``find_compiler`` (leading
    underscores aside), or one that reads ``$CC`` or ``$CXX`` from the
    environment.

  Each must be found exactly once in python/ndffi.
- The tests mirror the stages: every test module is in a directory of its stage under
  tests/, and test module names are unique (pytest imports them by their basename).
"""

import ast
import collections
import os
import pathlib
import re
import subprocess
import sys
import sysconfig
from concurrent.futures import ThreadPoolExecutor

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "python" / "ndffi"
TESTS = ROOT / "tests"

# The parts of ndffi from the bottom up.  "__init__" is the package itself (the public
# API), "_ndffi" the compiled core.
LAYERS = [
    ["_ndffi", "errors", "_support", "_layout", "values"],
    ["loading"],
    ["callback"],
    ["numpy"],
    ["library"],
    ["headers"],
    ["load"],
    ["building", "pickling"],
    ["cli", "__main__", "__init__", "numba_support"],
]
EXTENSION = "ndffi._ndffi"

MAX_FILE_LINES = 800
MAX_FUNCTION_LINES = 150


# ---- the import graph -------------------------------------------------------------------


def _modules(package=PACKAGE):
    """{dotted name: path} of every module of the package (python/ndffi)."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_package(path):
    return path.name == "__init__.py"


def _imports(name, path, modules):
    """[(line, imported module)] of ndffi's modules that module ``name`` imports."""
    package = name if _is_package(path) else name.rpartition(".")[0]
    known = set(modules) | {EXTENSION}
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                base = ".".join(base + ([node.module] if node.module else []))
            else:
                base = node.module
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            # `import ndffi.a.b` names ndffi.a.b; the longest known prefix is the module
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.append((node.lineno, target))
    return out


def _graph(package=PACKAGE):
    modules = _modules(package)
    return {name: _imports(name, path, modules) for name, path in modules.items()}, modules


def _cycles(graph):
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for _, w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _part(module):
    """The part of ndffi a module belongs to: its first name under ndffi."""
    if module == "ndffi":
        return "__init__"
    return module.split(".")[1]


def test_no_import_cycle():
    graph, modules = _graph()
    assert len(graph) > 5, f"no modules found under {PACKAGE}"
    problems = []
    for component in _cycles(graph):
        inside = set(component)
        first = {}
        for a in component:
            for line, b in graph[a]:
                if b in inside:
                    first.setdefault((a, b), line)
        edges = [f"    {a} -> {b}  ({modules[a].relative_to(ROOT)}:{line})" for (a, b), line in first.items()]
        problems.append("  " + ", ".join(component) + ":\n" + "\n".join(edges))
    assert not problems, "import cycles among ndffi's modules (imports inside functions count):\n" + "\n".join(problems)


def _layering(graph, layers):
    """(parts in no layer, [(module, line, imported module) of imports from above])."""
    level = {part: i for i, layer in enumerate(layers) for part in layer}
    unplaced = sorted({_part(m) for m in graph} - set(level))
    upward = [
        (a, line, b)
        for a, edges in sorted(graph.items())
        for line, b in edges
        if _part(a) in level and _part(b) in level and level[_part(b)] > level[_part(a)]
    ]
    return unplaced, upward


def test_parts_import_only_downward():
    graph, modules = _graph()
    unplaced, upward = _layering(graph, LAYERS)
    level = {part: i for i, layer in enumerate(LAYERS) for part in layer}
    report = [
        f"  {a} ({_part(a)}, layer {level[_part(a)]}) imports {b} ({_part(b)}, layer {level[_part(b)]})"
        f"  at {modules[a].relative_to(ROOT)}:{line}"
        for a, line, b in upward
    ]
    assert not unplaced, f"parts of ndffi with no place in LAYERS (tests/structure): {unplaced}"
    assert not report, "imports from a higher layer:\n" + "\n".join(report)


def test_import_graph_is_read_as_python_reads_it(tmp_path):
    """The reading of imports itself, on a package made for it: relative imports at every
    depth, imports inside functions, names imported from a package that are its modules
    (and those that are not), the compiled core, modules outside the package."""
    files = {
        "__init__.py": "from ._ndffi import Function\nfrom .a import f\n",
        "a.py": "import os\nimport numpy\n\ndef f():\n    from .sub import deep\n",
        "sub/__init__.py": "from .. import a\n",
        "sub/deep.py": "def g():\n    from ..sub import leaf\n    import ndffi.a\n",
        "sub/leaf.py": "from ndffi import __version__\n",
        "numpy/__init__.py": "",
    }
    package = tmp_path / "ndffi"
    for name, text in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    graph, _ = _graph(package)
    edges = {a: sorted(b for _, b in e) for a, e in graph.items()}
    assert edges == {
        "ndffi": [EXTENSION, "ndffi.a"],
        "ndffi.a": ["ndffi.sub.deep"],
        "ndffi.sub": ["ndffi.a"],
        "ndffi.sub.deep": ["ndffi.a", "ndffi.sub.leaf"],
        "ndffi.sub.leaf": ["ndffi"],
        "ndffi.numpy": [],
    }
    assert _cycles(graph) == [["ndffi", "ndffi.a", "ndffi.sub.deep", "ndffi.sub.leaf"]]
    assert [_part(m) for m in sorted(graph)] == ["__init__", "a", "numpy", "sub", "sub", "sub"]
    layers = [["_ndffi"], ["a"], ["sub", "numpy"], ["__init__"]]
    assert _layering(graph, layers) == ([], [("ndffi.a", 5, "ndffi.sub.deep"), ("ndffi.sub.leaf", 1, "ndffi")])
    assert _layering(graph, [["_ndffi", "a", "sub"], ["__init__"]]) == (["numpy"], [("ndffi.sub.leaf", 1, "ndffi")])


# ---- sizes -------------------------------------------------------------------------------


def _sources(*suffixes):
    for top in ("src", "python"):
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix in suffixes and path.is_file() and "__pycache__" not in path.parts:
                yield path


def test_no_source_file_is_too_long():
    long = [
        f"  {p.relative_to(ROOT)}: {n} lines"
        for p in _sources(".py", ".c", ".cpp", ".h")
        if (n := len(p.read_text(errors="replace").splitlines())) > MAX_FILE_LINES
    ]
    assert not long, f"source files over {MAX_FILE_LINES} lines:\n" + "\n".join(long)


def test_no_python_function_is_too_long():
    long = []
    for path in _sources(".py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                n = node.end_lineno - start + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"  {path.relative_to(ROOT)}:{start} {node.name}: {n} lines")
    assert not long, f"Python functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(long)


def _clang_args():
    nanobind = pytest.importorskip("nanobind", reason="nanobind's headers are needed to parse src/py")
    import numpy as np

    include = pathlib.Path(nanobind.include_dir())
    ffi = subprocess.run(["pkg-config", "--cflags", "libffi"], capture_output=True, text=True)
    # The libclang wheel has no headers of its own (stddef.h, ...): the C compiler's.
    cc = subprocess.run([os.environ.get("CC") or "cc", "-print-file-name=include"], capture_output=True, text=True)
    builtin = [f"-isystem{cc.stdout.strip()}"] if cc.returncode == 0 and cc.stdout.strip() else []
    return [
        "-x",
        "c++",
        "-std=c++17",
        f"-I{ROOT / 'src' / 'core'}",
        f"-I{ROOT / 'src' / 'py'}",
        f"-I{sysconfig.get_paths()['include']}",
        f"-I{np.get_include()}",
        f"-I{include}",
        f"-I{include.parent / 'ext' / 'robin_map' / 'include'}",
        *ffi.stdout.split(),
        *builtin,
    ]


def _long_cxx_functions(path, index, args):
    """The functions over the limit in ``path`` and in the headers of src/ it includes, as
    {(file, line): (name, lines)}; the files of src/ it read; its parse errors."""
    ci = sys.modules["clang.cindex"]
    kinds = {
        ci.CursorKind.FUNCTION_DECL,
        ci.CursorKind.CXX_METHOD,
        ci.CursorKind.CONSTRUCTOR,
        ci.CursorKind.DESTRUCTOR,
        ci.CursorKind.FUNCTION_TEMPLATE,
        ci.CursorKind.CONVERSION_FUNCTION,
    }
    src = str(ROOT / "src") + os.sep
    tu = index.parse(str(path), args=args)
    errors = [str(d) for d in tu.diagnostics if d.severity >= ci.Diagnostic.Error]
    long, files, todo = {}, {str(path)}, [tu.cursor]
    while todo:
        cursor = todo.pop()
        for child in cursor.get_children():
            file = child.location.file and child.location.file.name
            if not file or not file.startswith(src):
                continue
            files.add(file)
            if (child.kind in kinds and child.is_definition()) or child.kind == ci.CursorKind.LAMBDA_EXPR:
                start, end = child.extent.start.line, child.extent.end.line
                if end - start + 1 > MAX_FUNCTION_LINES:
                    long.setdefault((file, start), (child.spelling or "lambda", end - start + 1))
            todo.append(child)
    return long, files, errors


def test_no_cxx_function_is_too_long():
    pytest.importorskip("clang.cindex", reason="libclang (the extra headers) reads the C++ sources")
    import clang.cindex as ci

    args = _clang_args()
    index = ci.Index.create()
    sources = [p for p in _sources(".cpp", ".h") if p.is_relative_to(ROOT / "src")]
    assert sources
    long, seen, errors = {}, set(), []

    def parse_all(paths):
        with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
            results = pool.map(lambda p: _long_cxx_functions(p, index, args), paths)
            for path, (found, files, errs) in zip(paths, results, strict=True):
                long.update(found)
                seen.update(files)
                errors.extend(f"  {path.relative_to(ROOT)}: {e}" for e in errs[:3])

    # the headers are read where the sources include them; one no source includes, alone
    parse_all([p for p in sources if p.suffix == ".cpp"])
    parse_all([p for p in sources if str(p) not in seen])
    assert not errors, "libclang could not parse src/ (so function extents are not known):\n" + "\n".join(errors)
    report = [
        f"  {pathlib.Path(f).relative_to(ROOT)}:{line} {name}: {n} lines"
        for (f, line), (name, n) in sorted(long.items())
    ]
    assert not report, f"C++ functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(report)


# ---- one helper per job -----------------------------------------------------------------


def _functions():
    """(module path, qualified name, node) of every function of python/ndffi, outermost
    first; a function nested in another is reported as part of it."""
    for path in _sources(".py"):
        if not path.is_relative_to(PACKAGE):
            continue
        tree = ast.parse(path.read_text(), str(path))
        todo = [(tree, "")]
        while todo:
            node, prefix = todo.pop()
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield path, prefix + child.name, child
                elif isinstance(child, ast.ClassDef):
                    todo.append((child, prefix + child.name + "."))
                elif not isinstance(child, ast.Lambda):
                    todo.append((child, prefix))


def _body_strings(fn):
    """The string constants of a function's code (its docstring left out)."""
    body = fn.body[1:] if ast.get_docstring(fn) is not None else fn.body
    return {
        n.value for stmt in body for n in ast.walk(stmt) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


def _calls(fn, module, attr):
    return any(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == attr
        and isinstance(n.func.value, ast.Name)
        and n.func.value.id == module
        for n in ast.walk(fn)
    )


def _reads_env(fn, names):
    """Does the function read one of the environment variables `names` (os.environ.get,
    os.getenv or os.environ[...])?  A variable named in a message does not count."""
    for n in ast.walk(fn):
        args = []
        if (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and (n.func.attr == "getenv" or (n.func.attr == "get" and ast.unparse(n.func.value) == "os.environ"))
        ):
            args = n.args[:1]
        elif isinstance(n, ast.Subscript) and isinstance(n.value, ast.Attribute) and n.value.attr == "environ":
            args = [n.slice]
        for a in args:
            if isinstance(a, ast.Constant) and a.value in names:
                return True
            if isinstance(a, ast.Name):  # env = "CC" if ... else "CXX"; os.environ.get(env)
                return bool(names & _body_strings(fn))
    return False


def _bare(name):
    return name.rpartition(".")[2].lstrip("_")


HELPERS = {
    "the cache directory": lambda name, fn: _bare(name) == "cache_dir" or "NDFFI_CACHE_DIR" in _body_strings(fn),
    "the atomic file writer": lambda name, fn: "atomic" in _bare(name) or _calls(fn, "os", "replace"),
    "the parser of defines": lambda name, fn: re.search(r"define|macro_definitions", _bare(name)) is not None,
    "the compiler finder": lambda name, fn: (
        re.fullmatch(r"(find_)?compiler", _bare(name)) is not None or _reads_env(fn, {"CC", "CXX"})
    ),
}


@pytest.mark.parametrize("helper", sorted(HELPERS))
def test_helper_is_written_once(helper):
    found = [
        f"  {path.relative_to(ROOT)}:{fn.lineno} {name}" for path, name, fn in _functions() if HELPERS[helper](name, fn)
    ]
    assert found, f"no function of python/ndffi is {helper} (renamed? the patterns are in tests/structure)"
    assert len(found) == 1, f"{helper} is written {len(found)} times:\n" + "\n".join(found)


# ---- the tests themselves ---------------------------------------------------------------


def test_test_modules_are_in_stage_directories_with_unique_names():
    modules = sorted(p for p in TESTS.rglob("test_*.py") if not p.is_relative_to(TESTS / "clib"))
    assert len(modules) > 20
    loose = [str(p.relative_to(ROOT)) for p in modules if p.parent == TESTS]
    assert not loose, f"test modules outside a stage directory: {loose}"
    by_name = collections.defaultdict(list)
    for p in modules:
        by_name[p.name].append(str(p.relative_to(ROOT)))
    twice = {name: paths for name, paths in by_name.items() if len(paths) > 1}
    assert not twice, f"test module names used twice (pytest imports them by name): {twice}"
