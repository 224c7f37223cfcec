"""The web page says what is kept, for how long, and how to delete it."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def note(client) -> str:
    html = client.get("/").content.decode()
    match = re.search(r'<section[^>]*id="privacy".*?</section>', html, re.S)
    assert match, "no privacy note on the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0)))


def test_the_page_has_a_privacy_note_with_a_heading(client):
    html = client.get("/").content.decode()
    assert re.search(r'<section[^>]*aria-labelledby="privacy-title"', html)
    assert re.search(r'<h2 id="privacy-title">Privacy</h2>', html)


def test_it_says_what_is_kept_who_sees_it_and_how_to_delete_it(client, settings):
    settings.IMAGE_RETENTION_DAYS = None
    text = note(client)
    assert "image you send" in text
    assert "what was read in it" in text
    assert "until it is deleted" in text
    assert "administrators" in text
    assert "Delete this image" in text
    assert "edit_token" in text


def test_it_says_how_long_with_a_retention(client, settings):
    settings.IMAGE_RETENTION_DAYS = 30
    text = note(client)
    assert "for 30 days" in text
    assert "until it is deleted" not in text


def test_the_delete_button_is_there_and_hidden_until_an_answer(client):
    html = client.get("/").content.decode()
    assert re.search(r'<div id="forget"[^>]*hidden', html)
    assert 'id="delete-image"' in html
    assert 'id="delete-status"' in html
