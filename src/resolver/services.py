"""Writes: recognise an image and store it (file and row) atomically; delete it; store
a person's correction of its reading.

HackSoft-style service functions: keyword-only arguments, no HTTP in sight.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from mathocr.compute import solve_text
from mathocr.decode import DECODE_PIXELS, Decoded, decode
from mathocr.symbols import CLASS_INDEX

from .models import Image
from .recognition import get_recognizer

logger = logging.getLogger(__name__)

#: File extension stored for each format :func:`mathocr.decode.sniff` names.
EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp", "gif": "gif"}


def image_file_name(fmt: str) -> str:
    """A random, unguessable, filesystem-safe name such as ``3f2a...9c.png``.

    The client's file name is never used; ``upload_to`` adds the
    ``images/YYYY/MM/DD/`` folder.
    """
    return f"{secrets.token_hex(16)}.{EXTENSIONS.get(fmt, 'bin')}"


def edit_token_new() -> str:
    """A new secret edit token: 32 random bytes, base64url (43 characters).

    The client gets it once, in the answer that created its image; the row keeps
    only :func:`edit_token_hash` of it. Checked by :func:`resolver.selectors.edit_token_matches`.
    """
    return secrets.token_urlsafe(32)


def edit_token_hash(token: str) -> str:
    """SHA-256 (hex) of ``token``: what ``Image.edit_token_hash`` stores.

    A plain hash is enough: the token is 256 random bits, not a password.
    """
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class IdempotencyKeyReused(Exception):
    """An ``Idempotency-Key`` came back with a different image than its first request."""


def idempotency_key_hash(key: str) -> str:
    """SHA-256 (hex) of a client's ``Idempotency-Key``: what ``Image.idempotency_key`` holds."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _idempotent_edit_token(key_hash: str, content_sha256: str) -> str:
    """The edit token of a request with an ``Idempotency-Key``, derivable again on a retry.

    An HMAC (``SECRET_KEY``) of the key and the image: as unguessable as a random token
    to anyone without the server's secret, and the same on every host that shares it,
    so a retry can give the client the token it never received. Only its hash is stored.
    """
    mac = salted_hmac("resolver.edit_token", f"{key_hash}:{content_sha256}", algorithm="sha256")
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def _replay(image: Image, *, key_hash: str, content_sha256: str) -> Image:
    """``image`` (stored by an earlier request with the same key) as this request's answer."""
    if not hmac.compare_digest(image.content_sha256, content_sha256):
        raise IdempotencyKeyReused(image.pk)
    token = _idempotent_edit_token(key_hash, content_sha256)
    same = hmac.compare_digest(edit_token_hash(token), image.edit_token_hash)
    image.edit_token = token if same else None  # None: SECRET_KEY changed since
    image.replayed = True
    return image


def _stored_for_key(key_hash: str, content_sha256: str) -> Image | None:
    """The image an earlier request with this key stored within the window, replayed.

    A key older than ``IDEMPOTENCY_KEY_HOURS`` is released (its row keeps the image
    but forgets the key), and ``None`` is returned: the request is a new one.
    """
    image = Image.objects.filter(idempotency_key=key_hash).first()
    if image is None:
        return None
    if image.timestamp < timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS):
        Image.objects.filter(pk=image.pk, idempotency_key=key_hash).update(idempotency_key=None)
        return None
    return _replay(image, key_hash=key_hash, content_sha256=content_sha256)


#: Errors of the core that make a typed expression no correction: not an expression.
#: (``division_by_zero`` is allowed: what is written may divide by zero.)
CORRECTION_REFUSED = frozenset({"empty", "malformed", "too_large"})


def image_correct(
    *, image: Image, expression: str, symbols: Sequence[Mapping[str, Any]] = ()
) -> Image:
    """Store a person's correction of ``image``'s reading; a second one replaces the first.

    Parameters
    ----------
    image : Image
        The image (its machine reading: ``expression``, ``symbols``, ... is never changed).
    expression : str
        What is written, as text (:func:`mathocr.compute.solve_text`); stored in its
        canonical ASCII as ``corrected_expression``.
    symbols : sequence of mappings
        ``{"index": i, "symbol": "7"}``: symbol ``i`` of ``image.symbols`` is a ``7``
        (a class of :data:`mathocr.symbols.CLASSES`); stored sorted by index as
        ``corrected_symbols``. Empty: the expression alone is corrected.

    Returns
    -------
    Image
        ``image`` with its ``corrected_*`` fields (and ``corrected_at``) set.

    Raises
    ------
    ValueError
        The expression is no valid expression, or a change names no symbol of the
        reading, a class that does not exist or a symbol twice (the API validates
        the same in :class:`resolver.serializers.ImageCorrectionInputSerializer`).
    Image.DoesNotExist
        The image was deleted meanwhile; nothing is stored.

    Notes
    -----
    Only the ``corrected_*`` columns are written (one ``UPDATE``, atomic), so a
    correction racing with another or with a deletion never touches the reading.
    """
    result = solve_text(expression)
    if result.error in CORRECTION_REFUSED:
        raise ValueError(f"not a correction: {result.message}")
    changes = sorted(
        ({"index": change["index"], "symbol": change["symbol"]} for change in symbols),
        key=lambda change: change["index"],
    )
    indexes = [change["index"] for change in changes]
    count = len(image.symbols or [])
    if any(type(i) is not int or not 0 <= i < count for i in indexes):
        raise ValueError(f"a symbol index is not one of the reading's 0 to {count - 1}")
    if len(set(indexes)) != len(indexes):
        raise ValueError("a symbol is changed twice")
    if any(change["symbol"] not in CLASS_INDEX for change in changes):
        raise ValueError("a symbol is not a class of mathocr.symbols.CLASSES")
    now = timezone.now()
    fields = {
        "corrected_expression": result.expression,
        "corrected_symbols": changes,
        "corrected_at": now,
    }
    with transaction.atomic():
        if not Image.objects.filter(pk=image.pk).update(**fields):
            raise Image.DoesNotExist(f"image {image.pk} was deleted")
    for name, value in fields.items():
        setattr(image, name, value)
    return image


def image_delete(*, image: Image) -> None:
    """Delete ``image``'s row; its file goes once the deletion commits (``signals``)."""
    with transaction.atomic():
        image.delete()


def image_create(
    *,
    data: bytes,
    decoded: Decoded | None = None,
    recognizer: Callable[..., Any] | None = None,
    idempotency_key: str | None = None,
    comma: str | None = None,
) -> Image:
    """Recognise ``data`` and store the image file and its row, both or neither.

    Parameters
    ----------
    data : bytes
        The encoded image (PNG, JPEG, WebP or GIF).
    decoded : mathocr.decode.Decoded, optional
        ``data`` as validation decoded it (:class:`resolver.fields.DecodedImage`):
        recognised as it is, not decoded again. Decoded here when not given.
    recognizer : callable, optional
        ``(bytes, *, decoded) -> mathocr.Result``; defaults to the process-wide
        recogniser.
    comma : {"decimal", "thousands"}, optional
        What a comma between digits means in this image (passed to the recogniser;
        by default its own, ``MATHOCR_COMMA``).
    idempotency_key : str, optional
        The client's ``Idempotency-Key``. If a request with the same key stored an
        image within ``IDEMPOTENCY_KEY_HOURS``, that image is returned (``replayed``)
        and nothing is recognised or stored; a unique constraint on the key makes two
        concurrent requests store one row, the other returning it.

    Returns
    -------
    Image
        The saved row, its file written under ``images/YYYY/MM/DD/`` in the default
        storage. Its attribute ``edit_token`` (not a field) holds the secret edit
        token in clear, to be given to the client once; the row keeps only its hash.
        ``replayed`` (not a field) is true when the image is an earlier request's.

    Raises
    ------
    mathocr.InvalidImage
        ``data`` is not an image we accept (nothing is stored).
    mathocr.ModelError
        The recognition model cannot be loaded (nothing is stored).
    mathocr.errors.RecognitionTimeout
        Recognition ran past ``MATHOCR_TIME_LIMIT`` seconds (nothing is stored).
    IdempotencyKeyReused
        ``idempotency_key`` was used before with different image bytes.

    Notes
    -----
    The file is written (or uploaded) in another thread while this one
    recognises the image, outside any transaction; if recognition fails the file
    is deleted once written. Then the row is inserted in a transaction of its own
    (so that the database's write lock, one writer at a time with SQLite, is never
    held while a file is written). If the insert or its commit fails the file is
    deleted again, so no row points to a missing file and no file is left without
    a row.
    Called inside a caller's own transaction that later rolls back, or in a
    worker killed at the wrong moment, a file can be left behind:
    ``manage.py prune_media`` removes such files.
    """
    content_sha256 = hashlib.sha256(data).hexdigest()
    key_hash = idempotency_key_hash(idempotency_key) if idempotency_key is not None else None
    if key_hash is not None and (earlier := _stored_for_key(key_hash, content_sha256)):
        return earlier
    if decoded is None:
        decoded = decode(data, max_pixels=settings.IMAGE_MAX_PIXELS, reduce_to=DECODE_PIXELS)
    recognize = recognizer or get_recognizer()
    writing = _file_writer().submit(_write_file, data, decoded.format)  # while recognising
    try:
        started = time.perf_counter()
        if comma is None:  # the recogniser's own convention
            result = recognize(data, decoded=decoded)
        else:
            result = recognize(data, decoded=decoded, comma=comma)
        processing_ms = (time.perf_counter() - started) * 1000.0
        stored = writing.result()
    except BaseException:
        _discard(writing)
        raise
    model_version = str(getattr(recognize, "model_version", "") or "")

    answer = result.to_dict()  # the symbols and computations as JSON
    if key_hash is not None:
        edit_token = _idempotent_edit_token(key_hash, content_sha256)
    else:
        edit_token = edit_token_new()
    image = Image(
        image=stored,
        width=decoded.width,
        height=decoded.height,
        size=len(data),
        status=result.status.value,
        expression=result.expression,
        latex=result.latex,
        result=result.result,
        result_decimal=result.result_decimal,
        verdict=result.verdict,
        confidence=result.confidence,
        symbols=answer["symbols"],
        computations=answer["computations"],
        steps=list(result.steps),
        error=result.error,
        message=result.message,
        model_version=model_version,
        processing_ms=round(processing_ms, 3),
        edit_token_hash=edit_token_hash(edit_token),
        idempotency_key=key_hash,
        content_sha256=content_sha256,
    )
    try:
        _insert(image)
    except IntegrityError:
        # Another request with the same key committed first (on this host or another).
        winner = Image.objects.filter(idempotency_key=key_hash).first() if key_hash else None
        if winner is None or not key_hash:
            raise
        return _replay(winner, key_hash=key_hash, content_sha256=content_sha256)
    image.edit_token = edit_token
    image.replayed = False
    return image


#: Threads that write image files while the request's thread recognises them.
FILE_WRITER_THREADS = 4
_writer: ThreadPoolExecutor | None = None
_writer_lock = threading.Lock()


def _file_writer() -> ThreadPoolExecutor:
    """The process's file-writing threads (made on first use: after a server's fork)."""
    global _writer
    if _writer is None:
        with _writer_lock:
            if _writer is None:
                _writer = ThreadPoolExecutor(FILE_WRITER_THREADS, thread_name_prefix="image-file")
    return _writer


def _write_file(data: bytes, fmt: str) -> str:
    """Store ``data`` under ``images/YYYY/MM/DD/`` in the image field's storage; its name."""
    holder = Image()  # the field's own save: upload_to, storage, max_length
    holder.image.save(image_file_name(fmt), ContentFile(data), save=False)
    return str(holder.image.name)


def _discard(writing: Future[str]) -> None:
    """Delete the file that ``writing`` stores (after it is done), if it was stored."""
    try:
        name = writing.result()
    except Exception:  # nothing was stored (the caller's own error matters more)
        return
    _delete_quietly(Image._meta.get_field("image").storage, name)


def _insert(image: Image) -> None:
    """Insert the row of an image whose file is stored; delete the file if that fails."""
    try:
        with transaction.atomic():
            image.save()
    except BaseException:
        if image.image.name:
            _delete_quietly(image.image.storage, image.image.name)
        raise


def _delete_quietly(storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:  # pragma: no cover - logged, the original error matters more
        logger.exception("could not delete %s after a failed save", name)
