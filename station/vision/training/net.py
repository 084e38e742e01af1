"""The mask classifier: a small MobileNet-like CNN on 64 px aligned crops (about 0.2 M parameters)."""

from __future__ import annotations

import torch
from torch import nn


def _conv_bn(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


def _separable(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False),
        nn.BatchNorm2d(cin),
        nn.ReLU(inplace=True),
        nn.Conv2d(cin, cout, 1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class MaskNet(nn.Module):
    """Input: BGR crops scaled to [0, 1], (N, 3, 64, 64). Output: logits (N, classes)."""

    def __init__(self, classes: int = 3, width: float = 1.0):
        """Build the network.

        Args:
            classes: outputs.
            width: channel multiplier (1.0: 24 to 256 channels), rounded to multiples of 8.
        """
        super().__init__()

        def c(channels: int) -> int:
            return max(8, round(channels * width / 8) * 8)

        self.features = nn.Sequential(
            _conv_bn(3, c(24), 2),  # 32
            _separable(c(24), c(32), 1),
            _separable(c(32), c(64), 2),  # 16
            _separable(c(64), c(64), 1),
            _separable(c(64), c(128), 2),  # 8
            _separable(c(128), c(128), 1),
            _separable(c(128), c(128), 1),
            _separable(c(128), c(256), 2),  # 4
            _separable(c(256), c(256), 1),
        )
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(c(256), classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return class logits."""
        x = (x - 0.5) / 0.25
        x = self.features(x)
        return self.head(x.mean(dim=(2, 3)))


class Exported(nn.Module):
    """What goes into the ONNX file: the network with a softmax, so it outputs probabilities."""

    def __init__(self, net: MaskNet):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return class probabilities."""
        return torch.softmax(self.net(x), dim=1)
