"""The package's layout: the parts that must not import Django, and the module map in the docs."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "aiodjango"


@pytest.mark.parametrize(
    "module", ["aiodjango", "aiodjango.wsgi", "aiodjango.server", "aiodjango.server.cli"]
)
def test_the_wsgi_adapter_and_the_server_import_no_django(module: str) -> None:
    code = (
        f"import {module}, sys; "
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'django'); "
        "print(' '.join(loaded))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == ""


def test_the_public_api_is_importable_from_the_package() -> None:
    import aiodjango

    for name in aiodjango.__all__:
        assert getattr(aiodjango, name) is not None, name
    with pytest.raises(AttributeError, match="no_such_name"):
        aiodjango.no_such_name  # noqa: B018


def test_the_docs_module_map_lists_every_module_and_nothing_else() -> None:
    documented = {
        line.strip().removeprefix("* - ``").removesuffix("``")
        for line in (ROOT / "docs" / "architecture.rst").read_text().splitlines()
        if line.strip().startswith("* - ``aiodjango/")
    }
    on_disk = {
        str(path.relative_to(ROOT))
        for path in PACKAGE.rglob("*.py")
        if path.name != "__init__.py" or path.parent == PACKAGE
    } - {"aiodjango/__main__.py"}
    assert documented == on_disk


def test_no_module_is_much_over_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): count
        for path in PACKAGE.rglob("*.py")
        if (count := len(path.read_text().splitlines())) > 450
    }
    assert long == {}


def test_no_test_imports_a_conftest_or_a_test_module() -> None:
    """Shared test helpers live in tests/support; conftests only define fixtures and hooks."""
    offending = []
    for path in (ROOT / "tests").rglob("*.py"):
        package = path.relative_to(ROOT).parent.parts
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else ()
                names = [".".join((*base, node.module or ""))]
                names += [f"{names[0]}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            if any(
                part == "conftest" or part.startswith("test_")
                for name in names
                if name.split(".")[0] == "tests"
                for part in name.split(".")
            ):
                offending.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offending == []
