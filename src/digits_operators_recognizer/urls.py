"""URL configuration: the web page, the API, its documentation, the admin, media."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponseBase
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from resolver.views import IndexView


def media(request: HttpRequest, path: str) -> HttpResponseBase:
    """An uploaded file from MEDIA_ROOT (read per request, so it may change at run time)."""
    return serve(request, path, document_root=str(settings.MEDIA_ROOT))


urlpatterns = [
    path("", IndexView.as_view(), name="index"),
    path("api/", include("resolver.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path(
        "api/redoc/",
        # drf-spectacular's page without Google Fonts or cdn.redoc.ly (offline, as promised).
        SpectacularRedocView.as_view(url_name="schema", template_name="resolver/redoc.html"),
        name="redoc",
    ),
    path("api-auth/", include("rest_framework.urls")),
    path("admin/", admin.site.urls),
]

if settings.SERVE_MEDIA:
    # Uploaded images, served by the application itself (no separate web server).
    urlpatterns += [
        re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.*)$", media, name="media"),
    ]

admin.site.site_header = "MathOCR resolver"
admin.site.site_title = "MathOCR resolver"

handler400 = "digits_operators_recognizer.views.bad_request"
handler404 = "digits_operators_recognizer.views.page_not_found"
handler500 = "digits_operators_recognizer.views.server_error"
