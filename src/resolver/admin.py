"""Admin: browse stored images with their thumbnails and what was read in them."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from .models import Image

RECOGNITION_FIELDS = (
    "status",
    "expression",
    "latex",
    "result",
    "result_decimal",
    "verdict",
    "confidence",
    "error",
    "message",
    "symbols",
    "computations",
    "model_version",
    "processing_ms",
)


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    """Read-only view of recognitions; images are only created through the API."""

    list_display = (
        "pk",
        "thumbnail",
        "expression",
        "result",
        "status",
        "confidence_percent",
        "timestamp",
    )
    list_display_links = ("pk", "thumbnail")
    list_filter = ("status", "verdict", "model_version", "timestamp")
    search_fields = ("expression", "result", "latex", "image")
    date_hierarchy = "timestamp"
    list_per_page = 50
    readonly_fields = (
        "preview",
        "image",
        "timestamp",
        "width",
        "height",
        "size",
        *RECOGNITION_FIELDS,
    )
    fieldsets = (
        (None, {"fields": ("preview", "image", "timestamp", ("width", "height", "size"))}),
        ("Recognition", {"fields": RECOGNITION_FIELDS}),
    )

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="image")
    def thumbnail(self, obj: Image) -> str:
        if not obj.image:
            return "-"
        return format_html(
            '<img src="{}" alt="image {}" loading="lazy" '
            'style="max-height:48px;max-width:160px;background:#fff;border:1px solid #ddd">',
            obj.image.url,
            obj.pk,
        )

    @admin.display(description="stored image")
    def preview(self, obj: Image) -> str:
        if not obj.image:
            return "-"
        return format_html(
            '<a href="{0}"><img src="{0}" alt="stored image" class="resolver-preview" '
            'style="max-width:100%;max-height:480px;background:#fff;border:1px solid #ddd">'
            "</a>",
            obj.image.url,
        )

    @admin.display(description="confidence", ordering="confidence")
    def confidence_percent(self, obj: Image) -> str:
        return f"{obj.confidence:.0%}"
