"""The URLconf compiled to aiohttp routes, in Django's order, matching as Django matches.

:mod:`~aiodjango.routing.kinds` decides which views are lifted; :mod:`~aiodjango.routing.urlconf`
walks the URLconf and adds the routes; :mod:`~aiodjango.routing.regexes` and
:mod:`~aiodjango.routing.patterns` analyse the patterns at startup;
:mod:`~aiodjango.routing.matching` matches a path exactly as Django's resolver does; and
:mod:`~aiodjango.routing.resources` holds the aiohttp resources that serve lifted views.
"""

from .kinds import Handler, ViewWrapper, aiohttp_view, django_view, is_lifted
from .urlconf import LiftedPattern, LiftedRoute, add_lifted_routes, find_lifted_patterns

__all__ = [
    "Handler",
    "LiftedPattern",
    "LiftedRoute",
    "ViewWrapper",
    "add_lifted_routes",
    "aiohttp_view",
    "django_view",
    "find_lifted_patterns",
    "is_lifted",
]
