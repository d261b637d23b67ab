"""SimpleNet and CustomNet: the UW-Madison report's CNNs (sections 3.2 and 3.4; lab 09).

SimpleNet: "7 convolutional layers with ReLU activation and occasional max pooling layers, with
a final average pool and dense layer" — here two blocks of three 3x3 convs, each block ending in
a 2x2 max pool, then one more conv, a global average pool and one linear layer (3 + 3 + 1 = 7).

CustomNet: SimpleNet "augmented using batch normalization and skip connections": its two conv
blocks, each with BatchNorm at the end; four skip blocks (three convs with ReLU and BatchNorm at
the end, plus the identity around them); the last conv block and an adaptive max pool (the
report's words for CustomNet); two linear layers bridged by BatchNorm1d and ReLU.

The report does not give the widths or kernel sizes; `widths` (block 1, block 2, last conv) and
3x3 kernels are ours. `conv_layer` builds every convolution (timm style): pass your own
`Conv2D` to get the report's "SimpleNetCustConv2D".
"""

from __future__ import annotations

import torch
from torch import nn


def init_weights(model: nn.Module) -> None:
    """He (Kaiming) normal init of every conv (fan_in, ReLU), zero biases: with PyTorch's default
    init a 7-conv ReLU net without BatchNorm barely moves in its first epochs (our choice; the
    report does not say how it initialized)."""
    for m in model.modules():
        if getattr(m, "weight", None) is not None and m.weight.dim() == 4:
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)


def conv_block(cin: int, cout: int, n: int, conv_layer, norm: bool) -> list[nn.Module]:
    """n 3x3 convs with ReLU after each (cin -> cout, then cout -> cout), BatchNorm at the end if `norm`."""
    layers: list[nn.Module] = []
    for i in range(n):
        layers += [conv_layer(cin if i == 0 else cout, cout, 3, padding=1), nn.ReLU()]
    if norm:
        layers.append(nn.BatchNorm2d(cout))
    return layers


class SimpleNet(nn.Module):
    """7 convs: [3 convs, max pool] x 2, 1 conv, global average pool, linear."""

    def __init__(self, num_classes: int = 10, in_channels: int = 3, *, widths=(32, 64, 128), conv_layer=nn.Conv2d):
        super().__init__()
        w1, w2, w3 = widths
        self.features = nn.Sequential(
            *conv_block(in_channels, w1, 3, conv_layer, norm=False),
            nn.MaxPool2d(2),  # (B, w1, H/2, W/2)
            *conv_block(w1, w2, 3, conv_layer, norm=False),
            nn.MaxPool2d(2),  # (B, w2, H/4, W/4)
            *conv_block(w2, w3, 1, conv_layer, norm=False),  # (B, w3, H/4, W/4)
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(w3, num_classes)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.features(x)).flatten(1))  # (B, num_classes)


class SkipBlock(nn.Module):
    """x + F(x), F = three 3x3 convs with ReLU after each and BatchNorm at the end."""

    def __init__(self, channels: int, conv_layer=nn.Conv2d):
        super().__init__()
        self.body = nn.Sequential(*conv_block(channels, channels, 3, conv_layer, norm=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class CustomNet(nn.Module):
    """SimpleNet + BatchNorm + four skip blocks + a two-layer head (3 + 3 + 4 x 3 + 1 = 19 convs)."""

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 3,
        *,
        widths=(32, 64, 128),
        skip_blocks: int = 4,
        conv_layer=nn.Conv2d,
    ):
        super().__init__()
        w1, w2, w3 = widths
        self.features = nn.Sequential(
            *conv_block(in_channels, w1, 3, conv_layer, norm=True),
            nn.MaxPool2d(2),  # (B, w1, H/2, W/2)
            *conv_block(w1, w2, 3, conv_layer, norm=True),
            nn.MaxPool2d(2),  # (B, w2, H/4, W/4)
            *[SkipBlock(w2, conv_layer) for _ in range(skip_blocks)],  # (B, w2, H/4, W/4)
            *conv_block(w2, w3, 1, conv_layer, norm=False),  # (B, w3, H/4, W/4)
        )
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.head = nn.Sequential(nn.Linear(w3, w3), nn.BatchNorm1d(w3), nn.ReLU(), nn.Linear(w3, num_classes))
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.features(x)).flatten(1))  # (B, num_classes)


def count_convs(model: nn.Module) -> int:
    """How many convolution layers a model holds (nn.Conv2d or any module with a 4-d `weight`)."""
    return sum(1 for m in model.modules() if getattr(m, "weight", None) is not None and m.weight.dim() == 4)
