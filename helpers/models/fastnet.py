"""The fast CIFAR-10 net after airbench94 (Keller Jordan, github.com/KellerJordan/cifar10-airbench),
as reproduced in the TAMU CSCE 636 report (lab 08).

Pipeline order: the network, its initialization, then the tricks used around training and
evaluation.
- A frozen 2x2 conv (no padding: 32x32 -> 31x31) whose filters whiten 2x2 patches:
  `init_whitening(model.whiten, train_images)` sets them from the eigenvectors of the patch
  covariance, scaled by 1/sqrt(eigenvalue + eps). Each eigenvector is used twice, as itself
  and negated, so the GELU after it keeps both signs: 2 * in_channels * 4 filters (24 for RGB).
- Three VGG-like blocks conv3x3 -> maxpool2 -> BN -> GELU -> conv3x3 -> BN -> GELU
  (31 -> 15 -> 7 -> 3), convs without bias and Dirac-initialized (each starts as an identity on
  its first channels, so the plain stack trains like a ResNet), BatchNorm with its scale frozen
  at 1 (only the shift learns).
- Max-pool to 1x1, a bias-free linear head, logits scaled by 1/9.
- `predict_tta`: test-time augmentation (mirror, then 1-pixel translations); the mirror view is
  a function passed in (`mirror_logits`, or the one a student writes in lab 08).
- `EMA`: an exponential moving average of the weights; airbench's lookahead pulls the weights
  back to it every few steps (`ema.update(pull=True)`), see helpers.recipes.

Where this differs from airbench94.py: the whitening uses the centred patch covariance and sets
the conv's bias to centre the patches (airbench: the uncentred second moment, bias starting at 0).

Default widths (64, 256, 256) are airbench94's and the TAMU report's: 1,972,792 parameters
(the report's count, frozen ones included). A CPU fits narrower widths, e.g. (32, 64, 64).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from helpers import runtime
from helpers.errors import LabError

WIDTHS = (64, 256, 256)  # airbench94's block widths
TTA_LEVELS = (0, 1, 2)


class FrozenScaleBatchNorm(nn.BatchNorm2d):
    """BatchNorm whose scale stays 1 (not trained); only the shift (bias) learns.

    eps 1e-12 and momentum 0.4 (PyTorch's convention: the weight of the new batch) as airbench94.
    """

    def __init__(self, num_features: int, eps: float = 1e-12, momentum: float = 0.4):
        super().__init__(num_features, eps=eps, momentum=momentum)
        self.weight.requires_grad_(False)


def dirac_init_(conv: nn.Conv2d) -> nn.Conv2d:
    """Make the first min(in, out) filters identities (out channel i copies in channel i); the rest
    keep PyTorch's default init. Dirac parameterization, Zagoruyko & Komodakis 2017."""
    w = conv.weight.data  # (C_out, C_in, k, k)
    nn.init.dirac_(w[: min(w.shape[0], w.shape[1])])
    return conv


def conv3x3(in_channels: int, out_channels: int) -> nn.Conv2d:
    return dirac_init_(nn.Conv2d(in_channels, out_channels, 3, padding="same", bias=False))


class ConvGroup(nn.Module):
    """conv3x3 -> maxpool2 -> norm -> act -> conv3x3 -> norm -> act: halves the feature map."""

    def __init__(self, in_channels: int, out_channels: int, act_layer=nn.GELU, norm_layer=FrozenScaleBatchNorm):
        super().__init__()
        self.conv1 = conv3x3(in_channels, out_channels)
        self.pool = nn.MaxPool2d(2)
        self.norm1 = norm_layer(out_channels)
        self.conv2 = conv3x3(out_channels, out_channels)
        self.norm2 = norm_layer(out_channels)
        self.act = act_layer()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.norm1(self.pool(self.conv1(x))))  # (B, C_out, H/2, W/2)
        return self.act(self.norm2(self.conv2(x)))  # (B, C_out, H/2, W/2)


class FastNet(nn.Module):
    """airbench94's network. Call `init_whitening(model.whiten, train_images)` before training."""

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 3,
        *,
        widths: tuple[int, ...] = WIDTHS,
        scale: float = 1 / 9,
        act_layer=nn.GELU,
        norm_layer=FrozenScaleBatchNorm,
    ):
        super().__init__()
        whiten_width = 2 * in_channels * 2 * 2  # each eigenvector of the 2x2 patch covariance and its negative
        self.whiten = nn.Conv2d(in_channels, whiten_width, 2, padding=0)  # bias learnable, weight frozen
        self.whiten.weight.requires_grad_(False)
        self.act = act_layer()
        ins = (whiten_width, *widths[:-1])
        self.blocks = nn.Sequential(*[ConvGroup(i, o, act_layer, norm_layer) for i, o in zip(ins, widths, strict=True)])
        self.pool = nn.AdaptiveMaxPool2d(1)  # = airbench's MaxPool2d(3) on the 3x3 map of a 32x32 input
        self.head = nn.Linear(widths[-1], num_classes, bias=False)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.whiten(x))  # (B, 24, 31, 31)
        x = self.blocks(x)  # (B, 256, 3, 3)
        x = self.pool(x).flatten(1)  # (B, 256)
        return self.head(x) * self.scale  # (B, num_classes)


def patch_moments(images: torch.Tensor, size: int = 2, chunk: int = 512) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (D,) and covariance (D, D) of all size x size patches, D = C * size * size.

    In float64 where the device has it (not on Apple's MPS: float32 there), on the images' device.
    Accumulated chunk by chunk so 50k CIFAR images need no 2 GB patch matrix.
    """
    dtype = torch.float64 if runtime.has_float64(images.device) else torch.float32
    total, s1, s2 = 0, 0.0, 0.0
    for batch in images.split(chunk):
        p = F.unfold(batch.to(dtype), size).transpose(1, 2).flatten(0, 1)  # (B * L, D), conv's weight order
        total, s1, s2 = total + len(p), s1 + p.sum(0), s2 + p.T @ p
    mean = s1 / total  # (D,)
    return mean, s2 / total - torch.outer(mean, mean)  # (D,), (D, D)


@torch.no_grad()
def init_whitening(conv: nn.Conv2d, train_images: torch.Tensor, eps: float = 5e-4, covariance=None) -> nn.Conv2d:
    """Set `conv` (2 * D filters of size k x k, D = C * k * k) to whiten the patches of `train_images`.

    train_images: (N, C, H, W) float, normalized as the model will see them (airbench uses 5,000).
    Filters 0..D-1 are the covariance's eigenvectors over sqrt(eigenvalue + eps), filters D..2D-1
    their negatives; the bias subtracts the patch mean. On the training patches the first D outputs
    then have mean 0 and covariance ~ identity (exactly, as eps -> 0).
    covariance: `covariance(images) -> (D, D)`, the patch covariance to use (lab 08's exercise);
    default: `patch_moments`'s.
    """
    if not train_images.is_floating_point():
        raise LabError("init_whitening needs float images normalized as the model sees them, not uint8.")
    c_out, c_in, k, _ = conv.weight.shape
    if c_out != 2 * c_in * k * k:
        raise LabError(f"The whitening conv needs 2 * {c_in} * {k} * {k} = {2 * c_in * k * k} filters, has {c_out}.")
    images = train_images if runtime.has_float64(train_images.device) else train_images.cpu()  # MPS has no float64
    mean, cov = patch_moments(images, k)
    if covariance is not None:
        cov = covariance(images).to(mean.dtype)  # (D, D)
    eigenvalues, eigenvectors = torch.linalg.eigh(cov)  # ascending; eigenvectors as columns
    filters = eigenvectors.T / torch.sqrt(eigenvalues.clamp_min(0) + eps)[:, None]  # (D, D), one filter per row
    weight = torch.cat([filters, -filters])  # (2D, D)
    conv.weight.copy_(weight.view(c_out, c_in, k, k))
    if conv.bias is not None:
        conv.bias.copy_(-(weight @ mean))  # outputs centred on the training patches
    return conv


def shift(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Translate by (dy, dx) pixels, reflecting at the border: out[..., i, j] = x[..., i - dy, j - dx]."""
    p = max(abs(dy), abs(dx))
    H, W = x.shape[-2:]
    padded = F.pad(x, (p, p, p, p), mode="reflect")  # (B, C, H + 2p, W + 2p)
    return padded[..., p - dy : p - dy + H, p - dx : p - dx + W]  # (B, C, H, W)


def tta_views(x: torch.Tensor, level: int = 2) -> list[tuple[torch.Tensor, float]]:
    """Test-time augmentation views of a batch (B, C, H, W) and the weight of each, after airbench.

    level 0: x.  level 1: x and its mirror, 1/2 each.  level 2: those two at 1/4 each, plus x moved
    one pixel down-right, x moved one pixel up-left, and the mirrors of those two, 1/8 each.
    """
    if level not in TTA_LEVELS:
        raise LabError(f"Unknown TTA level {level!r}. Valid: {', '.join(map(str, TTA_LEVELS))}.")
    if level == 0:
        return [(x, 1.0)]
    mirrored = [x, x.flip(-1)]
    if level == 1:
        return [(v, 0.5) for v in mirrored]
    down_right, up_left = shift(x, 1, 1), shift(x, -1, -1)
    moved = [down_right, down_right.flip(-1), up_left, up_left.flip(-1)]
    return [(v, 0.25) for v in mirrored] + [(v, 0.125) for v in moved]


def mirror_logits(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The logits averaged over x and its left-right mirror: TTA level 1 (lab 08's exercise)."""
    return 0.5 * model(x) + 0.5 * model(x.flip(-1))  # (B, num_classes)


@torch.no_grad()
def predict_tta(model: nn.Module, x: torch.Tensor, level: int = 2, mirror=mirror_logits) -> torch.Tensor:
    """The model's logits with test-time augmentation, in eval mode: (B, num_classes).

    level 0: model(x). level 1: `mirror(model, x)`. level 2 (airbench): half of that, plus a quarter
    each of `mirror` on x moved one pixel down-right and one pixel up-left; the same weights as
    `tta_views(x, 2)`.
    """
    if level not in TTA_LEVELS:
        raise LabError(f"Unknown TTA level {level!r}. Valid: {', '.join(map(str, TTA_LEVELS))}.")
    was_training = model.training
    model.eval()
    try:
        if level == 0:
            return model(x)
        logits = mirror(model, x)
        if level == 1:
            return logits
        return 0.5 * logits + 0.25 * mirror(model, shift(x, 1, 1)) + 0.25 * mirror(model, shift(x, -1, -1))
    finally:
        model.train(was_training)


class EMA:
    """Exponential moving average of a model's float weights and buffers (BatchNorm statistics too).

    ema = EMA(model, decay=0.95)
    ema.update()           # after an optimizer step: avg = decay * avg + (1 - decay) * weights
    ema.copy_to(model)     # evaluate with the averaged weights, or (lookahead) keep training from them
    ema.update(pull=True)  # both at once, in one pass over the weights (airbench's lookahead step)
    """

    def __init__(self, model: nn.Module, decay: float = 0.95):
        if not 0.0 <= decay <= 1.0:
            raise LabError(f"EMA decay must be in [0, 1], got {decay}.")
        self.model, self.decay = model, decay
        self.average = {k: v.detach().clone() for k, v in model.state_dict().items() if v.is_floating_point()}

    @torch.no_grad()
    def update(self, decay: float | None = None, pull: bool = False) -> None:
        """Move the average toward the model's current weights (`decay` overrides the default once);
        `pull`: then write the average into the model, in the same pass (= `copy_to()` after it)."""
        d = self.decay if decay is None else decay
        for k, v in self.model.state_dict().items():
            if k in self.average:
                self.average[k].lerp_(v, 1 - d)
                if pull:
                    v.copy_(self.average[k])

    @torch.no_grad()
    def copy_to(self, model: nn.Module | None = None) -> None:
        """Write the average into `model` (default: the tracked one)."""
        for k, v in (model or self.model).state_dict().items():
            if k in self.average:
                v.copy_(self.average[k])

    def state_dict(self) -> dict:
        return {"decay": self.decay, "average": self.average}

    def load_state_dict(self, state: dict) -> None:
        self.decay = state["decay"]
        self.average = {k: v.clone() for k, v in state["average"].items()}
