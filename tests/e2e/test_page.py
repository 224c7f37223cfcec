"""The web page, end to end: real server, real recognizer, headless Chromium.

Handwriting comes from CROHME writers held out of classifier training: their
pen strokes are replayed onto the canvas with pointer events, or rendered and
made to look like a phone photo. Every test checks that the page shows exactly
what the API answered, and that the shipped model read each writer's expression
right: the page shows it, and the answer checked against the truth, computed here
independently of the server.
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

pytestmark = pytest.mark.e2e

API = "/api/images/create/"
JQUERY = Path(__file__).parent / "vendor" / "jquery.min.js"
#: Mirrors LOW_CONFIDENCE, MIN_ALTERNATIVE, MAX_ALTERNATIVES and DISPLAY in resolver.js.
LOW_CONFIDENCE = 0.7
MIN_ALTERNATIVE = 0.01
MAX_ALTERNATIVES = 3
DISPLAY = {"-": "−", "*": "×"}

#: Arithmetic written by held-out (dev) writers, each with an operator: the archive
#: path, and what the page shows once it is read, the expression and its outcome.
DRAWN = {  # replayed stroke by stroke on the canvas
    "desktop": ("TrainINKML/HAMEX/formulaire018-equation040.inkml", "14+61=75", "✓ True"),
    "phone": ("TrainINKML/HAMEX/formulaire038-equation055.inkml", "65+28+151", "= 244"),
}
PHOTOGRAPHED = ("TrainINKML/HAMEX/formulaire012-equation048.inkml", "6*6=4*9", "✓ True")
POSTED_WITH_JQUERY = ("TrainINKML/HAMEX/formulaire038-equation000.inkml", "196+68+7", "271")


# --- handwriting -----------------------------------------------------------------------


def expression(dev_expressions, path: str):
    expr = dev_expressions.get(path)
    if expr is None:
        pytest.skip(f"{path} is not a held-out arithmetic expression in this archive")
    return expr


def typical_height(expr) -> float:
    """Median height of the expression's symbols that are not flat (like ``-``)."""
    heights = [s.bounds()[3] - s.bounds()[1] for s in expr.symbols]
    tall = [h for h in heights if h > 0.3 * max(heights)] or heights
    return float(np.median(tall)) or 1.0


def strokes_in(expr, box: dict) -> list[np.ndarray]:
    """The expression's strokes scaled and centred into ``box`` (CSS pixels of the page)."""
    strokes = [stroke for symbol in expr.symbols for stroke in symbol.strokes]
    points = np.concatenate(strokes)
    origin, extent = points.min(axis=0), np.ptp(points, axis=0).clip(1e-6)
    scale = min(
        0.85 * box["width"] / extent[0],
        0.75 * box["height"] / extent[1],
        0.4 * box["height"] / typical_height(expr),
    )
    offset = (
        np.array([box["x"], box["y"]])
        + (np.array([box["width"], box["height"]]) - extent * scale) / 2
    )
    placed = []
    for stroke in strokes:
        pts = (stroke - origin) * scale + offset
        keep = [pts[0]]
        for p in pts[1:]:  # drop points closer than a pixel: they add time, not ink
            if np.hypot(*(p - keep[-1])) >= 1.0:
                keep.append(p)
        placed.append(np.array(keep))
    return placed


def draw(page, strokes: list[np.ndarray], *, touch: bool) -> None:
    """Replay strokes with the mouse, or as touches through the DevTools protocol."""
    if touch:
        cdp = page.context.new_cdp_session(page)

        def send(kind: str, points: list[dict]) -> None:
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

        for stroke in strokes:
            send("touchStart", [{"x": float(stroke[0][0]), "y": float(stroke[0][1])}])
            for x, y in stroke[1:]:
                send("touchMove", [{"x": float(x), "y": float(y)}])
            send("touchEnd", [])
        cdp.detach()
        return
    for stroke in strokes:
        page.mouse.move(float(stroke[0][0]), float(stroke[0][1]))
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(float(x), float(y))
        page.mouse.up()


def photo_of(expr, *, seed: int = 0) -> tuple[bytes, tuple[int, int, int, int]]:
    """A phone-photo look-alike of ``expr``: blue ink on ruled, tinted, unevenly lit paper
    on a desk, with noise, blur and JPEG. Returns the JPEG and the writing's box in it."""
    from training import crohme

    rng = np.random.default_rng(seed)
    ink, _ = crohme.render(expr.symbols, symbol_height=64, pen_width=5, margin=0, rng=rng)
    h, w = ink.shape
    height, width = 900, max(1200, w + 400)
    photo = np.empty((height, width, 3), np.float32)
    photo[:] = (55, 80, 110)  # desk, BGR
    top, left, bottom, right = 60, 80, height - 60, width - 80
    yy, xx = np.mgrid[top:bottom, left:right].astype(np.float32)
    light = 0.78 + 0.22 * (xx - left) / (right - left) + 0.05 * (yy - top) / (bottom - top)
    paper = np.array((212, 230, 242), np.float32) * light[..., None]  # warm paper
    for y in range(top + 40, bottom, 48):  # faint ruled lines
        paper[y - top : y - top + 2] *= np.array((1.0, 0.93, 0.86), np.float32)
    photo[top:bottom, left:right] = paper
    x0, y0 = (width - w) // 2, (height - h) // 2
    alpha = (255 - ink.astype(np.float32))[..., None] / 255
    region = photo[y0 : y0 + h, x0 : x0 + w]
    photo[y0 : y0 + h, x0 : x0 + w] = region * (1 - alpha) + np.array((150, 60, 35)) * alpha
    photo += rng.normal(0, 4, photo.shape)
    photo = cv2.GaussianBlur(np.clip(photo, 0, 255).astype(np.uint8), (0, 0), 0.9)
    return encode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 85]), (x0, y0, w, h)


def encode(ext: str, image: np.ndarray, params: list[int] | None = None) -> bytes:
    """``image`` encoded by OpenCV as ``ext`` (``.png``, ``.jpg``)."""
    ok, buf = cv2.imencode(ext, image, params or [])
    assert ok
    return buf.tobytes()


# --- the truth, computed independently of the server -------------------------------------


def evaluate(text: str) -> Fraction:
    """Exact value of an ASCII arithmetic expression (a small parser, never ``eval``)."""
    tokens = re.findall(r"\d+\.?\d*|\.\d+|[-+*/()]", text)
    if "".join(tokens) != text:
        raise ValueError(f"not arithmetic: {text!r}")
    pos = 0

    def peek() -> str:
        return tokens[pos] if pos < len(tokens) else ""

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def expr() -> Fraction:
        value = term()
        while peek() in ("+", "-"):
            value = value + term() if take() == "+" else value - term()
        return value

    def term() -> Fraction:
        value = unary()
        while peek() in ("*", "/"):
            value = value * unary() if take() == "*" else value / unary()
        return value

    def unary() -> Fraction:
        if peek() in ("+", "-"):
            return unary() if take() == "+" else -unary()
        if peek() == "(":
            take()
            value = expr()
            assert take() == ")", text
            return value
        return Fraction(take())

    value = expr()
    if pos != len(tokens):
        raise ValueError(f"not arithmetic: {text!r}")
    return value


def assert_read_right(data: dict, truth: str) -> None:
    """The API read the expression ``truth`` (a trailing ``=`` aside) and answered it."""
    assert data["expression"].rstrip("=") == truth.rstrip("="), (data["expression"], truth)
    sides = [s for s in truth.split("=") if s]
    try:
        values = [evaluate(s) for s in sides]
    except ZeroDivisionError:
        assert data["status"] == "recognized", data
        return
    assert data["status"] == "solved", data
    if len(values) == 2:
        assert data["verdict"] is (values[0] == values[1]), data
    else:
        assert data["verdict"] is None, data
        assert Fraction(data["result"]) == values[0], data


# --- what the page must show ---------------------------------------------------------------


def shown(symbol: str) -> str:
    return DISPLAY.get(symbol, symbol)


def pct(p: float) -> str:
    """``p`` as the page writes it (JavaScript's Math.round): ``52%``."""
    return f"{math.floor(p * 100 + 0.5)}%"


def useful(sym: dict) -> list[dict]:
    """The alternatives the page offers for ``sym``: real symbols (never ``reject``), at
    least 1 %, at most three."""
    alts = [
        a
        for a in sym["alternatives"]
        if a["symbol"] != "reject" and a["symbol"] != sym["symbol"]
        and a["confidence"] >= MIN_ALTERNATIVE
    ]  # fmt: skip
    return alts[:MAX_ALTERNATIVES]


def shown_confidence(data: dict) -> float:
    """The confidence the page shows: the answer's, capped by its least sure symbol's."""
    return min([data["confidence"], *(s["confidence"] for s in data["symbols"])])


def watch_busy(page) -> None:
    """Record every aria-busy value the answer area takes from now on."""
    page.evaluate(
        """() => {
        window.__busy = [];
        if (window.__busyObserver) window.__busyObserver.disconnect();  // an earlier submit's
        const out = document.getElementById("output");
        window.__busyObserver = new MutationObserver(
            () => window.__busy.push(out.getAttribute("aria-busy")));
        window.__busyObserver.observe(out, {attributes: true, attributeFilter: ["aria-busy"]});
    }"""
    )


def submit(page, button: str):
    """Click ``button``, return the API response; check the page was busy meanwhile."""
    watch_busy(page)
    with page.expect_response(
        lambda r: r.url.endswith(API) and r.request.method == "POST", timeout=60_000
    ) as info:
        page.click(button)
    response = info.value
    page.wait_for_function(
        "() => window.__busy.length >= 2 && "
        "document.getElementById('output').getAttribute('aria-busy') === 'false'"
    )
    assert page.evaluate("window.__busy") == ["true", "false"]
    assert page.locator("#spinner").is_hidden()
    return response


def sent_image(response) -> tuple[str, bytes]:
    """The data URL's media type and bytes that the page posted."""
    request = response.request
    assert request.headers["content-type"].startswith("application/json")
    body = json.loads(request.post_data)
    assert list(body) == ["image"]
    match = re.fullmatch(r"data:([\w/+.-]+);base64,([A-Za-z0-9+/=]+)", body["image"])
    assert match, body["image"][:80]
    return match[1], base64.b64decode(match[2])


def shows_sent_image(page, response) -> bool:
    """True when the answer's figure shows the very image that was posted."""
    posted = json.loads(response.request.post_data)["image"]
    return page.locator("#boxes image").get_attribute("href") == posted


def assert_page_shows(page, data: dict) -> None:
    """The answer area shows exactly ``data``, the API's answer."""
    output = page.locator("#output")
    assert output.get_attribute("data-status") == data["status"]
    if data["status"] == "unreadable":
        error = page.locator("#error")
        assert error.is_visible()
        assert "unreadable" in error.get_attribute("class")
        text = error.locator(".error-text").inner_text()
        assert text == (data["message"] or "No expression found in the image.")
        assert error.locator(".error-hint").inner_text()  # what to do about it
        assert page.locator("#answer").is_hidden()
    else:
        assert page.locator("#error").is_hidden()
        assert page.locator("#math .katex-html").is_visible()
        katex_font_loaded = """() => document.fonts.ready.then(() => [...document.fonts].some(
            (f) => f.family.replace(/["']/g, "") === "KaTeX_Main" && f.status === "loaded"))"""
        assert page.evaluate(katex_font_loaded), "KaTeX's own font was not loaded"
        annotation = page.locator("#math .katex-mathml annotation")
        assert annotation.text_content() == data["latex"]
        assert page.locator("#expression-text").inner_text() == data["expression"]
        outcome = page.locator("#outcome")
        if data["verdict"] is not None:
            assert outcome.inner_text() == ("✓ True" if data["verdict"] else "✗ False")
        elif data["result"] not in (None, ""):
            assert outcome.locator(".exact").inner_text() == f"= {data['result']}"
            decimal = data["result_decimal"]
            if decimal and decimal != data["result"]:
                assert outcome.locator(".decimal").inner_text() == f"≈ {decimal}"
            else:
                assert outcome.locator(".decimal").count() == 0
        else:
            assert outcome.inner_text() == ""
        message = page.locator("#message")
        if data["status"] == "solved":
            assert message.is_hidden()
        else:  # recognized: why it cannot be computed
            assert message.inner_text() == (data["message"] or "Read, but it cannot be computed.")
        items = page.locator("#computations li")
        assert items.count() == len(data["computations"])
        for i, computation in enumerate(data["computations"]):
            item = items.nth(i)
            assert item.locator(".name").inner_text() == computation["name"]
            tex = item.locator(".katex-mathml annotation").text_content()
            assert tex == computation["result"]
        # never surer than its least sure symbol
        assert page.locator("#confidence-text").inner_text() == pct(shown_confidence(data))

    symbols = data["symbols"]
    if data["status"] == "unreadable" and not symbols:
        assert page.locator("#figure").is_hidden()
        return
    boxes = page.locator("#boxes g")
    page.wait_for_function(
        f"() => document.querySelectorAll('#boxes g').length === {len(symbols)} && "
        "document.getElementById('boxes').dataset.ready === 'true'"
    )
    chips = page.locator("#symbols li")
    assert chips.count() == len(symbols)
    for i, sym in enumerate(symbols):
        rect = boxes.nth(i).locator("rect")
        drawn = [float(rect.get_attribute(k)) for k in ("x", "y", "width", "height")]
        assert drawn == [float(v) for v in sym["box"]]
        assert boxes.nth(i).locator("text").text_content() == shown(sym["symbol"])
        chip = chips.nth(i)
        assert chip.locator(".glyph").inner_text() == shown(sym["symbol"])
        low = sym["confidence"] < LOW_CONFIDENCE
        assert ("low" in chip.get_attribute("class").split()) is low
        title = chip.get_attribute("title")
        assert "reject" not in title
        offered = useful(sym)
        for alt in sym["alternatives"]:  # only the useful ones, in plain words
            assert (f"{shown(alt['symbol'])} ({pct(alt['confidence'])})" in title) is (
                alt in offered
            ), (title, alt)
    if symbols:  # hovering a symbol highlights its box; an unsure one shows its alternatives
        unsure = [i for i, s in enumerate(symbols) if s["confidence"] < LOW_CONFIDENCE]
        i = unsure[0] if unsure else 0
        chips.nth(i).hover()
        assert "active" in boxes.nth(i).get_attribute("class")
        if unsure and useful(symbols[i]):
            assert chips.nth(i).locator(".tip").is_visible()


def assert_page_reads(page, expression: str, outcome: str) -> None:
    """The answer area shows ``expression`` as read, and ``outcome`` (``= 244``, ``✓ True``)."""
    assert page.locator("#expression-text").inner_text() == expression
    assert page.locator("#outcome").inner_text().strip() == outcome


def save(page, artifacts: Path, name: str, data: dict | None = None) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
    if data is not None:
        (artifacts / f"{name}.json").write_text(json.dumps(data, indent=2, ensure_ascii=False))


# --- the tests --------------------------------------------------------------------------------


@pytest.mark.data
def test_drawn_expression_is_sent_as_transparent_png_and_answer_shown(
    page, viewport, dev_expressions, artifacts
):
    path, reading, outcome = DRAWN[viewport]
    expr = expression(dev_expressions, path)
    assert expr.ascii == reading  # the truth of the archive
    page.goto("/")
    canvas = page.locator("#pad")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    strokes = strokes_in(expr, box)
    draw(page, strokes, touch=viewport == "phone")
    assert page.locator("#undo").is_enabled()
    assert canvas.get_attribute("aria-label") == f"Drawing area ({len(strokes)} strokes)"

    response = submit(page, "#solve-drawing")
    assert response.status == 201, response.text()
    data = response.json()
    save(page, artifacts, f"drawn-{viewport}", data)

    # The page sent the canvas as the app does: a PNG with a transparent background,
    # its ink where the strokes were replayed.
    media, png = sent_image(response)
    assert media == "image/png"
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    backing = page.evaluate(
        "(() => { const c = document.getElementById('pad'); return [c.width, c.height]; })()"
    )
    assert image.shape == (backing[1], backing[0], 4)
    alpha = image[..., 3]
    assert (alpha == 0).mean() > 0.8
    ratio = backing[0] / box["width"]
    points = np.concatenate(strokes) - (box["x"], box["y"])
    ys, xs = np.nonzero(alpha)
    slack = 6 * ratio  # half the pen width plus anti-aliasing
    assert abs(xs.min() - points[:, 0].min() * ratio) <= slack
    assert abs(xs.max() - points[:, 0].max() * ratio) <= slack
    assert abs(ys.min() - points[:, 1].min() * ratio) <= slack
    assert abs(ys.max() - points[:, 1].max() * ratio) <= slack

    # Clean handwriting of a held-out writer is read as something, and every box the
    # server returns lies on the ink (boxes are in the sent image's pixels).
    assert data["status"] in ("solved", "recognized"), data
    assert data["symbols"]
    for sym in data["symbols"]:
        x, y, w, h = sym["box"]
        assert xs.min() - slack <= x, sym
        assert x + w <= xs.max() + slack + 1, sym
        assert ys.min() - slack <= y, sym
        assert y + h <= ys.max() + slack + 1, sym

    assert_page_shows(page, data)
    assert shows_sent_image(page, response)
    assert_read_right(data, expr.ascii)
    assert_page_reads(page, reading, outcome)

    page.click("#undo")
    assert canvas.get_attribute("aria-label") == f"Drawing area ({len(strokes) - 1} strokes)"
    page.click("#clear")
    assert canvas.get_attribute("aria-label") == "Drawing area (empty)"
    assert page.locator("#solve-drawing").is_disabled()


@pytest.mark.data
def test_photo_is_cropped_to_the_frame_and_answer_shown(page, viewport, dev_expressions, artifacts):
    path, reading, outcome = PHOTOGRAPHED
    expr = expression(dev_expressions, path)
    assert expr.ascii == reading  # the truth of the archive
    jpeg, (x, y, w, h) = photo_of(expr)
    page.goto("/")
    page.click("#tab-photo")
    assert page.locator("#panel-photo").is_visible()
    assert page.locator("#panel-draw").is_hidden()
    page.set_input_files(
        "#photo-file", files=[{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": jpeg}]
    )
    page.wait_for_selector("#crop:not([hidden])")
    photo = page.locator("#photo")
    photo.scroll_into_view_if_needed()
    natural = page.evaluate(
        "[document.getElementById('photo').naturalWidth, "
        "document.getElementById('photo').naturalHeight]"
    )
    shown_box = photo.bounding_box()
    k = shown_box["width"] / natural[0]  # CSS px per photo px
    margin = 24
    target = (x - margin, y - margin, x + w + margin, y + h + margin)

    def drag(handle: str, to: tuple[float, float]) -> None:
        """Drag a corner handle so that the frame's corner lands on ``to`` (photo px)."""
        fb = page.locator("#crop-frame").bounding_box()
        corner = (
            fb["x"] + (fb["width"] if "e" in handle else 0),
            fb["y"] + (fb["height"] if "s" in handle else 0),
        )
        hb = page.locator(f"#crop-frame .handle.{handle}").bounding_box()
        start = (hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2)
        goal = (shown_box["x"] + to[0] * k, shown_box["y"] + to[1] * k)
        page.mouse.move(*start)
        page.mouse.down()
        page.mouse.move(start[0] + goal[0] - corner[0], start[1] + goal[1] - corner[1], steps=8)
        page.mouse.up()

    drag("nw", target[:2])
    drag("se", target[2:])
    crop = [int(v) for v in page.locator("#crop-frame").get_attribute("data-crop").split(",")]
    tolerance = 2 / k + 2  # a CSS pixel or two of mouse rounding, in photo pixels
    expected = (target[0], target[1], target[2] - target[0], target[3] - target[1])
    assert all(abs(a - b) <= tolerance for a, b in zip(crop, expected, strict=True)), (
        crop,
        expected,
        k,
    )
    page.screenshot(path=str(artifacts / f"photo-crop-{viewport}.png"), full_page=True)

    response = submit(page, "#solve-photo")
    assert response.status == 201, response.text()
    data = response.json()
    save(page, artifacts, f"photo-{viewport}", data)

    # Only the framed region went: a JPEG the frame's size, paper only (no desk).
    media, sent = sent_image(response)
    assert media == "image/jpeg"
    image = cv2.imdecode(np.frombuffer(sent, np.uint8), cv2.IMREAD_COLOR)
    assert abs(image.shape[1] - crop[2]) <= 1
    assert abs(image.shape[0] - crop[3]) <= 1
    assert image.mean() > 150, "the crop should hold paper, not the dark desk"

    assert data["status"] in ("solved", "recognized"), data
    assert_page_shows(page, data)
    assert shows_sent_image(page, response)
    assert_read_right(data, expr.ascii)
    assert_page_reads(page, reading, outcome)


def test_crop_frame_moves_and_resizes_with_the_keyboard(page, viewport):
    blank = np.full((600, 800, 3), 235, np.uint8)
    png = encode(".png", blank)
    page.goto("/")
    page.focus("#tab-draw")
    page.keyboard.press("ArrowRight")  # tabs follow the arrow keys
    assert page.evaluate("document.activeElement.id") == "tab-photo"
    assert page.locator("#panel-photo").is_visible()
    page.set_input_files(
        "#photo-file", files=[{"name": "a.png", "mimeType": "image/png", "buffer": png}]
    )
    page.wait_for_selector("#crop:not([hidden])")
    frame = page.locator("#crop-frame")
    before = [int(v) for v in frame.get_attribute("data-crop").split(",")]
    frame.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowUp")
    after = [int(v) for v in frame.get_attribute("data-crop").split(",")]
    assert after[0] > before[0]
    assert after[1] == before[1]
    assert after[2] == before[2]
    assert after[3] < before[3]


@pytest.mark.parametrize("viewport", ["desktop"])
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.png", b"These are my notes, not a picture.\n"),
        ("broken.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8),
    ],
)
def test_bad_file_shows_the_servers_message(page, viewport, name, content, artifacts):
    page.goto("/")
    page.click("#tab-photo")
    page.set_input_files(
        "#photo-file", files=[{"name": name, "mimeType": "image/png", "buffer": content}]
    )
    page.wait_for_function(
        "() => !document.getElementById('solve-photo').disabled"
    )  # the browser cannot show it, so it is sent as it is for the server to judge
    assert page.locator("#crop").is_hidden()
    response = submit(page, "#solve-photo")
    _, sent = sent_image(response)
    assert sent == content
    assert response.status == 400, response.text()
    body = response.json()
    assert body["image"], body  # DRF style; "codes" may come beside it
    error = page.locator("#error")
    error.wait_for(state="visible")
    assert error.get_attribute("role") == "alert"
    assert error.inner_text().strip() == " ".join(body["image"])
    assert page.locator("#answer").is_hidden()
    assert page.locator("#output").get_attribute("data-state") == "error"
    save(page, artifacts, f"bad-file-{name.split('.')[0]}-{viewport}", body)


@pytest.mark.parametrize("viewport", ["desktop"])
def test_blank_paper_is_reported_unreadable(page, viewport, artifacts):
    paper = np.empty((600, 800, 3), np.uint8)
    paper[:] = (205, 225, 238)
    noise = np.random.default_rng(1).normal(0, 3, paper.shape)
    paper = np.clip(paper + noise, 0, 255).astype(np.uint8)
    jpeg = encode(".jpg", paper, [cv2.IMWRITE_JPEG_QUALITY, 85])
    page.goto("/")
    page.click("#tab-photo")
    page.set_input_files(
        "#photo-file",
        files=[{"name": "blank.jpg", "mimeType": "image/jpeg", "buffer": jpeg}],
    )
    page.wait_for_selector("#crop:not([hidden])")
    response = submit(page, "#solve-photo")
    assert response.status == 201, response.text()
    data = response.json()
    save(page, artifacts, f"unreadable-{viewport}", data)
    assert data["status"] == "unreadable", data
    assert_page_shows(page, data)


@pytest.mark.data
@pytest.mark.parametrize("viewport", ["desktop"])
@pytest.mark.parametrize("bypass_csp", [True])  # jQuery is injected as an inline script
def test_jquery_post_like_the_original_client_gets_201(page, viewport, dev_expressions):
    from training import crohme

    path, reading, result = POSTED_WITH_JQUERY
    expr = expression(dev_expressions, path)
    assert expr.ascii == reading  # the truth of the archive
    ink, _ = crohme.render(expr.symbols, symbol_height=48, pen_width=3)
    data_url = "data:image/png;base64," + base64.b64encode(crohme.encode_png(ink)).decode()
    page.goto("/")
    page.add_script_tag(path=str(JQUERY))
    answer = page.evaluate(
        """([url, image]) => new Promise((resolve) => {
            $.post(url, {image: image})
                .done((data, text, xhr) => resolve({status: xhr.status, data: data,
                    type: xhr.getResponseHeader("Content-Type")}))
                .fail((xhr) => resolve({status: xhr.status, body: xhr.responseText}));
        })""",
        [API, data_url],
    )
    assert answer["status"] == 201, answer
    assert answer["type"].startswith("application/json")
    data = answer["data"]
    fields = {"pk", "image", "timestamp", "status", "expression", "latex", "result",
              "result_decimal", "verdict", "confidence", "symbols", "computations", "error",
              "message"}  # fmt: skip
    assert fields <= set(data), sorted(fields - set(data))
    assert isinstance(data["pk"], int)
    assert data["status"] in ("solved", "recognized", "unreadable")
    assert 0 <= data["confidence"] <= 1
    height, width = ink.shape
    for sym in data["symbols"]:
        x, y, w, h = sym["box"]
        assert min(x, y) >= 0, sym
        assert x + w <= width, sym
        assert y + h <= height, sym
        assert 0 <= sym["confidence"] <= 1
    assert_read_right(data, expr.ascii)
    assert (data["expression"], data["result"]) == (reading, result)


@pytest.mark.parametrize("viewport", ["desktop"])
@pytest.mark.parametrize(
    ("failure", "shown_text"),
    [
        (
            {"status": 503, "json": {"detail": "The model is warming up.", "code": "busy"}},
            "The model is warming up.",
        ),
        ({"status": 502, "body": "<html>Bad gateway</html>"}, "HTTP 502"),
        ({"status": 413, "body": ""}, "too large"),
        (None, "Could not reach the server"),
    ],
    ids=["503-detail", "502-html", "413", "network"],
)
def test_server_failures_are_explained(page, viewport, failure, shown_text):
    def answer(route) -> None:
        if failure is None:
            route.abort("connectionrefused")
        else:
            route.fulfill(**failure)

    page.route(f"**{API}", answer)
    page.goto("/")
    canvas = page.locator("#pad").bounding_box()
    page.mouse.move(canvas["x"] + 50, canvas["y"] + 50)
    page.mouse.down()
    page.mouse.move(canvas["x"] + 50, canvas["y"] + 120, steps=5)
    page.mouse.up()
    watch_busy(page)
    page.click("#solve-drawing")
    error = page.locator("#error")
    error.wait_for(state="visible")
    assert shown_text in error.inner_text()
    assert page.evaluate("window.__busy") == ["true", "false"]
    assert page.locator("#solve-drawing").is_enabled()  # one can try again


@pytest.mark.parametrize("viewport", ["desktop"])
def test_photo_is_sent_upright_as_shown_when_exif_rotates_it(page, viewport):
    from PIL import Image

    # Stored 600 wide, 400 high, dark left half; EXIF orientation 6 shows it turned a
    # quarter clockwise: 400 wide, 600 high, dark top half.
    stored = np.full((400, 600, 3), 230, np.uint8)
    stored[:, :300] = 30
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(buffer, "JPEG", quality=90, exif=exif)
    page.goto("/")
    page.click("#tab-photo")
    page.set_input_files(
        "#photo-file",
        files=[{"name": "turned.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}],
    )
    page.wait_for_selector("#crop:not([hidden])")
    natural = page.evaluate(
        "[document.getElementById('photo').naturalWidth, "
        "document.getElementById('photo').naturalHeight]"
    )
    assert natural == [400, 600]
    response = submit(page, "#solve-photo")
    _, sent = sent_image(response)
    image = cv2.imdecode(np.frombuffer(sent, np.uint8), cv2.IMREAD_GRAYSCALE)
    crop = [int(v) for v in page.locator("#crop-frame").get_attribute("data-crop").split(",")]
    assert image.shape == (crop[3], crop[2])  # the default frame: 90% x 60% of what is shown
    split = 300 - crop[1]  # the dark half ends 300 px down the upright photo
    assert image[: split - 8].mean() < 60
    assert image[split + 8 :].mean() > 200


AXE = Path(__file__).parent / "vendor" / "axe.min.js"
#: A canned answer in the API's shape, to check how an answer is shown without a model.
CANNED = {
    "pk": 1,
    "image": "/media/images/x.png",
    "timestamp": "2026-01-01T00:00:00Z",
    "status": "solved",
    "expression": "12+7*3",
    "latex": r"12+7\times 3",
    "result": "33",
    "result_decimal": "33",
    "verdict": None,
    "confidence": 0.61,
    "symbols": [
        {"symbol": s, "confidence": c, "box": [30 + 60 * i, 40, 40, 60], "alternatives": alts}
        for i, (s, c, alts) in enumerate(
            [
                ("1", 0.99, []),
                ("2", 0.97, []),
                ("+", 0.93, []),
                ("7", 0.52, [{"symbol": "1", "confidence": 0.4}]),
                ("×", 0.9, [{"symbol": "+", "confidence": 0.08}]),
                ("3", 0.95, []),
            ]
        )
    ],
    "computations": [{"name": "Result", "result": "33"}],
    "error": None,
    "message": "",
}


def axe_violations(page) -> list[dict]:
    """WCAG 2.x A/AA and best-practice violations axe-core finds on the page."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: ["wcag2a", "wcag2aa", "wcag21aa",
                                                       "best-practice"]});
            return r.violations.map((v) => ({id: v.id, impact: v.impact,
                nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5)}));
        }"""
    )
    return result


@pytest.mark.parametrize("bypass_csp", [True])  # axe-core is injected as an inline script
def test_page_has_no_accessibility_violations(page, viewport, artifacts):
    page.goto("/")
    assert axe_violations(page) == []
    page.route(f"**{API}", lambda route: route.fulfill(status=201, json=CANNED))
    canvas = page.locator("#pad").bounding_box()
    page.mouse.move(canvas["x"] + 40, canvas["y"] + 40)
    page.mouse.down()
    page.mouse.move(canvas["x"] + 40, canvas["y"] + 110, steps=5)
    page.mouse.up()
    response = submit(page, "#solve-drawing")
    assert response.status == 201
    assert_page_shows(page, CANNED)
    save(page, artifacts, f"canned-answer-{viewport}")
    assert axe_violations(page) == []


@pytest.mark.parametrize("viewport", ["desktop"])
def test_everything_is_reachable_with_the_keyboard(page, viewport):
    page.goto("/")
    page.route(f"**{API}", lambda route: route.fulfill(status=201, json=CANNED))

    def tab_to(selector: str, limit: int = 30) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(f"document.activeElement.matches({selector!r})"):
                return
        raise AssertionError(f"Tab never reached {selector}")

    tab_to("#tab-draw")
    page.keyboard.press("ArrowRight")
    assert page.locator("#panel-photo").is_visible()
    blank = encode(".png", np.full((300, 400, 3), 240, np.uint8))
    page.set_input_files(
        "#photo-file", files=[{"name": "p.png", "mimeType": "image/png", "buffer": blank}]
    )
    page.wait_for_selector("#crop:not([hidden])")
    page.focus("#tab-photo")
    tab_to("#photo-file")  # the visually hidden file input, labelled by its button
    tab_to("#crop-frame")
    tab_to("#solve-photo")
    watch_busy(page)
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.__busy.length >= 2")
    tab_to("#symbols li.low .chip")  # an unsure symbol shows its alternatives on focus
    assert page.locator("#symbols li.low .tip").is_visible()
    # the boxes are drawn once the picture has loaded: wait for the highlight
    expect = pytest.importorskip("playwright.sync_api").expect
    expect(page.locator("#boxes g.low")).to_have_class(re.compile(r"\bactive\b"))


@pytest.mark.parametrize("viewport", ["desktop"])
def test_pen_pressure_sets_the_stroke_width(page, viewport):
    page.goto("/")
    page.route(f"**{API}", lambda route: route.fulfill(status=201, json=CANNED))
    box = page.locator("#pad").bounding_box()
    cdp = page.context.new_cdp_session(page)

    def pen(kind: str, x: float, y: float, force: float) -> None:
        cdp.send(
            "Input.dispatchMouseEvent",
            {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1,
             "buttons": 0 if kind == "mouseReleased" else 1, "pointerType": "pen",
             "force": force},
        )  # fmt: skip

    rows = {
        "light": (box["y"] + 0.3 * box["height"], 0.1),
        "firm": (box["y"] + 0.6 * box["height"], 1.0),
    }
    x0, x1 = box["x"] + 0.2 * box["width"], box["x"] + 0.8 * box["width"]
    for y, force in rows.values():
        pen("mousePressed", x0, y, force)
        for x in np.linspace(x0, x1, 20):
            pen("mouseMoved", float(x), y, force)
        pen("mouseReleased", x1, y, 0.0)
    cdp.detach()
    response = submit(page, "#solve-drawing")
    _, png = sent_image(response)
    alpha = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)[..., 3]
    ratio = alpha.shape[1] / box["width"]
    middle = round((box["width"] / 2) * ratio)
    width = {}  # ink pixels across each stroke, down the middle column
    for name, (y, _) in rows.items():
        row = round((y - box["y"]) * ratio)
        width[name] = int((alpha[row - 20 : row + 20, middle] > 127).sum())
    assert width["light"] >= 1
    assert width["firm"] >= 1.6 * width["light"], width


def canned(**changes) -> dict:
    """``CANNED`` with some fields changed."""
    return {**CANNED, **changes}


@pytest.mark.parametrize("viewport", ["desktop"])
@pytest.mark.parametrize(
    "answer",
    [
        canned(
            status="recognized", expression="7/0", latex=r"7 \div 0", result=None,
            result_decimal=None, error="division_by_zero", message="Division by zero.",
            computations=[], symbols=CANNED["symbols"][:3],
        ),
        canned(
            expression="2+2=5", latex="2+2=5", result="4", result_decimal="4", verdict=False,
            computations=[{"name": "Left side", "result": "4"},
                          {"name": "Right side", "result": "5"}],
        ),
        canned(expression="7/2", latex=r"\frac{7}{2}", result="7/2", result_decimal="3.5"),
        canned(status="unreadable", expression="", latex="", result=None, result_decimal=None,
               confidence=0.1, message=""),
    ],
    ids=["recognized", "false-equation", "fraction", "unreadable-with-symbols"],
)  # fmt: skip
def test_each_kind_of_answer_is_shown_as_sent(page, viewport, answer, artifacts, request):
    page.route(f"**{API}", lambda route: route.fulfill(status=201, json=answer))
    page.goto("/")
    canvas = page.locator("#pad").bounding_box()
    page.mouse.move(canvas["x"] + 40, canvas["y"] + 40)
    page.mouse.down()
    page.mouse.move(canvas["x"] + 40, canvas["y"] + 110, steps=5)
    page.mouse.up()
    submit(page, "#solve-drawing")
    assert_page_shows(page, answer)
    save(page, artifacts, f"kind-{request.node.callspec.id}")
