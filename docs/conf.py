"""Sphinx configuration for aiodjango's documentation."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# autodoc imports the package, whose Django parts need settings to exist.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
import django  # noqa: E402

django.setup()

import aiodjango  # noqa: E402

project = "aiodjango"
author = "The aiodjango developers"
copyright = "2026, the aiodjango developers"
release = aiodjango.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
]
autodoc_typehints = "description"
autodoc_member_order = "bysource"
nitpicky = False
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
html_theme = "furo"
html_title = "aiodjango"
html_static_path = ["_static"]
exclude_patterns = ["_build"]
