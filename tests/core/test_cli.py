"""The ``mathocr recognize`` command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import mathocr
from mathocr import cli
from tests.core.drawing import blank, draw_text, encode


def test_json_output_has_one_record_per_image(tmp_path, tiny_model, capsys):
    a = tmp_path / "a.png"
    a.write_bytes(encode(draw_text("1+2")))
    b = tmp_path / "b.png"
    b.write_bytes(encode(blank()))
    status = cli.main(["recognize", str(a), str(b), "--json", "--model", str(tiny_model)])
    assert status == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["path"] for r in records] == [str(a), str(b)]
    assert records[1]["status"] == "unreadable"
    assert {"expression", "result", "confidence", "symbols", "timings"} <= set(records[0])


def test_text_output_and_exit_status_for_a_bad_file(tmp_path, tiny_model, capsys):
    good = tmp_path / "good.png"
    good.write_bytes(encode(blank()))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"%PDF-1.4")
    status = cli.main(["recognize", str(good), str(bad), "--model", str(tiny_model)])
    out = capsys.readouterr()
    assert status == 1
    assert "good.png: unreadable" in out.out
    assert "bad.png: error unsupported_format" in out.err


def test_missing_file_is_reported_not_raised(tmp_path, tiny_model, capsys):
    status = cli.main(
        ["recognize", str(tmp_path / "nope.png"), "--json", "--model", str(tiny_model)]
    )
    assert status == 1
    assert json.loads(capsys.readouterr().out)[0]["error"] == "unreadable_file"


def test_bad_model_exits_2(tmp_path, capsys):
    image = tmp_path / "a.png"
    image.write_bytes(encode(blank()))
    assert cli.main(["recognize", str(image), "--model", str(tmp_path / "m.onnx")]) == 2
    assert "mathocr:" in capsys.readouterr().err


def test_python_dash_m_runs_the_cli(tmp_path, tiny_model):
    image = tmp_path / "a.png"
    image.write_bytes(encode(blank()))
    proc = subprocess.run(
        [sys.executable, "-m", "mathocr", "recognize", str(image), "--model", str(tiny_model)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "unreadable" in proc.stdout


def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"mathocr {mathocr.__version__}"
