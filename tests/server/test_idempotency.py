"""``Idempotency-Key`` on create: a retry returns the first answer and stores nothing twice.

The first request answers 201; a retry with the same key and the same image within
``IDEMPOTENCY_KEY_HOURS`` answers 200 with the same body (same pk, same edit token)
and the header ``Idempotent-Replayed: true``. The same key with another image is 422
``idempotency_key_reused``. A database unique constraint on the key makes two
concurrent retries (two hosts) store one row.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from resolver import services
from resolver.models import Image
from tests.support.images import data_url, expression_image

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/images/create/"
PNG = expression_image("png", size=(120, 40), text="1+2")
OTHER = expression_image("png", size=(120, 40), text="3+4")


def post(client, image: bytes = PNG, key: str | None = "key-1", **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(URL, {"image": data_url(image)}, format="json", **headers, **extra)


def test_a_retry_with_the_same_key_returns_the_first_answer(
    api_client, fake_recognizer, media_files
):
    first = post(api_client)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    again = post(api_client)
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Image.objects.count() == 1
    assert len(media_files()) == 1
    assert len(fake_recognizer.calls) == 1  # not recognised twice


def test_the_replayed_edit_token_deletes_the_image(api_client):
    first = post(api_client).json()
    token = post(api_client).json()["edit_token"]
    assert token == first["edit_token"]
    response = api_client.delete(f"/api/images/{first['pk']}/", HTTP_X_EDIT_TOKEN=token)
    assert response.status_code == 204


def test_the_same_image_sent_another_way_is_the_same_request(api_client):
    first = post(api_client)
    upload = SimpleUploadedFile("photo.png", PNG, content_type="image/png")
    headers = {"HTTP_IDEMPOTENCY_KEY": "key-1"}
    again = api_client.post(URL, {"image": upload}, format="multipart", **headers)
    assert (again.status_code, again.json()["pk"]) == (200, first.json()["pk"])


def test_the_same_key_with_another_image_is_422(api_client, media_files):
    post(api_client)
    response = post(api_client, OTHER)
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert "different image" in response.json()["detail"]
    assert Image.objects.count() == 1
    assert len(media_files()) == 1


def test_without_a_key_or_with_other_keys_each_request_is_stored(api_client):
    assert post(api_client, key=None).status_code == 201
    assert post(api_client, key=None).status_code == 201
    assert post(api_client, key="a").status_code == 201
    assert post(api_client, key="b").status_code == 201
    assert Image.objects.count() == 4


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "two words", "tab\there"])
def test_a_malformed_key_is_400_and_nothing_is_stored(api_client, media_files, key):
    response = post(api_client, key=key)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_idempotency_key"
    assert Image.objects.count() == 0
    assert media_files() == []


def test_a_key_is_forgotten_after_the_window(api_client, settings):
    settings.IDEMPOTENCY_KEY_HOURS = 24
    first = post(api_client).json()
    Image.objects.update(timestamp=timezone.now() - timedelta(hours=25))
    again = post(api_client, OTHER)
    assert again.status_code == 201
    assert again.json()["pk"] != first["pk"]
    assert Image.objects.count() == 2
    assert Image.objects.get(pk=first["pk"]).idempotency_key is None


def test_the_key_is_stored_hashed():
    post_key = "client-key-7f3a"
    assert services.idempotency_key_hash(post_key) != post_key
    assert len(services.idempotency_key_hash(post_key)) == 64


class Racing:
    """A recogniser during which another host's request with the same key commits."""

    model_version = "fake-1"

    def __init__(self, fake, other_image: bytes) -> None:
        self.fake, self.other_image, self.winner = fake, other_image, None

    def __call__(self, data: bytes, *, decoded=None):
        if self.winner is None:
            self.winner = services.image_create(
                data=self.other_image, idempotency_key="race", recognizer=self.fake
            )
        return self.fake(data)


def test_a_concurrent_retry_that_loses_the_race_returns_the_winners_row(
    fake_recognizer, media_files
):
    """Both requests pass the look-up; the unique constraint lets one insert."""
    racing = Racing(fake_recognizer, PNG)
    loser = services.image_create(data=PNG, idempotency_key="race", recognizer=racing)
    assert loser.pk == racing.winner.pk
    assert loser.replayed is True
    assert racing.winner.replayed is False
    assert loser.edit_token == racing.winner.edit_token
    assert Image.objects.count() == 1
    assert len(media_files()) == 1  # the loser's file was deleted


def test_a_concurrent_retry_with_another_image_is_refused(fake_recognizer, media_files):
    racing = Racing(fake_recognizer, OTHER)
    with pytest.raises(services.IdempotencyKeyReused):
        services.image_create(data=PNG, idempotency_key="race", recognizer=racing)
    assert Image.objects.count() == 1
    assert len(media_files()) == 1
