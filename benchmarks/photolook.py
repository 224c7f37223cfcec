"""Give a clean rendered expression the look of a phone photo of paper.

Seeded and deterministic: the same ``rng`` state gives the same bytes. Effects,
each drawn at random within a plausible range:

* paper tint, plain, ruled (light blue lines) or squared (grid) paper;
  asked for by name (``paper=``), also the papers of :data:`GRID_PAPERS`: blue or
  grey squared paper of various spacings and line widths, dotted notebook paper
  and ruled paper with a red margin line;
* ink colour: black, blue ballpoint or pencil (lighter, greyer);
* uneven light: a linear gradient plus a soft shadow over part of the page;
* a slight tilt (up to 3 degrees), defocus blur, sensor noise and JPEG.

The truth boxes are carried through the tilt (the box of the rotated corners).
"""

from __future__ import annotations

import cv2
import numpy as np

INKS = {
    "black": (35, 35, 40),
    "blue": (30, 45, 160),
    "pencil": (95, 95, 100),
}
PAPERS = ("plain", "ruled", "squared")
#: Further papers, used only when asked for by name (``photo_look(paper=...)``): the
#: draw among :data:`PAPERS`, and so every image drawn without them, is unchanged.
GRID_PAPERS = ("grid-blue", "grid-grey", "dotted", "ruled-margin")


def _paper(
    height: int, width: int, *, kind: str, spacing: float, rng: np.random.Generator
) -> np.ndarray:
    tint = np.array([245, 242, 232], np.float32) + rng.uniform(-10, 8, 3).astype(np.float32)
    page = np.empty((height, width, 3), np.float32)
    page[:] = tint
    line = np.array([175, 195, 230], np.float32) + rng.uniform(-15, 15, 3).astype(np.float32)
    thickness = int(rng.integers(1, 3))
    offset = rng.uniform(0, spacing)
    mask = np.zeros((height, width), np.uint8)
    if kind in ("ruled", "squared"):
        y = offset
        while y < height:
            cv2.line(mask, (0, round(y)), (width - 1, round(y)), 255, thickness, cv2.LINE_AA)
            y += spacing
    if kind == "squared":
        x = rng.uniform(0, spacing)
        while x < width:
            cv2.line(mask, (round(x), 0), (round(x), height - 1), 255, thickness, cv2.LINE_AA)
            x += spacing
    a = (mask.astype(np.float32) / 255.0 * rng.uniform(0.5, 0.9))[..., None]
    return page * (1 - a) + line * a


def _grid_paper(
    height: int,
    width: int,
    *,
    kind: str,
    symbol_height: float,
    ink_left: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, dict[str, object]]:
    """A page of one of :data:`GRID_PAPERS`, and what was drawn (for reporting).

    ``ink_left`` is the first column of ink: a margin line is drawn left of it.
    """
    tint = np.array([245, 242, 232], np.float32) + rng.uniform(-10, 8, 3).astype(np.float32)
    page = np.empty((height, width, 3), np.float32)
    page[:] = tint
    if kind == "grid-grey":
        grey = rng.uniform(150, 195)
        line = np.array([grey, grey, grey + rng.uniform(-6, 6)], np.float32)
    else:
        line = np.array([160, 188, 228], np.float32) + rng.uniform(-15, 15, 3).astype(np.float32)
    unit = symbol_height / 48
    mask = np.zeros((height, width), np.uint8)
    shift = 4  # sub-pixel precision for cv2
    if kind == "dotted":
        spacing = symbol_height * rng.uniform(0.45, 1.0)
        radius = rng.uniform(0.8, 2.2) * unit
        r = max(1, round(radius * (1 << shift)))
        y0, x0 = rng.uniform(0, spacing, 2)
        for y in np.arange(y0, height, spacing):
            for x in np.arange(x0, width, spacing):
                centre = (round(x * (1 << shift)), round(y * (1 << shift)))
                cv2.circle(mask, centre, r, 255, -1, cv2.LINE_AA, shift)
        strength = rng.uniform(0.5, 0.95)
        details: dict[str, object] = {"spacing": round(spacing, 1), "dot": round(radius, 1)}
    else:
        ruled = kind == "ruled-margin"
        spacing = symbol_height * (rng.uniform(1.2, 1.8) if ruled else rng.uniform(0.4, 1.1))
        thickness = max(1, round(rng.uniform(0.5, 2.2) * unit))
        major = 0 if ruled else int(rng.choice([0, 0, 2, 5]))  # a bolder line every so many
        strength = rng.uniform(0.35, 0.8)
        bold = np.zeros_like(mask)
        for axis in ("y",) if ruled else ("y", "x"):
            length = height if axis == "y" else width
            start = rng.uniform(0, spacing)
            for k, pos in enumerate(np.arange(start, length, spacing)):
                is_major = bool(major) and k % major == 0
                v = round(pos)
                a, b = ((0, v), (width - 1, v)) if axis == "y" else ((v, 0), (v, height - 1))
                cv2.line(bold if is_major else mask, a, b, 255, thickness + is_major, cv2.LINE_AA)
        if major:  # the minor lines fainter between the bold ones
            mask = np.maximum((mask.astype(np.float32) * 0.6).astype(np.uint8), bold)
        details = {"spacing": round(spacing, 1), "line": thickness, "major": major}
    a = (mask.astype(np.float32) / 255.0 * strength)[..., None]
    page = page * (1 - a) + line * a
    if kind == "ruled-margin":
        red = np.array([222, 105, 115], np.float32) + rng.uniform(-12, 12, 3).astype(np.float32)
        margin = np.zeros((height, width), np.uint8)
        x = max(1.0, ink_left * rng.uniform(0.25, 0.7))
        lines = [x]
        if rng.random() < 0.3:  # a double margin line
            lines.append(x - max(2.0, symbol_height * rng.uniform(0.06, 0.12)))
        thickness = max(1, round(rng.uniform(0.8, 2.6) * unit))
        for lx in lines:
            if lx >= 0:
                cv2.line(
                    margin, (round(lx), 0), (round(lx), height - 1), 255, thickness, cv2.LINE_AA
                )
        a = (margin.astype(np.float32) / 255.0 * rng.uniform(0.6, 0.95))[..., None]
        page = page * (1 - a) + red * a
        details["margin_line"] = round(x, 1)
    return page, details


def _lighting(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xx / width + np.sin(angle) * yy / height) + 1.0
    ramp = ramp / max(float(ramp.max()), 1e-6)
    light = 1.0 - rng.uniform(0.1, 0.4) * (1 - ramp)
    # A soft shadow (a hand or the phone) over one side.
    cx, cy = rng.uniform(-0.2, 1.2) * width, rng.uniform(-0.2, 1.2) * height
    radius = rng.uniform(0.3, 0.7) * max(height, width)
    dist = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
    shadow = 1.0 - rng.uniform(0.15, 0.4) * np.clip(1.0 - dist / radius, 0, 1) ** 0.5
    return light * shadow


def turned_boxes(
    boxes: list[tuple[int, int, int, int]], matrix: np.ndarray
) -> list[tuple[int, int, int, int]]:
    """The boxes ``(x, y, w, h)`` of ``boxes``' corners moved by a 2x3 affine ``matrix``."""
    turned = []
    for x, y, bw, bh in boxes:
        corners = np.array([[x, y, 1], [x + bw, y, 1], [x, y + bh, 1], [x + bw, y + bh, 1]], float)
        pts = corners @ matrix.T
        x0, y0 = np.floor(pts.min(axis=0)).astype(int)
        x1, y1 = np.ceil(pts.max(axis=0)).astype(int)
        turned.append((int(x0), int(y0), int(x1 - x0), int(y1 - y0)))
    return turned


def photo_look(
    image: np.ndarray,
    boxes: list[tuple[int, int, int, int]],
    *,
    rng: np.random.Generator,
    symbol_height: float = 48.0,
    quality: int | None = None,
    paper: str | None = None,
    ink: str | None = None,
) -> tuple[bytes, list[tuple[int, int, int, int]], dict[str, object]]:
    """Turn a dark-on-white grey rendering into JPEG bytes that look photographed.

    ``quality``, ``paper`` (one of :data:`PAPERS` or :data:`GRID_PAPERS`) and
    ``ink`` (one of :data:`INKS`) fix those choices instead of drawing them (they
    are still drawn, so the rest of the draw is the same). Returns the JPEG bytes,
    the truth boxes in the new image, and the drawn parameters (for reporting).
    """
    margin = int(symbol_height * rng.uniform(0.4, 1.0))
    gray = cv2.copyMakeBorder(image, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=255)
    boxes = [(x + margin, y + margin, w, h) for x, y, w, h in boxes]
    h, w = gray.shape
    kind = PAPERS[int(rng.integers(0, len(PAPERS)))]
    kind = paper or kind
    ink_name = tuple(INKS)[int(rng.integers(0, len(INKS)))]
    ink_name = ink or ink_name
    spacing = symbol_height * (rng.uniform(1.3, 1.8) if kind == "ruled" else rng.uniform(0.5, 0.8))
    grid: dict[str, object] = {}
    if kind in GRID_PAPERS:
        columns = np.flatnonzero((gray < 128).any(axis=0))
        ink_left = int(columns[0]) if columns.size else margin
        paper, grid = _grid_paper(
            h, w, kind=kind, symbol_height=symbol_height, ink_left=ink_left, rng=rng
        )
    else:
        paper = _paper(h, w, kind=kind, spacing=spacing, rng=rng)
    alpha = (1.0 - gray.astype(np.float32) / 255.0)[..., None]
    if ink_name == "pencil":
        alpha = alpha * rng.uniform(0.6, 0.85)
    ink = np.array(INKS[ink_name], np.float32) + rng.uniform(-10, 10, 3).astype(np.float32)
    rgb = paper * (1 - alpha) + ink * alpha
    rgb *= _lighting(h, w, rng)[..., None]
    angle = float(rng.uniform(-3, 3))
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    rgb = cv2.warpAffine(
        rgb, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    turned = turned_boxes(boxes, matrix)
    sigma = float(rng.uniform(0.3, 1.2))
    rgb = cv2.GaussianBlur(rgb, (0, 0), sigma)
    rgb += rng.normal(0, rng.uniform(2, 6), rgb.shape).astype(np.float32)
    out = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
    q = quality if quality is not None else int(rng.integers(55, 90))
    ok, buf = cv2.imencode(
        ".jpg", cv2.cvtColor(out, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, q]
    )
    if not ok:  # pragma: no cover
        raise RuntimeError("JPEG encoding failed")
    params = {
        "paper": kind,
        "ink": ink_name,
        "tilt": round(angle, 2),
        "blur": round(sigma, 2),
        "jpeg": q,
    }
    if grid:
        params["grid"] = grid
    return buf.tobytes(), turned, params
