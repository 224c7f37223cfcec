"""The line model's network: a small CNN over a 40-pixel-tall line, a BiLSTM, CTC columns."""

from __future__ import annotations

import torch
from torch import nn

from mathocr.line_model import LINE_HEIGHT, STRIDE


def _block(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]


class LineNet(nn.Module):
    """Five 3x3 conv layers (pooled to one row of columns :data:`STRIDE` pixels wide),
    a bidirectional LSTM along the line, and a linear layer to ``n_labels + 1`` CTC
    columns (0 is the blank).

    Input ``(N, 1, LINE_HEIGHT, W)`` float32 (:func:`mathocr.line_model.line_image`,
    ``W`` a multiple of :data:`STRIDE`); output ``(W / STRIDE, N, n_labels + 1)``
    log-probabilities.
    """

    def __init__(self, n_labels: int, *, width: int = 32, hidden: int = 96) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(
            *_block(1, w),
            nn.MaxPool2d(2),  # 20 x W/2
            *_block(w, int(1.5 * w)),
            nn.MaxPool2d(2),  # 10 x W/4
            *_block(int(1.5 * w), 2 * w),
            *_block(2 * w, 2 * w),
            nn.MaxPool2d((2, 1)),  # 5 x W/4
            *_block(2 * w, 3 * w),
            nn.Conv2d(3 * w, 3 * w, (LINE_HEIGHT // 8, 1), bias=False),  # 1 x W/4
            nn.BatchNorm2d(3 * w),
            nn.ReLU(),
        )
        assert STRIDE == 4  # noqa: S101 - the two 2x2 pools above
        self.rnn = nn.LSTM(3 * w, hidden, bidirectional=True)
        self.head = nn.Linear(2 * hidden, n_labels + 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x).squeeze(2)  # N, C, T
        seq, _ = self.rnn(f.permute(2, 0, 1))  # T, N, 2H
        return torch.log_softmax(self.head(seq), dim=-1)
