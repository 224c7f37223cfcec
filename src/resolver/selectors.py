"""Reads: the queries the API and admin use."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Image


def image_list() -> QuerySet[Image]:
    """Every stored image, newest first."""
    return Image.objects.order_by("-timestamp", "-pk")
