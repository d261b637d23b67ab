"""SmallCNN: three conv-BN-ReLU blocks, global average pooling and a linear head `fc` (labs 11, 12).

A CPU-sized CNN for the transfer and interpretation labs. Its head is called `fc`, as in
torchvision's ResNet18, so lab 11's freezing and head-replacing code works on both; its last
conv block, `block3`, is where lab 12 computes Grad-CAM.

On 32x32 input: block1 (32x32) -> pool -> block2 (16x16) -> pool -> block3 (8x8) -> GAP -> fc.
"""

from __future__ import annotations

import torch
from torch import nn


def conv_bn(cin: int, cout: int) -> nn.Sequential:
    """3x3 conv (no bias: BN follows) -> BatchNorm -> ReLU; the spatial size stays."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class SmallCNN(nn.Module):
    def __init__(self, num_classes: int = 10, in_channels: int = 3, *, widths: tuple[int, ...] = (16, 32, 64)):
        super().__init__()
        w1, w2, w3 = widths
        self.block1 = conv_bn(in_channels, w1)
        self.block2 = conv_bn(w1, w2)
        self.block3 = conv_bn(w2, w3)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(w3, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The backbone: (B, C, H, W) -> (B, widths[-1]) pooled features."""
        x = self.pool(self.block1(x))  # (B, w1, H/2, W/2)
        x = self.pool(self.block2(x))  # (B, w2, H/4, W/4)
        x = self.block3(x)  # (B, w3, H/4, W/4)
        return x.mean(dim=(2, 3))  # (B, w3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))  # (B, num_classes)
