"""The answer serializers build their fields once per class; instances stay independent."""

from __future__ import annotations

import pytest
from rest_framework.test import APIRequestFactory

from resolver.serializers import ImageCreatedSerializer, ImageSerializer
from resolver.services import image_create
from tests.support.images import expression_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def image(fake_recognizer):
    return image_create(data=expression_image("png", size=(120, 40)), recognizer=fake_recognizer)


def _request(host: str):
    return APIRequestFactory().get("/api/images/", HTTP_HOST=host)


@pytest.mark.parametrize("serializer_class", [ImageCreatedSerializer, ImageSerializer])
def test_each_answer_is_written_for_its_own_request(image, serializer_class, settings):
    settings.ALLOWED_HOSTS = ["one.example", "two.example"]
    one = serializer_class(image, context={"request": _request("one.example")})
    two = serializer_class(image, context={"request": _request("two.example")})
    assert one.data["image"].startswith("http://one.example/media/")
    assert two.data["image"].startswith("http://two.example/media/")
    assert one.data["image"].startswith("http://one.example/")  # not rebound by the second


@pytest.mark.parametrize("serializer_class", [ImageCreatedSerializer, ImageSerializer])
def test_the_class_keeps_unbound_fields_that_every_answer_copies(image, serializer_class):
    first = serializer_class(image).fields
    second = serializer_class(image).fields
    assert list(first) == list(second)
    assert all(first[name] is not second[name] for name in first)
    built = serializer_class._built_fields[serializer_class]
    assert all(getattr(field, "parent", None) is None for field in built.values())  # unbound
    assert all(field.read_only for field in built.values())
