"""The per-process recogniser: loaded once, warmed up, failures reported not raised."""

from __future__ import annotations

import threading
import time

from mathocr import ModelError
from mathocr.decode import probe
from resolver import recognition


def test_warm_up_loads_and_exercises_the_recognizer(fake_recognizer):
    assert recognition.warm_up() is True
    assert len(fake_recognizer.calls) == 1
    assert probe(fake_recognizer.calls[0]).format == "png"


def test_warm_up_without_exercise_only_loads(fake_recognizer):
    assert recognition.warm_up(exercise=False) is True
    assert fake_recognizer.calls == []


def test_warm_up_reports_a_missing_model_without_raising(monkeypatch, caplog):
    def broken():
        raise ModelError("no model")

    monkeypatch.setattr(recognition, "get_recognizer", broken)
    assert recognition.warm_up() is False
    assert "no model" in caplog.text


def test_failed_rehearsal_does_not_fail_the_warm_up(monkeypatch, caplog):
    def crash(data: bytes):
        raise RuntimeError("boom")

    monkeypatch.setattr(recognition, "_recognizer", crash)
    assert recognition.warm_up() is True
    assert "warm-up recognition failed" in caplog.text


def test_model_is_loaded_once_even_under_concurrent_first_use(monkeypatch, settings):
    loads = []

    class Counting:
        model_version = "count"

        def __init__(self, *args, **kwargs):
            time.sleep(0.05)  # a slow load: every thread arrives while it runs
            loads.append(kwargs)

    import mathocr

    monkeypatch.setattr(recognition, "_recognizer", None)
    monkeypatch.setattr(mathocr, "Recognizer", Counting, raising=False)
    settings.IMAGE_MAX_PIXELS = 1234
    got = []
    threads = [
        threading.Thread(target=lambda: got.append(recognition.get_recognizer())) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1
    assert loads[0]["max_pixels"] == 1234
    assert len({id(r) for r in got}) == 1


def test_reset_forgets_the_recognizer(fake_recognizer):
    assert recognition.is_loaded()
    recognition.reset()
    assert not recognition.is_loaded()
