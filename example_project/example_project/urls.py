"""URLs of the example project: Django views and coroutine views side by side."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("showcase.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
