from django.urls import path

from . import views

urlpatterns = [
    path("page/", views.page, name="page"),
    path("lifted/", views.lifted, name="lifted"),
    path("ws/echo/", views.echo, name="echo"),
    path("events/", views.events, name="events"),
    path("events/flood/", views.flood, name="flood"),
    path("events/flooded/", views.flooded, name="flooded"),
    path("upload/", views.upload, name="upload"),
    path("download/<int:mebibytes>/", views.download, name="download"),
]
