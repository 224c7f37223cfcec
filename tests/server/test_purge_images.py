"""manage.py purge_images: images older than IMAGE_RETENTION_DAYS go, rows and files."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from resolver.models import Image
from resolver.services import image_create
from tests.support.images import expression_image

pytestmark = pytest.mark.django_db(transaction=True)


def stored(fake_recognizer, *, days_old: float = 0) -> Image:
    image = image_create(data=expression_image("png", size=(60, 20)), recognizer=fake_recognizer)
    if days_old:
        when = timezone.now() - timedelta(days=days_old)
        Image.objects.filter(pk=image.pk).update(timestamp=when)
    return image


def purge(*args: str) -> str:
    out = io.StringIO()
    call_command("purge_images", *args, stdout=out)
    return out.getvalue()


def test_retention_is_off_by_default(settings, fake_recognizer, media_files):
    from digits_operators_recognizer import settings as project_settings

    assert project_settings.IMAGE_RETENTION_DAYS is None
    stored(fake_recognizer, days_old=3650)
    assert "retention is off" in purge()
    assert Image.objects.count() == 1
    assert len(media_files()) == 1


def test_images_older_than_the_retention_go_with_their_files(
    settings, fake_recognizer, media_files
):
    settings.IMAGE_RETENTION_DAYS = 30
    old = [stored(fake_recognizer, days_old=31) for _ in range(3)]
    recent = stored(fake_recognizer, days_old=29)
    new = stored(fake_recognizer)
    assert len(media_files()) == 5
    output = purge("--batch-size", "2")
    assert "3 image(s) older than 30 day(s) deleted" in output
    assert set(Image.objects.values_list("pk", flat=True)) == {recent.pk, new.pk}
    names = {p.name for p in media_files()}
    assert names == {recent.image.name.rsplit("/", 1)[1], new.image.name.rsplit("/", 1)[1]}
    assert not any(o.image.name.rsplit("/", 1)[1] in names for o in old)


def test_days_option_and_dry_run(settings, fake_recognizer, media_files):
    stored(fake_recognizer, days_old=8)
    output = purge("--days", "7", "--dry-run")
    assert "1 image(s) older than 7 day(s) found" in output
    assert Image.objects.count() == 1
    assert len(media_files()) == 1
    purge("--days", "7")
    assert Image.objects.count() == 0
    assert media_files() == []


@pytest.mark.parametrize("days", ["0", "-1"])
def test_days_must_be_positive(days):
    with pytest.raises(CommandError):
        purge("--days", days)


def test_an_upload_in_flight_is_not_touched(settings, fake_recognizer, monkeypatch, media_files):
    """purge_images from another connection while an upload's row is not committed yet."""
    if connection.vendor == "sqlite":
        pytest.skip(
            "SQLite runs one writer at a time (a file database makes purge_images wait for the "
            "upload's commit, the in-memory test database refuses at once): PostgreSQL only"
        )
    settings.IMAGE_RETENTION_DAYS = 1
    old = stored(fake_recognizer, days_old=2)
    outputs: list[str] = []
    threads: list[threading.Thread] = []
    save_base = Image.save_base

    def purge_meanwhile(self, *args, **kwargs):
        def other_process():
            try:
                outputs.append(purge())
            finally:
                connection.close()

        threads.append(threading.Thread(target=other_process))
        threads[-1].start()  # it may wait for this transaction's lock
        return save_base(self, *args, **kwargs)

    monkeypatch.setattr(Image, "save_base", purge_meanwhile)
    image = image_create(data=expression_image("png", size=(60, 20)), recognizer=fake_recognizer)
    threads[0].join(timeout=60)
    assert outputs
    assert "1 image(s) older than 1 day(s) deleted" in outputs[0]
    assert list(Image.objects.values_list("pk", flat=True)) == [image.pk]
    assert [p.name for p in media_files()] == [image.image.name.rsplit("/", 1)[1]]
    assert not Image.objects.filter(pk=old.pk).exists()


def test_retention_setting_is_read_from_the_environment():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.IMAGE_RETENTION_DAYS)"
    )
    environment = {
        **{k: v for k, v in os.environ.items() if k != "IMAGE_RETENTION_DAYS"},
        "PYTHONPATH": f"{root / 'src'}{os.pathsep}{root}",
        "ENV_FILE": "/nonexistent/.env",
        "DATABASE_URL": "sqlite:///:memory:",
    }
    for value, expected in (("90", "90"), ("", "None"), ("0", "None")):
        proc = subprocess.run(
            [sys.executable, "-c", code],
            env={**environment, "IMAGE_RETENTION_DAYS": value},
            capture_output=True,
            text=True,
            cwd=root,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == expected
