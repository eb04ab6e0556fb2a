from django.urls import path

from . import views

urlpatterns = [
    path("hello/", views.hello, name="hello"),
    path("whoami/", views.whoami),
    path("pages/<slug:slug>/<int:number>/", views.page, name="page"),
    path("comment/", views.comment),
    path("go/", views.go),
    path("clock/", views.Clock.as_view()),
    path("stream/async/", views.stream_async),
    path("stream/sync/", views.stream_sync),
    path("download/", views.download),
    path("empty/", views.empty),
    path("upload/", views.upload),
    path("not-modified/", views.not_modified),
    path("slow/", views.slow),
    path("hang/", views.hang),
    path("boom/", views.boom),
    path("sync/", views.sync_view),
    path("ticker/<str:x>/", views.ticker),
    path("undecided/", views.undecided),
]
