"""HTTP layer: thin views over :mod:`resolver.services` and :mod:`resolver.selectors`."""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.db import connection
from django.http import Http404
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, generics, parsers, serializers, status
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

import mathocr
from mathocr import ModelError
from mathocr.errors import RecognitionTimeout

from . import recognition
from .middleware import DISCARD_LIMIT
from .models import Image
from .parsers import JSONParser
from .selectors import image_for_edit, image_list
from .serializers import (
    ImageCorrectionFormSerializer,
    ImageCorrectionInputSerializer,
    ImageCreatedSerializer,
    ImageCreateInputSerializer,
    ImageSerializer,
)
from .services import IdempotencyKeyReused, image_correct, image_create, image_delete

#: Request header carrying an image's secret edit token (``Authorization`` is DRF's).
EDIT_TOKEN_HEADER = "X-Edit-Token"  # noqa: S105 - the header's name, not a token
#: Request header of a create that a client may retry: same key, same answer.
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
#: Longest accepted ``Idempotency-Key`` (visible ASCII: a UUID is 36 characters).
IDEMPOTENCY_KEY_MAX_LENGTH = 255
_IDEMPOTENCY_KEY = re.compile(rf"[\x21-\x7e]{{1,{IDEMPOTENCY_KEY_MAX_LENGTH}}}")
#: Largest accepted correction body: an expression and its symbol changes need far less.
CORRECTION_MAX_BYTES = 64 * 1024

logger = logging.getLogger(__name__)


class RequestTooLarge(exceptions.ValidationError):
    """The request body is larger than ``REQUEST_MAX_BYTES`` (checked before parsing)."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class BodyTooLarge(exceptions.APIException):
    """A request body over its endpoint's cap, answered ``{"detail", "code"}`` (413)."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class RecognitionTooSlow(exceptions.APIException):
    """Recognition ran past ``MATHOCR_TIME_LIMIT`` (nothing is stored)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = (
        "Reading the image took longer than the time allowed; nothing was stored. "
        "Send a photo of one line of handwriting, or try again later."
    )
    default_code = "recognition_timeout"


class LoginLockedOut(exceptions.APIException):
    """Too many failed logins from this client (django-axes): refused for a while."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"

    def __init__(self, wait: int | None) -> None:
        minutes = f"{wait / 60:g} minutes" if wait else "a while"
        super().__init__(
            f"Too many failed logins from this client: logins are refused for {minutes} "
            "after the last failure."
        )
        self.wait = wait  # DRF's handler sends it as Retry-After


class InvalidIdempotencyKey(exceptions.APIException):
    """The ``Idempotency-Key`` header is empty, too long or not visible ASCII."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = (
        f"The Idempotency-Key header must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} visible ASCII "
        "characters (a UUID, for example)."
    )
    default_code = "invalid_idempotency_key"


class IdempotencyKeyConflict(exceptions.APIException):
    """The ``Idempotency-Key`` was used before with a different image."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = (
        "This Idempotency-Key was used before with a different image; nothing was stored. "
        "Use a new key for each new image."
    )
    default_code = "idempotency_key_reused"


class ModelUnavailable(exceptions.APIException):
    """The recognition model could not be loaded."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The recognition model is not available; try again later."
    default_code = "model_unavailable"


def exception_handler(exc, context):
    """DRF's handler, plus the machine-readable ``codes`` of a validation error.

    ``{"image": ["The image is not valid base64."]}`` becomes
    ``{"image": [...], "codes": {"image": ["invalid_base64"]}}``: the messages
    stay where DRF puts them, the stable codes sit beside them.
    """
    if isinstance(exc, exceptions.AuthenticationFailed) and _locked_out(context):
        exc = LoginLockedOut(wait=_cool_off_seconds(context["request"]))
    elif isinstance(exc, Http404):  # get_object_or_404: same body as every other 404
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError) and isinstance(response.data, dict):
        response.data["codes"] = exc.get_codes()
    elif isinstance(exc, exceptions.APIException) and isinstance(exc.detail, str):
        response.data["code"] = exc.get_codes()
    return response


def _locked_out(context) -> bool:
    """Whether django-axes refused (or has just locked out) this request's login.

    HTTP Basic runs ``authenticate()`` with DRF's request; axes marks that request.
    """
    return bool(getattr(context.get("request"), "axes_locked_out", False))


def _cool_off_seconds(request) -> int | None:
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    return round(cool_off.total_seconds()) if cool_off else None


def client_ip(request) -> str | None:
    """The client's IP address for counting failed logins (``AXES_CLIENT_IP_CALLABLE``).

    The same address the API's throttles use: ``REMOTE_ADDR``, or with ``NUM_PROXIES``
    trusted proxies in front, the address they put in ``X-Forwarded-For``.
    """
    return BaseThrottle().get_ident(request)


# --- documented error bodies --------------------------------------------------------

_CODES = serializers.DictField(
    child=serializers.ListField(child=serializers.CharField()),
    help_text="The stable codes of the messages, by field.",
)
#: ``{"detail": ..., "code": ...}``: every error that is not about a field.
ERROR = inline_serializer(
    "Error",
    fields={
        "detail": serializers.CharField(help_text="What went wrong, for people."),
        "code": serializers.CharField(help_text="What went wrong, for programs (stable)."),
    },
)
#: A refused image: DRF's messages under ``image``, their codes under ``codes``.
IMAGE_ERROR = inline_serializer(
    "ImageError",
    fields={"image": serializers.ListField(child=serializers.CharField()), "codes": _CODES},
)
#: Every 400 body of the create endpoint, in one shape: the fields' messages (``image``,
#: ``comma``) with their ``codes``; a body that is not an object (``non_field_errors``);
#: or a request that cannot be read (``detail`` and ``code``). DRF reports every field
#: that failed at once, so the shapes overlap and no ``oneOf`` could tell them apart.
CREATE_BAD_REQUEST = inline_serializer(
    "CreateBadRequest",
    fields={
        **{
            name: serializers.ListField(child=serializers.CharField(), required=False)
            for name in ("image", "comma", "non_field_errors")
        },
        "codes": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            required=False,
            help_text="The stable codes of the messages, by field.",
        ),
        "detail": serializers.CharField(required=False),
        "code": serializers.CharField(required=False),
    },
)
_RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    description="Seconds to wait before trying again.",
    response=[429],
)

_EDIT_TOKEN = OpenApiParameter(
    EDIT_TOKEN_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The `edit_token` from the answer that created the image.",
)


def _error(description: str, serializer=ERROR) -> OpenApiResponse:
    return OpenApiResponse(serializer, description=description)


THROTTLED = _error(
    "Too many requests from this client (`throttled`), or too many failed logins "
    "(`locked_out`, HTTP Basic); `Retry-After` says for how long."
)
_NOT_AUTHENTICATED = _error(
    "No credentials (`not_authenticated`, with a `WWW-Authenticate: Basic` challenge) or "
    "wrong ones (`authentication_failed`)."
)
_NOT_STAFF = _error("Logged in, but not staff (`permission_denied`).")
_READ_ERRORS = {401: _NOT_AUTHENTICATED, 403: _NOT_STAFF, 429: THROTTLED}


class ImageCreateApi(APIView):
    """Recognise a photo of handwritten arithmetic and store it.

    Public and unauthenticated (no session, so no CSRF token is needed);
    anonymous clients are throttled per IP address.
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="images_create",
        summary="Recognise and solve a handwritten expression",
        request={
            "application/json": ImageCreateInputSerializer,
            "application/x-www-form-urlencoded": ImageCreateInputSerializer,
            "multipart/form-data": inline_serializer(
                "ImageUpload", fields={"image": serializers.FileField()}
            ),
        },
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_KEY_HEADER,
                {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH,
                    "pattern": "^[!-~]+$",
                },
                OpenApiParameter.HEADER,
                description=(
                    "Optional key (e.g. a UUID) that makes retries safe: a retry with the same "
                    f"key and image within {settings.IDEMPOTENCY_KEY_HOURS:g} hours answers 200 "
                    "with the first answer and stores nothing."
                ),
            ),
            OpenApiParameter(
                "Idempotent-Replayed",
                {"type": "string", "enum": ["true"]},
                OpenApiParameter.HEADER,
                description="Present on a replay of an earlier answer.",
                response=[200],
            ),
            _RETRY_AFTER,
        ],
        responses={
            200: OpenApiResponse(
                ImageCreatedSerializer,
                description="A retry (same `Idempotency-Key`, same image): the first answer.",
            ),
            201: ImageCreatedSerializer,
            400: OpenApiResponse(
                CREATE_BAD_REQUEST,
                description=(
                    "Nothing was stored. The image is missing or invalid (`image`, codes in "
                    "the README) or `comma` is not `decimal` or `thousands` "
                    "(`invalid_choice`), each field's messages under its name and their codes "
                    "under `codes`; the body is not an object (`non_field_errors`); or the "
                    "body is not valid JSON (`parse_error`, `too_deeply_nested`) or the "
                    "Idempotency-Key is malformed (`invalid_idempotency_key`) "
                    "(`detail`, `code`)."
                ),
            ),
            413: _error(
                "The request body is larger than the cap (`too_large`); nothing was read.",
                IMAGE_ERROR,
            ),
            415: _error("Not JSON, form-encoded or multipart (`unsupported_media_type`)."),
            422: _error(
                "The Idempotency-Key was used before with a different image "
                "(`idempotency_key_reused`); nothing was stored."
            ),
            429: _error("Too many requests from this client (`throttled`)."),
            503: _error(
                "The recognition model is not available (`model_unavailable`), or reading "
                "the image took longer than allowed (`recognition_timeout`); nothing was stored."
            ),
        },
        tags=["images"],
    )
    def post(self, request: Request, format: str | None = None) -> Response:
        _check_body_size(request)
        key = _idempotency_key(request)
        serializer = ImageCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decoded = serializer.validated_data["image"]
        try:
            image = image_create(
                data=decoded.data,
                decoded=decoded.decoded,
                idempotency_key=key,
                comma=serializer.validated_data.get("comma"),
            )
        except IdempotencyKeyReused as exc:
            raise IdempotencyKeyConflict() from exc
        except ModelError as exc:
            logger.error("recognition model unavailable: %s", exc)
            raise ModelUnavailable() from exc
        except RecognitionTimeout as exc:
            logger.warning("recognition stopped at its time limit: %s", exc)
            raise RecognitionTooSlow() from exc
        output = ImageCreatedSerializer(image, context={"request": request})
        if image.replayed:
            return Response(output.data, status=status.HTTP_200_OK, headers=_REPLAYED)
        return Response(output.data, status=status.HTTP_201_CREATED)


def edit_token_from(request: Request) -> str | None:
    """The edit token a request presents (header ``X-Edit-Token``), or ``None``."""
    return request.headers.get(EDIT_TOKEN_HEADER) or None


class IsAdminUserOrDelete(IsAdminUser):
    """Staff only, except ``DELETE``, where the view checks the edit token itself."""

    def has_permission(self, request, view) -> bool:
        return request.method == "DELETE" or super().has_permission(request, view)


class _DetailSchema(AutoSchema):
    """``DELETE`` needs no login (the edit token is enough): its security includes ``{}``."""

    def get_auth(self):
        auths = super().get_auth()
        if self.method == "DELETE" and {} not in auths:
            auths.append({})
        return auths


class _StoredImagesApi(generics.GenericAPIView):
    """Reading stored images: administrators only, newest first."""

    permission_classes = (IsAdminUser,)
    serializer_class = ImageSerializer

    def get_queryset(self):
        return image_list()


class ImageListApi(generics.ListAPIView, _StoredImagesApi):
    """Every stored image, newest first (administrators only)."""

    @extend_schema(
        summary="List stored images",
        parameters=[_RETRY_AFTER],
        responses={
            200: ImageSerializer(many=True),
            400: _error("`page_size` is not a whole number from 1 (`invalid_page_size`)."),
            404: _error("`page` is not a page of the list (`not_found`), e.g. `?page=0`."),
            **_READ_ERRORS,
        },
        tags=["images"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ImageDetailApi(generics.RetrieveAPIView, _StoredImagesApi):
    """One stored image (administrators only); deleted by its sender or by staff."""

    permission_classes = (IsAdminUserOrDelete,)
    schema = _DetailSchema()

    @extend_schema(
        summary="Retrieve a stored image",
        parameters=[_RETRY_AFTER],
        responses={
            200: ImageSerializer,
            404: _error("No such image (`not_found`)."),
            **_READ_ERRORS,
        },
        tags=["images"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Delete a stored image and its file",
        description=(
            "The sender deletes with the `edit_token` of the create answer in the header "
            "`X-Edit-Token`; staff (HTTP Basic or a session) need no token. Without staff "
            "rights, a missing or wrong token answers 403, and so does an unknown image, so "
            "that the answer does not tell whether an image exists."
        ),
        parameters=[_EDIT_TOKEN, _RETRY_AFTER],
        responses={
            204: OpenApiResponse(description="Deleted: the row, and its file once committed."),
            401: _error("Wrong HTTP Basic credentials (`authentication_failed`)."),
            403: _error(
                "No staff login and no valid edit token for this image, or no such image "
                "(`permission_denied`)."
            ),
            404: _error("Staff only: no such image (`not_found`)."),
            429: THROTTLED,
        },
        tags=["images"],
    )
    def delete(self, request: Request, pk: int, format: str | None = None) -> Response:
        image = _image_to_edit(request, pk, "Deleting")
        image_delete(image=image)
        return Response(status=status.HTTP_204_NO_CONTENT)


#: A correction refused for its content (or a body that is no object): DRF's messages by
#: field, their codes beside. One schema, so that a body matches exactly one of oneOf's.
CORRECTION_ERROR = inline_serializer(
    "CorrectionError",
    fields={
        "expression": serializers.ListField(child=serializers.CharField(), required=False),
        "symbols": serializers.ListField(child=serializers.CharField(), required=False),
        "non_field_errors": serializers.ListField(child=serializers.CharField(), required=False),
        "codes": _CODES,
    },
)


class ImageCorrectionApi(APIView):
    """A person's correction of a reading: stored beside the machine's, computed afresh."""

    permission_classes = (AllowAny,)  # the edit token, or staff: checked in the view
    parser_classes = (JSONParser, parsers.FormParser)
    schema = _DetailSchema()

    @extend_schema(
        operation_id="images_correction_create",
        summary="Correct the reading of a stored image",
        description=(
            "The sender says what is written (`expression`) and, optionally, which symbols "
            "of the reading became what (`symbols`), with the `edit_token` of the create "
            "answer in the header `X-Edit-Token`; staff (HTTP Basic or a session) need no "
            "token. The machine's reading is kept as it was; the correction is stored "
            "beside it (`corrected_expression`, `corrected_symbols`, `corrected_at`) and "
            "computed afresh (`correction`). A second correction replaces the first. "
            "Without staff rights, a missing or wrong token answers 403, and so does an "
            "unknown image, as for a delete."
        ),
        request={
            "application/json": ImageCorrectionInputSerializer,
            "application/x-www-form-urlencoded": ImageCorrectionFormSerializer,
        },
        parameters=[_EDIT_TOKEN, _RETRY_AFTER],
        responses={
            200: OpenApiResponse(
                ImageSerializer,
                description=(
                    "Stored: the image's answer, its machine reading unchanged, with the "
                    "correction (`corrected_*` and `correction`)."
                ),
            ),
            400: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="CorrectionBadRequest",
                    serializers=[CORRECTION_ERROR, ERROR],
                    resource_type_field_name=None,
                ),
                description=(
                    "Nothing was stored. The expression or the symbols are refused "
                    "(`CorrectionError`: `required`, `blank`, `invalid`, `malformed`, "
                    "`too_large`, `not_a_list`, `invalid_json`, `index_out_of_range`, "
                    "`unknown_symbol`, `duplicate_index`) or the body is not an object "
                    "(`non_field_errors`: `invalid`, `null`) (`CorrectionError`); or it is "
                    "not valid JSON (`parse_error`, `too_deeply_nested`) (`Error`)."
                ),
            ),
            401: _error("Wrong HTTP Basic credentials (`authentication_failed`)."),
            403: _error(
                "No staff login and no valid edit token for this image, or no such image "
                "(`permission_denied`)."
            ),
            404: _error("Staff only: no such image (`not_found`); or it was deleted meanwhile."),
            413: _error("The request body is larger than 64 KiB (`too_large`); nothing was read."),
            415: _error("Not JSON or form-encoded (`unsupported_media_type`)."),
            429: THROTTLED,
        },
        tags=["images"],
    )
    def post(self, request: Request, pk: int, format: str | None = None) -> Response:
        _check_body_size(request, limit=CORRECTION_MAX_BYTES, field=None)
        image = _image_to_edit(request, pk, "Correcting")
        context = {"symbol_count": len(image.symbols or [])}
        serializer = ImageCorrectionInputSerializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        try:
            image = image_correct(image=image, **serializer.validated_data)
        except Image.DoesNotExist as exc:  # deleted since it was read
            raise exceptions.NotFound() from exc
        output = ImageSerializer(image, context={"request": request})
        return Response(output.data, status=status.HTTP_200_OK)


def _image_to_edit(request: Request, pk: int, doing: str) -> Image:
    """The image ``pk`` if the request may change it (its edit token, or staff).

    Staff get 404 for an unknown image; anyone else gets the same 403 for an unknown
    image as for a missing or wrong token, so that the answer does not tell whether
    an image exists.
    """
    image = image_for_edit(pk=pk, token=edit_token_from(request), user=request.user)
    if image is not None:
        return image
    if getattr(request.user, "is_staff", False):
        raise exceptions.NotFound()
    raise exceptions.PermissionDenied(
        f"{doing} this image needs the edit token from the answer that created it "
        "(header X-Edit-Token), or a staff login."
    )


class HealthApi(APIView):
    """Whether the database answers and the recognition model is loaded.

    200 when both are ready, 503 otherwise; never throttled, no authentication.
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()

    @extend_schema(
        summary="Health check",
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (503, "application/json"): OpenApiTypes.OBJECT,
        },
        tags=["health"],
    )
    def get(self, request: Request, format: str | None = None) -> Response:
        database = _database_health()
        model = _model_health()
        ok = database["ok"] and model["ok"]
        body = {
            "status": "ok" if ok else "unavailable",
            "version": mathocr.__version__,
            "database": database,
            "model": model,
        }
        return Response(body, status=200 if ok else 503)


_REPLAYED = {"Idempotent-Replayed": "true"}


def _idempotency_key(request: Request) -> str | None:
    """The request's ``Idempotency-Key`` (``None`` without one); 400 when malformed."""
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise InvalidIdempotencyKey()
    return key


def _check_body_size(
    request: Request, *, limit: int | None = None, field: str | None = "image"
) -> None:
    """413 for a body over ``limit`` (``REQUEST_MAX_BYTES``), before it is parsed.

    The message goes under ``field`` with its code in ``codes`` (a create's shape), or
    with ``field=None`` in ``{"detail": ..., "code": "too_large"}``.
    """
    limit = settings.REQUEST_MAX_BYTES if limit is None else limit
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        _discard_body(request, length)
        message = f"The request body is too large: at most {limit} bytes are accepted."
        if field is None:
            raise BodyTooLarge(message)
        raise RequestTooLarge({field: [message]}, code="too_large")


# Bodies up to DISCARD_LIMIT are read and thrown away before answering 413, so that the
# client, still sending, gets the answer instead of a reset connection.
def _discard_body(request: Request, length: int) -> None:
    if length > DISCARD_LIMIT:
        return
    stream = request._request  # Django's HttpRequest: reads at most CONTENT_LENGTH bytes
    while stream.read(64 * 1024):
        pass


def _database_health() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "vendor": connection.vendor}


def _model_health() -> dict:
    if not recognition.is_loaded() and not recognition.warm_up(exercise=False):
        return {"ok": False, "error": "the recognition model could not be loaded"}
    recognizer = recognition.get_recognizer()
    line_model = getattr(recognizer, "line_model", None)
    return {
        "ok": True,
        "version": recognizer.model_version,
        # the second reader's version, None when it is off (MATHOCR_LINE_READER=false)
        "line_model": getattr(line_model, "version", None),
    }
