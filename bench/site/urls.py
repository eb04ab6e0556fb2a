from django.urls import path

from . import views

urlpatterns = [
    path("hello/", views.hello),
    path("page/", views.page),
    path("async/hello/", views.lifted_hello),
    path("django-async/hello/", views.django_async_hello),
    path("django-async/slow/<int:ms>/", views.django_async_slow),
    path("stream/<int:size>/", views.stream),
    path("file/", views.send_file),
    path("upload/", views.upload),
    path("slow/<int:ms>/", views.slow),
    path("ws/echo/", views.echo),
]
