"""A URLconf that mixes everything lifting must get right; Django's ``resolve()`` is the oracle.

Sync and async views side by side under nested include()s and namespaces, regex groups,
positional groups, every built-in converter and a custom one, shadowing in both orders, extra
options, non-ASCII text, alternation, optional parts, lookarounds and flags.
"""

from django.urls import URLPattern, include, path, re_path
from django.urls.resolvers import RegexPattern

from . import views as v

shop = (
    [
        path("", v.request_only("shop_index"), name="index"),
        path("items/<int:pk>/", v.item, name="item"),
        path("items/new/", v.sync("new_item"), name="new"),
        path("items/<slug:slug>/", v.django_style("item_by_slug"), name="item-slug"),
    ],
    "shop",
)

branch = (
    [
        path("", v.django_style("branch_index"), name="index"),
        path("items/<int:pk>/", v.django_style("branch_item"), name="item"),
        path("items/new/", v.sync("branch_new"), name="new"),
        path("items/<slug:slug>/", v.django_style("branch_slug"), name="item-slug"),
    ],
    "shop",
)

v1 = (
    [
        path("things/<uuid:token>/", v.django_style("thing"), name="thing"),
        path("files/<path:rest>", v.django_style("files"), name="files"),
        re_path(r"^search/(?P<term>[^/]+)/$", v.request_only("search"), name="search"),
        path("status/", v.sync("v1_status"), name="status"),
    ],
    "v1",
)

urlpatterns = [
    path("", v.request_only("home"), name="home"),
    path("shop/", include(shop)),
    path("branch/<slug:branch>/", include(branch, namespace="branch")),
    path(
        "api/",
        include([path("v1/", include(v1, namespace="v1")), path("health/", v.sync("health"))]),
    ),
    # An earlier sync pattern shadows a later async one...
    path("blog/<slug:slug>/", v.sync("blog_post")),
    path("blog/<str:title>/", v.django_style("blog_title")),
    # ...and an earlier async one wins over a later sync one, as in Django.
    path("news/<str:slug>/", v.django_style("news")),
    path("news/archive/", v.sync("news_archive")),
    # A custom converter that refuses values its regex matched.
    path("numbers/<routing_even:n>/", v.django_style("even")),
    path("numbers/<int:n>/", v.django_style("odd")),
    path("numbers/<str:n>/", v.sync("not_a_number")),
    # Regular expressions.
    re_path(r"^articles/(?P<year>[0-9]{4})/(?P<month>[0-9]{2})/$", v.django_style("archive")),
    re_path(r"^pos/([0-9]+)/([a-z]+)/$", v.positional),
    re_path(r"^(?:alpha|beta)/(?P<n>[0-9]+)/$", v.django_style("alternation")),
    re_path(r"^opt/(?:page-(?P<num>[0-9]+)/)?$", v.optional),
    re_path(r"^look/(?!admin/)(?P<name>[a-z]+)/$", v.request_only("lookahead")),
    re_path(r"^look/admin/$", v.sync("look_admin")),
    re_path(r"(?i)^shout/$", v.request_only("shout")),
    re_path(r"^dotted\.name/$", v.request_only("dotted")),
    re_path(r"^prefix-only", v.request_only("prefix_only")),
    re_path(
        r"^year/([0-9]{4})/",
        include([re_path(r"^([a-z]+)/$", v.django_style("nested_positional"))]),
    ),
    re_path(
        r"^mix/(?P<y>[0-9]+)/", include([re_path(r"^([a-z]+)/$", v.django_style("named_wins"))])
    ),
    # Extra options, on the pattern and on the include().
    path("page/", v.page, {"page": 1}),
    path("page/<int:page>/", v.page, {"extra": "x"}),
    path(
        "opts/",
        include(
            [
                path("a/<int:n>/", v.django_style("opts_a")),
                path("b/", v.django_style("opts_b"), {"b": 2}),
            ]
        ),
        {"source": "include"},
    ),
    # Fixed text aiohttp itself could not match.
    path("café/<str:name>/", v.django_style("cafe")),
    path("a b/", v.request_only("space")),
    # Class-based views: aiohttp's are lifted, Django's (even async) are not; and the marks.
    path("classy/<int:pk>/", v.Classy),
    path("django-cbv/", v.AsyncDjangoView.as_view()),
    path("annotated/", v.annotated),
    path("kept/", v.kept),
    path("wrapped/", v.wrapped),
    # A catch-all that makes a later async view unreachable.
    re_path(r"^catch/.*$", v.sync("catch_all")),
    path("catch/me/", v.request_only("never")),
    path("sync/", v.sync("plain_sync")),
    # Django keeps an include()'s first match even when a shorter one would let the inner
    # pattern match: "/ab-cd-ef/" is no match, though one regex for both would find one.
    re_path(
        r"^(?P<first>[a-z-]+)-",
        include([re_path(r"^(?P<second>[a-z]+-[a-z]+)/$", v.django_style("greedy"))]),
    ),
    # Not an endpoint regex: "$" is searched for, so a final newline may follow (the way
    # Django before 4.x built path() regexes).
    URLPattern(RegexPattern(r"^lenient/$"), v.request_only("lenient")),
    # No "^": Django finds it anywhere in what is left of the path.
    re_path(r"tail/(?P<t>[a-z]+)/$", v.request_only("anchorless")),
]
