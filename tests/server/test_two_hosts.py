"""Two hosts: two gunicorn servers sharing one PostgreSQL database, Redis and S3 bucket.

The documented multi-host layout on one machine: two production servers on two
loopback ports (as two stateless app hosts would run), a fresh PostgreSQL database
created for the test and dropped after, a Redis key prefix of its own, a moto bucket.
20 clients post 3 images each, alternating between the servers, each with an
``Idempotency-Key``; each client also sends its first request to both servers at
once and retries it later on the other server, as a client whose answer was lost
would. Every image must be stored exactly once (row and object), and both servers
must see the same rows.
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.backends import moto_server, postgres_database, redis_cache_url, s3_bucket
from tests.support.images import data_url, expression_image
from tests.support.liveserver import ROOT, serve, server_env

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

CLIENTS, IMAGES_PER_CLIENT = 20, 3
ADMIN = ("admin", secrets.token_urlsafe(12))
AUTH = "Basic " + base64.b64encode(f"{ADMIN[0]}:{ADMIN[1]}".encode()).decode()


def request(url: str, *, body: dict | None = None, headers: dict | None = None, method=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", **(headers or {})}
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=120) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


def create(base_url: str, image: bytes, key: str) -> tuple[int, dict]:
    return request(
        base_url + "api/images/create/",
        body={"image": data_url(image, "jpeg")},
        headers={"Idempotency-Key": key},
    )


def create_admin(env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "createsuperuser", "--noinput"],
        cwd=ROOT,
        env={
            **env,
            "DJANGO_SUPERUSER_USERNAME": ADMIN[0],
            "DJANGO_SUPERUSER_PASSWORD": ADMIN[1],
            "DJANGO_SUPERUSER_EMAIL": "admin@example.org",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def listed(base_url: str) -> list[dict]:
    items, url = [], base_url + "api/images/?page_size=100"
    while url:
        status, page = request(url, headers={"Authorization": AUTH})
        assert status == 200, page
        items += page["results"]
        url = page["next"]
    return items


def client_run(index: int, hosts: list[str]) -> list[dict]:
    """One client: its first image to both hosts at once, then the rest alternating,
    then a retry of the first on the other host. Returns one record per request."""
    images = [
        expression_image("jpeg", size=(400, 100), text=f"{index}+{n}=", seed=index * 10 + n)
        for n in range(IMAGES_PER_CLIENT)
    ]
    keys = [str(uuid.uuid4()) for _ in images]
    records = []

    def send(host: int, n: int, kind: str) -> dict:
        started = time.monotonic()
        status, body = create(hosts[host], images[n], keys[n])
        return {"client": index, "image": n, "host": host, "kind": kind, "status": status,
                "body": body, "key": keys[n], "seconds": time.monotonic() - started}  # fmt: skip

    first = index % 2
    with ThreadPoolExecutor(2) as both:  # the same request to both hosts at the same time
        records += list(both.map(lambda host: send(host, 0, "simultaneous"), (first, 1 - first)))
    for n in range(1, IMAGES_PER_CLIENT):
        records.append(send((first + n) % 2, n, "new"))
    records.append(send(1 - first, 0, "retry"))
    return records


def test_two_hosts_store_every_image_once(tmp_path):
    with (
        postgres_database() as database_url,
        redis_cache_url() as cache_url,
        moto_server(tmp_path) as endpoint,
    ):
        bucket = s3_bucket(endpoint)
        shared = {
            "DATABASE_URL": database_url,
            "CACHE_URL": cache_url,
            "SECRET_KEY": secrets.token_urlsafe(50),  # one secret for every host
            **bucket.env,
        }
        with (
            serve(tmp_path / "host-a", workers=2, env=shared) as host_a,
            serve(tmp_path / "host-b", workers=2, env=shared) as host_b,
        ):
            hosts = [host_a, host_b]
            create_admin(server_env(tmp_path / "host-a", shared))
            started = time.monotonic()
            with ThreadPoolExecutor(CLIENTS) as pool:
                runs = list(pool.map(lambda i: client_run(i, hosts), range(CLIENTS)))
            elapsed = time.monotonic() - started
            records = [record for run in runs for record in run]
            on_a, on_b = listed(host_a), listed(host_b)

            # Deleting through one host is seen by the other.
            victim = next(r["body"] for r in records if r["status"] == 201)
            status, _ = request(
                f"{host_a}api/images/{victim['pk']}/",
                headers={"X-Edit-Token": victim["edit_token"]},
                method="DELETE",
            )
            assert status == 204
            seen_by_b, _ = request(
                f"{host_b}api/images/{victim['pk']}/", headers={"Authorization": AUTH}
            )
            assert seen_by_b == 404
            objects_after_delete = bucket.object_keys()

        statuses = Counter((r["kind"], r["status"]) for r in records)
        per_host = Counter(r["host"] for r in records)
        answers = dict(sorted(statuses.items()))
        print(
            f"\ntwo hosts: {len(records)} requests from {CLIENTS} clients in {elapsed:.1f} s "
            f"(host A {per_host[0]}, host B {per_host[1]}); answers {answers}; rows seen by "
            f"A {len(on_a)}, by B {len(on_b)}; objects {len(objects_after_delete) + 1}"
        )
        assert all(r["status"] in (200, 201) for r in records), [
            (r["kind"], r["status"], r["body"]) for r in records if r["status"] not in (200, 201)
        ]
        by_key: dict[str, set[int]] = {}
        for r in records:
            by_key.setdefault(r["key"], set()).add(r["body"]["pk"])
        assert len(by_key) == CLIENTS * IMAGES_PER_CLIENT
        assert all(len(pks) == 1 for pks in by_key.values())  # one row per key, every answer
        assert statuses[("simultaneous", 201)] == CLIENTS  # one of each pair stored it
        assert statuses[("simultaneous", 200)] == CLIENTS  # the other replayed it
        assert statuses[("new", 201)] == CLIENTS * (IMAGES_PER_CLIENT - 1)
        assert statuses[("retry", 200)] == CLIENTS
        for r in records:  # a replay gives the same edit token as the first answer
            first = next(o for o in records if o["key"] == r["key"] and o["status"] == 201)
            assert r["body"]["edit_token"] == first["body"]["edit_token"]

        pks = {pk for pks in by_key.values() for pk in pks}
        assert sorted(item["pk"] for item in on_a) == sorted(pks)  # none lost, none twice
        assert sorted(item["pk"] for item in on_b) == sorted(pks)
        names = {urllib.request.urlparse(item["image"]).path.split("/", 2)[2] for item in on_a}
        stored = set(objects_after_delete)
        victim_name = next(n for n in names if n not in stored)
        assert stored | {victim_name} == names  # no object without a row, none missing
        image = next(r for r in records if r["status"] == 201 and r["body"]["pk"] != victim["pk"])
        with urllib.request.urlopen(image["body"]["image"], timeout=30) as response:
            assert response.status == 200  # the presigned URL from either host works
