"""Listing the media storage (local folder or S3 bucket) for the maintenance commands."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from django.core.files.storage import Storage


def stored_files(storage: Storage, prefix: str) -> Iterator[tuple[str, datetime]]:
    """Every file under ``prefix`` (e.g. ``"images/"``): its name and when it was written.

    Names are relative to the storage's root, as ``Image.image`` stores them; times are
    timezone-aware (UTC). An S3 bucket is listed page by page with the objects' times
    (one request per 1000 files); other storages are walked with ``listdir``.
    """
    bucket = getattr(storage, "bucket", None)
    if bucket is not None and hasattr(storage, "_normalize_name"):
        yield from _s3_files(storage, prefix)
        return
    folders = [prefix.rstrip("/")]
    while folders:
        folder = folders.pop()
        try:
            subfolders, files = storage.listdir(folder)
        except FileNotFoundError:
            continue
        folders.extend(f"{folder}/{sub}" for sub in sorted(subfolders, reverse=True))
        for name in sorted(files):
            path = f"{folder}/{name}"
            try:
                modified = storage.get_modified_time(path)
            except FileNotFoundError:  # deleted meanwhile
                continue
            if modified.tzinfo is None:
                modified = modified.astimezone(UTC)
            yield path, modified


def _s3_files(storage, prefix: str) -> Iterator[tuple[str, datetime]]:
    from storages.utils import clean_name

    root = storage._normalize_name(clean_name(prefix))
    location = storage._normalize_name("")
    for summary in storage.bucket.objects.filter(Prefix=root):
        name = summary.key[len(location) :].lstrip("/") if location else summary.key
        yield name, summary.last_modified
