"""OpenAPI (drf-spectacular) description of :class:`resolver.fields.Base64ImageField`."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes

#: A real 1x1 PNG as a data URL: the example shown in Swagger UI and Redoc.
EXAMPLE_DATA_URL = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


class Base64ImageFieldExtension(OpenApiSerializerFieldExtension):
    """In requests: a string holding a data URL or bare base64. In responses: the file's URL."""

    target_class = "resolver.fields.Base64ImageField"

    def map_serializer_field(self, auto_schema, direction):
        if direction == "response":
            return build_basic_type(OpenApiTypes.URI)
        return {
            "type": "string",
            "minLength": 1,
            "example": EXAMPLE_DATA_URL,
            "pattern": r"^\s*(data:[\w.+-]*/?[\w.+-]*(;[\w=.+-]+)*;base64,)?[A-Za-z0-9+/=_\s-]+$",
            "x-accepts": ["data URL (data:image/png;base64,...)", "bare base64"],
        }


def exclude_format_suffixes(endpoints):
    """drf-spectacular preprocessing hook: document each endpoint once, by its canonical
    path (``/api/images/``), not its ``.json``/``.html`` suffix or slash-less variants."""
    return [endpoint for endpoint in endpoints if endpoint[0].endswith("/")]
