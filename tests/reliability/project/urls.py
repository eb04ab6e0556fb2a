from django.urls import path

from . import views

urlpatterns = [
    path("hello/", views.hello, name="hello"),
    path("work/", views.work, name="work"),
    path("body/", views.body_size, name="body"),
    path("stream/", views.stream, name="stream"),
    path("gate/", views.gate, name="gate"),
    path("async/hello/", views.async_hello, name="async-hello"),
    path("async/gate/", views.async_gate, name="async-gate"),
    path("ws/echo/", views.echo, name="echo"),
]
