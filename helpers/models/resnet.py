"""ResNet-20: the CIFAR ResNet of He et al. 2016, section 4.2 (lab 06).

"Deep Residual Learning for Image Recognition" builds its CIFAR-10 nets from a 3x3 conv with
16 filters, then 3 stages of n basic blocks each (widths 16, 32, 64; the first block of stages
2 and 3 halves the feature map with stride 2), global average pooling and a linear layer:
6n + 2 weighted layers, so n = 3 gives ResNet-20 (91.25% on CIFAR-10 in the paper; the Duke
ECE 661 report reaches 92.4% with SGD, lr 0.1, 200 epochs).

Where a block changes shape, the shortcut is either
- option A (the paper's choice for CIFAR): subsample by the stride and pad the new channels with
  zeros. No parameters: ResNet-20-A has exactly 269,722.
- option B: a 1x1 conv + BatchNorm projection, 2,752 parameters more (272,474).

Layers are passed in (timm style): `act_layer=Swish` swaps every ReLU, `norm_layer` the BatchNorm,
and `block` the residual block itself (lab 06 builds ResNet-20 from the block the student writes).
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn

from helpers.errors import LabError

SHORTCUTS = ("A", "B")
WIDTHS = (16, 32, 64)  # channels of the three stages; each stage halves the feature map


class PadShortcut(nn.Module):
    """Option A: strided identity, the extra channels zero. Parameter-free.

    Keeps pixels (0, 0), (0, s), ... (where a stride-s 3x3 conv with padding 1 centres its
    outputs) and puts (out - in) // 2 zero channels before x's channels and the rest after, as
    the widely used CIFAR ResNet code does: 16 -> 32 gives zeros, x, zeros = 8, 16, 8 channels.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.stride = stride
        self.pad_front = (out_channels - in_channels) // 2  # split the zeros around the old channels
        self.pad_back = out_channels - in_channels - self.pad_front

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]  # (B, C_in, H/s, W/s)
        return F.pad(x, (0, 0, 0, 0, self.pad_front, self.pad_back))  # (B, C_out, H/s, W/s)


def projection_shortcut(in_channels: int, out_channels: int, stride: int, norm_layer) -> nn.Module:
    """Option B: 1x1 conv (strided) + norm, learned."""
    conv = nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)
    return nn.Sequential(conv, norm_layer(out_channels))


def make_shortcut(in_channels: int, out_channels: int, stride: int, kind: str, norm_layer) -> nn.Module:
    """Identity when the shape stays; otherwise option A (zero padding) or B (projection)."""
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    if kind == "A":
        return PadShortcut(in_channels, out_channels, stride)
    return projection_shortcut(in_channels, out_channels, stride, norm_layer)


class BasicBlock(nn.Module):
    """conv3x3 -> norm -> act -> conv3x3 -> norm, plus the shortcut, then act."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        *,
        shortcut: str = "A",
        act_layer=nn.ReLU,
        norm_layer=nn.BatchNorm2d,
    ):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = norm_layer(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = norm_layer(out_channels)
        self.act = act_layer()
        self.shortcut = make_shortcut(in_channels, out_channels, stride, shortcut, norm_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act(self.bn1(self.conv1(x)))  # (B, C_out, H/s, W/s)
        out = self.bn2(self.conv2(out))  # (B, C_out, H/s, W/s)
        return self.act(out + self.shortcut(x))  # (B, C_out, H/s, W/s)


class ResNet(nn.Module):
    """The CIFAR ResNet (6 * depth + 2 layers). `ResNet()` is ResNet-20 with option A shortcuts.

    depth: basic blocks per stage (3 -> ResNet-20, 5 -> ResNet-32, 9 -> ResNet-56).
    shortcut: "A" (zero-padded identity) or "B" (1x1 conv projection) where the shape changes.
    widths: channels of the three stages.
    block: called as `block(in_channels, out_channels, stride)` for every residual block; None:
        `BasicBlock` with this net's shortcut, act_layer and norm_layer (the stem always uses those).
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 3,
        *,
        depth: int = 3,
        shortcut: str = "A",
        widths: tuple[int, ...] = WIDTHS,
        act_layer=nn.ReLU,
        norm_layer=nn.BatchNorm2d,
        block=None,
    ):
        super().__init__()
        if shortcut not in SHORTCUTS:
            raise LabError(f"Unknown shortcut {shortcut!r}. Valid: {', '.join(SHORTCUTS)}.")
        if depth < 1:
            raise LabError(f"depth (blocks per stage) must be >= 1, got {depth}.")
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False), norm_layer(widths[0]), act_layer()
        )
        block = block or functools.partial(BasicBlock, shortcut=shortcut, act_layer=act_layer, norm_layer=norm_layer)
        ins, strides = (widths[0], *widths[:-1]), (1,) + (2,) * (len(widths) - 1)
        stages = zip(ins, widths, strides, strict=True)  # (in, out, stride) per stage
        self.stages = nn.Sequential(*[self.make_stage(block, i, o, depth, s) for i, o, s in stages])
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(widths[-1], num_classes)
        self.apply(kaiming_init_)

    @staticmethod
    def make_stage(block, in_channels: int, out_channels: int, depth: int, stride: int) -> nn.Sequential:
        """`depth` blocks; only the first one changes the stride and width."""
        blocks = [block(in_channels, out_channels, stride)]
        blocks += [block(out_channels, out_channels, 1) for _ in range(depth - 1)]
        return nn.Sequential(*blocks)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)  # (B, 16, 32, 32)
        x = self.stages(x)  # (B, 64, 8, 8)
        return self.pool(x).flatten(1)  # (B, 64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))  # (B, num_classes)


def kaiming_init_(module: nn.Module) -> None:
    """He et al. 2015 init (the paper's choice) for convs and the head; norms start at scale 1, shift 0."""
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


def resnet20(num_classes: int = 10, in_channels: int = 3, **kw) -> ResNet:
    """ResNet-20 (3 blocks per stage); `shortcut="B"` for projection shortcuts, `block=` your own block."""
    return ResNet(num_classes, in_channels, depth=3, **kw)
