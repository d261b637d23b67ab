"""Published training recipes as one function each, with every trick a switch (lab 08).

`train_fastnet` is the airbench94 recipe as the TAMU report ablates it: a FastNet with a
frozen whitening first layer, Nesterov SGD with warm-up and linear decay, label smoothing 0.2,
lookahead (an EMA of the weights pulled back into the model every few steps), alternating
flip with reflect-padded translation, and test-time augmentation. Turning a switch off gives
one row of the ablation table.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import torch
from torch import nn

from helpers import runtime
from helpers.data import Split
from helpers.errors import LabError
from helpers.loader import Augment, Loader
from helpers.metrics import topk_correct
from helpers.models.fastnet import EMA, FastNet, init_whitening, predict_tta
from helpers.schedules import WarmupLinear
from helpers.training import History, fit

OPTIMIZERS = ("nesterov", "sgd", "adamw")


@dataclass(frozen=True)
class FastRecipe:
    """The switches of the fast net's recipe; defaults are the full recipe."""

    epochs: float = 10.0
    batch_size: int = 1024
    lr: float = 1.5  # SGD on the mean loss at batch 1024 (airbench: 11.5 per 1024 examples of a summed loss)
    momentum: float = 0.85
    weight_decay: float = 5e-3  # times lr: a decay of ~0.0075 per step
    optimizer: str = "nesterov"  # or "sgd", "adamw" (the TAMU ablation)
    adamw_lr: float = 2e-3
    warmup: float = 0.23  # fraction of training spent warming up
    label_smoothing: float = 0.2
    whiten: bool = True  # whitening init of the first conv (off: its default random init, trainable)
    padding_mode: str = "reflect"  # crop padding: "reflect" or "zeros" (constant)
    translate: int = 2  # crop padding in pixels
    alternating_flip: bool = True  # off: a random flip
    bias_scaler: float = 64.0  # BatchNorm biases learn this many times faster (airbench), without more decay
    lookahead_every: int = 5  # steps between pulls towards the weights' EMA (0: off)
    tta_level: int = 2  # 0: none, 1: mirror, 2: mirror + 1-pixel shifts
    widths: tuple[int, ...] = (64, 256, 256)

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise LabError(f"Unknown optimizer {self.optimizer!r}. Valid: {', '.join(OPTIMIZERS)}.")

    def augment(self) -> Augment:
        """The training augmentation: translate by up to `translate` pixels, flip (alternating or random)."""
        return Augment(crop_padding=self.translate, padding_mode=self.padding_mode, flip=not self.alternating_flip,
                       alternating_flip=self.alternating_flip)  # fmt: skip

    def but(self, **changes) -> FastRecipe:
        """A copy with some switches changed: `recipe.but(whiten=False)`."""
        return replace(self, **changes)


@dataclass
class FastResult:
    model: nn.Module
    history: History
    test_top1: float
    test_top1_no_tta: float
    train_seconds: float  # training, whitening init included
    eval_seconds: float  # test-set evaluation with TTA


def make_optimizer(model: nn.Module, r: FastRecipe) -> torch.optim.Optimizer:
    """SGD (Nesterov or not) or AdamW; BatchNorm biases get `bias_scaler` x the learning rate."""
    biases = [p for n, p in model.named_parameters() if p.requires_grad and p.dim() == 1 and "blocks" in n]
    ids = {id(p) for p in biases}
    others = [p for p in model.parameters() if p.requires_grad and id(p) not in ids]
    if r.optimizer == "adamw":
        return torch.optim.AdamW(others + biases, lr=r.adamw_lr, weight_decay=r.weight_decay * 10)
    lr = r.lr * r.batch_size / 1024  # linear scaling with the batch size
    groups = [dict(params=others, lr=lr, weight_decay=r.weight_decay),
              dict(params=biases, lr=lr * r.bias_scaler, weight_decay=r.weight_decay / r.bias_scaler)]  # fmt: skip
    return torch.optim.SGD(groups, momentum=r.momentum, nesterov=r.optimizer == "nesterov")


def train_fastnet(r: FastRecipe, train: Split, val: Loader, test: Loader, *, device, seed: int = 0,
                  channels_last: bool = True, progress: bool = True, desc: str = "fastnet") -> FastResult:  # fmt: skip
    """Train a FastNet with recipe `r` on `train`; evaluate on `test` with and without TTA."""
    torch.manual_seed(seed)
    start = time.perf_counter()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = FastNet(len(train.classes), train.images.shape[1], widths=r.widths).to(device, memory_format=fmt)
    loader = Loader(train, batch_size=r.batch_size, shuffle=True, augment=r.augment(), device=device, seed=seed,
                    drop_last=True, channels_last=channels_last)  # fmt: skip
    if r.whiten:
        sample = loader.normalize(loader.images[:5000])  # (5000, C, H, W) float, as the model sees them
        init_whitening(model.whiten, sample)
    else:
        model.whiten.weight.requires_grad_(True)  # an ordinary, trainable first conv
    opt = make_optimizer(model, r)
    whole_epochs = max(1, round(r.epochs))
    total = whole_epochs * len(loader)
    ema = EMA(model, decay=0.95) if r.lookahead_every else None

    def lookahead(step: int) -> None:
        """Pull the weights towards their running average; the pull grows from 0 to 0.95^5 (airbench)."""
        if ema is not None and step % r.lookahead_every == 0:
            ema.update(decay=0.95**r.lookahead_every * (step / total) ** 3)
            ema.copy_to(model)

    history = fit(model, loader, val, epochs=whole_epochs, optimizer=opt, progress=progress, desc=desc,
                  scheduler=WarmupLinear(total=total, warmup=int(r.warmup * total)),
                  loss_fn=nn.CrossEntropyLoss(label_smoothing=r.label_smoothing), after_step=lookahead)  # fmt: skip
    runtime.synchronize(device)
    train_seconds = time.perf_counter() - start
    with runtime.timed(device) as clock:
        test_top1 = tta_accuracy(model, test, r.tta_level)
    plain = tta_accuracy(model, test, 0)
    return FastResult(model, history, test_top1, plain, train_seconds, clock.seconds)


@torch.no_grad()
def tta_accuracy(model: nn.Module, loader: Loader, level: int) -> float:
    """Top-1 accuracy with test-time augmentation at `level`."""
    hits = total = 0
    for x, y in loader:
        hits += topk_correct(predict_tta(model, x, level), y, (1,))[1]
        total += len(y)
    return hits / total
