"""Lifted views that answer in the ways aiohttp allows: errors, streams, websockets."""

from django.urls import path

from . import views as v

urlpatterns = [
    path("ws/<str:room>/", v.websocket),
    path("forbidden/", v.forbidden),
    path("streamed/", v.streamed),
    path("raw/<int:pk>/", v.request_only("raw_values")),
]
