"""The TU Wien report's CNN (its §4.2), the model lab 13 sweeps as the report did.

Three blocks of conv -> BatchNorm -> ReLU -> 2x2 max-pool, a flatten, and an MLP of two hidden layers
with dropout before the output layer. The report tuned the three conv widths, the two MLP widths, the
dropout rate and the batch size with a W&B sweep, and gives none of the values it chose; the kernel
size (3x3, padding 1) and the dropout's place (after each hidden layer) are ours. Its output layer
ended in a softmax; here the model returns logits, as `cross_entropy` expects (lab 01 shows what a
softmax before `cross_entropy` does to the loss).

On 32x32 input: 32 -> 16 -> 8 -> 4, so the MLP sees convs[2] * 16 features (28x28: 3 * 3 = 9 per channel).
"""

from __future__ import annotations

import torch
from torch import nn


def conv_block(cin: int, cout: int) -> nn.Sequential:
    """3x3 conv (no bias: BN follows) -> BatchNorm -> ReLU -> 2x2 max-pool: the spatial size halves."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2)
    )


class TuWienCNN(nn.Module):
    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 3,
        *,
        image_size: int = 32,
        convs: tuple[int, int, int] = (32, 64, 128),
        hidden: tuple[int, int] = (256, 128),
        dropout: float = 0.5,
    ):
        super().__init__()
        c1, c2, c3 = convs
        self.features = nn.Sequential(conv_block(in_channels, c1), conv_block(c1, c2), conv_block(c2, c3))
        side = image_size // 8  # three halvings, each rounding down
        h1, h2 = hidden
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c3 * side * side, h1),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(h1, h2),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(h2, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))  # (B, num_classes) logits
