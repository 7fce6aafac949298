"""The package as it is distributed: the sdist's file list, the metadata (license, version
from ``__version__``, numpy the only required dependency), one list of build
dependencies, the entry point Numba finds ndffi by, and the error that says which extra
reading headers needs.

The sdist and the wheel's metadata are built here by scikit-build-core's own hooks, in a
temporary directory and without a network (a few seconds); `make wheel` and `make sdist`
build, install and smoke-test the real distributions (tools/dist_check.py).
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ndffi

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.packaging

spec = importlib.util.spec_from_file_location("dist_check", ROOT / "tools" / "dist_check.py")
dist_check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dist_check)

tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def backend(hook, tmp_path):
    """Run a PEP 517 hook of scikit-build-core on the checkout; the file it made."""
    pytest.importorskip("scikit_build_core")
    code = (f"import scikit_build_core.build as b, sys; "
            f"print(b.{hook}(sys.argv[1]))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return tmp_path / out.stdout.strip().splitlines()[-1]


def test_sdist_has_what_a_build_needs_and_nothing_else(tmp_path):
    sdist = backend("build_sdist", tmp_path)
    names, meta = dist_check.read_sdist(sdist)
    version = dist_check.source_version()
    assert dist_check.sdist_problems(names, version) == []
    assert dist_check.metadata_problems(meta, version) == []
    rel = {n.split("/", 1)[1] for n in names if "/" in n}
    assert not any(n.startswith(("fuzz/corpus", ".ci")) for n in rel)
    assert {"LICENSE", "CHANGELOG.md", "cmake/libffi.cmake", "python/ndffi/py.typed"} <= rel
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    # the fuzzers' sources stay (the suite replays them); only the corpus is left out
    assert "fuzz/atheris_entry.py" in rel


def test_sdist_check_refuses_a_corpus_ci_and_a_missing_license():
    v = dist_check.source_version()
    top = f"ndffi-{v}/"
    good = [top + n for n in dist_check.SDIST_REQUIRED]
    assert dist_check.sdist_problems(good, v) == []
    bad = [n for n in good if not n.endswith("/LICENSE")] + [
        top + "fuzz/corpus/parser/0a1b", top + ".ci/run", top + "python/ndffi/__pycache__/x.pyc",
        top + "build/editable/CMakeCache.txt"]
    assert dist_check.sdist_problems(bad, v) == [
        ".ci/run: must not be in the sdist",
        "build/editable/CMakeCache.txt: must not be in the sdist",
        "fuzz/corpus/parser/0a1b: must not be in the sdist",
        "python/ndffi/__pycache__/x.pyc: must not be in the sdist",
        "LICENSE: missing",
    ]


def test_wheel_metadata_license_version_and_one_required_dependency(tmp_path):
    dist_info = backend("prepare_metadata_for_build_wheel", tmp_path)
    meta = dist_check.parse_metadata((dist_info / "METADATA").read_text())
    assert dist_check.metadata_problems(meta, ndffi.__version__) == []
    assert meta["Version"] == ndffi.__version__
    assert meta["License-Expression"] == "MIT"
    reqs = meta.get_all("Requires-Dist")
    assert [r for r in reqs if "extra ==" not in r] == ["numpy>=2.0"]
    assert 'libclang>=16; extra == "headers"' in reqs
    assert 'numba>=0.60; extra == "numba"' in reqs
    assert {"headers", "dask", "numba", "demo"} <= set(meta.get_all("Provides-Extra"))
    # Numba finds ndffi.numba_support by this entry point, in the wheel's dist-info
    entry_points = (dist_info / "entry_points.txt").read_text()
    assert dist_check.entry_point_problems(entry_points) == []
    assert "[numba_extensions]\ninit = ndffi.numba_support:_init" in entry_points
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert urls["Source"] == "https://github.com/ndffi/ndffi"
    classifiers = meta.get_all("Classifier")
    assert {f"Programming Language :: Python :: 3.{m}" for m in (10, 11, 12, 13)} <= set(classifiers)


def test_entry_point_check_refuses_a_missing_or_wrong_numba_entry_point():
    good = ("[console_scripts]\nndffi = ndffi.__main__:main\n\n"
            "[numba_extensions]\ninit = ndffi.numba_support:_init\n")
    assert dist_check.entry_point_problems(good) == []
    assert dist_check.entry_point_problems(good.split("\n\n")[0]) == [
        "entry point [numba_extensions] init is None, not 'ndffi.numba_support:_init'"]
    assert dist_check.entry_point_problems(good.replace(":_init", ":init")) == [
        "entry point [numba_extensions] init is 'ndffi.numba_support:init', "
        "not 'ndffi.numba_support:_init'"]


def test_version_is_written_once():
    project = pyproject()
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    sk = project["tool"]["scikit-build"]["metadata"]["version"]
    assert sk["input"] == "python/ndffi/__init__.py"
    assert dist_check.source_version() == ndffi.__version__


def test_build_group_repeats_the_build_requirements():
    """`make install` builds without isolation from the `build` group: it must hold the
    build system's requirements exactly (same minimum versions), plus CMake and Ninja."""
    project = pyproject()
    requires = project["build-system"]["requires"]
    group = project["dependency-groups"]["build"]
    assert [r for r in group if r in requires] == requires
    assert {r.split(">")[0] for r in group} - {r.split(">")[0] for r in requires} == {"cmake", "ninja"}
    # each requirement is pinned in one place: no name twice across extras and groups
    names = []
    for reqs in list(project["project"]["optional-dependencies"].values()) + \
            list(project["dependency-groups"].values()):
        names += [r.split(">")[0].split("[")[0].split(";")[0] for r in reqs if isinstance(r, str)]
    names = [n for n in names if n != "ndffi"]
    assert sorted(n for n in set(names) if names.count(n) > 1) == []


def test_make_install_takes_every_extra_the_suite_needs():
    """The Makefile's TEST_EXTRAS name extras of pyproject.toml: every one but `demo`
    (which only gathers others), so that the suite's optional parts (libclang, Dask,
    Numba) are installed and run rather than skipped."""
    m = re.search(r"^TEST_EXTRAS\s*:=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M)
    assert m, "no TEST_EXTRAS in the Makefile"
    extras = set(pyproject()["project"]["optional-dependencies"])
    assert set(m.group(1).split(",")) == extras - {"demo"} == {"headers", "dask", "numba"}


def test_py_typed_ships_in_the_package():
    assert (Path(ndffi.__file__).parent / "py.typed").is_file()


def test_reading_a_header_without_libclang_says_which_extra(tmp_path):
    """With libclang absent (not importable, not on sys.path), both ways into it raise an
    ImportError that says what to install."""
    code = textwrap.dedent("""
        import json, os, sys
        import ndffi
        sys.path[:] = [p for p in sys.path if not os.path.isfile(os.path.join(p or '.', 'clang', 'cindex.py'))]
        sys.modules['clang'] = None                      # libclang cannot be imported
        out = {}
        try:
            ndffi.load('z', header='zlib.h')
        except ImportError as exc:
            out['load'] = str(exc)
        try:
            import ndffi.headers.libclang
        except ImportError as exc:
            out['module'] = str(exc)
        print(json.dumps(out))
    """)
    env = {**__import__("os").environ, "NDFFI_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    message = "reading C headers needs libclang: pip install 'ndffi[headers]'"
    assert json.loads(out.stdout) == {"load": message, "module": message}
