"""Transfer learning (lab 11): pretrained weights, fetched and checked; class halves; few labels.

- `load_checkpoint(url)`: a checkpoint from torch hub's cache (`<torch hub dir>/checkpoints`), downloaded
  there if allowed and missing, its SHA-256 checked against the prefix in its file name (torchvision's
  convention: `resnet18-f37072fd.pth`). Offline without the file, a `LabError` names the file, its
  checksum and the folder to put it in. Never a silent fallback to random weights.
- `resnet18(...)`: torchvision's ResNet18 with its ImageNet weights (weights API) and a new head.
- `class_halves`, `per_class_subset`: pretrain on five classes, then learn the other five from
  a few labels each.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import torch
from torch import nn

from helpers.data import Split
from helpers.errors import LabError

HASH_IN_NAME = re.compile(r"-([a-f0-9]{8,})\.")  # torch hub's convention: name-<sha256 prefix>.ext


def checkpoints_dir(hub_dir: str | Path | None = None) -> Path:
    """Where torch hub keeps downloaded weights: `<hub dir>/checkpoints` ($TORCH_HOME/hub/checkpoints)."""
    return Path(hub_dir or torch.hub.get_dir()) / "checkpoints"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_checkpoint(url: str, *, hub_dir: str | Path | None = None, download: bool | None = None) -> dict:
    """The state dict at `url`, from torch hub's checkpoints folder, checked against its hash prefix.

    download: None follows $LABS_OFFLINE (set: never try the network). Missing and not downloadable,
    or present with the wrong checksum: a LabError that says which file, which checksum, and where.
    """
    name = url.rsplit("/", 1)[-1]
    match = HASH_IN_NAME.search(name)
    prefix = match.group(1) if match else None
    folder = checkpoints_dir(hub_dir)
    path = folder / name
    checksum = f"its SHA-256 begins with {prefix}" if prefix else "no checksum in its name"
    where = (
        f"Put the file {name} ({checksum}) in {folder} (torch hub's checkpoints folder; set $TORCH_HOME "
        f"to move it), e.g. download {url} on a machine with internet and copy it there. "
        "The lab does not fall back to random weights."
    )
    if download is None:
        download = os.environ.get("LABS_OFFLINE", "") in ("", "0")
    if not path.exists():
        if not download:
            raise LabError(f"Pretrained weights not found: {path} is missing and downloads are off. {where}")
        folder.mkdir(parents=True, exist_ok=True)
        try:
            torch.hub.download_url_to_file(url, str(path), hash_prefix=prefix, progress=False)
        except Exception as err:  # no network, a proxy, a truncated or corrupt download
            path.unlink(missing_ok=True)
            raise LabError(
                f"Could not download the pretrained weights ({type(err).__name__}: {err}). {where}"
            ) from None
    if prefix and not sha256(path).startswith(prefix):
        raise LabError(f"{path} is corrupt: its SHA-256 does not begin with {prefix}. Delete it. {where}")
    return torch.load(path, map_location="cpu", weights_only=True)


def resnet18(
    num_classes: int = 10, in_channels: int = 3, *, pretrained: bool = True, hub_dir=None, download: bool | None = None
) -> nn.Module:
    """torchvision's ResNet18 with its ImageNet weights (IMAGENET1K_V1) and a new `fc` for `num_classes`.

    pretrained=False: the same network from random initialization (lab 11's "from scratch").
    One input channel: conv1's RGB filters are summed, so a grey image gives what RGB would.
    """
    from torchvision.models import ResNet18_Weights
    from torchvision.models import resnet18 as tv_resnet18

    model = tv_resnet18(weights=None)
    if pretrained:
        model.load_state_dict(load_checkpoint(ResNet18_Weights.IMAGENET1K_V1.url, hub_dir=hub_dir, download=download))
    if in_channels != 3:
        weight = model.conv1.weight.detach().sum(dim=1, keepdim=True).repeat(1, in_channels, 1, 1) / in_channels
        model.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        model.conv1.weight.data.copy_(weight)
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model


def weights_status(hub_dir=None) -> str:
    """One line: where ResNet18's ImageNet weights are expected and whether they are there."""
    from torchvision.models import ResNet18_Weights

    url = ResNet18_Weights.IMAGENET1K_V1.url
    path = checkpoints_dir(hub_dir) / url.rsplit("/", 1)[-1]
    return f"ResNet18 ImageNet weights: {path} ({'present' if path.exists() else 'missing'}; from {url})"


def class_halves(split: Split, first: list[int]) -> tuple[Split, Split]:
    """(the images of classes `first`, the images of the other classes), each relabelled 0..k-1."""
    n = len(split.classes)
    second = [c for c in range(n) if c not in first]
    parts = []
    for chosen in (first, second):
        relabel = torch.full((n,), -1, dtype=torch.long)
        relabel[torch.tensor(chosen)] = torch.arange(len(chosen))
        keep = relabel[split.labels] >= 0
        classes = [split.classes[c] for c in chosen]
        parts.append(Split(split.images[keep], relabel[split.labels[keep]], classes, split.mean, split.std))
    return parts[0], parts[1]


def per_class_subset(split: Split, n: int, seed: int = 0) -> Split:
    """`n` images of each class, drawn with `seed` (the same seed: the same images)."""
    g = torch.Generator().manual_seed(seed)
    picks = []
    for c in range(len(split.classes)):
        index = (split.labels == c).nonzero().flatten()
        if len(index) < n:
            raise LabError(f"class {split.classes[c]!r} has {len(index)} images, fewer than the {n} asked for.")
        picks.append(index[torch.randperm(len(index), generator=g)[:n]])
    return split.subset(torch.cat(picks).sort().values)


def plot_label_curve(table, title: str = "accuracy against labels per class"):
    """Accuracy (mean, error bars: min to max over seeds) against labels per class, one line per method.

    table: a DataFrame with columns method, labels, mean, min, max (one row per method and label count)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for method, rows in table.groupby("method", sort=False):
        err = [rows["mean"] - rows["min"], rows["max"] - rows["mean"]]
        ax.errorbar(rows["labels"], rows["mean"], yerr=err, marker="o", capsize=3, label=method)
    ax.set(xscale="log", xlabel="labelled images per class", ylabel="test accuracy", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig
