"""The URLconf compiled to aiohttp routes, in Django's order, matching as Django matches.

:mod:`~aiodjango.routing.kinds` decides the kind of each view (with
:mod:`~aiodjango.routing.usage`, what a coroutine's code uses); :mod:`~aiodjango.routing.urlconf`
walks the URLconf and adds the routes; :mod:`~aiodjango.routing.regexes` and
:mod:`~aiodjango.routing.patterns` analyse the patterns at startup;
:mod:`~aiodjango.routing.matching` matches a path exactly as Django's resolver does; and
:mod:`~aiodjango.routing.resources` holds the aiohttp resources that serve lifted views.
"""

from .kinds import (
    Decision,
    Handler,
    ViewKind,
    ViewWrapper,
    aiohttp_view,
    decide,
    django_view,
    is_lifted,
)
from .urlconf import (
    LiftedPattern,
    LiftedRoute,
    ViewPattern,
    add_lifted_routes,
    find_lifted_patterns,
    find_view_patterns,
)

__all__ = [
    "Decision",
    "Handler",
    "LiftedPattern",
    "LiftedRoute",
    "ViewKind",
    "ViewPattern",
    "ViewWrapper",
    "add_lifted_routes",
    "aiohttp_view",
    "decide",
    "django_view",
    "find_lifted_patterns",
    "find_view_patterns",
    "is_lifted",
]
