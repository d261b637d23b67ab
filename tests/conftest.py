"""Shared fixtures: the real Fashion-MNIST, and small datasets written in the real file formats."""

from __future__ import annotations

import gzip
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from helpers import data

os.environ.setdefault("MPLBACKEND", "Agg")  # plots render headless

# `make test-fast` (LABS_TEST_TIER=fast): everything that does not execute a notebook. Rather than a list
# of tests to keep up to date, whatever would start one — papermill, nbclient, a Jupyter kernel, the
# runner, `grade --reproduce` or `nbgrader autograde` in a child process — skips its test there, saying
# so; tests marked `full_tier(why)` (an install into a new environment, a timing benchmark) skip there
# before their fixtures run. `make test` runs all.
FAST_TIER = os.environ.get("LABS_TEST_TIER") == "fast"
_LAB_COMMANDS = {"run", "reference", "site", "verify", "sweep"}


def _starts_notebooks(argv: list[str]) -> bool:
    if any(word in ("papermill", "ipykernel_launcher", "--nbval", "--nbval-lax") for word in argv):
        return True
    if argv and Path(argv[0]).name == "nbgrader" and "autograde" in argv:
        return True
    if "helpers" in argv or any(Path(word).name == "labs" for word in argv):
        return bool(_LAB_COMMANDS & set(argv)) or ("grade" in argv and "--reproduce" in argv)
    return "make" in (Path(argv[0]).name if argv else "") and "labs" in argv


def _skip_notebooks(what: str):
    def refuse(*args, **kwargs):
        pytest.skip(f"executes {what}: left to `make test` (the fast tier runs no notebook)", allow_module_level=True)

    return refuse


def pytest_configure(config):
    config.addinivalue_line("markers", "full_tier(why): left to `make test`; the fast tier skips it, saying why")
    if not FAST_TIER:
        return
    import subprocess

    import jupyter_client.manager
    import nbclient
    import papermill

    papermill.execute_notebook = _skip_notebooks("a notebook (papermill)")
    nbclient.NotebookClient.execute = nbclient.NotebookClient.async_execute = _skip_notebooks("a notebook (nbclient)")
    jupyter_client.manager.KernelManager.start_kernel = _skip_notebooks("a Jupyter kernel")
    jupyter_client.manager.AsyncKernelManager.start_kernel = _skip_notebooks("a Jupyter kernel")
    popen_init = subprocess.Popen.__init__

    def guarded_init(self, args, *rest, **kwargs):
        argv = [str(a) for a in args] if isinstance(args, (list, tuple)) else str(args).split()
        if _starts_notebooks(argv):
            pytest.skip(f"executes notebooks ({' '.join(argv[:6])} ...): left to `make test`", allow_module_level=True)
        popen_init(self, args, *rest, **kwargs)

    subprocess.Popen.__init__ = guarded_init


def pytest_collection_modifyitems(config, items):
    if not FAST_TIER:
        return
    for item in items:
        marker = item.get_closest_marker("full_tier")
        if marker:
            why = marker.args[0] if marker.args else "slow"
            item.add_marker(pytest.mark.skip(reason=f"{why}: left to `make test`"))


REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def fmnist():
    """The real Fashion-MNIST (what `make test` fetches first)."""
    try:
        return data.load("fashion-mnist", REPO / "data", download=False)
    except data.LabError as err:
        pytest.fail(f"These tests need the real Fashion-MNIST; run `make data` first.\n{err}")


def write_idx(path: Path, array: np.ndarray) -> None:
    """An IDX file (the MNIST format), gzipped, as published."""
    header = b"\x00\x00\x08" + bytes([array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def write_fashion_mnist_raw(folder: Path, n_train: int = 120, n_test: int = 40, seed: int = 0) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte.gz": np.arange(n_train) % 10,
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": np.arange(n_test) % 10,
    }
    for name, array in arrays.items():
        write_idx(folder / name, array)
    return arrays


def write_cifar10_raw(root: Path, per_batch: int = 20, seed: int = 0) -> dict:
    """cifar-10-batches-py/ as the real release lays it out: pickled dicts of bytes keys."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    written = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        d = {
            b"data": rng.integers(0, 256, (per_batch, 3072)).astype(np.uint8),
            b"labels": list(rng.integers(0, 10, per_batch).tolist()),
            b"batch_label": name.encode(),
        }
        with open(folder / name, "wb") as f:
            pickle.dump(d, f)
        written[name] = d
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": [c.encode() for c in data.CLASSES["cifar10"]]}, f)
    return written


def write_image_folder(
    root: Path, classes=("cat", "dog", "ship"), per_class: int = 4, size: int = 32, suffix: str = ".png"
) -> Path:
    """root/train/<class>/*.png and root/test/<class>/*.png; pixel value encodes the class."""
    from PIL import Image

    for part in ("train", "test"):
        for c, cls in enumerate(classes):
            (root / part / cls).mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                img = np.full((size, size, 3), 40 * c + i, dtype=np.uint8)
                Image.fromarray(img).save(root / part / cls / f"{i:04d}{suffix}")
    return root
