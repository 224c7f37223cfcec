"""Give a clean rendered expression the look of a phone photo of paper.

Seeded and deterministic: the same ``rng`` state gives the same bytes. Effects,
each drawn at random within a plausible range:

* paper tint, plain, ruled (light blue lines) or squared (grid) paper;
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


def photo_look(
    image: np.ndarray,
    boxes: list[tuple[int, int, int, int]],
    *,
    rng: np.random.Generator,
    symbol_height: float = 48.0,
    quality: int | None = None,
    paper: str | None = None,
) -> tuple[bytes, list[tuple[int, int, int, int]], dict[str, object]]:
    """Turn a dark-on-white grey rendering into JPEG bytes that look photographed.

    ``quality`` and ``paper`` (one of :data:`PAPERS`) fix those choices instead
    of drawing them. Returns the JPEG bytes, the truth boxes in the new image,
    and the drawn parameters (for reporting).
    """
    margin = int(symbol_height * rng.uniform(0.4, 1.0))
    gray = cv2.copyMakeBorder(image, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=255)
    boxes = [(x + margin, y + margin, w, h) for x, y, w, h in boxes]
    h, w = gray.shape
    kind = PAPERS[int(rng.integers(0, len(PAPERS)))]
    kind = paper or kind
    ink_name = tuple(INKS)[int(rng.integers(0, len(INKS)))]
    spacing = symbol_height * (rng.uniform(1.3, 1.8) if kind == "ruled" else rng.uniform(0.5, 0.8))
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
    turned = []
    for x, y, bw, bh in boxes:
        corners = np.array([[x, y, 1], [x + bw, y, 1], [x, y + bh, 1], [x + bw, y + bh, 1]], float)
        pts = corners @ matrix.T
        x0, y0 = np.floor(pts.min(axis=0)).astype(int)
        x1, y1 = np.ceil(pts.max(axis=0)).astype(int)
        turned.append((int(x0), int(y0), int(x1 - x0), int(y1 - y0)))
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
    return buf.tobytes(), turned, params
