"""Test images: tiny encoded images in every accepted format, and a photo-like expression.

Everything is drawn in code (no files), so tests and benchmarks need no data.
"""

from __future__ import annotations

import base64
import io

import cv2
import numpy as np
from PIL import Image as PILImage

#: Pillow format name of each accepted format.
PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "gif": "GIF"}
MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif"}


def expression_array(
    text: str = "12+7x3=",
    *,
    size: tuple[int, int] = (1000, 250),
    seed: int = 0,
    photo: bool = True,
) -> np.ndarray:
    """An RGB ``uint8`` image of ``text`` written in a script font.

    With ``photo`` the paper is photo-like: uneven light, ruled lines, blue ink,
    sensor noise and a little blur.
    """
    width, height = size
    rng = np.random.default_rng(seed)
    if photo:
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        light = 215 + 30 * (xx / width) - 25 * (yy / height) ** 2
        paper = np.stack([light * 0.97, light * 0.99, light], axis=-1)
        image = np.clip(paper, 0, 255).astype(np.uint8)
        for y in range(20, height, 32):
            cv2.line(image, (0, y), (width, y), (215, 190, 170), 1, cv2.LINE_AA)
        ink = (30, 60, 150)
    else:
        image = np.full((height, width, 3), 255, np.uint8)
        ink = (0, 0, 0)
    font = cv2.FONT_HERSHEY_SCRIPT_SIMPLEX
    scale = height / 60
    thickness = max(2, round(height / 70))
    (tw, th), _ = cv2.getTextSize(text, font, scale, thickness)
    scale *= min(1.0, 0.85 * width / max(tw, 1))
    (tw, th), _ = cv2.getTextSize(text, font, scale, thickness)
    origin = ((width - tw) // 2, (height + th) // 2)
    cv2.putText(image, text, origin, font, scale, ink, thickness, cv2.LINE_AA)
    if photo:
        noise = rng.normal(0, 6, image.shape)
        image = np.clip(image.astype(np.float32) + noise, 0, 255).astype(np.uint8)
        image = cv2.GaussianBlur(image, (3, 3), 0.8)
    return image


def encode(array: np.ndarray, fmt: str = "png", **options) -> bytes:
    """Encode an RGB/RGBA/gray ``uint8`` array with Pillow (``fmt`` as in :data:`PIL_FORMATS`)."""
    image = PILImage.fromarray(array)
    if fmt == "jpeg" and image.mode == "RGBA":
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format=PIL_FORMATS[fmt], **options)
    return buffer.getvalue()


def expression_image(fmt: str = "jpeg", **kwargs) -> bytes:
    """:func:`expression_array` encoded as ``fmt`` (JPEG quality 90 by default)."""
    options = {"quality": 90} if fmt in ("jpeg", "webp") else {}
    return encode(expression_array(**kwargs), fmt, **options)


def transparent_canvas_png(size: tuple[int, int] = (400, 120)) -> bytes:
    """What an HTML canvas gives: black strokes on a fully transparent background."""
    width, height = size
    rgba = np.zeros((height, width, 4), np.uint8)
    cv2.putText(rgba, "4+5", (40, 90), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 2.5, (0, 0, 0, 255), 6)
    return encode(rgba, "png")


def blank_image(fmt: str = "png", size: tuple[int, int] = (300, 100)) -> bytes:
    """A plain white image: valid, but with nothing written on it."""
    width, height = size
    return encode(np.full((height, width, 3), 255, np.uint8), fmt)


def data_url(data: bytes, fmt: str = "png") -> str:
    """``data:image/...;base64,...`` for ``data``."""
    return f"data:{MEDIA_TYPES[fmt]};base64,{base64.b64encode(data).decode('ascii')}"


def b64(data: bytes) -> str:
    """Bare standard base64 of ``data``."""
    return base64.b64encode(data).decode("ascii")
