"""Sphinx configuration of ndffi's documentation (make docs)."""

import inspect
import re

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList
from sphinx.util.nodes import nested_parse_with_titles

import ndffi

project = "ndffi"
author = "the ndffi developers"
copyright = "the ndffi developers"
release = version = ndffi.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.intersphinx"]
# No network at build time: references to these resolve only where an inventory is cached.
intersphinx_mapping = {}
autodoc_member_order = "bysource"
autodoc_typehints = "none"          # the Python layer has no annotations to show yet
html_theme = "alabaster"
html_static_path = ["_static"]
exclude_patterns = ["_build"]
default_role = "literal"


def _kind(obj):
    if inspect.isclass(obj) and issubclass(obj, Warning):
        return "warnings"
    if inspect.isclass(obj) and issubclass(obj, BaseException):
        return "exceptions"
    if inspect.isclass(obj):
        return "classes"
    if callable(obj):
        return "functions"
    return "data"


class NdffiApi(Directive):
    """The reference of every name in ``ndffi.__all__``, addressed as ``ndffi.NAME`` (never
    by the module that defines it), grouped by kind."""

    sections = [("functions", "Functions", "autofunction"), ("classes", "Classes", "autoclass"),
                ("exceptions", "Exceptions", "autoexception"), ("warnings", "Warnings", "autoexception"),
                ("data", "Parameter markers", "autodata")]

    def run(self):
        groups = {}
        for name in sorted(ndffi.__all__, key=str.lower):
            groups.setdefault(_kind(getattr(ndffi, name)), []).append(name)
        lines = []
        for kind, title, directive in self.sections:
            if kind not in groups:
                continue
            lines += [title, "-" * len(title), ""]
            for name in groups[kind]:
                lines.append(".. %s:: ndffi.%s" % (directive, name))
                if directive in ("autoclass", "autoexception"):
                    lines.append("   :members:")
                if directive == "autoexception":   # classes' bases are private helpers
                    lines.append("   :show-inheritance:")
                lines.append("")
        content = StringList(lines, source="ndffi.__all__")

        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, content, container)
        return container.children


# A C declarator's '*' just before a quote or parenthesis in a docstring ("int *") is
# C, not the start of reST emphasis.
_C_STAR = re.compile(r"(?<=\s)\*(?=[\"')\]])")


def _c_stars(app, what, name, obj, options, lines):
    lines[:] = [_C_STAR.sub(r"\\*", line) for line in lines]


def setup(app):
    app.add_directive("ndffi-api", NdffiApi)
    app.connect("autodoc-process-docstring", _c_stars)
    return {"parallel_read_safe": True}
