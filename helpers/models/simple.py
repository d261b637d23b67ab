"""SimpleNN: the small LeNet-style CNN of the Duke ECE 661 assignment (labs 01-05).

conv 5x5 (in->8) -> max-pool -> conv 3x3 (8->16) -> max-pool -> fc 576->120->84->classes.
On 32x32 input: 28x28 -> 14x14 -> 12x12 -> 6x6, so the first fc layer takes 16*6*6 = 576.
Layers are passed in (timm style): `act_layer=Swish` or `norm_layer=nn.BatchNorm2d` change
the activation or add BatchNorm after every conv (lab 04), and `drop_layer` puts the student's
dropout module after the fully connected layers (lab 05), without a second class.
"""

from __future__ import annotations

import torch
from torch import nn


class SimpleNN(nn.Module):
    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 3,
        *,
        act_layer=nn.ReLU,
        norm_layer=None,
        dropout: float = 0.0,
        drop_layer=nn.Dropout,
    ):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 8, 5)
        self.bn1 = norm_layer(8) if norm_layer else nn.Identity()
        self.conv2 = nn.Conv2d(8, 16, 3)
        self.bn2 = norm_layer(16) if norm_layer else nn.Identity()
        self.act = act_layer()
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(16 * 6 * 6, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)
        self.drop = drop_layer(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.act(self.bn1(self.conv1(x))))  # (B, 8, 14, 14)
        x = self.pool(self.act(self.bn2(self.conv2(x))))  # (B, 16, 6, 6)
        x = x.flatten(1)  # (B, 576)
        x = self.drop(self.act(self.fc1(x)))  # (B, 120)
        x = self.drop(self.act(self.fc2(x)))  # (B, 84)
        return self.fc3(x)  # (B, num_classes)


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters (lab 01)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def parameter_table(model: nn.Module) -> str:
    """One line per parameter tensor: name, shape, count; then the total (lab 01)."""
    rows = [(name, str(tuple(p.shape)), p.numel()) for name, p in model.named_parameters()]
    width = max(len(r[0]) for r in rows)
    lines = [f"{name:<{width}}  {shape:<16} {n:>9,}" for name, shape, n in rows]
    lines.append(f"{'total':<{width}}  {'':<16} {count_parameters(model):>9,}")
    return "\n".join(lines)
