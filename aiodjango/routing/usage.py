"""What an unannotated coroutine view's code uses: Django's API, aiohttp's, or neither.

The view's bytecode is read once, at startup, nested code objects (inner functions,
comprehensions) included. Global and closure names are resolved to the objects they stand
for, attributes of modules too (``web.json_response``), and imports inside the function are
followed. Objects speak loudest: Django's responses and shortcuts mean Django, aiohttp's
responses and helpers mean aiohttp. Attribute names only Django's or only aiohttp's request
has (``request.user``, ``request.match_info``) count when no object tells.
"""

from __future__ import annotations

import builtins
import dis
import functools
import inspect
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["DJANGO_REQUEST_ATTRIBUTES", "Usage", "read_usage"]

Side = Literal["django", "aiohttp"]

#: Attributes of Django's ``HttpRequest`` that aiohttp's request does not have.
DJANGO_REQUEST_ATTRIBUTES = frozenset(
    [
        "GET",
        "POST",
        "COOKIES",
        "META",
        "FILES",
        "user",
        "auser",
        "session",
        "resolver_match",
        "path_info",
        "build_absolute_uri",
        "get_full_path",
        "get_host",
        "get_port",
        "is_secure",
        "accepts",
        "get_signed_cookie",
    ]
)
#: Attributes of aiohttp's ``Request`` that Django's request does not have.
AIOHTTP_REQUEST_ATTRIBUTES = frozenset(
    [
        "match_info",
        "rel_url",
        "query",
        "post",
        "config_dict",
        "can_read_body",
        "body_exists",
        "multipart",
        "transport",
        "if_modified_since",
        "forwarded",
    ]
)
#: Django's shortcuts that answer a request (functions, so their module tells).
_DJANGO_MODULES = ("django.shortcuts", "django.template.response", "django.http")
_AIOHTTP_WEB = "aiohttp.web"
_LOADS = frozenset(["LOAD_GLOBAL", "LOAD_NAME", "LOAD_DEREF", "LOAD_CLASSDEREF"])
_ATTRIBUTES = frozenset(["LOAD_ATTR", "LOAD_METHOD"])


@dataclass
class Usage:
    """What tells a view's side: objects (``render``) and request attribute names (``user``)."""

    objects: dict[Side, list[str]] = field(default_factory=lambda: {"django": [], "aiohttp": []})
    attributes: dict[Side, list[str]] = field(default_factory=lambda: {"django": [], "aiohttp": []})

    def side(self) -> tuple[Side | None, str]:
        """The side this usage tells, and why; ``(None, why)`` when it tells nothing or both."""
        for kind, evidence in (("uses", self.objects), ("uses the attribute", self.attributes)):
            django, aiohttp = evidence["django"], evidence["aiohttp"]
            if django and aiohttp:
                return None, (
                    f"{kind} both Django's {_names(django)} and aiohttp's {_names(aiohttp)}"
                )
            if django:
                return "django", f"{kind} {_names(django)}"
            if aiohttp:
                return "aiohttp", f"{kind} {_names(aiohttp)}"
        return None, "nothing in its code tells"

    def _add(self, evidence: dict[Side, list[str]], side: Side | None, name: str) -> None:
        if side is not None and name not in evidence[side]:
            evidence[side].append(name)


def _names(names: list[str]) -> str:
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


def read_usage(view: object) -> Usage:
    """Read what ``view``'s code uses; a callable without Python code tells nothing."""
    function = view.func if isinstance(view, functools.partial) else view
    function = inspect.unwrap(function)  # type: ignore[arg-type]
    usage = Usage()
    code = getattr(function, "__code__", None)
    if not isinstance(code, types.CodeType):
        return usage
    namespace: dict[str, object] = getattr(function, "__globals__", {})
    closure = dict(
        zip(
            code.co_freevars,
            (_cell_contents(cell) for cell in getattr(function, "__closure__", None) or ()),
            strict=False,
        )
    )
    for inner in _code_objects(code):
        previous: object = _NOTHING  # what the last instruction loaded, for LOAD_ATTR
        importing: object = _NOTHING  # the module of the last import, for IMPORT_FROM
        for instruction in dis.get_instructions(inner):
            name = instruction.argval
            if instruction.opname in _LOADS and isinstance(name, str):
                if instruction.opname == "LOAD_DEREF" or name in closure:
                    found = closure.get(name, _NOTHING)
                else:
                    found = namespace.get(name, getattr(builtins, name, _NOTHING))
                usage._add(usage.objects, _object_side(found), _label(found, name))
                previous = found
            elif instruction.opname in _ATTRIBUTES and isinstance(name, str):
                if isinstance(previous, types.ModuleType):
                    found = getattr(previous, name, _NOTHING)
                    usage._add(usage.objects, _object_side(found), _label(found, name))
                    previous = found
                    continue
                if name in DJANGO_REQUEST_ATTRIBUTES:
                    usage._add(usage.attributes, "django", f".{name}")
                elif name in AIOHTTP_REQUEST_ATTRIBUTES:
                    usage._add(usage.attributes, "aiohttp", f".{name}")
                previous = _NOTHING
            elif instruction.opname == "IMPORT_NAME" and isinstance(name, str):
                # An import inside the view: the module, then IMPORT_FROM for each name.
                usage._add(usage.objects, _module_side(name), name)
                importing = sys.modules.get(name, _NOTHING)
                previous = _NOTHING
            elif instruction.opname == "IMPORT_FROM" and isinstance(name, str):
                found = getattr(importing, name, _NOTHING)
                side = _module_side(found.__name__) if isinstance(found, types.ModuleType) else None
                usage._add(usage.objects, side or _object_side(found), _label(found, name))
            else:
                previous = _NOTHING
    return usage


_NOTHING = object()


def _cell_contents(cell: types.CellType) -> object:
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return _NOTHING


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _code_objects(constant)


def _label(found: object, name: str) -> str:
    module = getattr(found, "__module__", None)
    qualname = getattr(found, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str):
        return f"{_public_module(module)}.{qualname}"
    return name


def _public_module(module: str) -> str:
    """``aiohttp.web_response`` is ``aiohttp.web`` to its users, as ``django.http.response``
    is ``django.http``."""
    if module.startswith("aiohttp.web"):
        return "aiohttp.web"
    return "django.http" if module.startswith("django.http.") else module


def _module_side(module: str) -> Side | None:
    """Modules of the view API of either side (aiohttp's client, say, tells nothing)."""
    if module.startswith(_AIOHTTP_WEB):
        return "aiohttp"
    if module.startswith(_DJANGO_MODULES):
        return "django"
    return None


def _object_side(found: object) -> Side | None:
    """Whether ``found`` belongs to the API of Django's views or aiohttp's."""
    if found is _NOTHING or isinstance(found, types.ModuleType):
        return None
    module = getattr(found, "__module__", None)
    if not isinstance(module, str):
        return None
    side = _module_side(module)
    if side is not None:
        return side
    if isinstance(found, type) and module.startswith("django."):
        from django.http import HttpResponseBase

        if issubclass(found, HttpResponseBase):
            return "django"
    return None
