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


@pytest.mark.parametrize("minutes", ["0", "5", "9.9"])
def test_a_min_age_that_could_reach_uploads_in_flight_is_refused(media_root, minutes):
    from django.core.management.base import CommandError

    from resolver.management.commands.prune_media import MIN_AGE_FLOOR_MINUTES

    assert MIN_AGE_FLOOR_MINUTES == 10
    orphan = media_root / "images" / ("2" * 32 + ".png")
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"z")
    with pytest.raises(CommandError, match="in flight"):
        call_command("prune_media", "--min-age", minutes, stdout=io.StringIO())
    assert orphan.exists()


@pytest.mark.django_db(transaction=True)
def test_an_upload_in_flight_keeps_its_file_while_prune_media_runs(
    fake_recognizer, monkeypatch, media_files
):
    """The file is written inside the transaction before its row commits: prune then."""
    import threading

    from django.db import connection

    from resolver.management.commands.prune_media import MIN_AGE_FLOOR_MINUTES
    from resolver.models import Image

    seen: list[list] = []
    save_base = Image.save_base

    def prune_meanwhile(self, *args, **kwargs):
        def other_worker():  # another process's view: its own connection, no row yet
            try:
                call_command("prune_media", "--min-age", str(MIN_AGE_FLOOR_MINUTES), stdout=out)
                seen.append(media_files())
            finally:
                connection.close()

        out = io.StringIO()
        thread = threading.Thread(target=other_worker)
        thread.start()
        thread.join()
        return save_base(self, *args, **kwargs)

    monkeypatch.setattr(Image, "save_base", prune_meanwhile)
    image = image_create(data=expression_image("png", size=(60, 20)), recognizer=fake_recognizer)
    assert len(seen) == 1
    assert len(seen[0]) == 1  # the file was there while pruning
    assert [p.name for p in media_files()] == [image.image.name.rsplit("/", 1)[1]]
