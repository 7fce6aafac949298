"""The checked-in stub of the compiled module (python/ndffi/_ndffi.pyi) is what
tools/stubgen.py (nanobind's stubgen and tools/ndffi_stubs.pat) makes of the module as
built now, describes every class the module defines in place (not re-exported from
``ndffi``, which imports them from it) and leaves no member untyped."""

import ast
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
STUB = ROOT / "python" / "ndffi" / "_ndffi.pyi"
STUBGEN = ROOT / "tools" / "stubgen.py"


def test_stub_is_current(tmp_path):
    pytest.importorskip("nanobind.stubgen")
    from importlib.metadata import version

    made_by = re.search(r"# nanobind (\S+)'s stubgen", STUB.read_text())
    if made_by is None or made_by.group(1) != version("nanobind"):
        pytest.skip(f"the stub was made by nanobind {made_by and made_by.group(1)}, this is {version('nanobind')}")
    fresh = tmp_path / "_ndffi.pyi"
    subprocess.run([sys.executable, str(STUBGEN), "-o", str(fresh)], check=True, cwd=tmp_path, capture_output=True)
    assert fresh.read_text() == STUB.read_text(), (
        "python/ndffi/_ndffi.pyi is not current (the compiled module's API changed): run `make stubs` "
        "and commit the result (a new method of a C type needs its line in tools/ndffi_stubs.pat)"
    )


def _stub():
    return ast.parse(STUB.read_text())


def test_stub_defines_the_module_classes_in_place():
    from ndffi import _ndffi

    tree = _stub()
    classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    for name, value in vars(_ndffi).items():
        if isinstance(value, type):
            assert name in classes, f"{name} is not a class of the stub"
    imported = [a.name for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "ndffi" for a in n.names]
    assert not imported, f"the stub imports {imported} back from ndffi"
    for name in ("errno", "set_errno", "dlopen", "MAX_NESTING", "_layout", "_abis", "make_ufunc"):
        assert hasattr(_ndffi, name) and name in {
            getattr(n, "name", None) or getattr(getattr(n, "target", None), "id", None) for n in tree.body
        }, name


def test_every_member_of_the_stub_is_typed():
    """No `(*args, **kwargs) -> Any` fallback and no parameter or result without a type:
    what C returns for a declared type (a call's result, an element, a field) is the only Any."""
    untyped = []
    for node in ast.walk(_stub()):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            params = args.posonlyargs + args.args + args.kwonlyargs + [a for a in (args.vararg, args.kwarg) if a]
            missing = [a.arg for a in params if a.annotation is None and a.arg not in ("self", "cls")]
            if missing or node.returns is None:
                untyped.append(f"{node.name}({', '.join(missing)}) line {node.lineno}")
    assert not untyped, "untyped in the stub (add a pattern to tools/ndffi_stubs.pat): " + "; ".join(untyped)
