"""OpenAPI (drf-spectacular) descriptions of the custom fields in :mod:`resolver.fields`."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes

from mathocr.symbols import CLASSES

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


class ExpressionFieldExtension(OpenApiSerializerFieldExtension):
    """A correction's expression: a non-empty string (the grammar is checked by the core)."""

    target_class = "resolver.fields.ExpressionField"

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "minLength": 1, "example": "17+7*3="}


class SymbolChangesFieldExtension(OpenApiSerializerFieldExtension):
    """A correction's symbol changes: ``[{"index": 0, "symbol": "7"}]``."""

    target_class = "resolver.fields.SymbolChangesField"

    def map_serializer_field(self, auto_schema, direction):
        return {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "Which symbol: an index into the answer's `symbols`.",
                    },
                    "symbol": {
                        "type": "string",
                        "enum": list(CLASSES),
                        "description": "What it is (`reject`: no symbol at all).",
                    },
                },
                "required": ["index", "symbol"],
                "additionalProperties": False,
            },
        }
