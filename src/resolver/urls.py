from django.urls import path
from rest_framework.urlpatterns import format_suffix_patterns

from . import api

app_name = "resolver"

urlpatterns = format_suffix_patterns(
    [
        path("images/", api.ImageListApi.as_view(), name="image-list"),
        path("images/create/", api.ImageCreateApi.as_view(), name="image-create"),
        # Without the slash too: a redirect would turn a client's POST into a GET.
        path("images/create", api.ImageCreateApi.as_view(), name="image-create-no-slash"),
        path("images/<int:pk>/", api.ImageDetailApi.as_view(), name="image-detail"),
        path(
            "images/<int:pk>/correction/",
            api.ImageCorrectionApi.as_view(),
            name="image-correction",
        ),
        path("health/", api.HealthApi.as_view(), name="health"),
    ],
    allowed=["json", "html", "api"],
)
