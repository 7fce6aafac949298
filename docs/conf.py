"""Sphinx configuration of ndffi's documentation (make docs)."""

import inspect

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
                    lines += ["   :members:", "   :show-inheritance:"]
                lines.append("")
        content = StringList(lines, source="ndffi.__all__")

        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, content, container)
        return container.children


def setup(app):
    app.add_directive("ndffi-api", NdffiApi)
    return {"parallel_read_safe": True}
