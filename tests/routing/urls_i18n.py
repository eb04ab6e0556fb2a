"""i18n_patterns(): the language prefix decides, as Django's LocaleMiddleware makes it."""

from django.conf.urls.i18n import i18n_patterns
from django.urls import path
from django.utils.translation import gettext_lazy

from . import views as v

urlpatterns = [
    path("plain/", v.request_only("plain_i18n")),
    *i18n_patterns(
        path("about/", v.request_only("about")),
        path("sync-about/", v.sync("sync_about")),
        path(gettext_lazy("translated/"), v.request_only("translated")),
    ),
]
