"""What Django's middleware does, done for lifted views, which bypass it.

One module per concern: :mod:`~aiodjango.lifted.sessions` (the session),
:mod:`~aiodjango.lifted.users` (the user), :mod:`~aiodjango.lifted.decorators` (login and
permission rules), :mod:`~aiodjango.lifted.csrf` (Django's CSRF checks),
:mod:`~aiodjango.lifted.origin` (the websocket Origin policy), :mod:`~aiodjango.lifted.hosts`
(the Host check), :mod:`~aiodjango.lifted.middleware` (the project's security middleware),
:mod:`~aiodjango.lifted.db` (database connection care), :mod:`~aiodjango.lifted.requests`
(Django's view of an aiohttp request) and :mod:`~aiodjango.lifted.protection`, which applies
them around every lifted view; :mod:`~aiodjango.lifted.checks` names what they miss.
"""

from .csrf import csrf_protect
from .decorators import login_required, permission_required
from .origin import allow_any_origin
from .protection import protect_lifted_view
from .sessions import get_session, save_session
from .users import get_user

__all__ = [
    "allow_any_origin",
    "csrf_protect",
    "get_session",
    "get_user",
    "login_required",
    "permission_required",
    "protect_lifted_view",
    "save_session",
]
