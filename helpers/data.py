"""Datasets as uint8 tensors in memory: sources, the cache, and deterministic splits.

Introduced in lab 01. `load(name)` returns a `Dataset` (train and test images as uint8
(N, C, H, W) tensors with int64 labels, class names, per-channel mean/std). Sources are tried
in order: the cache file `data/<name>.pt`, raw files in `data/`, the system-wide copy,
torchvision's checksummed download. Never a silent swap of one dataset for another: when
nothing works the error says what to install or download and where to put it.

Names: `cifar10`, `fashion-mnist` (28x28 padded to 32x32), `folder:PATH` (an image-folder tree
with train/<class>/*.jpg and test/<class>/*.jpg), `synthetic` (generated, for tests), and any
name imported with `python -m helpers data import NAME PATH`.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import pickle
import tarfile
import tempfile
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from helpers import runtime
from helpers.config import default_dir
from helpers.errors import LabError, did_you_mean

BUILTIN = ("cifar10", "fashion-mnist", "synthetic")
CACHE_FORMAT = 1
SYSTEM_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}

CLASSES = {
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
    "fashion-mnist": [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ],
}


@dataclass
class Split:
    """Images and labels of one split, with what a Loader needs to normalize them."""

    images: torch.Tensor  # (N, C, H, W) uint8
    labels: torch.Tensor  # (N,) int64
    classes: list[str]
    mean: tuple[float, ...]  # per channel, pixel values scaled to [0, 1]
    std: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: torch.Tensor) -> Split:
        return Split(self.images[index], self.labels[index], self.classes, self.mean, self.std)


@dataclass
class Dataset:
    """A whole dataset: its training and test sets, and where it came from."""

    name: str
    train: Split
    test: Split
    source: str

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.train.images.shape[1:])

    def summary(self) -> str:
        c, h, w = self.shape
        return (
            f"{self.name}: {len(self.train)} train + {len(self.test)} test images, "
            f"{c}x{h}x{w}, {len(self.train.classes)} classes"
        )


# ---------------------------------------------------------------- loading and the cache


def load(name: str, data_dir: str | Path | None = None, *, download: bool | None = None) -> Dataset:
    """Load dataset `name` (lab 01), building its cache on first use."""
    data_dir = Path(data_dir) if data_dir else _default_data_dir()
    if download is None:
        download = os.environ.get("LABS_OFFLINE", "") in ("", "0")
    if name == "synthetic":
        return synthetic()
    if name.startswith("folder:"):
        root = Path(name.split(":", 1)[1]).expanduser()
        key = f"folder-{root.resolve().name}-{zlib.crc32(str(root.resolve()).encode()):08x}"
        return _cached(data_dir / f"{key}.pt", lambda: from_folder(root, name=key))
    cache = data_dir / f"{name}.pt"
    if name == "fashion-mnist":
        return _cached(cache, lambda: _fashion_mnist(data_dir, download))
    if name == "cifar10":
        return _cached(cache, lambda: _cifar10(data_dir, download))
    if cache.exists():  # a name imported with `python -m helpers data import`
        try:
            return read_cache(cache)
        except LabError as err:
            raise LabError(f"{err} Import it again: python -m helpers data import {name} PATH") from None
    raise LabError(
        f"Unknown dataset {name!r}. Valid: {', '.join(BUILTIN)}, folder:PATH, or a name imported "
        f"with `python -m helpers data import NAME PATH` (none named {name!r} in {data_dir})."
        + did_you_mean(name, BUILTIN)
    )


def _default_data_dir() -> Path:

    return default_dir("LABS_DATA_DIR", "data")


def user_cache_dir() -> Path:
    """Where caches go when the data folder is read-only (a shared folder on JupyterHub): per user."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "image-classification-labs"


def _fallback(path: Path) -> Path:
    """The per-user twin of a cache file; the data folder's path is in its name, so two folders never share one."""
    return user_cache_dir() / f"{path.stem}-{zlib.crc32(str(path.parent.resolve()).encode()):08x}{path.suffix}"


def _cached(path: Path, build) -> Dataset:
    """Read the cache at `path` (or its per-user twin); if both are missing or corrupt, build it and write it.

    A data folder that cannot be written (read-only, shared by a class) is read as it is; the cache
    then goes to the per-user folder (`user_cache_dir()`), said once.
    """
    for candidate in (path, _fallback(path)):
        if candidate.exists():
            try:
                return read_cache(candidate)
            except LabError as err:
                warnings.warn(f"{err} Rebuilding it from the sources.", stacklevel=3)
    ds = build()
    try:
        write_cache(ds, path)
    except OSError as err:  # read-only folder or file system, no permission
        twin = _fallback(path)
        write_cache(ds, twin)
        print(f"{path.parent} cannot be written ({err.strerror or err}): the dataset cache went to {twin}")
    return ds


def write_cache(ds: Dataset, path: Path) -> None:
    """Save a dataset as one file, atomically (a crash never leaves half a cache behind)."""
    tensors = [ds.train.images, ds.train.labels, ds.test.images, ds.test.labels]
    payload = {
        "format": CACHE_FORMAT,
        "name": ds.name,
        "source": ds.source,
        "classes": ds.train.classes,
        "mean": list(ds.train.mean),
        "std": list(ds.train.std),
        "tensors": tensors,
        "checksum": _checksum(tensors),
    }
    runtime.atomic_write(path, lambda tmp: torch.save(payload, tmp))


def read_cache(path: Path) -> Dataset:
    """Load a cache file, checking it is whole; a corrupt one raises LabError."""
    try:
        p = torch.load(path, weights_only=True)
        if p.get("format") != CACHE_FORMAT:
            raise ValueError(f"format {p.get('format')!r}, expected {CACHE_FORMAT}")
        tensors = p["tensors"]
        if _checksum(tensors) != p["checksum"]:
            raise ValueError("checksum mismatch")
    except Exception as err:  # truncated zip, wrong pickle, missing keys: all mean corrupt
        raise LabError(f"The dataset cache {path} is corrupt or from another version ({err}).") from None
    mean, std = tuple(p["mean"]), tuple(p["std"])
    train = Split(tensors[0], tensors[1], p["classes"], mean, std)
    test = Split(tensors[2], tensors[3], p["classes"], mean, std)
    return Dataset(p["name"], train, test, p["source"])


def _checksum(tensors: list[torch.Tensor]) -> int:
    crc = 0
    for t in tensors:
        crc = zlib.crc32(t.contiguous().numpy().tobytes(), crc)  # ~0.1 s for CIFAR-10
    return crc


def make_dataset(name: str, train: tuple, test: tuple, classes: list[str], source: str) -> Dataset:
    """Assemble a Dataset from (images, labels) pairs, computing mean/std on the training set."""
    x = train[0].double().div_(255)
    mean = tuple(x.mean(dim=(0, 2, 3)).tolist())
    std = tuple(x.std(dim=(0, 2, 3)).tolist())
    del x
    return Dataset(
        name,
        Split(train[0].contiguous(), train[1].long(), list(classes), mean, std),
        Split(test[0].contiguous(), test[1].long(), list(classes), mean, std),
        source,
    )


# ---------------------------------------------------------------- sources


def _fashion_mnist(data_dir: Path, download: bool) -> Dataset:
    candidates = [data_dir / "FashionMNIST" / "raw", data_dir / "fashion-mnist", SYSTEM_FASHION_MNIST]
    for folder in candidates:
        if (folder / "train-images-idx3-ubyte.gz").exists():
            return fashion_mnist_from(folder)
    if download:
        try:
            import torchvision

            torchvision.datasets.FashionMNIST(data_dir, train=True, download=True)
            torchvision.datasets.FashionMNIST(data_dir, train=False, download=True)
            return fashion_mnist_from(candidates[0])
        except Exception as err:
            reason = f"The download failed ({type(err).__name__}: {err})."
    else:
        reason = "Downloading is off (download=False or LABS_OFFLINE=1)."
    raise LabError(
        f"Fashion-MNIST was not found. {reason} Fix it with one of:\n"
        "  - Debian/Ubuntu, offline: sudo apt-get install dataset-fashion-mnist  "
        f"(files land in {SYSTEM_FASHION_MNIST})\n"
        "  - online: python -m helpers data fetch fashion-mnist\n"
        f"  - by hand: put train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        f"t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz in {candidates[1]}"
    )


def fashion_mnist_from(folder: Path) -> Dataset:
    """Read the four IDX files; pad 28x28 to 32x32 so every model sees 32x32."""

    def part(prefix: str):
        images = read_idx(folder / f"{prefix}-images-idx3-ubyte.gz")  # (N, 28, 28)
        labels = read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz")  # (N,)
        images = F.pad(torch.from_numpy(images).unsqueeze(1), (2, 2, 2, 2))  # (N, 1, 32, 32)
        return images, torch.from_numpy(labels.astype(np.int64))

    return make_dataset("fashion-mnist", part("train"), part("t10k"), CLASSES["fashion-mnist"], str(folder))


def read_idx(path: Path) -> np.ndarray:
    """Parse an IDX file (the MNIST format), gzipped or not, as a uint8 array."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise LabError(f"{path} is not a uint8 IDX file (bad magic number); delete it and fetch it again.")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).copy()
    if data.size != int(np.prod(dims)):
        raise LabError(f"{path} is truncated ({data.size} of {int(np.prod(dims))} values); fetch it again.")
    return data.reshape(dims)


def _cifar10(data_dir: Path, download: bool) -> Dataset:
    folder = data_dir / "cifar-10-batches-py"
    if not (folder / "test_batch").exists():
        if not download:
            reason = "Downloading is off (download=False or LABS_OFFLINE=1)."
        else:
            try:
                import torchvision

                torchvision.datasets.CIFAR10(data_dir, train=True, download=True)  # md5-checked
            except Exception as err:
                reason = f"The download failed ({type(err).__name__}: {err})."
        if not (folder / "test_batch").exists():
            raise LabError(
                f"CIFAR-10 was not found in {folder}. {reason} Fix it with one of:\n"
                "  - online: python -m helpers data fetch cifar10\n"
                "  - by hand: download cifar-10-python.tar.gz from "
                f"https://www.cs.toronto.edu/~kriz/cifar.html and extract it into {data_dir}\n"
                "  - from an image-folder copy (train/<class>/*.jpg, test/<class>/*.jpg): "
                "python -m helpers data import cifar10 PATH"
            )
    return cifar10_from(folder)


def cifar10_from(folder: Path) -> Dataset:
    """Read CIFAR-10's python batches (data_batch_1..5, test_batch)."""

    def batches(names):
        xs, ys = [], []
        for n in names:
            with open(folder / n, "rb") as f:
                d = pickle.load(f, encoding="bytes")
            xs.append(np.asarray(d[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
            ys.append(np.asarray(d[b"labels"], dtype=np.int64))
        return torch.from_numpy(np.concatenate(xs)), torch.from_numpy(np.concatenate(ys))

    train = batches([f"data_batch_{i}" for i in range(1, 6)])
    return make_dataset("cifar10", train, batches(["test_batch"]), CLASSES["cifar10"], str(folder))


def from_folder(path: str | Path, name: str | None = None) -> Dataset:
    """Read an image-folder tree: PATH/train/<class>/*.jpg and PATH/test/<class>/*.jpg.

    PATH may also be a .tar.gz holding such a tree. All images must share one size.
    """
    path = Path(path).expanduser()
    if path.is_file() and path.name.endswith((".tar.gz", ".tgz", ".tar")):
        with tempfile.TemporaryDirectory() as tmp:
            with tarfile.open(path) as tar:
                tar.extractall(tmp, filter="data")
            roots = [p.parent for p in Path(tmp).rglob("train") if (p.parent / "test").is_dir()]
            if not roots:
                raise LabError(f"{path} holds no folder with train/ and test/ sub-folders.")
            inner = roots[0].relative_to(tmp)
            ds = from_folder(roots[0], name or path.name.split(".")[0])
            return dataclasses.replace(ds, source=f"{path.resolve()} ({inner})")  # the archive, not a temporary folder
    if not (path / "train").is_dir() or not (path / "test").is_dir():
        raise LabError(
            f"{path} is not an image-folder dataset: it needs train/<class>/*.jpg and "
            "test/<class>/*.jpg (png works too)."
        )
    classes = sorted(p.name for p in (path / "train").iterdir() if p.is_dir())
    if not classes:
        raise LabError(f"{path / 'train'} has no class sub-folders.")
    train = _read_images(path / "train", classes)
    test = _read_images(path / "test", classes)
    return make_dataset(name or path.name, train, test, classes, str(path.resolve()))


def _read_images(folder: Path, classes: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    from PIL import Image, UnidentifiedImageError

    images, labels, shape = [], [], None
    for label, cls in enumerate(classes):
        files = sorted(p for p in (folder / cls).glob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        for file in files:
            try:
                with Image.open(file) as im:
                    img = np.asarray(im.convert("L" if im.mode in ("L", "I;16", "1") else "RGB"))
            except (OSError, UnidentifiedImageError) as err:
                raise LabError(f"Cannot decode image {file}: {err}") from None
            img = img[:, :, None] if img.ndim == 2 else img  # (H, W, C)
            shape = shape or img.shape
            if img.shape != shape:
                raise LabError(
                    f"{file} is {img.shape[1]}x{img.shape[0]} but earlier images are {shape[1]}x{shape[0]}; "
                    "resize the images to one size first."
                )
            images.append(img)
            labels.append(label)
    if not images:
        raise LabError(f"No images (.jpg, .jpeg, .png) under {folder}.")
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous(), torch.tensor(labels)


def synthetic(n_train: int = 2000, n_test: int = 500, classes: int = 10, channels: int = 3, seed: int = 0):
    """A generated, learnable dataset for tests: each class is a blurred template plus noise."""
    g = torch.Generator().manual_seed(seed)
    templates = F.interpolate(torch.rand(classes, channels, 4, 4, generator=g), size=32, mode="bilinear")

    def part(n):
        y = torch.randint(0, classes, (n,), generator=g)
        x = templates[y] * 0.7 + torch.rand(n, channels, 32, 32, generator=g) * 0.3
        return (x * 255).round().to(torch.uint8), y

    names = [f"class{i}" for i in range(classes)]
    return make_dataset("synthetic", part(n_train), part(n_test), names, "generated")


# ---------------------------------------------------------------- splits


def split(
    ds: Dataset, *, val_size: int, train_size: int | None = None, test_size: int | None = None, seed: int = 0
) -> tuple[Split, Split, Split]:
    """Deterministic train/val/test splits (lab 01): val is held out of the training set.

    The same seed always gives the same images in each split, on every machine.
    """
    n = len(ds.train)
    if not 0 < val_size < n:
        raise LabError(f"val_size must be between 1 and {n - 1} for {ds.name}, got {val_size}.")
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(n, generator=g)
    val, rest = order[:val_size], order[val_size:]
    if train_size is not None:
        if not 0 < train_size <= len(rest):
            raise LabError(f"train_size must be between 1 and {len(rest)} for {ds.name}, got {train_size}.")
        rest = rest[:train_size]
    test = ds.test
    if test_size is not None and test_size < len(test):
        test = test.subset(torch.randperm(len(test), generator=g)[:test_size].sort().values)
    return ds.train.subset(rest.sort().values), ds.train.subset(val.sort().values), test


def load_splits(cfg) -> tuple[Dataset, Split, Split, Split]:
    """The dataset a LabConfig names, and its train/val/test splits as the config sizes them."""
    ds = load(cfg.dataset, cfg.data_dir)
    train, val, test = split(
        ds, val_size=cfg.val_size, train_size=cfg.train_size, test_size=cfg.test_size, seed=cfg.seed
    )
    return ds, train, val, test
