"""`Loader`: a whole split held on the device, shuffled and augmented a batch at a time.

Introduced in lab 01; augmentation is the subject of lab 03. It acts like a DataLoader
(`len`, `iter`, yields `(images, labels)`), but the uint8 images already sit on the target
device and each batch is cropped, flipped and normalized with tensor ops: no per-image Python
and no PIL in the hot loop (see benchmarks/loader.py for what that buys). Augmentation comes
either built in (`Augment`) or as your own function of a batch (`transform=`, lab 03).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from helpers import runtime
from helpers.data import Dataset, Split, load_splits
from helpers.errors import LabError

PADDING_MODES = ("zeros", "reflect")


@dataclass(frozen=True)
class Augment:
    """Which augmentations a Loader applies to each training batch (lab 03)."""

    crop_padding: int = 0  # random crop back to the original size after padding each side (4: the Duke report)
    padding_mode: str = "zeros"  # or "reflect" (the TAMU report's choice)
    flip: bool = False  # random horizontal flip, each image with probability 1/2
    alternating_flip: bool = False  # airbench: flip a fixed half one epoch, the other half the next
    p: float = 1.0  # probability that an image is augmented at all (the TU Wien report's knob)

    def __post_init__(self):
        if self.padding_mode not in PADDING_MODES:
            raise LabError(f"Unknown padding_mode {self.padding_mode!r}. Valid: {', '.join(PADDING_MODES)}.")
        if self.crop_padding < 0:
            raise LabError(f"crop_padding must be >= 0, got {self.crop_padding}.")
        if not 0.0 <= self.p <= 1.0:
            raise LabError(f"p is a probability and must be in [0, 1], got {self.p}.")
        if self.flip and self.alternating_flip:
            raise LabError("Choose flip=True or alternating_flip=True, not both.")


def random_crop(x: torch.Tensor, padding: int, mode: str = "zeros", generator=None) -> torch.Tensor:
    """Pad each side by `padding`, then crop every image at its own random offset.

    x: (B, C, H, W), any dtype. One gather for the whole batch.
    """
    if padding == 0:
        return x
    B, C, H, W = x.shape
    xp = F.pad(x, (padding,) * 4, mode="constant" if mode == "zeros" else mode)  # (B, C, H+2p, W+2p)
    dy = torch.randint(0, 2 * padding + 1, (B, 1), generator=generator, device=x.device)
    dx = torch.randint(0, 2 * padding + 1, (B, 1), generator=generator, device=x.device)
    rows = dy + torch.arange(H, device=x.device)  # (B, H)
    cols = dx + torch.arange(W, device=x.device)  # (B, W)
    b = torch.arange(B, device=x.device)[:, None, None, None]
    c = torch.arange(C, device=x.device)[None, :, None, None]
    return xp[b, c, rows[:, None, :, None], cols[:, None, None, :]]  # (B, C, H, W)


def flip_where(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mirror the images where `mask` (B,) is True."""
    return torch.where(mask[:, None, None, None], x.flip(-1), x)


def apply_augment(x: torch.Tensor, aug: Augment, generator=None, alternate: torch.Tensor | None = None) -> torch.Tensor:
    """Apply `aug` to a batch (B, C, H, W); with p < 1 some images pass through untouched.

    `alternate` (B,) says which images the alternating flip mirrors this epoch.
    """
    out = random_crop(x, aug.crop_padding, aug.padding_mode, generator)
    if aug.flip:
        out = flip_where(out, torch.rand(len(x), generator=generator, device=x.device) < 0.5)
    elif aug.alternating_flip:
        if alternate is None:
            raise LabError("alternating_flip needs to know which images to mirror this epoch (use a Loader).")
        out = flip_where(out, alternate)
    if aug.p < 1.0:
        keep = torch.rand(len(x), generator=generator, device=x.device) >= aug.p
        out = torch.where(keep[:, None, None, None], x, out)
    return out


def with_probability(transform: Callable, p: float) -> Callable:
    """`transform` applied to each image of a batch with probability `p`; the others pass
    through untouched (the TU Wien report's augmentation-probability knob, lab 03)."""
    if not 0.0 <= p <= 1.0:
        raise LabError(f"p is a probability and must be in [0, 1], got {p}.")

    def apply(x: torch.Tensor) -> torch.Tensor:
        out = transform(x)
        keep = torch.rand(len(x), device=x.device) >= p  # (B,)
        return torch.where(keep[:, None, None, None], x, out)

    return apply


def flip_rotate_resized_crop(
    x: torch.Tensor,
    degrees: float = 15.0,
    scale: tuple[float, float] = (0.5, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The TU Wien report's three transforms on every image of a batch (lab 03): a random horizontal
    flip (p = 1/2), a rotation by up to `degrees` either way, and a random resized crop (a window of
    `scale` of the area at an aspect ratio in `ratio`, placed at random and resized back to the whole
    image), as torchvision's RandomHorizontalFlip, RandomRotation and RandomResizedCrop do one PIL
    image at a time. Here one affine grid per image and one `grid_sample` for the batch, bilinear,
    zeros outside (the mean colour, on normalized images). The report does not give the parameters;
    these defaults keep most of a 32x32 image. x: (B, C, H, W), any dtype; the result has its dtype.
    generator: where the draws come from (None: torch's global generator, which the lab seeds)."""
    if not 0 < scale[0] <= scale[1] <= 1 or not 0 < ratio[0] <= ratio[1]:
        raise LabError(f"scale must satisfy 0 < min <= max <= 1 and ratio 0 < min <= max; got {scale} and {ratio}.")
    B, device = len(x), x.device

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(B, generator=generator, device=device)

    area, aspect = uniform(*scale), torch.exp(uniform(math.log(ratio[0]), math.log(ratio[1])))
    w, h = (area * aspect).sqrt().clamp(max=1), (area / aspect).sqrt().clamp(max=1)  # fractions of the side
    cx, cy = uniform(-1, 1) * (1 - w), uniform(-1, 1) * (1 - h)
    angle = uniform(-degrees, degrees) * math.pi / 180
    flip = torch.where(uniform(0, 1) < 0.5, -1.0, 1.0)
    cos, sin = angle.cos(), angle.sin()
    theta = torch.stack(  # where each output position (u, v) in [-1, 1]^2 samples the input, per image
        [
            torch.stack([w * cos * flip, -w * sin, cx], dim=1),
            torch.stack([h * sin * flip, h * cos, cy], dim=1),
        ],
        dim=1,
    )  # (B, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x.float(), grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out if x.is_floating_point() else out.round().clamp(0, 255).to(x.dtype)


class Loader:
    """Batches of (normalized float images, labels) from a Split held on `device`.

    train = Loader(train_split, batch_size=128, shuffle=True, augment=Augment(4, flip=True))
    for x, y in train: ...   # x: (B, C, H, W) float32 on the device, y: (B,) int64

    `transform`: your own augmentation, `transform(x) -> x` on each normalized float batch
    (B, C, H, W) on the device, after `augment` (lab 03). It draws its randomness from torch's
    global generator, which the lab seeds; zero padding there is the mean colour, as in the
    Duke report, which cropped after normalizing.

    `per_epoch`: crop, flip and normalize the whole split once at the start of each epoch, then
    slice each batch out of it, as airbench's loader does (lab 08): a batch then costs 3 tensor ops
    instead of ~30 (on a GPU, each is a kernel launch), at the memory of one float copy of the split.
    The same augmentation; other random draws than batch by batch.
    """

    def __init__(
        self,
        data: Split,
        *,
        batch_size: int = 128,
        shuffle: bool = False,
        augment: Augment | None = None,
        transform: Callable | None = None,
        device: str | torch.device = "cpu",
        seed: int = 0,
        drop_last: bool = False,
        channels_last: bool = False,
        per_epoch: bool = False,
    ):
        if batch_size < 1:
            raise LabError(f"batch_size must be a positive integer, got {batch_size}.")
        if transform is not None and not callable(transform):
            raise LabError(f"transform must be a function of a batch (B, C, H, W), got {type(transform).__name__}.")
        self.device = torch.device(device)
        self.images = data.images.to(self.device)  # (N, C, H, W) uint8, stays there
        self.labels = data.labels.to(self.device)  # (N,)
        self.classes = data.classes
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.augment, self.transform = augment, transform
        self.channels_last, self.per_epoch = channels_last, per_epoch
        std = torch.tensor(data.std, device=self.device).view(1, -1, 1, 1)
        mean = torch.tensor(data.mean, device=self.device).view(1, -1, 1, 1)
        self.scale, self.shift = 1 / (255 * std), -mean / std  # x/255 - mean) / std as one FMA
        self.generator = torch.Generator(self.device).manual_seed(seed)
        self.epoch = 0
        # alternating flip: each image's flip in even epochs, fixed once; odd epochs flip the rest
        self.flip_base = torch.rand(len(self.labels), generator=self.generator, device=self.device) < 0.5
        self._initial = self.state_dict()

    def __len__(self) -> int:
        n = len(self.labels) / self.batch_size
        return math.floor(n) if self.drop_last else math.ceil(n)

    def __iter__(self):
        n = len(self.labels)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator, device=self.device)
        else:
            order = torch.arange(n, device=self.device)
        epoch, self.epoch = self.epoch, self.epoch + 1
        whole = self.epoch_images(epoch) if self.per_epoch else None  # (N, C, H, W) float
        for i in range(len(self)):
            index = order[i * self.batch_size : (i + 1) * self.batch_size]
            if whole is not None:
                x = whole[index]
            else:
                x = self.images[index]  # (B, C, H, W) uint8
                if self.augment is not None:
                    x = self.augment_batch(x, index, epoch)
                x = self.normalize(x)
            if self.transform is not None:
                x = self.transform(x)
                x = x.contiguous(memory_format=torch.channels_last) if self.channels_last else x
            yield x, self.labels[index]

    def augment_batch(self, x: torch.Tensor, index: torch.Tensor, epoch: int) -> torch.Tensor:
        """Crop and flip a uint8 batch as `self.augment` says."""
        alternate = self.flip_base[index] ^ bool(epoch % 2)
        return apply_augment(x, self.augment, self.generator, alternate)

    def epoch_images(self, epoch: int) -> torch.Tensor:
        """The whole split cropped and flipped as `self.augment` says, and normalized: (N, C, H, W) float."""
        x = self.images
        if self.augment is not None:
            x = apply_augment(x, self.augment, self.generator, self.flip_base ^ bool(epoch % 2))
        return self.normalize(x)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """uint8 (B, C, H, W) -> float32, standardized per channel."""
        x = x.float().mul_(self.scale).add_(self.shift)
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def state_dict(self) -> dict:
        """Where the shuffling stands, so a resumed run sees the same batches."""
        return {"epoch": self.epoch, "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.epoch = state["epoch"]
        self.generator.set_state(state["generator"])

    def reset(self) -> Loader:
        """Back to epoch 0 and the first shuffle, so the next run sees the same batches (lab 02)."""
        self.load_state_dict(self._initial)
        return self


def make_loaders(
    cfg, device, *, augment: Augment | None = None, channels_last: bool = False, eval_batch_size: int = 1000
) -> tuple[Dataset, Loader, Loader, Loader]:
    """The dataset of `cfg`, split as `cfg` says, as train (shuffled, augmented), val and test Loaders.

    Lab 01 writes these steps out; later labs call this.
    """

    ds, train, val, test = load_splits(cfg)
    opts = dict(device=device, channels_last=channels_last)
    return (
        ds,
        Loader(train, batch_size=cfg.batch_size, shuffle=True, augment=augment, seed=cfg.seed, **opts),
        Loader(val, batch_size=eval_batch_size, **opts),
        Loader(test, batch_size=eval_batch_size, **opts),
    )


# ---------------------------------------------------------------- the baseline it replaces


class PILDataset(torch.utils.data.Dataset):
    """The usual torchvision pipeline, per image: array -> PIL image -> `transform` (lab 03).

    What torchvision's CIFAR10 and FashionMNIST datasets do; kept for the comparison in lab 03
    and benchmarks/loader.py.
    """

    def __init__(self, data: Split, transform):
        self.images = data.images.permute(0, 2, 3, 1).squeeze(-1).numpy()  # (N, H, W[, C])
        self.labels = data.labels
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        from PIL import Image

        return self.transform(Image.fromarray(self.images[i])), self.labels[i]


def pil_transforms(data: Split, crop_padding: int = 4, flip: bool = True):
    """torchvision transforms doing what `Augment(crop_padding, flip=flip)` plus normalization do."""
    from torchvision import transforms

    steps = [transforms.RandomCrop(data.images.shape[-1], padding=crop_padding)] if crop_padding else []
    steps += [transforms.RandomHorizontalFlip()] if flip else []
    return transforms.Compose([*steps, transforms.ToTensor(), transforms.Normalize(data.mean, data.std)])


def pil_images_per_second(data: Split, device: torch.device, batch_size: int = 256) -> dict[int, float]:
    """The torchvision + PIL baseline's images per second with 0 workers and with one per core.

    The setting of benchmarks/loader.py (lab 03): each DataLoader runs one epoch to start its
    workers, then one measured epoch; the faster of the two figures is the fair baseline.
    """
    speeds = {}
    for workers in sorted({0, os.cpu_count() or 1}):
        dl = torch.utils.data.DataLoader(
            PILDataset(data, pil_transforms(data)),
            batch_size=batch_size,
            shuffle=True,
            num_workers=workers,
            pin_memory=device.type == "cuda",
            persistent_workers=workers > 0,
        )
        images_per_second(dl, device)  # warm-up: workers start
        speeds[workers] = images_per_second(dl, device)
    return speeds


def images_per_second(batches, device: torch.device) -> float:
    """Consume one epoch of (x, y) batches, moving them to `device`; images per second."""

    n, start = 0, time.perf_counter()
    for x, y in batches:
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        n += len(y)
    runtime.synchronize(device)
    return n / (time.perf_counter() - start)
