"""The symbol classifier network: a small VGG-style CNN for 32x32 ink images."""

from __future__ import annotations

import torch
from torch import nn

from mathocr.symbols import CLASSES, INPUT_CHANNELS


def _block(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]


class SymbolNet(nn.Sequential):
    """Six 3x3 conv layers with batch norm, three max-pools, global average pooling, one linear.

    Input ``(N, 2, 32, 32)`` float32 (plane 0 ink 1.0 on 0.0, plane 1 the relative
    size, from :func:`mathocr.normalize.normalize_input`); output ``(N, len(CLASSES))``
    logits.
    About 150 k parameters, 7 M multiply-adds per symbol.
    """

    def __init__(self, *, width: int = 16, n_classes: int = len(CLASSES), dropout: float = 0.1):
        w = width
        super().__init__(
            *_block(INPUT_CHANNELS, w),
            nn.MaxPool2d(2),  # 16x16
            *_block(w, 2 * w),
            *_block(2 * w, 2 * w),
            nn.MaxPool2d(2),  # 8x8
            *_block(2 * w, 4 * w),
            *_block(4 * w, 4 * w),
            nn.MaxPool2d(2),  # 4x4
            *_block(4 * w, 8 * w),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(8 * w, n_classes),
        )

    @torch.no_grad()
    def predict_logits(self, x: torch.Tensor, *, batch_size: int = 1024) -> torch.Tensor:
        """Logits for a large input in eval mode, in chunks."""
        self.eval()
        return torch.cat([self(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
