from django.urls import path, register_converter

from . import views


class SecondsConverter:
    regex = r"[0-9]+(?:\.[0-9]+)?"

    def to_python(self, value: str) -> float:
        return float(value)

    def to_url(self, value: float) -> str:
        return str(value)


register_converter(SecondsConverter, "seconds")

urlpatterns = [
    path("hello/", views.hello, name="hello"),
    path("slow/<seconds:seconds>/", views.slow, name="slow"),
    path("where/", views.where, name="where"),
    path("async/hello/", views.async_hello, name="async-hello"),
    path("async/where/", views.async_where, name="async-where"),
    path("async/slow/<seconds:seconds>/", views.async_slow, name="async-slow"),
    path("ws/echo/", views.echo, name="echo"),
]
