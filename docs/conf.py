"""Sphinx configuration of bayesbg's documentation (``make docs``)."""

from __future__ import annotations

import bayesbg

project = "bayesbg"
author = "the bayesbg developers"
copyright = "2026, the bayesbg developers"  # noqa: A001 - Sphinx's name
version = release = bayesbg.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "api/generated/*.md"]

# API reference: one page per module, generated from the docstrings
autosummary_generate = True
autosummary_imported_members = False
templates_path = ["_templates"]  # packages list their modules; modules their members
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# Markdown pages: headings become anchors, `$...$` maths
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

# Cross-references in backticks are written for readers (`numpy.ndarray`,
# `bayesbg.stan.FitResult`): look them up, never fail the build on an external name.
default_role = "code"
nitpicky = False

html_theme = "pydata_sphinx_theme"
html_title = f"bayesbg {release}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
html_static_path: list[str] = []
