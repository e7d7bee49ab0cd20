"""Sphinx configuration for shenjing's API reference, built from the docstrings.

Build (offline, warnings are errors)::

    python -m sphinx -W --keep-going -b html docs/api /tmp/shenjing-api
"""

from __future__ import annotations

import os
import re
import sys

# Document the source tree even when shenjing is not installed.
_SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "src"))
sys.path.insert(0, _SRC)

with open(os.path.join(_SRC, "shenjing", "base", "version.py"), encoding="utf-8") as _f:
    __version__ = re.search(r'__version__ = "([^"]+)"', _f.read()).group(1)  # type: ignore[union-attr]

project = "shenjing"
author = "shenjing developers"
copyright = "shenjing developers"
version = release = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]

# Google-style docstrings (Args:, Returns:, Raises:).
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
# Attributes: sections as fields of the class, so dataclass fields are not described twice.
napoleon_use_ivar = True

autodoc_default_options = {
    "members": True,
    "undoc-members": False,
    "show-inheritance": True,
    "member-order": "bysource",
}
autodoc_typehints = "description"
autodoc_class_signature = "separated"

# Offline: no intersphinx, a built-in theme, no external resources.
html_theme = "alabaster"
html_static_path: list[str] = []
templates_path: list[str] = []
exclude_patterns = ["_build"]
nitpicky = False
