"""manage.py prune_media deletes only old files that no row refers to."""

from __future__ import annotations

import io
import os
import time

import pytest
from django.core.management import call_command

from resolver.services import image_create
from tests.support.images import expression_image

pytestmark = pytest.mark.django_db


def test_prunes_old_orphans_and_keeps_referenced_and_recent_files(
    media_root, fake_recognizer, media_files
):
    kept = image_create(data=expression_image("png", size=(60, 20)), recognizer=fake_recognizer)
    folder = media_root / "images" / "2020" / "01" / "01"
    folder.mkdir(parents=True)
    old_orphan = folder / ("0" * 32 + ".png")
    old_orphan.write_bytes(b"x")
    recent_orphan = folder / ("1" * 32 + ".png")
    recent_orphan.write_bytes(b"y")
    hours_ago = time.time() - 7200
    os.utime(old_orphan, (hours_ago, hours_ago))
    os.utime(media_root / kept.image.name, (hours_ago, hours_ago))

    out = io.StringIO()
    call_command("prune_media", "--dry-run", stdout=out)
    assert "1 orphaned file(s) found" in out.getvalue()
    assert old_orphan.exists()

    call_command("prune_media", stdout=io.StringIO())
    assert not old_orphan.exists()
    assert recent_orphan.exists()
    assert (media_root / kept.image.name).exists()
