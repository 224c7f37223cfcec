"""Admin: browse stored images with their thumbnails, what was read in them and how the
sender corrected it. Read-only: images come only through the API."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .models import Image
from .selectors import image_correction

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
    "steps",
    "model_version",
    "processing_ms",
)
CORRECTION_FIELDS = ("corrected_expression", "corrected_symbols", "corrected_at")


class CorrectedFilter(admin.SimpleListFilter):
    """Images the sender corrected (``corrected_expression`` set), or not."""

    title = "corrected"
    parameter_name = "corrected"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset: QuerySet[Image]) -> QuerySet[Image]:
        if self.value() == "yes":
            return queryset.exclude(corrected_expression="")
        if self.value() == "no":
            return queryset.filter(corrected_expression="")
        return queryset


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    """Read-only view of recognitions and corrections; images are only created (and
    corrected) through the API, and deleted here or through it."""

    list_display = (
        "pk",
        "thumbnail",
        "expression",
        "result",
        "status",
        "confidence_percent",
        "corrected_expression",
        "timestamp",
    )
    list_display_links = ("pk", "thumbnail")
    list_filter = ("status", CorrectedFilter, "verdict", "model_version", "timestamp")
    search_fields = ("expression", "result", "latex", "image", "corrected_expression")
    date_hierarchy = "timestamp"
    list_per_page = 50
    readonly_fields = (
        "preview",
        "image",
        "timestamp",
        "width",
        "height",
        "size",
        "readings",
        *RECOGNITION_FIELDS,
        *CORRECTION_FIELDS,
    )
    fieldsets = (
        (None, {"fields": ("preview", "image", "timestamp", ("width", "height", "size"))}),
        ("Readings", {"fields": ("readings",)}),
        ("Recognition", {"fields": RECOGNITION_FIELDS}),
        ("Correction", {"fields": CORRECTION_FIELDS}),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Image | None = None) -> bool:
        """Nobody edits a reading here: the change page is a view, without Save buttons."""
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
        """The image, large, with the symbols' boxes and labels drawn over it (inline SVG)."""
        if not obj.image:
            return "-"
        return format_html(
            '<div class="resolver-boxes" style="position:relative;display:inline-block">'
            '<a href="{0}"><img src="{0}" alt="stored image" class="resolver-preview" '
            'style="display:block;max-width:100%;max-height:480px;background:#fff;'
            'border:1px solid #ddd"></a>{1}</div>',
            obj.image.url,
            symbol_boxes(obj),
        )

    @admin.display(description="machine and corrected reading")
    def readings(self, obj: Image) -> str:
        """The machine's reading and the sender's correction side by side."""
        correction = image_correction(image=obj)
        rows = [("machine", obj.expression or "-", obj.result or "-", obj.message)]
        if correction is None:
            rows.append(("corrected", "not corrected", "-", ""))
        else:
            result = correction.result or "-"
            rows.append(("corrected", correction.expression, result, correction.message))
        body = format_html_join(
            "",
            '<tr class="resolver-reading-{0}"><th>{0}</th><td><code>{1}</code></td>'
            "<td>{2}</td><td>{3}</td></tr>",
            rows,
        )
        return format_html(
            '<table class="resolver-readings"><thead><tr><th></th><th>expression</th>'
            "<th>result</th><th>message</th></tr></thead><tbody>{}</tbody></table>",
            body,
        )

    @admin.display(description="confidence", ordering="confidence")
    def confidence_percent(self, obj: Image) -> str:
        return f"{obj.confidence:.0%}"


#: Stroke colour of a symbol's box: as read, and changed by the sender's correction.
BOX_COLOURS = {"read": "#0a7d32", "changed": "#c0392b"}


def symbol_boxes(image: Image) -> SafeString:
    """An SVG over the image: one ``<rect>`` per read symbol, with its label.

    Drawn in the image's own pixels (``viewBox``), so it scales with the ``<img>``
    under it; a symbol the sender changed is labelled ``read→corrected`` in red.
    Inline, with no script and no external asset (the admin's Content-Security-Policy).
    """
    changed = {
        change.get("index"): change.get("symbol")
        for change in image.corrected_symbols or []
        if isinstance(change, dict)
    }
    # The page shows the image at most 480 px high (and about 900 wide): labels are
    # 12 px on screen, in the image's pixels that many times larger.
    unit = max(1.0, image.height / 480, image.width / 900)
    font = round(12 * unit)
    shapes = []
    for index, symbol in enumerate(image.symbols or []):
        try:
            x, y, w, h = (int(v) for v in symbol["box"])
        except (KeyError, TypeError, ValueError):
            continue
        label = str(symbol.get("symbol", "?"))
        kind = "read"
        if index in changed:
            label, kind = f"{label}\u2192{changed[index]}", "changed"
        top = max(y - round(3 * unit), font)
        shapes.append((index, x, y, w, h, BOX_COLOURS[kind], kind, top, label, font))
    rects = format_html_join(
        "",
        '<g class="resolver-symbol resolver-symbol-{6}" data-index="{0}">'
        '<rect x="{1}" y="{2}" width="{3}" height="{4}" fill="none" stroke="{5}" '
        'stroke-width="2" vector-effect="non-scaling-stroke"></rect>'
        '<text x="{1}" y="{7}" fill="{5}" font-size="{9}" font-family="sans-serif">'
        "{0}: {8}</text></g>",
        shapes,
    )
    return format_html(
        '<svg class="resolver-symbol-boxes" xmlns="http://www.w3.org/2000/svg" '
        'viewBox="0 0 {} {}" preserveAspectRatio="none" aria-hidden="true" '
        'style="position:absolute;left:0;top:0;width:100%;height:100%;pointer-events:none;'
        'overflow:visible">{}</svg>',
        max(image.width, 1),
        max(image.height, 1),
        rects,
    )
