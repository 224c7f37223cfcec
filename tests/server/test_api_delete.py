"""The person who posted an image deletes it with the secret edit token it got once.

``POST /api/images/create/`` answers ``edit_token`` (once); ``DELETE /api/images/<pk>/``
with the header ``X-Edit-Token`` removes the row and its file (204). A missing or
wrong token, or an unknown pk, answers the same 403, so the answer does not tell
whether an image exists. Staff delete without a token (404 for an unknown pk).
"""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth import get_user_model

from resolver import selectors, services
from resolver.models import Image
from tests.support.images import data_url, expression_image

pytestmark = pytest.mark.django_db(transaction=True)

CREATE = "/api/images/create/"
NOT_FOUND = {"detail": "Not found.", "code": "not_found"}
REFUSED = {
    "detail": (
        "Deleting this image needs the edit token from the answer that created it "
        "(header X-Edit-Token), or a staff login."
    ),
    "code": "permission_denied",
}


def post_image(client) -> dict:
    payload = {"image": data_url(expression_image("png", size=(120, 40), text="1+2"))}
    response = client.post(CREATE, payload, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def detail(pk: int) -> str:
    return f"/api/images/{pk}/"


def test_create_returns_an_unguessable_edit_token_once_and_stores_only_its_hash(api_client):
    body = post_image(api_client)
    token = body["edit_token"]
    assert isinstance(token, str)
    assert len(token) >= 43  # 32 random bytes, base64url
    row = Image.objects.get(pk=body["pk"])
    assert token not in str(row.__dict__)
    assert row.edit_token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert post_image(api_client)["edit_token"] != token


def test_list_and_detail_never_show_the_token(api_client, admin_client_api):
    body = post_image(api_client)
    listed = admin_client_api.get("/api/images/").json()["results"][0]
    shown = admin_client_api.get(detail(body["pk"])).json()
    for answer in (listed, shown):
        assert "edit_token" not in answer
        assert "edit_token_hash" not in answer
        assert body["edit_token"] not in str(answer)


def test_delete_with_the_token_removes_row_and_file(api_client, media_files):
    body = post_image(api_client)
    assert len(media_files()) == 1
    response = api_client.delete(detail(body["pk"]), HTTP_X_EDIT_TOKEN=body["edit_token"])
    assert response.status_code == 204
    assert response.content == b""
    assert not Image.objects.filter(pk=body["pk"]).exists()
    assert media_files() == []


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_X_EDIT_TOKEN": "wrong"}, {"HTTP_X_EDIT_TOKEN": ""}],
    ids=["missing", "wrong", "empty"],
)
def test_missing_or_wrong_token_is_403_like_an_unknown_image(api_client, media_files, headers):
    body = post_image(api_client)
    response = api_client.delete(detail(body["pk"]), **headers)
    unknown = api_client.delete(detail(body["pk"] + 1000), HTTP_X_EDIT_TOKEN=body["edit_token"])
    assert (response.status_code, response.json()) == (403, REFUSED)
    assert (unknown.status_code, unknown.json()) == (403, REFUSED)
    assert Image.objects.filter(pk=body["pk"]).exists()
    assert len(media_files()) == 1


def test_one_images_token_does_not_delete_another(api_client):
    first, second = post_image(api_client), post_image(api_client)
    response = api_client.delete(detail(second["pk"]), HTTP_X_EDIT_TOKEN=first["edit_token"])
    assert response.status_code == 403
    assert Image.objects.count() == 2


def test_deleted_image_cannot_be_deleted_twice(api_client):
    body = post_image(api_client)
    headers = {"HTTP_X_EDIT_TOKEN": body["edit_token"]}
    assert api_client.delete(detail(body["pk"]), **headers).status_code == 204
    assert api_client.delete(detail(body["pk"]), **headers).status_code == 403


def test_staff_delete_without_a_token(api_client, admin_client_api, media_files):
    body = post_image(api_client)
    assert admin_client_api.delete(detail(body["pk"])).status_code == 204
    assert Image.objects.count() == 0
    assert media_files() == []
    response = admin_client_api.delete(detail(body["pk"]))
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_a_user_who_is_not_staff_needs_the_token(api_client):
    body = post_image(api_client)
    user = get_user_model().objects.create_user("bob", password="s3cret-passw0rd")
    api_client.force_authenticate(user)
    assert api_client.delete(detail(body["pk"])).status_code == 403
    response = api_client.delete(detail(body["pk"]), HTTP_X_EDIT_TOKEN=body["edit_token"])
    assert response.status_code == 204


def test_delete_with_the_token_needs_no_csrf_token(api_client, media_files):
    from django.test import Client

    body = post_image(api_client)
    client = Client(enforce_csrf_checks=True)
    response = client.delete(detail(body["pk"]), HTTP_X_EDIT_TOKEN=body["edit_token"])
    assert response.status_code == 204


def test_token_helpers_are_one_place_for_every_endpoint(fake_recognizer):
    image = services.image_create(data=expression_image("png"), recognizer=fake_recognizer)
    token = image.edit_token
    assert selectors.edit_token_matches(image=image, token=token)
    assert not selectors.edit_token_matches(image=image, token=token + "x")
    assert not selectors.edit_token_matches(image=image, token="")
    assert not selectors.edit_token_matches(image=image, token=None)
    assert selectors.image_for_edit(pk=image.pk, token=token) == image
    assert selectors.image_for_edit(pk=image.pk, token="nope") is None
    assert selectors.image_for_edit(pk=image.pk + 1, token=token) is None
    legacy = Image.objects.filter(pk=image.pk)
    legacy.update(edit_token_hash="")  # rows stored before tokens existed
    assert selectors.image_for_edit(pk=image.pk, token="") is None
