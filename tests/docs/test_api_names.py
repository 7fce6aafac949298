"""help(ndffi) and the API reference (docs/api.rst, made from ``ndffi.__all__``) show every
public name of the package, each with its documentation; names imported only when first
used (build, inline, generate) are there too."""

import inspect
import pydoc
import types

import ndffi


def _public():
    return [n for n in dir(ndffi) if not n.startswith("_") and not isinstance(getattr(ndffi, n), types.ModuleType)]


def test_every_public_name_is_in_all():
    missing = sorted(set(_public()) - set(ndffi.__all__))
    assert not missing, f"public names of ndffi not in __all__ (so not in the API reference): {missing}"
    assert not sorted(n for n in ndffi.__all__ if not hasattr(ndffi, n))


def test_every_name_of_all_is_documented():
    bare = [n for n in ndffi.__all__ if not (inspect.getdoc(getattr(ndffi, n)) or "").strip()]
    assert not bare, f"names of ndffi.__all__ without a docstring: {bare}"


def test_help_lists_the_lazily_imported_functions():
    text = pydoc.render_doc(ndffi, renderer=pydoc.plaintext)
    for name in ("build", "inline", "generate", "load", "Function", "Namespace"):
        assert f"\n    {name}(" in text or f"class {name}" in text, name
