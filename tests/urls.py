"""The default URLconf of the test settings; tests that need others pass ``urlconf=``."""

from django.http import HttpRequest, HttpResponse
from django.urls import path


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello from django")


urlpatterns = [
    path("hello/", hello, name="hello"),
]
