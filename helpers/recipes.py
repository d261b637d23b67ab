"""Published training recipes as one function each, with every trick a switch (labs 07 and 08).

Lab 07: `train_vit(setting, ...)` trains a ViT under one of the two published settings of
`settings.Vit` (its `recipe.settings`, per profile) (UW-Madison's, TU Wien's), each with its
own model, epochs, batch, AdamW, schedule, weight-decay warm-up and augmentation.

Lab 08:

`train_fastnet(FastRecipe(), ...)` is airbench94 (Keller Jordan, KellerJordan/cifar10-airbench,
`legacy/airbench94.py`, the uncompiled script), switch by switch. What comes from **airbench94**:
- the FastNet architecture (whitening conv, Dirac-initialized conv groups, BatchNorm with a frozen
  scale, eps 1e-12, momentum 0.4 in PyTorch's convention, max-pool, 1/9 logit scale);
- 9.9 epochs at batch 1024 on all 50,000 training images (`ceil(48 * 9.9) = 476` steps);
- Nesterov SGD, momentum 0.85, lr 11.5 and weight decay 0.0153 *per 1024 examples*, both in
  airbench's decoupled form (`make_optimizer` converts them for PyTorch's SGD on a mean loss);
- the LR triangle: 0.2 -> 1.0 over the first 23% of the steps, then -> 0.07 at the end;
- BatchNorm biases at 64x the learning rate (`bias_scaler`) with the same per-step decay;
- the whitening layer's bias trained for the first 3 epochs only;
- lookahead from the first step: every 5 steps, pull the weights towards their moving average
  with a decay ramping as 0.95^5 * (step / total)^3, and end training on the average (the first
  release started it after 3 epochs and copied the average back after every epoch; the legacy
  script dropped both, and so do we: `lookahead_start_epochs=3` restores the first);
- alternating flip, 2-pixel reflect-padded translation, label smoothing 0.2, TTA level 2;
- the crop and flip made once per epoch for the whole split, batches sliced from it, as its
  loader does (`Loader(per_epoch=True)`): benchmarks/fastnet_ops.py counts the ops of a step.

Where ours differs from that script: the whitening filters come from the *centred* patch
covariance and the whitening bias starts at minus the mean response (airbench: the uncentred
second moment and a zero bias, which its 3 epochs of bias training then move); the images are
normalized with the training split's own mean and std (airbench: fixed CIFAR-10 constants); and
the arithmetic is float32 on a CPU and autocast mixed precision on a GPU (airbench: the whole
network in float16 but its BatchNorms). `benchmarks/fastnet_vs_airbench.py` runs the two side by side.

What comes from the **TAMU CSCE 636 report**: the ablation's switches (AdamW vs SGD vs
SGD-Nesterov, whitening on/off, constant vs reflect padding, label smoothing on/off, batch size
1024 vs 128, normalization along channels or along the length of the image) and its own
200-epoch recipe (`recipe["tamu"]` of lab 08's full profile in helpers/settings.py): SGD-Nesterov
lr 0.08 (AdamW 1e-3), /10 every 30 epochs, weight decay 0.02 and momentum 0.9 as PyTorch defines
them, batch 128, reflect padding of 4 pixels, a random flip, label smoothing 0.2. The report does
not define "normalization along the length"; `along_length` reads it as one mean and std over
all values of every channel, instead of one per channel. The report does not mention airbench's lookahead, bias scaler,
alternating flip or TTA, so that recipe leaves them off. Turning one switch gives one ablation row;
`tamu_cumulative` turns them one after another, as the report's Table 1 did (`TAMU_TABLE`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from helpers import runtime, schedules
from helpers.data import Split
from helpers.errors import LabError, did_you_mean
from helpers.loader import Augment, Loader, flip_rotate_resized_crop
from helpers.metrics import topk_correct
from helpers.models.fastnet import EMA, FastNet, init_whitening, mirror_logits, predict_tta
from helpers.models.vit import Attention, ViT, window_mask
from helpers.training import Callback, History, StopAfter, evaluate, fit

OPTIMIZERS = ("nesterov", "sgd", "adamw")
SCHEDULES = ("triangle", "step")
UNITS = ("airbench", "torch")
NORMALIZATIONS = ("channel", "length")


@dataclass(frozen=True)
class FastRecipe:
    """The switches of the fast net's recipe; the defaults are airbench94's."""

    epochs: float = 9.9  # may be fractional: training stops after ceil(epochs * steps per epoch) steps
    batch_size: int = 1024
    units: str = "airbench"  # "airbench": lr and wd per 1024 examples, decoupled; "torch": PyTorch's SGD lr and wd
    lr: float = 11.5  # airbench: per 1024 examples of a summed loss (= 1.5 for SGD on the mean loss at batch 1024)
    momentum: float = 0.85
    weight_decay: float = 0.0153  # airbench: per 1024 examples, decoupled from the lr (~0.0020 per step at 1024)
    optimizer: str = "nesterov"  # or "sgd", "adamw" (the TAMU ablation)
    adamw_lr: float = 1e-3  # the TAMU report's Adam lr
    adamw_weight_decay: float = 0.05  # AdamW's (decoupled) weight decay beside airbench's units: ours
    schedule: str = "triangle"  # "triangle" (airbench) or "step": /10 every `step_epochs` (TAMU)
    lr_start: float = 0.2  # triangle: the lr multiplier at step 0 ...
    lr_peak: float = 0.23  # ... rising to 1 at this fraction of the steps ...
    lr_end: float = 0.07  # ... and falling to this at the end
    step_epochs: int = 30  # step schedule: divide the lr by 10 every this many epochs
    label_smoothing: float = 0.2
    whiten: bool = True  # whitening init of the first conv (off: its default random init, trainable)
    whiten_bias_epochs: int | None = 3  # train the whitening conv's bias this many epochs, then freeze (None: always)
    normalize: str = "channel"  # "channel": per-channel mean/std; "length": one mean/std over all values (TAMU)
    padding_mode: str = "reflect"  # crop padding: "reflect" or "zeros" (constant)
    translate: int = 2  # crop padding in pixels
    alternating_flip: bool = True  # off: a random flip
    bias_scaler: float = 64.0  # BatchNorm biases learn this many times faster (airbench), without more decay
    lookahead_every: int = 5  # steps between pulls towards the weights' moving average (0: off)
    lookahead_start_epochs: int = 0  # airbench94 (legacy script): from the first step
    tta_level: int = 2  # 0: none, 1: mirror, 2: mirror + 1-pixel shifts
    widths: tuple[int, ...] = (64, 256, 256)

    def __post_init__(self):
        for name, valid in (
            ("optimizer", OPTIMIZERS),
            ("schedule", SCHEDULES),
            ("units", UNITS),
            ("normalize", NORMALIZATIONS),
        ):
            if getattr(self, name) not in valid:
                raise LabError(f"Unknown {name} {getattr(self, name)!r}. Valid: {', '.join(valid)}.")

    def augment(self) -> Augment:
        """The training augmentation: translate by up to `translate` pixels, flip (alternating or random)."""
        return Augment(
            crop_padding=self.translate,
            padding_mode=self.padding_mode,
            flip=not self.alternating_flip,
            alternating_flip=self.alternating_flip,
        )

    def but(self, **changes) -> FastRecipe:
        """A copy with some switches changed: `recipe.but(whiten=False)`."""
        return replace(self, **changes)


def recipe_from(cfg, epochs: float | None = None) -> FastRecipe:
    """The FastRecipe a lab 08 config names: `cfg.recipe["fast"]`, its batch size and widths
    (`epochs`, if given, overrides the recipe's; without either, `cfg.epochs`)."""
    fast = {"epochs": cfg.epochs, **cfg.recipe["fast"], **({"epochs": epochs} if epochs else {})}
    return FastRecipe(**fast, batch_size=cfg.batch_size, widths=tuple(cfg.model["widths"]))


def with_val(train: Split, val: Split) -> Split:
    """train and val as one training split (airbench94 trains on all 50,000 CIFAR-10 images)."""
    return replace(train, images=torch.cat([train.images, val.images]), labels=torch.cat([train.labels, val.labels]))


@dataclass
class FastResult:
    model: nn.Module
    history: History
    test_top1: float
    test_top1_no_tta: float
    train_seconds: float  # training, whitening init included
    eval_seconds: float  # test-set evaluation with TTA


def ablate(recipes: dict[str, FastRecipe], seeds, run: Callable, done: dict | None = None):
    """`run(recipe, seed, name)` for every recipe and seed: one row per run (test top-1 with and
    without TTA) and each recipe's first FastResult. `done[(name, seed)]`: runs already made."""
    rows, first = [], {}
    for name, r in recipes.items():
        for seed in seeds:
            res = (done or {}).get((name, seed)) or run(r, seed, name)
            first.setdefault(name, res)
            rows.append(dict(setting=name, seed=seed, test_top1=res.test_top1, test_top1_no_tta=res.test_top1_no_tta))
    return rows, first


# The TAMU report's Table 1, row by row: what each row changes from the row before (row #1: from the
# report's recipe, the switches it starts from) and the validation accuracy it published (200 epochs,
# one run a row). A value of None is the TAMU recipe's own (its batch size, its label smoothing).
TAMU_TABLE = (
    (
        "#1 AdamW, batch 1024",
        dict(
            optimizer="adamw",
            batch_size=1024,
            whiten=False,
            padding_mode="zeros",
            normalize="length",
            label_smoothing=0.0,
        ),
        87.70,
    ),
    ("#2 SGD instead of AdamW", dict(optimizer="sgd"), 90.73),
    ("#3 batch 128", dict(batch_size=None), 90.72),
    ("#4 whitening init", dict(whiten=True), 91.09),
    ("#5 reflect padding, Nesterov", dict(padding_mode="reflect", optimizer="nesterov"), 91.43),
    ("#6 normalized per channel", dict(normalize="channel"), 92.03),
    ("#7 label smoothing 0.2", dict(label_smoothing=None), 93.20),
)


def tamu_cumulative(tamu: FastRecipe) -> dict[str, FastRecipe]:
    """The TAMU report's cumulative table as recipes: each row `tamu` with the changes of TAMU_TABLE made
    up to it; the last row is `tamu` itself (a LabError otherwise: the table and the recipe disagree)."""
    rows, r = {}, tamu
    for name, changes, _ in TAMU_TABLE:
        r = r.but(**{k: getattr(tamu, k) if v is None else v for k, v in changes.items()})
        rows[name] = r
    if r != tamu:
        differ = sorted(k for k in vars(tamu) if getattr(r, k) != getattr(tamu, k))
        raise LabError(f"The TAMU table's last row differs from the TAMU recipe in {', '.join(differ)}.")
    return rows


def tamu_table(rows: list[dict]) -> pd.DataFrame:
    """The cumulative rows ablate() measured beside the report's: test top-1 (mean over the seeds run),
    and each row's gain over the row before, ours and the report's, in points."""
    ours = pd.DataFrame(rows).groupby("setting", sort=False)["test_top1"].mean() * 100
    table = pd.DataFrame(
        [(name, ours.get(name, float("nan")), published) for name, _, published in TAMU_TABLE],
        columns=["row", "ours %", "TAMU report %"],
    ).set_index("row")
    table["ours, gain"] = table["ours %"].diff()
    table["report, gain"] = table["TAMU report %"].diff()
    return table.round(2)


@dataclass(frozen=True)
class Triangle:
    """airbench's LR multiplier: `start` -> 1 at `peak` * total steps -> `end` at `total`, linearly."""

    total: int
    peak: float = 0.23
    start: float = 0.2
    end: float = 0.07

    def __call__(self, step: int) -> float:
        top = max(1, int(self.peak * self.total))
        if step < top:
            return self.start + (1 - self.start) * step / top
        return 1 + (self.end - 1) * min(1.0, (step - top) / max(1, self.total - top))


def make_optimizer(model: nn.Module, r: FastRecipe) -> torch.optim.Optimizer:
    """SGD (Nesterov or not) or AdamW; BatchNorm biases get `bias_scaler` x the learning rate.

    airbench units: airbench divides its lr by 1024 * (1 + 1 / (1 - momentum)), the step size that
    Nesterov momentum adds up to, and sums the loss; we average it, so the lr is B times larger. Its
    weight decay is a per-step shrink of wd * B / that same scale, whatever the lr: PyTorch applies
    lr * weight_decay per step, so each group's weight_decay is that shrink over its own lr.
    """
    biases = [p for n, p in model.named_parameters() if p.requires_grad and p.dim() == 1 and "blocks" in n]
    ids = {id(p) for p in biases}
    others = [p for p in model.parameters() if p.requires_grad and id(p) not in ids]
    if r.units == "torch":
        lr, decay = r.lr, None
    else:
        scale = 1024 * (1 + 1 / (1 - r.momentum))
        lr, decay = r.lr * r.batch_size / scale, r.weight_decay * r.batch_size / scale
    if r.optimizer == "adamw":  # TAMU: its weight decay for every optimizer; with airbench's units, ours
        wd = r.weight_decay if decay is None else r.adamw_weight_decay
        return torch.optim.AdamW(others + biases, lr=r.adamw_lr, weight_decay=wd)
    groups = []
    for params, group_lr in ((others, lr), (biases, lr * r.bias_scaler)):
        wd = r.weight_decay if decay is None else decay / group_lr  # lr * wd = the same shrink for both groups
        groups.append(dict(params=params, lr=group_lr, weight_decay=wd))
    return torch.optim.SGD(groups, momentum=r.momentum, nesterov=r.optimizer == "nesterov")


def along_length(data: Split) -> Split:
    """The split with one mean and std over all pixel values (every channel alike), not one per channel."""
    mean = sum(data.mean) / len(data.mean)
    var = sum(s**2 + m**2 for m, s in zip(data.mean, data.std, strict=True)) / len(data.mean) - mean**2
    c = len(data.mean)
    return replace(data, mean=(mean,) * c, std=(math.sqrt(var),) * c)


def train_fastnet(
    r: FastRecipe,
    train: Split,
    val: Split | None,
    test: Split,
    *,
    device,
    seed: int = 0,
    channels_last: bool = True,
    progress: bool = True,
    desc: str = "fastnet",
    mirror=mirror_logits,
    covariance=None,
    loss=None,
    compile: bool = False,
) -> FastResult:
    """Train a FastNet with recipe `r` on `train`; evaluate on `test` with and without TTA.

    val: evaluated after every epoch (the history's val columns); nothing is selected with it.
        None: no evaluation until the end, as airbench times it (the history has no val columns).
    mirror: `mirror(model, x)`, the logits averaged over x and its mirror image, which TTA uses.
    covariance: `covariance(images)`, the 2x2 patch covariance the whitening uses (default: ours).
    loss: `loss(logits, y, smoothing)`, the label-smoothed cross-entropy, the mean over the batch
        (default: `smoothed_loss`, PyTorch's own).
    compile: train through `torch.compile(model)` (the same parameters; the first steps pay for the
        compilation, counted in train_seconds). benchmarks/fastnet_compile.py measures what it buys.
    """
    torch.manual_seed(seed)
    start = time.perf_counter()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = FastNet(len(train.classes), train.images.shape[1], widths=r.widths).to(device, memory_format=fmt)
    if r.normalize == "length":
        train, test = along_length(train), along_length(test)
        val = along_length(val) if val is not None else None
    loader = Loader(
        train,
        batch_size=r.batch_size,
        shuffle=True,
        augment=r.augment(),
        device=device,
        seed=seed,
        drop_last=True,
        channels_last=channels_last,
        per_epoch=True,
    )
    val_loader, test_loader = (
        Loader(s, batch_size=1000, device=device, channels_last=channels_last) if s is not None else None
        for s in (val, test)
    )
    if r.whiten:
        sample = loader.normalize(loader.images[:5000])  # (5000, C, H, W) float, as the model sees them
        init_whitening(model.whiten, sample, covariance=covariance)
    else:
        model.whiten.weight.requires_grad_(True)  # an ordinary, trainable first conv
    opt = make_optimizer(model, r)
    per_epoch = len(loader)
    total = math.ceil(r.epochs * per_epoch)
    steps = [StopAfter(total), Lookahead(model, r, per_epoch, total), TopOneOnly()]
    if r.whiten_bias_epochs is not None:
        steps.insert(1, FreezeAfter(model.whiten.bias, r.whiten_bias_epochs * per_epoch))
    scheduler = (
        Triangle(total, r.lr_peak, r.lr_start, r.lr_end)
        if r.schedule == "triangle"
        else (lambda step: 0.1 ** (step // (r.step_epochs * per_epoch)))
    )
    net = torch.compile(model) if compile else model
    smoothed = loss or smoothed_loss
    history = fit(
        net,
        loader,
        val_loader,
        epochs=math.ceil(total / per_epoch),
        optimizer=opt,
        progress=progress,
        desc=desc,
        scheduler=scheduler,
        callbacks=steps,
        loss_fn=lambda logits, y: smoothed(logits, y, r.label_smoothing),
    )
    runtime.synchronize(device)
    train_seconds = time.perf_counter() - start
    with runtime.timed(device) as clock:
        test_top1 = tta_accuracy(model, test_loader, r.tta_level, mirror)
    plain = tta_accuracy(model, test_loader, 0)
    return FastResult(model, history, test_top1, plain, train_seconds, clock.seconds)


def smoothed_loss(logits: torch.Tensor, y: torch.Tensor, smoothing: float) -> torch.Tensor:
    """Cross-entropy with label smoothing, the mean over the batch: CrossEntropyLoss's value, in 3 fewer
    ops a step (its mean reduction also counts the targets that are not ignore_index; airbench sums)."""
    return F.cross_entropy(logits, y, label_smoothing=smoothing, reduction="none").mean()


class TopOneOnly(Callback):
    """The training history records train_top1 and no train_top5: an argmax instead of a top-5 and an
    unsqueeze each step (one aten op fewer, a kernel launch on a GPU; benchmarks/fastnet_ops.py counts them)."""

    def on_fit_start(self, run) -> None:
        run.train_top = 1


class FreezeAfter(Callback):
    """Stop training `param` after `steps` optimizer steps (SGD skips a parameter without a gradient):
    airbench's whitening bias, trained for its first 3 epochs."""

    def __init__(self, param: nn.Parameter, steps: int):
        self.param, self.steps = param, steps

    def on_step_end(self, run) -> None:
        if run.step == self.steps:
            self.param.requires_grad_(False)


class Lookahead(Callback):
    """airbench's lookahead, after every step: from `lookahead_start_epochs` on, every
    `lookahead_every` steps, move a moving average of the weights towards them and put the average
    back into the model (decay 0.95^5 * (step / total)^3: free early, strong averaging at the end).
    After the last step the model is the average (the steps since the last pull are dropped)."""

    def __init__(self, model: nn.Module, r: FastRecipe, per_epoch: int, total: int):
        self.model, self.r, self.per_epoch, self.total = model, r, per_epoch, total
        # from the start (the legacy script): the average starts from the weights before the first
        # step; from a later epoch (the first release): from the weights at its first pull
        self.ema: EMA | None = EMA(model) if r.lookahead_every and not r.lookahead_start_epochs else None

    def on_step_end(self, run) -> None:
        self(run.step)

    def __call__(self, step: int) -> None:
        r = self.r
        if not r.lookahead_every or step <= r.lookahead_start_epochs * self.per_epoch:
            return
        if step % r.lookahead_every == 0:
            if self.ema is None:
                self.ema = EMA(self.model)  # the average starts from the weights at this step
            else:
                self.ema.update(decay=0.95**r.lookahead_every * (step / self.total) ** 3, pull=True)
        if self.ema is not None and step == self.total:
            self.ema.copy_to(self.model)


@torch.no_grad()
def tta_accuracy(model: nn.Module, loader: Loader, level: int, mirror=mirror_logits) -> float:
    """Top-1 accuracy with test-time augmentation at `level`."""
    hits = total = 0
    for x, y in loader:
        hits += topk_correct(predict_tta(model, x, level, mirror), y, (1,))[1]
        total += len(y)
    return hits / total


# ---------------------------------------------------------------- lab 07: the ViT settings


def uw_madison_jitter(
    x: torch.Tensor,
    generator: torch.Generator,
    degrees: float = 15.0,
    scale: tuple[float, float] = (0.9, 1.1),
    colour: float = 0.2,
) -> torch.Tensor:
    """Per image: a random rotation and scale, then brightness, contrast (and saturation on colour
    images) jitter, on a normalized batch (B, C, H, W). The UW-Madison report (§2) names
    these augmentations but not their strengths: the strengths here are ours."""
    B, dev = len(x), x.device

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(B, generator=generator, device=dev)

    angle, zoom = uniform(-degrees, degrees) * math.pi / 180, uniform(*scale)
    cos, sin, zero = torch.cos(angle) / zoom, torch.sin(angle) / zoom, torch.zeros(B, device=dev)
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)  # (B, 2, 3)
    x = F.grid_sample(
        x, F.affine_grid(theta, list(x.shape), align_corners=False), padding_mode="reflection", align_corners=False
    )
    mean = x.mean((1, 2, 3), keepdim=True)  # (B, 1, 1, 1)
    contrast, brightness = uniform(1 - colour, 1 + colour), uniform(-colour, colour)
    x = (x - mean) * contrast.view(-1, 1, 1, 1) + mean + brightness.view(-1, 1, 1, 1)
    if x.shape[1] == 3:
        gray = x.mean(1, keepdim=True)  # (B, 1, H, W)
        x = gray + (x - gray) * uniform(1 - colour, 1 + colour).view(-1, 1, 1, 1)
    return x


def tu_wien_views(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The TU Wien report's ViT augmentation (§6.2): flip, rotation and random resized crop on every image."""
    return flip_rotate_resized_crop(x, generator=generator)


class Augmented:
    """A training Loader's batches, each also passed through `fn(x, generator)` (after its crop and flip)."""

    def __init__(self, loader: Loader, fn: Callable, seed: int = 0):
        self.loader, self.fn = loader, fn
        self.generator = torch.Generator(loader.device).manual_seed(seed)

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        for x, y in self.loader:
            yield self.fn(x, self.generator), y


VIT_SETTING = {
    "lr": "AdamW's learning rate",
    "weight_decay": "AdamW's weight decay",
    "schedule": "warmup_cosine or exponential",
    "warmup": "warmup_cosine's warm-up, a fraction of the steps",
    "gamma": "exponential's factor per epoch",
    "wd_warmup_epochs": "weight decay ramped from 0 over that many epochs",
    "augment": "uw_madison, tu_wien or none",
    "epochs": "else the config's",
    "batch_size": "else the config's",
    "model": "ViT arguments, else the config's",
}
VIT_NEEDS = {"warmup_cosine": "warmup", "exponential": "gamma"}
VIT_AUGMENT = ("uw_madison", "tu_wien", "none")


def check_vit_setting(setting: dict) -> None:
    """A LabError for an unknown key, schedule or augmentation, or a schedule without its number."""
    unknown = sorted(set(setting) - set(VIT_SETTING))
    if unknown:
        raise LabError(
            f"A ViT setting has no key {', '.join(map(repr, unknown))}. Valid: "
            + "; ".join(f"{k} ({why})" for k, why in VIT_SETTING.items())
            + "."
            + did_you_mean(unknown[0], VIT_SETTING)
        )
    schedule, augment = setting.get("schedule"), setting.get("augment", "none")
    if schedule not in VIT_NEEDS:
        valid = ", ".join(VIT_NEEDS)
        raise LabError(f"Unknown ViT schedule {schedule!r}. Valid: {valid}." + did_you_mean(schedule, VIT_NEEDS))
    need = VIT_NEEDS[schedule]
    if need not in setting:
        raise LabError(f"The {schedule} schedule needs {need!r} in the setting ({VIT_SETTING[need]}).")
    if augment not in VIT_AUGMENT:
        raise LabError(
            f"Unknown ViT augmentation {augment!r}. Valid: {', '.join(VIT_AUGMENT)}."
            + did_you_mean(augment, VIT_AUGMENT)
        )


def train_vit(
    setting: dict,
    cfg,
    splits: tuple[Split, Split, Split],
    device,
    *,
    attn_layer=Attention,
    mask_fn=window_mask,
    seed: int = 0,
    desc: str = "vit",
) -> tuple[nn.Module, History, dict]:
    """Train a ViT under one published setting; return the model, its history and its test metrics.

    setting: lr, weight_decay, schedule ("warmup_cosine" with `warmup` as a fraction of the steps, or
    "exponential": lr x gamma after every epoch, as PyTorch's ExponentialLR stepped per epoch),
    wd_warmup_epochs (weight decay ramped from 0 over that many epochs; 0 or absent: none), augment
    ("uw_madison": crop with 4-pixel padding, flip and `uw_madison_jitter`; "tu_wien": flip, rotation and
    random resized crop, `flip_rotate_resized_crop`; "none"), and optionally
    epochs, batch_size and model (else cfg's). attn_layer and mask_fn go to the ViT.
    test metrics: loss, top1, top5, and peak_mib, the peak GPU memory of its epochs (NaN off CUDA).
    """
    check_vit_setting(setting)
    train, val, test = splits
    epochs, batch = setting.get("epochs", cfg.epochs), setting.get("batch_size", cfg.batch_size)
    augment = setting.get("augment", "none")
    loader = Loader(
        train,
        batch_size=batch,
        shuffle=True,
        seed=seed,
        device=device,
        augment=Augment(crop_padding=4, flip=True) if augment == "uw_madison" else None,
    )
    jitter = {"uw_madison": uw_madison_jitter, "tu_wien": tu_wien_views}.get(augment)
    train_loader = Augmented(loader, jitter, seed) if jitter else loader
    val_loader, test_loader = (Loader(s, batch_size=1000, device=device) for s in (val, test))
    torch.manual_seed(seed)
    model = ViT(
        len(train.classes),
        train.images.shape[1],
        **setting.get("model", cfg.model),
        attn_layer=attn_layer,
        mask_fn=mask_fn,
    ).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=setting["lr"], weight_decay=setting["weight_decay"])
    steps, per_epoch = epochs * len(loader), len(loader)
    if setting["schedule"] == "warmup_cosine":
        scheduler = schedules.WarmupCosine(total=steps, warmup=max(1, int(setting["warmup"] * steps)))
    else:
        scheduler = schedules.StepDecay(every=per_epoch, gamma=setting["gamma"])
    wd_epochs = setting.get("wd_warmup_epochs", 0)
    wd_schedule = schedules.Warmup(steps=wd_epochs * per_epoch) if wd_epochs else None
    history = fit(
        model,
        train_loader,
        val_loader,
        epochs=epochs,
        optimizer=opt,
        scheduler=scheduler,
        wd_schedule=wd_schedule,
        desc=desc,
    )
    nan = float("nan")
    metrics = evaluate(model, test_loader) if not history.diverged else {"loss": nan, "top1": nan, "top5": nan}
    peak = max(row["peak_memory_mib"] for row in history.rows) if device.type == "cuda" and history.rows else math.nan
    return model, history, {**metrics, "peak_mib": peak}
