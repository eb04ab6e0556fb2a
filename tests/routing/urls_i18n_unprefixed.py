"""i18n_patterns() without a prefix for the default language."""

from django.conf.urls.i18n import i18n_patterns
from django.urls import path

from . import views as v

urlpatterns = i18n_patterns(
    path("about/", v.request_only("about_unprefixed")),
    prefix_default_language=False,
)
