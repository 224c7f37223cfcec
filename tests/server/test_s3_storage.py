"""Media in an S3 bucket (django-storages, ``STORAGE_BACKEND=s3``), against moto's server.

The bucket stays private: the API answers a presigned URL (valid
``AWS_QUERYSTRING_EXPIRE`` seconds) for the image, which works for whoever holds the
answer, while the object's plain URL is refused. Files go with their rows. The
atomic-save tests of ``test_services.py`` run against S3 as well.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.utils import timezone

from resolver.models import Image
from resolver.services import image_create
from tests.support.images import data_url, expression_image

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
PNG = expression_image("png", size=(120, 40), text="1+2")


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def create(api_client) -> dict:
    response = api_client.post("/api/images/create/", {"image": data_url(PNG)}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_an_upload_is_stored_in_the_bucket_and_served_by_a_presigned_url(api_client, s3_media):
    body = create(api_client)
    row = Image.objects.get(pk=body["pk"])
    assert s3_media.object_keys() == [row.image.name]
    assert s3_media.read(row.image.name) == PNG
    url = body["image"]
    assert url.startswith(f"{s3_media.endpoint}/{s3_media.name}/images/")
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["3600"]
    assert "X-Amz-Signature" in query
    assert fetch(url) == (200, PNG)
    assert fetch(url.split("?", 1)[0])[0] == 403  # the bucket is not public


def test_objects_are_not_public(api_client, s3_media):
    body = create(api_client)
    key = Image.objects.get(pk=body["pk"]).image.name
    grants = s3_media.client().get_object_acl(Bucket=s3_media.name, Key=key)["Grants"]
    assert not [g for g in grants if g["Grantee"].get("URI", "").endswith("/AllUsers")]


def test_staff_see_working_urls_in_list_and_detail(api_client, admin_client_api, s3_media):
    body = create(api_client)
    listed = admin_client_api.get("/api/images/").json()["results"][0]["image"]
    shown = admin_client_api.get(f"/api/images/{body['pk']}/").json()["image"]
    assert fetch(listed) == (200, PNG)
    assert fetch(shown) == (200, PNG)


def test_deleting_with_the_token_removes_the_object(api_client, s3_media):
    body = create(api_client)
    response = api_client.delete(f"/api/images/{body['pk']}/", HTTP_X_EDIT_TOKEN=body["edit_token"])
    assert response.status_code == 204
    assert s3_media.object_keys() == []
    assert fetch(body["image"])[0] == 404


def test_deleting_in_the_admin_removes_the_object(api_client, admin_client, s3_media):
    body = create(api_client)
    response = admin_client.post(f"/admin/resolver/image/{body['pk']}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert s3_media.object_keys() == []


def test_purge_images_removes_old_objects(s3_media, fake_recognizer):
    old = image_create(data=PNG, recognizer=fake_recognizer)
    new = image_create(data=PNG, recognizer=fake_recognizer)
    Image.objects.filter(pk=old.pk).update(timestamp=timezone.now() - timedelta(days=40))
    call_command("purge_images", "--days", "30", stdout=io.StringIO())
    assert s3_media.object_keys() == [new.image.name]


def test_prune_media_lists_the_bucket_and_keeps_young_and_referenced_files(
    s3_media, fake_recognizer, monkeypatch
):
    from datetime import datetime

    from resolver.management.commands import prune_media

    kept = image_create(data=PNG, recognizer=fake_recognizer)
    client = s3_media.client()
    client.put_object(Bucket=s3_media.name, Key="images/2020/01/01/" + "0" * 32 + ".png", Body=b"x")

    out = io.StringIO()
    call_command("prune_media", "--min-age", "10", stdout=out)  # everything is young
    assert "0 orphaned file(s) deleted" in out.getvalue()
    assert len(s3_media.object_keys()) == 2

    class Later(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(hours=2)

    monkeypatch.setattr(prune_media, "datetime", Later)
    out = io.StringIO()
    call_command("prune_media", stdout=out)
    assert "1 orphaned file(s) deleted" in out.getvalue()
    assert s3_media.object_keys() == [kept.image.name]


def _storage_from_env(**env: str) -> subprocess.CompletedProcess:
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "d = s.STORAGES['default']; o = d.get('OPTIONS', {});"
        "print(d['BACKEND'], o.get('bucket_name'), o.get('endpoint_url'), o.get('default_acl'),"
        " o.get('querystring_auth'), o.get('querystring_expire'))"
    )
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_") and k not in ("STORAGE_BACKEND", "DATABASE_URL")
    }
    environment.update(
        {
            "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
            "ENV_FILE": "/nonexistent/.env",
            "DATABASE_URL": "sqlite:///:memory:",
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, cwd=ROOT
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "django.core.files.storage.FileSystemStorage None None None None None"),
        (
            {"STORAGE_BACKEND": "s3", "AWS_STORAGE_BUCKET_NAME": "photos"},
            "storages.backends.s3.S3Storage photos None None True 3600",
        ),
        (
            {
                "AWS_STORAGE_BUCKET_NAME": "photos",
                "AWS_S3_ENDPOINT_URL": "http://minio:9000",
                "AWS_QUERYSTRING_EXPIRE": "600",
            },
            "storages.backends.s3.S3Storage photos http://minio:9000 None True 600",
        ),
    ],
    ids=["default", "s3", "bucket-selects-s3"],
)
def test_the_environment_selects_the_storage(env, expected):
    proc = _storage_from_env(**env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == expected


@pytest.mark.parametrize(
    "env", [{"STORAGE_BACKEND": "s3"}, {"STORAGE_BACKEND": "ftp"}], ids=["no-bucket", "unknown"]
)
def test_a_wrong_storage_setting_stops_the_start(env):
    proc = _storage_from_env(**env)
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr
    assert "STORAGE_BACKEND" in proc.stderr
