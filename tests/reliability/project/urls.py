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
    path("django-async/hello/", views.django_async_hello, name="django-async-hello"),
    path("django-async/gate/", views.django_async_gate, name="django-async-gate"),
    path("ws/echo/", views.echo, name="echo"),
    path("ws/roomy/", views.roomy_echo, name="roomy-echo"),
]
