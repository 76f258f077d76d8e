"""Sphinx configuration for Flask-Store's documentation."""

from __future__ import annotations

import importlib.metadata

project = "Flask-Store"
copyright = "2014-2016 the Flask-Store authors; 2026 the Flask-Store team"
author = "the Flask-Store team"
release = importlib.metadata.version("Flask-Store")
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options: dict[str, object] = {}

# Offline builds: the intersphinx targets are named for links in the source,
# but no inventory is fetched (the build must not need the network).
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
intersphinx_disabled_reftypes = ["*"]

# Type hints name classes of other libraries that no inventory here knows.
nitpicky = False

html_theme = "furo"
html_title = f"Flask-Store {release}"
html_static_path = ["_static"]
html_css_files = ["flask-store.css"]
