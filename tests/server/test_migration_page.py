"""docs/migrating.rst names every option and flag of the installed aiohttp-wsgi."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import aiohttp_wsgi
import aiohttp_wsgi.__main__ as aiohttp_wsgi_cli
from aiohttp_wsgi.wsgi import WSGIHandler, run_server, serve

PAGE = Path(__file__).resolve().parents[2] / "docs" / "migrating.rst"


def options() -> set[str]:
    """The keyword arguments of run_server(), serve() and WSGIHandler()."""
    names: set[str] = set()
    for function in (run_server, serve, WSGIHandler):
        for name, parameter in inspect.signature(function).parameters.items():
            if parameter.kind is not inspect.Parameter.VAR_KEYWORD:
                names.add(name)
    return names


def flags() -> set[str]:
    """Every flag aiohttp-wsgi-serve --help shows, long and short."""
    help_text = aiohttp_wsgi_cli.parser.format_help()
    return set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", help_text))


def test_it_is_the_version_the_page_describes() -> None:
    assert aiohttp_wsgi.__version__.startswith("0.10")
    assert "aiohttp-wsgi 0.10" in PAGE.read_text()


def test_every_option_is_mapped() -> None:
    page = PAGE.read_text()
    found = options()
    # What the page is about: if aiohttp-wsgi's signatures changed shape, this says so.
    assert {"static_cors", "inbuf_overflow", "executor", "unix_socket_perms"} <= found
    missing = sorted(name for name in found if f"``{name}``" not in page)
    assert not missing, f"docs/migrating.rst does not map {missing}"


def test_every_flag_is_mapped() -> None:
    page = PAGE.read_text()
    found = flags()
    assert {"--static-cors", "-p", "--shutdown-timeout", "-q"} <= found
    missing = sorted(flag for flag in found if not re.search(rf"``{flag}[ `]", page))
    assert not missing, f"docs/migrating.rst does not map {missing}"
