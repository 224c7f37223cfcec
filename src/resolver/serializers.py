"""Input and output serializers of the images API."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from .fields import Base64ImageField
from .models import Image

_PNG_1PX = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Data URL",
            value={"image": _PNG_1PX},
            request_only=True,
            description="A canvas or photo as a data URL (what `canvas.toDataURL()` gives).",
        ),
        OpenApiExample(
            "Bare base64",
            value={"image": _PNG_1PX.split(",", 1)[1]},
            request_only=True,
            description="The same bytes without the `data:` header.",
        ),
    ]
)
class ImageCreateInputSerializer(serializers.Serializer):
    """What a client posts: one image."""

    image = Base64ImageField(
        help_text=(
            "The photo: a data URL (`data:image/png;base64,...`), bare base64, or a file "
            "upload. PNG, JPEG, WebP or GIF."
        )
    )


class SymbolSerializer(serializers.Serializer):
    """One recognised symbol (documentation only: stored as JSON)."""

    class AlternativeSerializer(serializers.Serializer):
        symbol = serializers.CharField()
        confidence = serializers.FloatField()

    symbol = serializers.CharField(help_text="Recognised symbol, e.g. `7`, `+`, `×`.")
    confidence = serializers.FloatField(min_value=0, max_value=1)
    box = serializers.ListField(
        child=serializers.IntegerField(),
        min_length=4,
        max_length=4,
        help_text="Bounding box `[x, y, width, height]` in image pixels.",
    )
    alternatives = AlternativeSerializer(many=True, help_text="Runner-up classes.")


class ComputationSerializer(serializers.Serializer):
    """A named line of the answer, in LaTeX (documentation only: stored as JSON)."""

    name = serializers.CharField()
    result = serializers.CharField(help_text="LaTeX.")


@extend_schema_field(SymbolSerializer(many=True))
class SymbolsField(serializers.JSONField):
    """The stored symbol list, output as is (documented as :class:`SymbolSerializer`).

    Returning the stored JSON directly is several times faster than running a nested
    serializer over every symbol and alternative.
    """


@extend_schema_field(ComputationSerializer(many=True))
class ComputationsField(serializers.JSONField):
    """The stored computations, output as is (documented as :class:`ComputationSerializer`)."""


_EXAMPLE_OUTPUT = {
    "pk": 42,
    "image": "http://localhost:8000/media/images/2026/11/23/3f2a9c0d6b1e4c8f9a7b5d3e1f0c2a4b.png",
    "timestamp": "2026-11-23T21:05:07.123456Z",
    "width": 1000,
    "height": 250,
    "status": "solved",
    "expression": "12+7*3",
    "latex": r"12+7\times3",
    "result": "33",
    "result_decimal": "33",
    "verdict": None,
    "confidence": 0.97,
    "symbols": [
        {"symbol": "1", "confidence": 0.99, "box": [40, 80, 30, 90], "alternatives": []},
    ],
    "computations": [{"name": "Result", "result": "33"}],
    "error": None,
    "message": "",
    "model_version": "1.3.0",
    "processing_ms": 12.5,
}


@extend_schema_serializer(
    examples=[OpenApiExample("Solved", value=_EXAMPLE_OUTPUT, response_only=True)]
)
class ImageSerializer(serializers.ModelSerializer):
    """A stored image and everything recognised in it."""

    image = Base64ImageField(read_only=True, help_text="Absolute URL of the stored image.")
    symbols = SymbolsField(read_only=True)
    computations = ComputationsField(read_only=True)

    class Meta:
        model = Image
        fields = [
            "pk",
            "image",
            "timestamp",
            "width",
            "height",
            "status",
            "expression",
            "latex",
            "result",
            "result_decimal",
            "verdict",
            "confidence",
            "symbols",
            "computations",
            "error",
            "message",
            "model_version",
            "processing_ms",
        ]
        read_only_fields = fields


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Solved",
            value={**_EXAMPLE_OUTPUT, "edit_token": "kD0c2jQ0y0l7m3mX5uQ2bq1Jt9J4Yq8m3Rk3Pz6Xh2E"},
            response_only=True,
        )
    ]
)
class ImageCreatedSerializer(ImageSerializer):
    """The answer to a create: the stored image and, once, its secret edit token."""

    edit_token = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text=(
            "Secret token that lets the sender delete this image "
            "(`DELETE /api/images/{id}/` with the header `X-Edit-Token`). Shown only in this "
            "answer (and in an `Idempotency-Key` replay of it); the server keeps only a hash."
        ),
    )

    class Meta(ImageSerializer.Meta):
        fields = [*ImageSerializer.Meta.fields, "edit_token"]
        read_only_fields = fields
