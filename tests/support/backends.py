"""The shared services of a multi-host deployment, for tests: Redis, PostgreSQL, S3 (moto).

Each helper skips the calling test with a clear reason when its service is missing:

* :func:`redis_cache_url` -- the Redis server on ``127.0.0.1:6379`` (``TEST_REDIS_URL``),
  with a key prefix of its own, whose keys are removed afterwards;
* :func:`postgres_database` -- a fresh database on the PostgreSQL server at
  ``127.0.0.1:5432`` (``TEST_POSTGRES_URL``), dropped afterwards;
* :func:`moto_server` -- moto's S3 server mode on a free loopback port, and
  :func:`s3_bucket` -- a fresh bucket on it, with the settings that select it.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.support.liveserver import free_port, stop

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
#: Credentials moto accepts (any); the region the bucket is created in.
S3_ACCESS_KEY, S3_SECRET_KEY, S3_REGION = "testing", "testing", "us-east-1"


def _redis_client():
    redis = pytest.importorskip("redis", reason="the redis package is not installed")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis server at {REDIS_URL} ({exc}): .ci/run starts one")
    return client


@contextmanager
def redis_cache_url() -> Iterator[str]:
    """A ``CACHE_URL`` for the Redis server, with a key prefix no other test uses."""
    client = _redis_client()
    prefix = f"test-{secrets.token_hex(6)}"
    try:
        yield f"{REDIS_URL}?key_prefix={prefix}"
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (its ``DATABASE_URL``), dropped afterwards."""
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed")
    try:
        admin = psycopg.connect(POSTGRES_URL.replace("postgres://", "postgresql://", 1),
                                autocommit=True, connect_timeout=3)  # fmt: skip
    except psycopg.Error as exc:
        pytest.skip(f"no PostgreSQL server at {POSTGRES_URL} ({exc}): .ci/run starts one")
    name = f"mathocr_test_{secrets.token_hex(6)}"
    parts = urlsplit(POSTGRES_URL)
    url = urlunsplit(parts._replace(path=f"/{name}"))
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield url
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def moto_server(log_dir: Path) -> Iterator[str]:
    """moto's S3-compatible server on a free loopback port; yields its endpoint URL."""
    pytest.importorskip("moto.server", reason="moto[server] is not installed (test extra)")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = Path(log_dir) / "moto.log"
    environment = {**os.environ, "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
                   "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY}  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"moto server exited:\n{log.read_text(errors='replace')}")
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=2).close()
                break
            except urllib.error.HTTPError:
                break  # answering
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start within 60 s") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        stop(process, timeout=10)


@dataclass(frozen=True)
class Bucket:
    """A bucket on the moto server and the environment that makes the app use it."""

    endpoint: str
    name: str

    @property
    def env(self) -> dict[str, str]:
        """Environment variables that select this bucket (``STORAGE_BACKEND=s3``)."""
        return {
            "STORAGE_BACKEND": "s3",
            "AWS_STORAGE_BUCKET_NAME": self.name,
            "AWS_S3_ENDPOINT_URL": self.endpoint,
            "AWS_S3_REGION_NAME": S3_REGION,
            "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
        }

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=S3_REGION,
            aws_access_key_id=S3_ACCESS_KEY,
            aws_secret_access_key=S3_SECRET_KEY,
        )

    def object_keys(self) -> list[str]:
        """Every object key in the bucket, sorted."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client().get_object(Bucket=self.name, Key=key)["Body"].read()


def s3_bucket(endpoint: str) -> Bucket:
    """A new, empty, private bucket on the moto server at ``endpoint``."""
    bucket = Bucket(endpoint, f"mathocr-test-{secrets.token_hex(6)}")
    bucket.client().create_bucket(Bucket=bucket.name)
    return bucket
