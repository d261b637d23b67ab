"""Datasets: every source path, the cache, splits, and the errors a student sees."""

from __future__ import annotations

import tarfile
import urllib.error

import numpy as np
import pytest
import torch
import torchvision
from conftest import write_cifar10_raw, write_fashion_mnist_raw, write_image_folder

from helpers import data
from helpers.errors import LabError


def offline(*args, **kwargs):
    raise urllib.error.URLError("no network")


@pytest.fixture
def no_system_copy(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "SYSTEM_FASHION_MNIST", tmp_path / "absent")


def test_real_fashion_mnist(fmnist):
    assert fmnist.shape == (1, 32, 32)  # 28x28 padded to 32x32
    assert (len(fmnist.train), len(fmnist.test)) == (60_000, 10_000)
    assert fmnist.train.images.dtype == torch.uint8
    assert torch.bincount(fmnist.train.labels).tolist() == [6000] * 10
    assert fmnist.train.images[:, :, :2].max() == 0  # the padding is zeros
    assert 0.2 < fmnist.train.mean[0] < 0.24  # 0.286 before padding with zeros


def test_fashion_mnist_from_raw_files_in_data_dir(tmp_path, no_system_copy):
    arrays = write_fashion_mnist_raw(tmp_path / "FashionMNIST" / "raw")
    ds = data.load("fashion-mnist", tmp_path, download=False)
    assert ds.shape == (1, 32, 32)
    original = torch.from_numpy(arrays["train-images-idx3-ubyte.gz"].astype(np.uint8))
    assert torch.equal(ds.train.images[:, 0, 2:30, 2:30], original)
    assert ds.train.labels.tolist() == (np.arange(120) % 10).tolist()
    assert (tmp_path / "fashion-mnist.pt").exists()


def test_fashion_mnist_download_path(tmp_path, monkeypatch, no_system_copy):
    """Without local files, torchvision's download runs and its files are read."""
    calls = []

    def fake_download(root, train, download):
        calls.append(train)
        write_fashion_mnist_raw(root / "FashionMNIST" / "raw")

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", fake_download)
    ds = data.load("fashion-mnist", tmp_path)
    assert calls == [True, False] and len(ds.train) == 120


def test_fashion_mnist_missing_offline_says_what_to_do(tmp_path, monkeypatch, no_system_copy):
    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", offline)
    with pytest.raises(LabError) as err:
        data.load("fashion-mnist", tmp_path)
    message = str(err.value)
    assert "download failed" in message and "apt-get install dataset-fashion-mnist" in message
    assert str(tmp_path / "fashion-mnist") in message  # where to put the files by hand
    with pytest.raises(LabError, match="Downloading is off"):
        data.load("fashion-mnist", tmp_path, download=False)


def test_cifar10_from_the_real_file_format(tmp_path):
    written = write_cifar10_raw(tmp_path)
    ds = data.load("cifar10", tmp_path, download=False)
    assert ds.shape == (3, 32, 32) and (len(ds.train), len(ds.test)) == (100, 20)
    first = written["data_batch_1"][b"data"][0].reshape(3, 32, 32)
    assert torch.equal(ds.train.images[0], torch.from_numpy(first))  # channel-major rows, as published
    assert ds.train.labels[20:40].tolist() == written["data_batch_2"][b"labels"]
    assert ds.train.classes == data.CLASSES["cifar10"]


def test_cifar10_download_path_and_offline_error(tmp_path, monkeypatch):
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", lambda root, train, download: write_cifar10_raw(root))
    assert len(data.load("cifar10", tmp_path / "a").train) == 100
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", offline)
    with pytest.raises(LabError) as err:
        data.load("cifar10", tmp_path / "b")
    assert "data import cifar10 PATH" in str(err.value) and "download failed" in str(err.value)


def test_folder_dataset_and_its_cache(tmp_path):
    root = write_image_folder(tmp_path / "tree")
    ds = data.load(f"folder:{root}", tmp_path / "data")
    assert ds.train.classes == ["cat", "dog", "ship"]
    assert ds.shape == (3, 32, 32) and len(ds.train) == 12
    assert ds.train.images[4:8, 0, 0, 0].tolist() == [40, 41, 42, 43]  # dog's pixels, in file order
    assert ds.train.labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert len(list((tmp_path / "data").glob("folder-tree-*.pt"))) == 1


def test_folder_from_tarball_with_jpegs(tmp_path):
    root = write_image_folder(tmp_path / "cifar10-jpg", suffix=".jpg")
    with tarfile.open(tmp_path / "cifar10-jpg.tar.gz", "w:gz") as tar:
        tar.add(root, arcname="cifar10-jpg")
    ds = data.from_folder(tmp_path / "cifar10-jpg.tar.gz")
    assert ds.name == "cifar10-jpg" and len(ds.test) == 12
    assert abs(int(ds.test.images[4, 0, 5, 5]) - 40) <= 2  # JPEG is lossy, a little
    assert ds.source == f"{(tmp_path / 'cifar10-jpg.tar.gz').resolve()} (cifar10-jpg)", "the archive, not a temp folder"


def test_folder_errors(tmp_path):
    with pytest.raises(LabError, match="train/<class>"):
        data.from_folder(tmp_path)
    root = write_image_folder(tmp_path / "mixed")
    write_image_folder(tmp_path / "mixed", classes=("zebra",), size=16)
    with pytest.raises(LabError, match="resize the images"):
        data.from_folder(root)


def test_cache_second_load_and_corruption(tmp_path, no_system_copy):
    write_fashion_mnist_raw(tmp_path / "FashionMNIST" / "raw")
    first = data.load("fashion-mnist", tmp_path, download=False)
    cache = tmp_path / "fashion-mnist.pt"
    second = data.read_cache(cache)
    assert torch.equal(first.train.images, second.train.images) and second.train.mean == first.train.mean
    cache.write_bytes(cache.read_bytes()[: cache.stat().st_size // 2])  # truncated
    with pytest.raises(LabError, match="corrupt"):
        data.read_cache(cache)
    with pytest.warns(UserWarning, match="Rebuilding"):
        rebuilt = data.load("fashion-mnist", tmp_path, download=False)
    assert torch.equal(rebuilt.train.images, first.train.images)
    assert data.read_cache(cache).name == "fashion-mnist"  # rewritten whole


def test_cache_with_flipped_bytes_is_detected(tmp_path):
    ds = data.synthetic(n_train=50, n_test=10)
    cache = tmp_path / "s.pt"
    data.write_cache(ds, cache)
    ds.train.images[0, 0, 0, 0] += 1  # same shapes, different pixels: only the checksum can tell
    payload = torch.load(cache, weights_only=True)
    payload["tensors"][0] = ds.train.images
    torch.save(payload, cache)
    with pytest.raises(LabError, match="checksum"):
        data.read_cache(cache)


def test_imported_name_round_trip_and_corrupt_import(tmp_path):
    ds = data.from_folder(write_image_folder(tmp_path / "tree"), name="pets")
    data.write_cache(ds, tmp_path / "pets.pt")
    assert data.load("pets", tmp_path).train.classes == ["cat", "dog", "ship"]
    (tmp_path / "pets.pt").write_bytes(b"not a cache")
    with pytest.raises(LabError, match="data import pets PATH"):
        data.load("pets", tmp_path)


def test_unknown_dataset_lists_valid_ones(tmp_path):
    with pytest.raises(LabError) as err:
        data.load("fashion_mnist", tmp_path)
    message = str(err.value)
    assert "cifar10, fashion-mnist, synthetic" in message and "Did you mean 'fashion-mnist'" in message


def test_synthetic_is_deterministic_and_learnable_shape():
    a, b = data.synthetic(), data.synthetic()
    assert torch.equal(a.train.images, b.train.images) and a.shape == (3, 32, 32)
    assert len(set(a.train.labels.tolist())) == 10


def test_splits_are_deterministic_and_disjoint(fmnist):
    tr1, va1, te1 = data.split(fmnist, val_size=10_000, seed=0)
    tr2, va2, _ = data.split(fmnist, val_size=10_000, seed=0)
    tr3, _, _ = data.split(fmnist, val_size=10_000, seed=1)
    assert (len(tr1), len(va1), len(te1)) == (50_000, 10_000, 10_000)
    assert torch.equal(tr1.images, tr2.images) and torch.equal(va1.labels, va2.labels)
    assert not torch.equal(tr1.labels, tr3.labels)
    # disjoint: no training image is also a validation image (compare by their position)
    n = len(fmnist.train)
    marker = data.Split(torch.arange(n).view(n, 1, 1, 1), torch.arange(n), [], (0.0,), (1.0,))
    ds = data.Dataset("m", marker, marker, "test")
    tr, va, _ = data.split(ds, val_size=10_000, seed=0)
    assert not set(tr.labels.tolist()) & set(va.labels.tolist())
    assert len(set(tr.labels.tolist()) | set(va.labels.tolist())) == n


def test_split_sizes_and_errors(fmnist):
    tr, va, te = data.split(fmnist, val_size=1000, train_size=4000, test_size=500, seed=0)
    assert (len(tr), len(va), len(te)) == (4000, 1000, 500)
    with pytest.raises(LabError, match="val_size"):
        data.split(fmnist, val_size=60_000)
    with pytest.raises(LabError, match="train_size"):
        data.split(fmnist, val_size=10_000, train_size=55_000)


def test_a_read_only_data_folder_is_read_and_the_cache_goes_per_user(tmp_path, monkeypatch, no_system_copy, capsys):
    """A class's shared, read-only data folder (JupyterHub): the lab runs; the cache goes to the user's cache."""
    shared = tmp_path / "shared"
    write_fashion_mnist_raw(shared / "FashionMNIST" / "raw")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    real = data.runtime.atomic_write

    def read_only(path, write):  # what a read-only mount does, even to root
        if shared in path.parents:
            raise OSError(30, "Read-only file system", str(path))
        return real(path, write)

    monkeypatch.setattr(data.runtime, "atomic_write", read_only)
    first = data.load("fashion-mnist", shared, download=False)
    assert not (shared / "fashion-mnist.pt").exists()
    (twin,) = (tmp_path / "cache" / "image-classification-labs").glob("fashion-mnist-*.pt")
    assert "cannot be written (Read-only file system)" in capsys.readouterr().out
    (shared / "FashionMNIST").rename(tmp_path / "moved")  # the next load reads the per-user cache
    again = data.load("fashion-mnist", shared, download=False)
    assert torch.equal(again.train.images, first.train.images) and data.read_cache(twin).name == "fashion-mnist"
