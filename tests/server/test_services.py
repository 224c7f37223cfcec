"""image_create stores the file and the row together, or neither.

Every test runs twice: media on the local disk, then in an S3 bucket (moto).
"""

from __future__ import annotations

import time

import pytest
from django.core.files.storage import storages
from django.db import DatabaseError, IntegrityError, connection, connections

from mathocr import InvalidImage
from mathocr.compute import solve
from resolver.models import Image
from resolver.services import image_create, image_file_name
from tests.support.images import expression_image

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("any_storage")]


@pytest.fixture
def png() -> bytes:
    return expression_image("png", size=(120, 40), text="1+2")


def test_creates_row_and_file(png, fake_recognizer, media_files):
    image = image_create(data=png, recognizer=fake_recognizer)
    assert Image.objects.get() == image
    assert image.status == "solved"
    assert (image.width, image.height, image.size) == (120, 40, len(png))
    assert image.model_version == "fake-1"
    assert [p.read_bytes() for p in media_files()] == [png]


def test_probes_the_format_when_not_given(png, fake_recognizer):
    image = image_create(data=png, recognizer=fake_recognizer)
    assert image.image.name.endswith(".png")


def test_invalid_bytes_store_nothing(fake_recognizer, media_files):
    with pytest.raises(InvalidImage):
        image_create(data=b"not an image", recognizer=fake_recognizer)
    assert Image.objects.count() == 0
    assert media_files() == []


def test_failing_recognition_stores_nothing(png, media_files):
    def explode(data: bytes, **_):
        raise RuntimeError("segmentation failed")

    with pytest.raises(RuntimeError):
        image_create(data=png, recognizer=explode)
    assert Image.objects.count() == 0
    assert media_files() == []


def _stored_within(media_files, seconds: float = 10.0) -> bool:
    """Whether a file appears in the storage within ``seconds`` (polled)."""
    deadline = time.monotonic() + seconds
    while not media_files():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_the_file_is_stored_while_the_image_is_recognised(png, media_files):
    class WaitsForTheFile:
        """Answers only once the file is in the storage: the write must not wait for it."""

        model_version = "fake-1"

        def __call__(self, data: bytes, **_):
            if not _stored_within(media_files):
                raise AssertionError("the file was not written during recognition")
            return solve(["1", "+", "2"])

    image = image_create(data=png, recognizer=WaitsForTheFile())
    assert [p.read_bytes() for p in media_files()] == [png]
    assert image.image.name.startswith("images/")
    assert image.expression == "1+2"


def test_a_file_written_during_failed_recognition_is_deleted(png, media_files):
    def explode_once_stored(data: bytes, **_):
        _stored_within(media_files)
        raise RuntimeError("segmentation failed")

    with pytest.raises(RuntimeError):
        image_create(data=png, recognizer=explode_once_stored)
    assert Image.objects.count() == 0
    assert media_files() == []


def test_failing_file_save_leaves_no_row(png, fake_recognizer, monkeypatch, media_files):
    def full_disk(self, name, content, max_length=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(type(storages["default"]), "save", full_disk)
    with pytest.raises(OSError, match="No space left on device"):
        image_create(data=png, recognizer=fake_recognizer)
    assert Image.objects.count() == 0
    assert media_files() == []


def test_failing_row_insert_leaves_no_orphan_file(png, fake_recognizer, monkeypatch, media_files):
    def broken_insert(self, *args, **kwargs):
        raise IntegrityError("simulated constraint failure")

    monkeypatch.setattr(Image, "save_base", broken_insert)
    with pytest.raises(IntegrityError):
        image_create(data=png, recognizer=fake_recognizer)
    assert Image.objects.count() == 0
    assert media_files() == []


def test_database_error_during_insert_leaves_no_orphan_file(png, fake_recognizer, media_files):
    def fail_inserts(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("INSERT"):
            raise DatabaseError("simulated: connection lost during insert")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail_inserts), pytest.raises(DatabaseError):
        image_create(data=png, recognizer=fake_recognizer)
    assert Image.objects.count() == 0
    assert media_files() == []


def test_failing_commit_leaves_no_row_and_no_file(png, fake_recognizer, monkeypatch, media_files):
    wrapper = connections["default"]

    def commit_fails():
        raise DatabaseError("simulated: commit failed")

    monkeypatch.setattr(wrapper, "commit", commit_fails)
    with pytest.raises(DatabaseError):
        image_create(data=png, recognizer=fake_recognizer)
    monkeypatch.undo()
    assert Image.objects.count() == 0
    assert media_files() == []


def test_file_names_are_random_and_safe():
    names = {image_file_name("png") for _ in range(100)}
    assert len(names) == 100
    assert all(len(n) == 36 and n.endswith(".png") and n[:32].isalnum() for n in names)
    assert image_file_name("jpeg").endswith(".jpg")


def test_deleting_a_row_deletes_its_file(png, fake_recognizer, media_files):
    image = image_create(data=png, recognizer=fake_recognizer)
    assert len(media_files()) == 1
    image.delete()
    assert media_files() == []


def test_long_expressions_and_results_are_stored_whole(png, fake_recognizer):
    from mathocr import Result, Status

    long = "9" * 2000

    def recognizer(data: bytes, **_) -> Result:
        return Result(Status.SOLVED, expression=f"{long}*{long}", result=long + "0" * 2000)

    image = image_create(data=png, recognizer=recognizer)
    image.refresh_from_db()
    assert image.expression == f"{long}*{long}"
    assert len(image.result) == 4000
