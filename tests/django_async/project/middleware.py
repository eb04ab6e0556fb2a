"""A project middleware written for both modes, as Django's docs show."""

from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase


class Stamp:
    """Stamps every response, saying which mode the chain ran in (sync or async)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], object]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> object:
        if self.is_async:
            return self._acall(request)
        response = self.get_response(request)
        assert isinstance(response, HttpResponseBase)
        return self._stamp(response, "sync")

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]]
        get_response = self.get_response  # type: ignore[assignment]
        return self._stamp(await get_response(request), "async")

    @staticmethod
    def _stamp(response: HttpResponseBase, mode: str) -> HttpResponseBase:
        response["X-Stamp"] = "stamped"
        response["X-Stamp-Mode"] = mode
        return response
