"""The showcase's URLs. Django decides which view answers each URL; aiodjango serves
the coroutine views (``clock``, ``echo``, ``chat_socket``, ``feed``) on aiohttp and the
others through its WSGI adapter."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("chat/", views.chat, name="chat"),
    path("chat/socket/", views.chat_socket, name="chat-socket"),
    path("feed/", views.feed, name="feed"),
    path("announce/", views.announce, name="announce"),
    path("api/clock/", views.clock, name="clock"),
    path("ws/echo/", views.echo, name="echo"),
    path("download/stream/", views.download_stream, name="download-stream"),
    path("download/file/", views.download_file, name="download-file"),
]
