"""Loader: a crop is a crop, a flip is a flip, labels travel with their images, and it is seeded."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from helpers.data import Split
from helpers.errors import LabError
from helpers.loader import Augment, Loader, flip_rotate_resized_crop, random_crop


def marked_split(n: int = 64, size: int = 8) -> Split:
    """Image i has every pixel = i + 1 (never 0, so zero padding is visible) and label i."""
    images = (torch.arange(n, dtype=torch.uint8) + 1).view(n, 1, 1, 1).expand(n, 1, size, size).clone()
    return Split(images, torch.arange(n), [str(i) for i in range(n)], (0.0,), (1 / 255,))


def ramp_split(n: int = 16, size: int = 8) -> Split:
    """Images whose pixels all differ (value = row * size + col + 1), so every shift and flip shows."""
    img = (torch.arange(size * size, dtype=torch.uint8) + 1).view(1, 1, size, size)
    return Split(img.repeat(n, 3, 1, 1), torch.arange(n), [], (0.0,) * 3, (1 / 255,) * 3)


def raw(loader: Loader):
    """Batches as the original uint8 values (the test splits use mean 0, std 1/255)."""
    for x, y in loader:
        yield x.round().to(torch.int64), y


def windows(img: torch.Tensor, pad: int, mode: str) -> list[torch.Tensor]:
    padded = F.pad(img[None].float(), (pad,) * 4, mode="constant" if mode == "zeros" else mode)[0].long()
    H, W = img.shape[-2:]
    return [padded[:, dy : dy + H, dx : dx + W] for dy in range(2 * pad + 1) for dx in range(2 * pad + 1)]


@pytest.mark.parametrize("mode", ["zeros", "reflect"])
def test_a_crop_is_a_crop(mode):
    split = ramp_split()
    loader = Loader(split, batch_size=16, augment=Augment(crop_padding=2, padding_mode=mode), seed=3)
    x, _ = next(raw(loader))
    original = split.images[0].long()
    candidates = windows(original, 2, mode)
    offsets = [next(i for i, w in enumerate(candidates) if torch.equal(w, out)) for out in x]  # each is a window
    assert len(set(offsets)) > 4  # and the offsets vary across the batch


def test_random_crop_works_on_any_dtype_and_zero_padding_enters():
    x = torch.arange(2 * 1 * 4 * 4).view(2, 1, 4, 4) + 1
    out = random_crop(x, 4, "zeros", torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    assert (out == 0).any()  # with padding 4 on a 4x4 image, some crops must reach the zeros


def test_a_flip_is_a_flip_and_about_half_are_flipped():
    split = ramp_split(n=400)
    x, _ = next(raw(Loader(split, batch_size=400, augment=Augment(flip=True), seed=0)))
    original = split.images[0].long()
    flipped = [torch.equal(out, original.flip(-1)) for out in x]
    unchanged = [torch.equal(out, original) for out in x]
    assert all(f or u for f, u in zip(flipped, unchanged, strict=True))
    assert 150 < sum(flipped) < 250


def test_labels_travel_with_their_images():
    split = marked_split(n=100)
    loader = Loader(split, batch_size=32, shuffle=True, augment=Augment(crop_padding=4, flip=True), seed=1)
    seen = []
    for x, y in raw(loader):
        for img, label in zip(x, y, strict=True):
            values = img[img != 0].unique()  # crop padding adds zeros; everything else is the image's value
            assert values.tolist() == [label.item() + 1]
        seen += y.tolist()
    assert sorted(seen) == list(range(100))  # every image exactly once per epoch
    assert seen != list(range(100))  # shuffled


def test_alternating_flip_flips_each_image_every_other_epoch():
    split = ramp_split(n=64)
    loader = Loader(split, batch_size=64, augment=Augment(alternating_flip=True), seed=0)
    original = split.images[0].long()
    epochs = [[torch.equal(img, original.flip(-1)) for img in next(raw(loader))[0]] for _ in range(3)]
    assert all(a != b for a, b in zip(epochs[0], epochs[1], strict=True))  # each image flips state
    assert epochs[0] == epochs[2]
    assert 16 < sum(epochs[0]) < 48


def test_per_epoch_augmentation_is_the_same_augmentation():
    """per_epoch (lab 08, as airbench): the split is cropped and flipped once an epoch, then sliced into batches."""
    split = ramp_split(n=64)
    flip = Augment(alternating_flip=True)
    a = Loader(split, batch_size=16, shuffle=True, augment=flip, seed=3)
    b = Loader(split, batch_size=16, shuffle=True, augment=flip, seed=3, per_epoch=True)
    for _ in range(3):  # the alternating flip draws nothing: the same batches either way, epoch after epoch
        assert all(torch.equal(u, v) and torch.equal(i, j) for (u, i), (v, j) in zip(a, b, strict=True))
    aug = Augment(crop_padding=2, padding_mode="reflect", alternating_flip=True)
    crops = Loader(split, batch_size=16, shuffle=True, augment=aug, seed=0, per_epoch=True, channels_last=True)
    allowed = windows(split.images[0], 2, "reflect")
    allowed += [w.flip(-1) for w in allowed]
    for _ in range(2):
        batches = list(raw(crops))
        labels = torch.cat([y for _, y in batches])
        assert [len(y) for _, y in batches] == [16] * 4 and sorted(labels.tolist()) == list(range(64))
        shown = [next(k for k, w in enumerate(allowed) if torch.equal(img, w)) for x, _ in batches for img in x]
        assert len(set(shown)) > 10  # each image its own crop (and flip), not one per batch or epoch


def test_augmentation_probability():
    split = ramp_split(n=200)
    original = split.images[0].long()
    for p, lo, hi in ((0.0, 200, 200), (0.5, 60, 140)):
        x, _ = next(raw(Loader(split, batch_size=200, augment=Augment(crop_padding=2, p=p), seed=0)))
        untouched = sum(torch.equal(img, original) for img in x)
        assert lo <= untouched <= hi, (p, untouched)


def test_normalization_standardizes_each_channel(fmnist):
    split = fmnist.train.subset(torch.arange(20_000))
    x = torch.cat([x for x, _ in Loader(split, batch_size=5000)])
    assert x.dtype == torch.float32 and x.shape == (20_000, 1, 32, 32)
    assert abs(x.mean().item()) < 0.02 and abs(x.std().item() - 1) < 0.02


def test_len_batches_and_drop_last():
    split = marked_split(n=70)
    assert len(Loader(split, batch_size=32)) == 3
    assert [len(y) for _, y in Loader(split, batch_size=32)] == [32, 32, 6]
    assert len(Loader(split, batch_size=32, drop_last=True)) == 2
    assert [len(y) for _, y in Loader(split, batch_size=32, drop_last=True)] == [32, 32]


def test_seeded_and_resumable():
    split = marked_split(n=50)
    aug = Augment(crop_padding=2, flip=True)
    a = Loader(split, batch_size=10, shuffle=True, augment=aug, seed=7)
    b = Loader(split, batch_size=10, shuffle=True, augment=aug, seed=7)
    c = Loader(split, batch_size=10, shuffle=True, augment=aug, seed=8)
    first = [y.tolist() for _, y in a]
    assert first == [y.tolist() for _, y in b] and first != [y.tolist() for _, y in c]
    state = a.state_dict()
    expected = [x for x, _ in a]
    b.load_state_dict(state)
    assert all(torch.equal(u, v) for u, v in zip(expected, [x for x, _ in b], strict=True))
    assert [y.tolist() for _, y in a.reset()] == first  # reset: the first epoch again


def test_channels_last_output():
    x, _ = next(iter(Loader(ramp_split(), batch_size=4, channels_last=True)))
    assert x.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(padding_mode="mirror"), "zeros, reflect"),
        (dict(p=1.5), "probability"),
        (dict(crop_padding=-1), ">= 0"),
        (dict(flip=True, alternating_flip=True), "not both"),
    ],
)
def test_bad_augment_settings(kwargs, match):
    with pytest.raises(LabError, match=match):
        Augment(**kwargs)


def test_bad_batch_size():
    with pytest.raises(LabError, match="positive"):
        Loader(marked_split(), batch_size=0)


def test_flip_rotate_resized_crop_moves_the_pixels_it_should():
    torch.manual_seed(0)
    x = torch.rand(64, 3, 32, 32)
    kept = flip_rotate_resized_crop(x, degrees=0, scale=(1, 1), ratio=(1, 1))  # only the flip is left
    mirrored = (kept == x.flip(-1)).flatten(1).all(1)
    assert ((kept == x).flatten(1).all(1) | mirrored).all(), "no rotation, whole image: each image kept or mirrored"
    assert 16 <= int(mirrored.sum()) <= 48, "about half are mirrored"

    bar = torch.zeros(256, 1, 32, 32)
    bar[:, :, 15:17, 4:28] = 1.0  # a horizontal bar through the centre
    rotated = flip_rotate_resized_crop(bar, degrees=30, scale=(1, 1), ratio=(1, 1))
    rows_lit = (rotated > 0.5).any(-1).sum(-1).squeeze(1).float()  # rows the bar now crosses
    assert rows_lit.mean() > 4, "rotated, a 2-pixel horizontal bar crosses more rows"
    assert rotated.sum() / bar.sum() == pytest.approx(1, abs=0.15), "a rotation keeps the bar (it stays inside)"

    square = torch.zeros(256, 1, 32, 32)
    square[:, :, 12:20, 12:20] = 1.0
    zoomed = flip_rotate_resized_crop(square, degrees=0, scale=(0.25, 0.25), ratio=(1, 1))
    inside = zoomed.sum((1, 2, 3)) / square.sum((1, 2, 3))
    assert (inside.mean() > 1.5) and (inside.std() > 0.1), (
        "a crop of a quarter of the area magnifies 2x, at random places"
    )


def test_flip_rotate_resized_crop_keeps_shape_dtype_and_says_what_is_wrong():
    x = torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8)
    out = flip_rotate_resized_crop(x)
    assert out.shape == x.shape and out.dtype == torch.uint8
    with pytest.raises(LabError, match="scale must satisfy"):
        flip_rotate_resized_crop(x, scale=(0.5, 1.5))


def test_flip_rotate_resized_crop_draws_from_the_generator_it_is_given():
    x = torch.rand(16, 3, 32, 32)
    views = [flip_rotate_resized_crop(x, generator=torch.Generator().manual_seed(s)) for s in (1, 1, 2)]
    assert torch.equal(views[0], views[1]) and not torch.equal(views[0], views[2])
