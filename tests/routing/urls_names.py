"""Names and namespaces, including ones aiohttp refuses and ones Django allows twice."""

from django.urls import include, path, re_path

from . import views as v

inner = ([path("leaf/<int:pk>/", v.item, name="leaf")], "inner")
middle = (
    [
        path("inner/", include(inner)),
        path("m/<slug:s>/", v.django_style("middle_view"), name="m"),
    ],
    "middle",
)

urlpatterns = [
    path("home/", v.request_only("named_home"), name="home"),
    path("outer/", include(middle, namespace="outer")),
    path("café/<str:name>/", v.django_style("cafe_named"), name="cafe"),
    re_path(r"^re/(?P<a>[0-9]+)-(?P<b>[a-z]+)/$", v.django_style("re_named"), name="re"),
    re_path(r"^pos/([0-9]+)/$", v.django_style("pos_named"), name="pos"),
    path("quiet/", v.request_only("quiet"), name="quiet-async"),
    path("twofa/", v.request_only("twofa"), name="2fa"),
    path("dup/", v.request_only("dup_first"), name="dup"),
    path("dup/<int:pk>/", v.django_style("dup_second"), name="dup"),
    path("twin-a/", v.request_only("twin_a"), name="twin"),
    path("twin-b/", v.sync("twin_b"), name="twin"),
    path("unnamed/<slug:s>/", v.django_style("unnamed")),
]
