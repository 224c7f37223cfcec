"""Reads: the queries the API and admin use, the edit-token check, and a correction's answer."""

from __future__ import annotations

import hmac

from django.db.models import QuerySet

from mathocr import Result
from mathocr.compute import solve_text

from .models import Image
from .services import edit_token_hash

#: Compared against when there is no row, so that an unknown pk takes as long as a wrong token.
_NO_HASH = "0" * 64


def image_list() -> QuerySet[Image]:
    """Every stored image, newest first."""
    return Image.objects.order_by("-timestamp", "-pk")


def edit_token_matches(*, image: Image | None, token: str | None) -> bool:
    """Whether ``token`` is ``image``'s edit token (compared in constant time).

    ``False`` for a missing image, an empty token, or a row stored before edit tokens
    existed (empty hash).
    """
    expected = image.edit_token_hash if image is not None else ""
    given = edit_token_hash(token) if token else ""
    same = hmac.compare_digest(expected or _NO_HASH, given or _NO_HASH)
    return bool(same and expected and given)


def image_for_edit(*, pk: int, token: str | None = None, user=None) -> Image | None:
    """The image ``pk`` if the caller may change or delete it, else ``None``.

    Staff (``user.is_staff``) may change any image; anyone else needs its edit token.
    ``None`` means "unknown or not yours" alike, so that callers answer both the same
    (404) and existence does not leak. Deletion and corrections both use this.
    """
    image = Image.objects.filter(pk=pk).first()
    if user is not None and getattr(user, "is_staff", False):
        return image
    return image if edit_token_matches(image=image, token=token) else None


def image_correction(*, image: Image) -> Result | None:
    """``image``'s corrected expression computed afresh by the core; ``None`` without one."""
    if not image.corrected_expression:
        return None
    return solve_text(image.corrected_expression)
