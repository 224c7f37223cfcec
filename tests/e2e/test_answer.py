"""The answer area, end to end: corrections, steps, history, and the page on a phone.

The readings come as in ``test_page``: held-out CROHME writers' pen strokes replayed on
the canvas and read by the real server with the shipped model (``data``), or a canned
answer in the API's shape where the point is how the page shows it. Corrections of a
real reading go to the real correction endpoint with the edit token the page kept.
Every test asserts the reading it expects, and runs axe-core after each state it
reaches; axe is served from the site's own origin, so the page's strict
Content-Security-Policy stays on (the ``page`` fixture fails on anything it refuses).
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.e2e.test_page import (
    CANNED,
    DRAWN,
    assert_page_reads,
    assert_page_shows,
    assert_read_right,
    draw,
    encode,
    evaluate,
    expression,
    sent_image,
    shown,
    strokes_in,
    submit,
    useful,
)

pytestmark = pytest.mark.e2e

API = "/api/images/create/"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_URL = "__e2e__/axe.min.js"  # answered by the test itself: same origin, not inline
HISTORY_KEY = "mathocr.history.v1"
TOKEN = "kD0c2jQ0y0l7m3mX5uQ2bq1Jt9J4Yq8m3Rk3Pz6Xh2E"

#: A canned reading of ``12+7*3`` with a symbol at 0 % whose likeliest alternative is
#: ``reject``, alternatives below 1 %, and an answer confidence of 100 %.
UNSURE = {
    **CANNED,
    "pk": 7,
    "confidence": 1.0,
    "edit_token": TOKEN,
    "symbols": [
        {**CANNED["symbols"][0], "alternatives": [{"symbol": "reject", "confidence": 0.005},
                                                  {"symbol": "7", "confidence": 0.004}]},
        CANNED["symbols"][1],
        CANNED["symbols"][2],
        {**CANNED["symbols"][3], "confidence": 0.0, "alternatives": [
            {"symbol": "reject", "confidence": 0.6}, {"symbol": "1", "confidence": 0.35},
            {"symbol": "/", "confidence": 0.04}, {"symbol": "2", "confidence": 0.006}]},
        CANNED["symbols"][4],
        CANNED["symbols"][5],
    ],
    "steps": [r"12 + 7 \times 3", "12 + 21", "33"],
}  # fmt: skip
#: The correction endpoint's answer once symbol 3 of ``UNSURE`` is a ``1``.
UNSURE_CORRECTED = {
    **{k: v for k, v in UNSURE.items() if k != "edit_token"},
    "corrected_expression": "12+1*3",
    "corrected_symbols": [{"index": 3, "symbol": "1"}],
    "corrected_at": "2026-12-01T12:00:00Z",
    "correction": {
        "status": "solved", "expression": "12+1*3", "latex": r"12 + 1 \times 3",
        "result": "15", "result_decimal": "15", "verdict": None,
        "computations": [{"name": "Expression", "result": r"12 + 1 \times 3"},
                         {"name": "Result", "result": "15"}],
        "steps": [r"12 + 1 \times 3", "12 + 3", "15"], "error": None,
        "message": "12+1*3 = 15",
    },
}  # fmt: skip

#: How each viewport's drawn expression is corrected: a symbol typed into its chip's
#: editor (index, symbol, what the page then reads), then the whole expression edited
#: as text (the text, the symbol changes the page works out, what it then reads).
CORRECTIONS = {
    "desktop": (  # 14+61=75
        (0, "2", "24+61=75", "✗ False"),
        ("24+51=75", [{"index": 0, "symbol": "2"}, {"index": 3, "symbol": "5"}], "✓ True"),
    ),
    "phone": (  # 65+28+151
        (0, "5", "55+28+151", "= 234"),
        ("55+28+15", [{"index": 0, "symbol": "5"}, {"index": 8, "symbol": "reject"}], "= 98"),
    ),
}


# --- helpers --------------------------------------------------------------------------


def check_axe(page, state: str) -> None:
    """axe-core finds no WCAG 2.x A/AA or best-practice violation in ``state``."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        origin = page.evaluate("location.origin")
        page.add_script_tag(url=f"{origin}/{AXE_URL}")
    violations = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: ["wcag2a", "wcag2aa", "wcag21aa",
                                                       "best-practice"]});
            return r.violations.map((v) => ({id: v.id, impact: v.impact,
                nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5)}));
        }"""
    )
    assert violations == [], f"axe-core, {state}: {violations}"


@pytest.fixture
def site(page):
    """``page`` with axe-core served from the site's origin (for :func:`check_axe`)."""
    page.route(
        f"**/{AXE_URL}",
        lambda route: route.fulfill(path=str(AXE), content_type="text/javascript"),
    )
    return page


def tap(page, selector: str, viewport: str) -> None:
    """A finger's tap on a phone, a click on a desktop."""
    if viewport == "phone":
        page.locator(selector).tap()
    else:
        page.locator(selector).click()


def draw_expression(page, dev_expressions, path: str, reading: str, viewport: str):
    """Replay a held-out writer's ``reading`` on the pad; returns the strokes in CSS pixels
    of the pad (its top left corner at 0, 0)."""
    expr = expression(dev_expressions, path)
    assert expr.ascii == reading  # the truth of the archive
    canvas = page.locator("#pad")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    strokes = strokes_in(expr, box)
    draw(page, strokes, touch=viewport == "phone")
    return [s - (box["x"], box["y"]) for s in strokes]


def solve_drawing(page) -> dict:
    response = submit(page, "#solve-drawing")
    assert response.status == 201, response.text()
    return response.json()


def correction_of(page, action):
    """Do ``action``; return the correction request's body and the answer's JSON."""
    with page.expect_response(
        lambda r: r.url.endswith("/correction/") and r.request.method == "POST"
    ) as info:
        action()
    response = info.value
    assert response.status == 200, response.text()
    page.locator("#correct-status.done").wait_for()
    return json.loads(response.request.post_data), response.json()


def assert_shows_correction(page, answer: dict, reading: str, outcome: str) -> None:
    """The answer area shows the correction's answer (``reading``, ``outcome``, its steps),
    labelled as the sender's, beside what the machine read."""
    correction = answer["correction"]
    assert correction["expression"] == reading
    assert_page_reads(page, reading, outcome)
    assert page.locator("#expression-label").inner_text() == "Corrected to"
    assert page.locator("#read-as-text").inner_text() == answer["expression"]
    tex = page.locator("#math .katex-mathml annotation").text_content()
    assert tex == correction["latex"]
    assert page.locator("#output").get_attribute("data-corrected") == "true"
    assert page.locator("#confidence-line").is_hidden()  # the machine's, not the sender's
    assert page.locator("#corrected-note").is_visible()
    assert_steps_shown(page, correction["steps"])
    # the truth, computed here: the last step is the value (or the verdict's sides)
    sides = [evaluate(s) for s in reading.split("=") if s]
    if len(sides) == 1:
        assert Fraction(correction["result"]) == sides[0]
        assert correction["steps"][-1] == correction["result"]
    else:
        assert correction["verdict"] is (sides[0] == sides[1])


def assert_steps_shown(page, steps: list[str]) -> None:
    """The steps are listed, collapsed until opened, each rendered by KaTeX."""
    box = page.locator("#steps-box")
    assert box.is_visible()
    assert page.locator("#steps-count").inner_text() == str(len(steps))
    if box.get_attribute("open") is None:
        box.locator("summary").click()
    items = page.locator("#steps li")
    assert items.count() == len(steps)
    for i, step in enumerate(steps):
        assert items.nth(i).locator(".katex-mathml annotation").text_content() == step


def history(page) -> list[dict]:
    """The recent sums the page lists."""
    return page.evaluate(
        """() => [...document.querySelectorAll("#history-list li")].map((li) => ({
            expression: li.querySelector(".history-expression").textContent,
            answer: li.querySelector(".history-answer").textContent,
            corrected: li.querySelector(".history-corrected") !== null,
            thumb: li.querySelector("img") ? li.querySelector("img").naturalWidth : 0,
        }))"""
    )


def ink_box(png: bytes) -> tuple[int, int, int, int]:
    """``x0, y0, x1, y1`` of the ink in a transparent PNG."""
    alpha = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)[..., 3]
    ys, xs = np.nonzero(alpha > 127)
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


# --- corrections, steps and history of a real reading ------------------------------------


@pytest.mark.data
def test_a_reading_is_corrected_by_chip_and_by_text_and_kept_in_history(
    site, viewport, dev_expressions, artifacts
):
    page = site
    path, reading, outcome = DRAWN[viewport]
    (index, symbol, chip_reading, chip_outcome), (text, changes, text_outcome) = CORRECTIONS[
        viewport
    ]
    page.goto("/")
    check_axe(page, "empty page")
    draw_expression(page, dev_expressions, path, reading, viewport)
    check_axe(page, "drawn")

    data = solve_drawing(page)
    # the answer is in view, and focus moved to it (not to <body>)
    assert page.evaluate("document.activeElement.id") == "output"
    top = page.locator("#output").bounding_box()["y"]
    assert 0 <= top < page.viewport_size["height"] / 2
    assert_read_right(data, reading)
    assert_page_shows(page, data)
    assert_page_reads(page, reading, outcome)
    assert_steps_shown(page, data["steps"])
    check_axe(page, "answered")

    # A chip: tap it, type what the symbol is; the answer is recomputed at once.
    chip = f"#symbols li:nth-child({index + 1}) .chip"
    tap(page, chip, viewport)
    editor = page.locator("#symbol-editor")
    editor.wait_for(state="visible")
    assert page.locator(chip).get_attribute("aria-expanded") == "true"
    title = page.locator("#symbol-editor-title").inner_text()
    assert f"read as {shown(data['symbols'][index]['symbol'])}" in title
    offered = page.locator("#symbol-choices button").evaluate_all(
        "(bs) => bs.map((b) => b.dataset.symbol)"
    )
    assert offered == [a["symbol"] for a in useful(data["symbols"][index])] + ["reject"]
    check_axe(page, "symbol editor open")
    page.fill("#symbol-input", symbol)
    sent, answer = correction_of(page, lambda: tap(page, "#symbol-use", viewport))
    assert sent == {"expression": chip_reading, "symbols": [{"index": index, "symbol": symbol}]}
    assert answer["expression"] == data["expression"]  # the machine's reading is kept
    assert_shows_correction(page, answer, chip_reading, chip_outcome)
    assert editor.is_hidden()
    assert page.evaluate("document.activeElement.closest('li')?.dataset.index") == str(index)
    item = page.locator(f"#symbols li:nth-child({index + 1})")
    assert "edited" in item.get_attribute("class")
    assert item.locator(".glyph").inner_text() == shown(symbol)
    assert page.locator("#correct-input").input_value() == chip_reading
    check_axe(page, "corrected by a chip")

    # The text: edit it and press Enter; the page works out which symbols changed.
    page.fill("#correct-input", text)
    sent, answer = correction_of(page, lambda: page.press("#correct-input", "Enter"))
    assert sent == {"expression": text, "symbols": changes}
    assert_shows_correction(page, answer, text, text_outcome)
    for change in changes:
        item = page.locator(f"#symbols li:nth-child({change['index'] + 1})")
        kind = "removed" if change["symbol"] == "reject" else "edited"
        assert kind in item.get_attribute("class").split()
    page.screenshot(path=str(artifacts / f"corrected-{viewport}.png"), full_page=True)
    check_axe(page, "corrected as text")

    # History: after a reload, the corrected sum is there with its picture; the edit
    # token is not kept anywhere in the browser.
    expected = {"expression": text, "answer": text_outcome, "corrected": True}
    page.wait_for_function(
        "(e) => [...document.querySelectorAll('#history-list .history-expression')]"
        ".some((c) => c.textContent === e)",
        arg=text,
    )
    page.reload()
    page.locator("#history-list li").first.wait_for()
    page.wait_for_function("() => document.querySelector('#history-list img')?.complete")
    entries = history(page)
    assert len(entries) == 1
    assert entries[0]["thumb"] > 0
    assert {k: entries[0][k] for k in expected} == expected
    stored = page.evaluate(f"localStorage.getItem({HISTORY_KEY!r})")
    assert data["edit_token"] not in stored
    assert data["edit_token"] not in page.url
    assert page.locator("#answer").is_hidden()  # the answer itself is not kept
    check_axe(page, "history after a reload")


@pytest.mark.data
@pytest.mark.parametrize("viewport", ["phone"])
def test_the_sender_deletes_the_image_and_clears_the_history(
    site, viewport, dev_expressions, base_url
):
    page = site
    path, reading, outcome = DRAWN[viewport]
    page.goto("/")
    draw_expression(page, dev_expressions, path, reading, viewport)
    data = solve_drawing(page)
    assert_read_right(data, reading)
    assert_page_reads(page, reading, outcome)
    page.wait_for_function("() => document.querySelectorAll('#history-list li').length === 1")
    assert history(page)[0]["expression"] == reading
    check_axe(page, "answered, in the history")

    # Deleting with the token: the server forgets the image, the history forgets it too.
    with page.expect_response(lambda r: r.request.method == "DELETE") as info:
        tap(page, "#delete-image", viewport)
    response = info.value
    assert response.status == 204
    assert response.request.headers["x-edit-token"] == data["edit_token"]
    assert response.url == f"{base_url}api/images/{data['pk']}/"
    page.locator("#delete-status", has_text="Deleted").wait_for()
    assert history(page) == []
    assert page.locator("#correct").is_hidden()  # nothing left to correct
    assert_page_reads(page, reading, outcome)  # what was read stays on screen
    gone = page.evaluate(
        """async ([url, token]) => (await fetch(url, {method: "POST",
            headers: {"Content-Type": "application/json", "X-Edit-Token": token},
            body: JSON.stringify({expression: "1+1"})})).status""",
        [f"{base_url}api/images/{data['pk']}/correction/", data["edit_token"]],
    )
    assert gone == 403  # the server really has it no more
    check_axe(page, "deleted")

    # Another sum, then Clear history: none left, even after a reload.
    page.click("#clear")
    draw_expression(page, dev_expressions, path, reading, viewport)
    data = solve_drawing(page)
    assert_page_reads(page, reading, outcome)
    page.wait_for_function("() => document.querySelectorAll('#history-list li').length === 1")
    tap(page, "#history-clear", viewport)
    assert history(page) == []
    assert page.locator("#history-empty").is_visible()
    assert page.locator("#history-clear").is_disabled()
    assert page.evaluate("document.activeElement.id") == "history-title"
    assert page.evaluate(f"localStorage.getItem({HISTORY_KEY!r})") is None
    check_axe(page, "history cleared")
    page.reload()
    assert history(page) == []


@pytest.mark.data
@pytest.mark.parametrize("viewport", ["phone"])
def test_rotating_the_phone_after_drawing_keeps_the_reading(
    site, viewport, dev_expressions, artifacts
):
    page = site
    path, reading, outcome = DRAWN[viewport]
    page.goto("/")
    points = np.concatenate(draw_expression(page, dev_expressions, path, reading, viewport))
    drawn_aspect = np.ptp(points[:, 0]) / np.ptp(points[:, 1])
    portrait = page.evaluate("document.getElementById('pad').width")
    ratio = portrait / page.locator("#pad").bounding_box()["width"]  # backing px per CSS px

    # Turn it on its side: the pad is wider and lower; it starts and ends above the fold.
    page.set_viewport_size({"width": 844, "height": 390})
    page.wait_for_function("(w) => document.getElementById('pad').width !== w", arg=portrait)
    page.evaluate("window.scrollTo(0, 0)")
    pad = page.locator("#pad").bounding_box()
    assert pad["y"] >= 0
    assert pad["y"] + pad["height"] <= 390
    page.screenshot(path=str(artifacts / "rotated-landscape.png"))
    check_axe(page, "landscape, drawn")
    response = submit(page, "#solve-drawing")
    assert response.status == 201, response.text()
    data = response.json()
    assert_read_right(data, reading)
    assert_page_reads(page, reading, outcome)
    # all of it went, in its proportions: nothing cut off, nothing stretched
    _, png = sent_image(response)
    height, width = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED).shape[:2]
    x0, y0, x1, y1 = ink_box(png)
    assert x0 > 0
    assert y0 > 0
    assert x1 < width - 1
    assert y1 < height - 1
    assert abs((x1 - x0) / (y1 - y0) - drawn_aspect) < 0.1 * drawn_aspect
    check_axe(page, "landscape, answered")

    # And back: the drawing is where it was, as it was.
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_function("(w) => document.getElementById('pad').width === w", arg=portrait)
    response = submit(page, "#solve-drawing")
    assert response.status == 201, response.text()
    data = response.json()
    assert_read_right(data, reading)
    assert_page_reads(page, reading, outcome)
    _, png = sent_image(response)
    x0, y0, x1, y1 = ink_box(png)
    slack = 6 * ratio  # half the pen width plus anti-aliasing
    assert abs(x0 - points[:, 0].min() * ratio) <= slack
    assert abs(x1 - points[:, 0].max() * ratio) <= slack
    assert abs(y0 - points[:, 1].min() * ratio) <= slack
    assert abs(y1 - points[:, 1].max() * ratio) <= slack


# --- how a reading is shown: canned answers ----------------------------------------------


def stroke(page) -> None:
    """One stroke on the pad (a canned answer does not care what it is)."""
    canvas = page.locator("#pad")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 40, box["y"] + 110, steps=5)
    page.mouse.up()


def answer_with(page, answer: dict) -> None:
    page.route(f"**{API}", lambda route: route.fulfill(status=201, json=answer))


def test_plain_alternatives_by_touch_and_keyboard_and_a_capped_confidence(site, viewport):
    page = site
    corrections: list[dict] = []

    def correct(route) -> None:
        corrections.append({"body": json.loads(route.request.post_data),
                            "token": route.request.headers.get("x-edit-token")})  # fmt: skip
        route.fulfill(status=200, json=UNSURE_CORRECTED)

    answer_with(page, UNSURE)
    page.route("**/api/images/7/correction/", correct)
    page.goto("/")
    stroke(page)
    submit(page, "#solve-drawing")
    assert_page_shows(page, UNSURE)
    assert_page_reads(page, "12+7*3", "= 33")
    # "100 %" beside a symbol at 0 %: the page shows 0 %, coloured as poor, and says why
    assert page.locator("#confidence-text").inner_text() == "0%"
    assert page.locator("#confidence-text").get_attribute("class") == "level-poor"
    assert page.locator("#confidence-meter").evaluate("(m) => m.value") == 0
    assert "least sure symbol, 7" in page.locator("#confidence-note").inner_text()
    check_axe(page, "unsure answer")

    unsure = page.locator("#symbols li").nth(3)
    plain = "could also be 1 (35%), / (4%)"  # never reject, nothing under 1 %
    assert unsure.locator(".chip").get_attribute("aria-label").endswith(plain)
    assert unsure.locator(".tip").text_content() == plain
    sure = page.locator("#symbols li").nth(0)
    assert "could also be" not in sure.locator(".chip").get_attribute("aria-label")
    assert "reject" not in page.locator("#figure").inner_text()
    if viewport == "phone":  # a tap opens the choices
        unsure.locator(".chip").tap()
    else:  # so do Tab and Enter
        page.locator("#symbols li").nth(2).locator(".chip").focus()
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('li').dataset.index") == "3"
        page.keyboard.press("Enter")
    page.locator("#symbol-editor").wait_for(state="visible")
    choices = page.locator("#symbol-choices button")
    names = choices.evaluate_all("(bs) => bs.map((b) => b.textContent)")
    assert names == ["135%", "/4%", "Not a symbolremove it"]
    assert choices.nth(0).get_attribute("aria-label") == "1, 35% likely"
    assert page.evaluate("document.activeElement.dataset.symbol") == "1"  # focus moved in
    check_axe(page, "choices open")
    if viewport == "phone":
        choices.nth(0).tap()
    else:
        page.keyboard.press("Enter")
    page.locator("#correct-status.done").wait_for()
    assert corrections == [
        {"body": {"expression": "12+1*3", "symbols": [{"index": 3, "symbol": "1"}]},
         "token": TOKEN}
    ]  # fmt: skip
    assert_page_reads(page, "12+1*3", "= 15")
    assert_steps_shown(page, UNSURE_CORRECTED["correction"]["steps"])
    assert "edited" in unsure.get_attribute("class").split()
    assert unsure.locator(".prob").inner_text() == "yours"
    check_axe(page, "corrected")
    # Escape closes the choices and gives focus back to the symbol
    unsure.locator(".chip").focus()
    page.keyboard.press("Enter")
    page.locator("#symbol-editor").wait_for(state="visible")
    page.keyboard.press("Escape")
    assert page.locator("#symbol-editor").is_hidden()
    assert page.evaluate("document.activeElement.closest('li').dataset.index") == "3"


@pytest.mark.parametrize("viewport", ["desktop"])
def test_a_new_photo_marks_the_answer_on_screen_stale(site, viewport):
    page = site
    answer_with(page, UNSURE)
    page.goto("/")
    stroke(page)
    submit(page, "#solve-drawing")
    assert_page_reads(page, "12+7*3", "= 33")
    assert page.locator("#stale-note").is_hidden()
    page.click("#tab-photo")
    blank = encode(".png", np.full((300, 400, 3), 240, np.uint8))
    page.set_input_files(
        "#photo-file", files=[{"name": "p.png", "mimeType": "image/png", "buffer": blank}]
    )
    page.locator("#stale-note").wait_for(state="visible")
    assert page.locator("#output").get_attribute("data-stale") == "true"
    assert "previous" in page.locator("#stale-note").inner_text()
    assert_page_reads(page, "12+7*3", "= 33")  # still there, marked as the old one
    check_axe(page, "stale answer")
    page.unroute(f"**{API}")
    other = {**CANNED, "expression": "7/2", "latex": r"\frac{7}{2}", "result": "7/2",
             "result_decimal": "3.5"}  # fmt: skip
    answer_with(page, other)
    page.wait_for_selector("#crop:not([hidden])")
    submit(page, "#solve-photo")
    assert_page_shows(page, other)
    assert_page_reads(page, "7/2", "= 7/2≈ 3.5")
    assert page.locator("#stale-note").is_hidden()
    assert page.locator("#output").get_attribute("data-stale") is None


@pytest.mark.parametrize("viewport", ["desktop"])
def test_waiting_times_out_and_can_be_cancelled(site, viewport):
    page = site
    held: list[object] = []  # requests the "server" never answers
    page.route(f"**{API}", lambda route: held.append(route))
    page.goto("/")
    page.evaluate("document.getElementById('app').dataset.timeoutMs = '2000'")
    stroke(page)
    page.click("#solve-drawing")
    assert page.locator("#cancel").is_visible()
    check_axe(page, "waiting")
    error = page.locator("#error")
    error.wait_for(state="visible", timeout=10_000)
    assert "did not answer within 2 seconds" in error.inner_text()
    assert page.locator("#output").get_attribute("aria-busy") == "false"
    assert page.locator("#spinner").is_hidden()
    assert page.evaluate("document.activeElement.id") == "output"
    assert page.locator("#solve-drawing").is_enabled()
    check_axe(page, "timed out")

    page.evaluate("document.getElementById('app').dataset.timeoutMs = '60000'")
    page.click("#solve-drawing")
    page.locator("#cancel").wait_for(state="visible")
    page.click("#cancel")
    page.locator("#error", has_text="Cancelled").wait_for()
    assert page.evaluate("document.activeElement.id") == "solve-drawing"
    assert len(held) == 2
    check_axe(page, "cancelled")

    page.unroute(f"**{API}")
    answer_with(page, CANNED)
    submit(page, "#solve-drawing")
    assert_page_shows(page, CANNED)
    assert_page_reads(page, "12+7*3", "= 33")


@pytest.mark.parametrize("source", ["drawing", "photo"])
def test_each_hint_shows_only_where_it_applies(site, viewport, source):
    page = site
    unreadable = {**CANNED, "status": "unreadable", "expression": "", "latex": "",
                  "result": None, "result_decimal": None, "confidence": 0.0, "symbols": [],
                  "computations": [], "message": "", "error": "empty"}  # fmt: skip
    answer_with(page, unreadable)
    page.goto("/")
    page.click("#tab-photo")
    keyboard = page.locator("#photo-hint .keyboard-hint")
    assert keyboard.is_visible() is (viewport == "desktop")  # no arrow keys on a phone
    assert "drag it or its corners" in page.locator("#photo-hint").inner_text()
    if source == "drawing":
        page.click("#tab-draw")
        stroke(page)
        submit(page, "#solve-drawing")
    else:
        blank = encode(".png", np.full((300, 400, 3), 240, np.uint8))
        page.set_input_files(
            "#photo-file", files=[{"name": "p.png", "mimeType": "image/png", "buffer": blank}]
        )
        page.wait_for_selector("#crop:not([hidden])")
        submit(page, "#solve-photo")
    assert_page_shows(page, unreadable)
    hint = page.locator("#error .error-hint").inner_text()
    assert ("crop close" in hint) is (source == "photo")  # a drawing has nothing to crop
    check_axe(page, f"unreadable {source}")


@pytest.mark.parametrize(
    ("viewport", "size"),
    [("desktop", {"width": 1280, "height": 800}), ("phone", {"width": 844, "height": 390})],
    ids=["desktop", "phone-landscape"],
)
def test_the_pad_is_large_on_a_desk_and_above_the_fold_on_a_phone_on_its_side(site, viewport, size):
    page = site
    page.set_viewport_size(size)
    page.goto("/")
    pad = page.locator("#pad").bounding_box()
    solve = page.locator("#solve-drawing").bounding_box()
    assert pad["y"] >= 0
    assert solve["y"] + solve["height"] <= size["height"]  # the pad and its Solve
    if viewport == "desktop":
        assert pad["width"] >= 600
        assert pad["height"] >= 300
    else:
        assert pad["height"] >= 120
    check_axe(page, f"pad at {size['width']}x{size['height']}")
    answer_with(page, CANNED)
    stroke(page)
    submit(page, "#solve-drawing")
    assert_page_reads(page, "12+7*3", "= 33")


def test_the_comma_choice_is_sent_and_kept_on_the_device(site, viewport):
    page = site
    sent: list[dict] = []

    def answer(route) -> None:
        sent.append(json.loads(route.request.post_data))
        route.fulfill(status=201, json=CANNED)

    page.route(f"**{API}", answer)
    page.goto("/")
    stroke(page)
    submit(page, "#solve-drawing")
    assert "comma" not in sent[-1]  # by default the server's own convention
    page.select_option("#comma", "thousands")
    submit(page, "#solve-drawing")
    assert sent[-1]["comma"] == "thousands"
    check_axe(page, "comma chosen")

    page.reload()
    assert page.locator("#comma").input_value() == "thousands"
    stroke(page)
    submit(page, "#solve-drawing")
    assert sent[-1]["comma"] == "thousands"
    assert list(sent[-1]) == ["image", "comma"]
