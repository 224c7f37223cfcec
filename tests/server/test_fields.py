"""Base64ImageField on its own: parsing rules, without HTTP or a database."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from resolver.fields import Base64ImageField, DecodedImage, _without_whitespace
from tests.support.images import expression_image

PNG = expression_image("png", size=(80, 30), text="7")
B64 = base64.b64encode(PNG).decode()


def parse(value, **kwargs) -> DecodedImage:
    return Base64ImageField(**kwargs).run_validation(value)


def code_of(value, **kwargs) -> str:
    with pytest.raises(ValidationError) as info:
        parse(value, **kwargs)
    return info.value.get_codes()[0]


@pytest.mark.parametrize(
    "value",
    [
        f"data:image/png;base64,{B64}",
        f"DATA:IMAGE/PNG;BASE64,{B64}",
        f"data:image/png;charset=utf-8;base64,{B64}",
        f"data:;base64,{B64}",
        f"data:image/jpeg;base64,{B64}",  # the declared type is not trusted
        B64,
        B64.rstrip("="),
        base64.urlsafe_b64encode(PNG).decode(),
        "\n".join(B64[i : i + 64] for i in range(0, len(B64), 64)),
    ],
    ids=[
        "data-url", "upper-case", "extra-parameter", "no-media-type", "wrong-type",
        "bare", "unpadded", "url-safe", "line-wrapped",
    ],
)  # fmt: skip
def test_accepted_spellings_decode_to_the_same_bytes(value):
    decoded = parse(value)
    assert decoded.data == PNG
    assert (decoded.format, decoded.width, decoded.height) == ("png", 80, 30)
    assert decoded.decoded.image.shape == (30, 80, 3)


def test_spaces_become_plus_signs_only_when_no_plus_sign_is_left():
    assert "+" in B64
    assert parse(B64.replace("+", " ")).data == PNG
    wrapped_with_spaces = " ".join(B64[i : i + 64] for i in range(0, len(B64), 64))
    assert parse(wrapped_with_spaces).data == PNG


def test_size_is_refused_before_decoding():
    huge = "A" * 4_000_000
    assert code_of(huge, max_bytes=1_000_000) == "too_large"


def test_limits_given_to_the_field_win_over_settings():
    assert code_of(B64, max_pixels=100) == "too_many_pixels"
    assert code_of(B64, max_bytes=10) == "too_large"


def test_messages_name_the_limits():
    with pytest.raises(ValidationError) as info:
        parse(B64, max_bytes=10)
    assert "10 bytes" in str(info.value.detail[0])


def test_output_is_the_absolute_url_of_the_file():
    class File:
        url = "/media/images/2026/01/01/abc.png"

    class Request:
        def build_absolute_uri(self, url):
            return "https://ocr.example" + url

    field = Base64ImageField()
    field._context = {"request": Request()}
    assert field.to_representation(File()) == "https://ocr.example/media/images/2026/01/01/abc.png"
    assert field.to_representation(None) is None


def _heif(brand: bytes) -> bytes:
    """The start of an ISO base media file as an iPhone writes it (``ftyp`` box first)."""
    return b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x00\x00mif1heic" + b"\x00" * 64


@pytest.mark.parametrize("brand", [b"heic", b"heix", b"mif1", b"hevc"])
def test_heic_photo_is_refused_by_name_with_advice(brand):
    with pytest.raises(ValidationError) as info:
        parse(base64.b64encode(_heif(brand)).decode())
    assert info.value.get_codes() == ["unsupported_type"]
    message = str(info.value.detail[0])
    assert "HEIC/HEIF" in message
    assert "(unknown)" not in message
    assert "Most Compatible" in message
    assert "JPEG" in message


def test_heic_declared_in_a_data_url_gets_the_same_advice():
    value = "data:image/heic;base64," + base64.b64encode(_heif(b"heic")).decode()
    with pytest.raises(ValidationError) as info:
        parse(value)
    assert info.value.get_codes() == ["unsupported_type"]
    assert "Most Compatible" in str(info.value.detail[0])


@given(st.text(alphabet=st.characters(max_codepoint=0x2100), max_size=60))
def test_whitespace_is_removed_exactly_as_the_regex_removes_it(text):
    assert _without_whitespace(text) == re.sub(r"\s+", "", text)
