"""Input and output serializers of the images API."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from mathocr.notation import COMMA_CONVENTIONS
from mathocr.symbols import CLASSES

from .fields import Base64ImageField, ExpressionField, SymbolChangesField
from .models import Image
from .selectors import image_correction

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
    """What a client posts: one image, and how to read a comma in it."""

    image = Base64ImageField(
        help_text=(
            "The photo: a data URL (`data:image/png;base64,...`), bare base64, or a file "
            "upload. PNG, JPEG, WebP or GIF."
        )
    )
    comma = serializers.ChoiceField(
        choices=COMMA_CONVENTIONS,
        required=False,
        help_text=(
            "What a comma between digits means: `decimal` (`1,5` is one and a half) or "
            "`thousands` (`1,000` is one thousand). Default: the server's `MATHOCR_COMMA`."
        ),
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


@extend_schema_field(
    serializers.ListField(
        child=serializers.CharField(),
        help_text=(
            "The working in LaTeX, one operation a line in the order of operations: the "
            "expression as written, then each first operation left to do, then the value "
            "(`12 + 7 \\times 3`, `12 + 21`, `33`); for an equation or comparison each side "
            "reduced, then the verdict where a relation fails (`7 = 8`, `7 \\neq 8`). At "
            "most 50 lines (longer working skips to the result); empty without a result."
        ),
    )
)
class StepsField(serializers.JSONField):
    """The stored steps, output as is (documented as a list of LaTeX strings)."""


class SymbolChangeSerializer(serializers.Serializer):
    """One symbol of the machine reading and what it became (documentation; stored as JSON)."""

    index = serializers.IntegerField(
        min_value=0, help_text="Which symbol: an index into the answer's `symbols`, from 0."
    )
    symbol = serializers.ChoiceField(
        choices=list(CLASSES),
        help_text="What it is: a symbol class (`reject`: no symbol at all, a speck).",
    )


@extend_schema_field(SymbolChangeSerializer(many=True))
class SymbolChangesOutputField(serializers.JSONField):
    """The stored symbol changes, output as is (documented as :class:`SymbolChangeSerializer`)."""


class CorrectionSerializer(serializers.Serializer):
    """The corrected expression, computed afresh: what an answer says about an expression."""

    status = serializers.ChoiceField(
        choices=Image.Status.choices,
        help_text="`solved`, or `recognized` when it divides by zero (`error`).",
    )
    expression = serializers.CharField(help_text="The corrected expression (canonical ASCII).")
    latex = serializers.CharField(help_text="It as written, in LaTeX.")
    result = serializers.CharField(allow_null=True)
    result_decimal = serializers.CharField(allow_null=True)
    verdict = serializers.BooleanField(allow_null=True)
    computations = ComputationSerializer(many=True)
    steps = serializers.ListField(child=serializers.CharField())
    error = serializers.CharField(allow_null=True)
    message = serializers.CharField()


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
    "steps": [r"12 + 7 \times 3", "12 + 21", "33"],
    "error": None,
    "message": "",
    "model_version": "2.0.0",
    "processing_ms": 12.5,
}
_EXAMPLE_CORRECTED = {
    **_EXAMPLE_OUTPUT,
    "corrected_expression": "17+7*3",
    "corrected_symbols": [{"index": 0, "symbol": "7"}],
    "corrected_at": "2026-11-23T21:06:30.000000Z",
    "correction": {
        "status": "solved",
        "expression": "17+7*3",
        "latex": r"17 + 7 \times 3",
        "result": "38",
        "result_decimal": "38",
        "verdict": None,
        "computations": [
            {"name": "Expression", "result": r"17 + 7 \times 3"},
            {"name": "Result", "result": "38"},
        ],
        "steps": [r"17 + 7 \times 3", "17 + 21", "38"],
        "error": None,
        "message": "17+7*3 = 38",
    },
}


#: The fields of every answer about an image: the machine's reading.
ANSWER_FIELDS = [
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
    "steps",
    "error",
    "message",
    "model_version",
    "processing_ms",
]
#: The fields of a person's correction (list, detail and the correction's answer).
CORRECTION_FIELDS = ["corrected_expression", "corrected_symbols", "corrected_at", "correction"]


class ImageAnswerSerializer(serializers.ModelSerializer):
    """A stored image and what the machine read in it (the create answer's fields).

    A ModelSerializer builds (and deep-copies) its fields on every instance, which
    took most of the time of writing an answer. Every field here is read-only, so
    each class builds them once and an instance gets shallow copies, which binding
    to it changes without touching the class's.
    """

    _built_fields: ClassVar[dict[type, dict[str, Any]]] = {}

    image = Base64ImageField(read_only=True, help_text="Absolute URL of the stored image.")
    symbols = SymbolsField(read_only=True)
    computations = ComputationsField(read_only=True)
    steps = StepsField(read_only=True)

    class Meta:
        model = Image
        fields = ANSWER_FIELDS
        read_only_fields = fields

    def get_fields(self) -> dict[str, Any]:
        built = self._built_fields.get(type(self))
        if built is None:
            built = self._built_fields[type(self)] = super().get_fields()
        if not all(field.read_only for field in built.values()):
            return copy.deepcopy(built)  # a writable field keeps state: the full copy
        return {name: copy.copy(field) for name, field in built.items()}


@extend_schema_serializer(
    examples=[
        OpenApiExample("Solved", value=_EXAMPLE_OUTPUT, response_only=True),
        OpenApiExample("Corrected", value=_EXAMPLE_CORRECTED, response_only=True),
    ]
)
class ImageSerializer(ImageAnswerSerializer):
    """A stored image, what the machine read in it, and a person's correction if any.

    The reading's fields are the machine's, never changed by a correction;
    ``corrected_*`` are what the sender said, and ``correction`` is the corrected
    expression computed afresh (``null`` when there is none).
    """

    corrected_expression = serializers.CharField(
        read_only=True,
        help_text="What the sender says is written (canonical ASCII); empty: not corrected.",
    )
    corrected_symbols = SymbolChangesOutputField(
        read_only=True,
        help_text="Which symbols of the machine reading (`symbols`) became what.",
    )
    corrected_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When it was corrected; null: never."
    )
    correction = serializers.SerializerMethodField(
        help_text=(
            "The corrected expression computed: the fields of an answer that describe the "
            "expression (`status`, `expression`, `latex`, `result`, `result_decimal`, "
            "`verdict`, `computations`, `steps`, `error`, `message`); null without one."
        )
    )

    class Meta(ImageAnswerSerializer.Meta):
        fields = [*ANSWER_FIELDS, *CORRECTION_FIELDS]
        read_only_fields = fields

    @extend_schema_field(CorrectionSerializer(allow_null=True))
    def get_correction(self, obj: Image) -> dict | None:
        result = image_correction(image=obj)
        if result is None:
            return None
        data = result.to_dict()
        return {name: data[name] for name in CorrectionSerializer._declared_fields}


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Solved",
            value={**_EXAMPLE_OUTPUT, "edit_token": "kD0c2jQ0y0l7m3mX5uQ2bq1Jt9J4Yq8m3Rk3Pz6Xh2E"},
            response_only=True,
        )
    ]
)
class ImageCreatedSerializer(ImageAnswerSerializer):
    """The answer to a create: the stored image and, once, its secret edit token."""

    edit_token = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text=(
            "Secret token that lets the sender delete this image (`DELETE /api/images/{id}/`) "
            "or correct its reading (`POST /api/images/{id}/correction/`), sent in the header "
            "`X-Edit-Token`. Shown only in this answer (and in an `Idempotency-Key` replay of "
            "it); the server keeps only a hash."
        ),
    )

    class Meta(ImageAnswerSerializer.Meta):
        fields = [*ANSWER_FIELDS, "edit_token"]
        read_only_fields = fields


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Expression only",
            value={"expression": "17+7*3"},
            request_only=True,
            description="What is written, as the answer's `expression` writes it.",
        ),
        OpenApiExample(
            "With the symbol that was misread",
            value={"expression": "17 + 7 × 3", "symbols": [{"index": 0, "symbol": "7"}]},
            request_only=True,
            description="Symbol 0 of the answer's `symbols`, read as `1`, is a `7`.",
        ),
    ]
)
class ImageCorrectionInputSerializer(serializers.Serializer):
    """A correction of a reading: what is written, and which read symbols became what."""

    # context["symbol_count"]: how many symbols the machine read (the indexes' range)

    expression = ExpressionField(
        help_text=(
            "What is written: the canonical ASCII of the answer's `expression` (`12+7*3=`, "
            "`2*3>=5`, `1!=2`), or with `× ÷ ≤ ≥ ≠` (and `x` for `×`); spaces are ignored. "
            "It must be a valid expression (dividing by zero is allowed)."
        )
    )
    symbols = SymbolChangesField(
        required=False,
        default=list,
        help_text=(
            "Optional: which symbols of the reading (`symbols`, index from 0) became what, "
            'e.g. `[{"index": 0, "symbol": "7"}]`; each index once. In a form-encoded body, '
            "this list as JSON text."
        ),
    )


class ImageCorrectionFormSerializer(serializers.Serializer):
    """A correction in a form-encoded body: ``symbols`` as JSON text."""

    expression = serializers.CharField(help_text="What is written, as in a JSON body.")
    symbols = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=(
            'The symbol changes as JSON text: `[{"index": 0, "symbol": "7"}]`; empty: none.'
        ),
    )
