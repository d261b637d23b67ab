"""Each lab's settings: one frozen dataclass per lab, whose defaults are its published (`full`) recipe.

Introduced in lab 01. `helpers.config.resolve(lab, profile, ...)` builds a lab's class from its
defaults, then the profile's changes (`PROFILE_DEFAULTS`, then the class's `PROFILES[profile]`),
then the parameters given. Every class holds only what its lab uses, so a misspelled or foreign
setting is an error the moment it is given, and `python -m helpers config LAB --profile P` prints
exactly the settings the lab runs with. `cfg.recipe` holds the lab's own settings (seeds, sweeps,
variants), read as `cfg.recipe["seeds"]` or `cfg.recipe.seeds`.

The profiles: `smoke` (seconds on a CPU, a few thousand real images: tests and CI), `quick`
(minutes on a 2-core CPU, Fashion-MNIST), `full` (the published recipes on CIFAR-10, on a GPU).
Where a value comes from a seed report, the class's docstring or a comment says which; values no
report gives are marked as ours.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from helpers.errors import LabError, did_you_mean

REPO = Path(__file__).resolve().parent.parent  # the source checkout, where helpers runs from one
IN_CHECKOUT = (REPO / "labs").is_dir() and (REPO / "pyproject.toml").is_file()


def user_dir(name: str) -> Path:
    """A per-user folder: `$XDG_DATA_HOME/image-classification-labs/<name>` (~/.local/share/...)."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "image-classification-labs" / name


def default_dir(env: str, name: str) -> Path:
    """`$env` if set; else `<repo>/<name>` in a writable source checkout (the same place whatever
    the notebook's cwd); else a per-user folder (an installed package, a read-only checkout)."""
    if os.environ.get(env):
        return Path(os.environ[env])
    if IN_CHECKOUT and os.access(REPO / name if (REPO / name).exists() else REPO, os.W_OK):
        return REPO / name
    return user_dir(name)


def _default(value):
    """A field whose default is a list or dict: each config gets its own copy."""
    return field(default_factory=lambda: copy.deepcopy(value))


@dataclass(frozen=True)
class Recipe:
    """A lab's own settings. `recipe["name"]` and `recipe.name` both work; an unknown name is an
    error that lists the valid ones."""

    def keys(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self)]

    def __getitem__(self, name: str):
        if name not in self.keys():
            raise LabError(
                f"The recipe has no setting {name!r}. Valid: {', '.join(self.keys())}."
                + did_you_mean(name, self.keys())
            )
        return getattr(self, name)

    def __contains__(self, name: str) -> bool:
        return name in self.keys()

    def get(self, name: str, default=None):
        return getattr(self, name) if name in self.keys() else default

    def items(self):
        return [(k, getattr(self, k)) for k in self.keys()]


@dataclass(frozen=True)
class LabConfig:
    """Everything a lab's run depends on. Printed at the top of a lab; saved with its results.

    The fields here are those of every lab; each lab's class adds its own (helpers/settings.py)."""

    lab: str
    profile: str
    dataset: str = "cifar10"
    epochs: int = 30
    batch_size: int = 128
    train_size: int | None = None  # None: the whole training split
    val_size: int = 10_000  # held out of the training set, seeded (CIFAR-10 split 40k/10k/10k as TU Wien)
    test_size: int | None = None  # None: the whole test set
    recipe: Recipe = field(default_factory=Recipe)
    seed: int = 0
    device: str = "auto"
    data_dir: Path = field(default_factory=lambda: default_dir("LABS_DATA_DIR", "data"))
    results_dir: Path = field(default_factory=lambda: default_dir("LABS_RESULTS_DIR", "results"))
    started: float = field(default_factory=time.time, repr=False, compare=False)

    NAME: ClassVar[str] = ""
    PROFILES: ClassVar[dict] = {}  # "smoke"/"quick": the changes to the defaults (the full recipe)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("started")
        return {k: str(v) if isinstance(v, Path) else v for k, v in d.items()}


@dataclass(frozen=True)
class SGD:
    """SGD with momentum. The Duke report does not state its optimizer settings: these are ours."""

    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 1e-4


# Every profile's changes, before the lab's own. Why each value:
PROFILE_DEFAULTS: dict[str, dict] = {
    # a few thousand real images, so a smoke run still learns far above chance in seconds
    "smoke": dict(dataset="fashion-mnist", train_size=4000, val_size=1000, test_size=1000, epochs=2, batch_size=64),
    # all of Fashion-MNIST (50k/10k/10k): minutes per lab on 2 cores
    "quick": dict(dataset="fashion-mnist", val_size=10_000, epochs=5),
    "full": {},  # each class's defaults
}


# ---------------------------------------------------------------- 01: sanity checks


@dataclass(frozen=True)
class SanityChecksRecipe(Recipe):
    """The overfit-one-batch test: 32 images, 200 Adam steps at 3e-3 (ours, not in the seed)."""

    overfit_images: int = 32
    overfit_steps: int = 200
    overfit_lr: float = 3e-3


@dataclass(frozen=True)
class SanityChecks(SGD, LabConfig):
    """Duke ECE 661 lab 1(f-g): SimpleNN, 30 epochs on CIFAR-10, best val 0.6606; its SGD values are
    not stated (ours)."""

    recipe: SanityChecksRecipe = field(default_factory=SanityChecksRecipe)

    NAME: ClassVar[str] = "01_sanity_checks"
    PROFILES: ClassVar[dict] = {"smoke": dict(epochs=3, lr=0.05), "quick": dict(epochs=8, lr=0.05)}


# ---------------------------------------------------------------- 02: learning-rate schedules


@dataclass(frozen=True)
class LrSchedulesRecipe(Recipe):
    """Five runs (constant, step, exponential, warm-up + cosine with and without the wd warm-up), each
    over `seeds`. step: x gamma at each milestone epoch; the Duke report lab 1(h): DECAY_EPOCHS 10,
    DECAY 0.9 in 30 epochs = drops at epochs 10 and 20 (0.81 at the end); smoke/quick keep the two drops
    at 1/3 and 2/3 of the run. exp_gamma: the TU Wien report's ExponentialLR gamma 0.9 (per epoch).
    warmup_epochs: the UW-Madison report says "linear warm-up" but not how long (1 epoch: ours).
    wd_warmup_epochs: the UW-Madison report, "a weight decay warm-up of 5 epochs"; 1 in smoke/quick."""

    seeds: list = _default([0, 1, 2])
    step: dict = _default(dict(milestones=[10, 20], gamma=0.9))
    exp_gamma: float = 0.9
    warmup_epochs: int = 1
    wd_warmup_epochs: int = 5


@dataclass(frozen=True)
class LrSchedules(SGD, LabConfig):
    """The Duke report's 30-epoch SimpleNN recipe, under each schedule. quick: 20k training images and
    6 epochs, so 5 runs x 3 seeds stay around 4 minutes on 2 cores."""

    recipe: LrSchedulesRecipe = field(default_factory=LrSchedulesRecipe)

    NAME: ClassVar[str] = "02_lr_schedules"
    PROFILES: ClassVar[dict] = {
        "smoke": dict(
            epochs=3, lr=0.05, recipe=dict(seeds=[0], step=dict(milestones=[1, 2], gamma=0.9), wd_warmup_epochs=1)
        ),
        "quick": dict(
            epochs=6,
            lr=0.05,
            train_size=20_000,
            recipe=dict(step=dict(milestones=[2, 4], gamma=0.9), wd_warmup_epochs=1),
        ),
    }


# ---------------------------------------------------------------- 03: data augmentation


@dataclass(frozen=True)
class AugmentationRecipe(Recipe):
    """None / p=0.5 / p=1, and the TU Wien transforms at p=1, each over `seeds`. The Duke report 2(a):
    RandomCrop(32, padding=4) and RandomHorizontalFlip() (p=0.5), compared with its 30-epoch baseline;
    the probability knob and the flip + rotation + random resized crop are the TU Wien report's, which
    gives no parameters for them (the rotation and crop ranges are ours)."""

    crop_padding: int = 4
    flip_p: float = 0.5
    probabilities: list = _default([0.5, 1.0])
    rotate_degrees: float = 15.0
    crop_scale: list = _default([0.5, 1.0])
    seeds: list = _default([0, 1, 2])


@dataclass(frozen=True)
class Augmentation(SGD, LabConfig):
    """SimpleNN with and without augmentation. quick: 6k images for 30 epochs, so the model has time to
    overfit."""

    recipe: AugmentationRecipe = field(default_factory=AugmentationRecipe)

    NAME: ClassVar[str] = "03_augmentation"
    PROFILES: ClassVar[dict] = {
        "smoke": dict(epochs=3, lr=0.05, recipe=dict(seeds=[0])),
        "quick": dict(epochs=30, lr=0.05, train_size=6000, val_size=5000),
    }


# ---------------------------------------------------------------- 04: BatchNorm and Swish


@dataclass(frozen=True)
class BatchnormSwishRecipe(Recipe):
    """Five runs per seed (norm, activation, lr), all on pipeline (a) = SimpleNN + crop (pad 4) + flip."""

    high_lr: float = 0.1  # the Duke report's "moderately high learning rate of 0.1"
    crop_padding: int = 4
    flip: bool = True
    seeds: list = _default([0, 1, 2])


@dataclass(frozen=True)
class BatchnormSwish(SGD, LabConfig):
    """The Duke report 2(b): BN at the default lr (0.7144), BN vs no BN at lr 0.1, Swish + BN at lr 0.1
    (0.7258). The default lr is the report's "pre-defined" SGD lr, which it does not state: ours is lab
    01's full lr, 0.01. quick: 10k images, 10 epochs, 3 seeds."""

    recipe: BatchnormSwishRecipe = field(default_factory=BatchnormSwishRecipe)

    NAME: ClassVar[str] = "04_batchnorm_swish"
    PROFILES: ClassVar[dict] = {
        "smoke": dict(epochs=3, recipe=dict(seeds=[0])),
        "quick": dict(epochs=10, train_size=10_000, val_size=5000),
    }


# ---------------------------------------------------------------- 05: regularization


@dataclass(frozen=True)
class RegularizationRecipe(Recipe):
    """15 runs per seed (6 learning rates, 5 L2 strengths, L1, 3 dropout rates). The Duke report 2(c): lr
    sweep [1, 0.1, 0.05, 0.01, 0.005, 0.001], L2 sweep [1e-2, 1e-3, 1e-4, 1e-5, 0]; its L1 strength is
    not stated (ours). The dropout rates are the TU Wien report's CNN tuning values, [0.3, 0.5, 0.7] (its
    regularization range was 0-0.7); the L2 run of the same weight decay is their p = 0."""

    lr_sweep: list = _default([1, 0.1, 0.05, 0.01, 0.005, 0.001])
    l2_sweep: list = _default([1e-2, 1e-3, 1e-4, 1e-5, 0.0])
    l1_strength: float = 1e-4
    dropout_sweep: list = _default([0.3, 0.5, 0.7])
    seeds: list = _default([0, 1, 2])


@dataclass(frozen=True)
class Regularization(SGD, LabConfig):
    """The Duke report's epochs and the L2 sweep's lr are not stated: 30 epochs as its other SimpleNN
    runs; lr 0.05, its best. quick: 8k images, 6 epochs, 3 seeds (45 runs); smoke: one seed, dropout 0.5 only."""

    lr: float = 0.05
    recipe: RegularizationRecipe = field(default_factory=RegularizationRecipe)

    NAME: ClassVar[str] = "05_regularization"
    PROFILES: ClassVar[dict] = {
        "smoke": dict(train_size=2000, recipe=dict(seeds=[0], dropout_sweep=[0.5])),
        "quick": dict(epochs=6, train_size=8000, val_size=5000),
    }


# ---------------------------------------------------------------- 06: ResNet-20


@dataclass(frozen=True)
class Resnet20Recipe(Recipe):
    """Each schedule in its source's unit; `schedule` names the one a run uses. He et al. 2016 sec. 4.2:
    /10 at 32k and 48k iterations, 64k in all, batch 128, 45k/5k split to fix the schedule (final models
    on 50k; we keep the 5k for model selection). The Duke report lab 3(a): /10 every 50 epochs of 200
    (drops at 50, 100, 150), wd 1e-4, SGD. smoke/quick keep the drops at the same fractions."""

    schedule: str = "duke"
    he2016: dict = _default(dict(iterations=64_000, milestones_iterations=[32_000, 48_000], gamma=0.1))
    duke: dict = _default(dict(epochs=200, milestones_epochs=[50, 100, 150], gamma=0.1))


@dataclass(frozen=True)
class Resnet20(SGD, LabConfig):
    """Two runs (option A, option B), one seed. SGD lr 0.1, momentum 0.9, wd 1e-4, batch 128 in both
    seeds' recipes."""

    epochs: int = 200
    val_size: int = 5000
    lr: float = 0.1
    recipe: Resnet20Recipe = field(default_factory=Resnet20Recipe)

    NAME: ClassVar[str] = "06_resnet20"
    PROFILES: ClassVar[dict] = {"smoke": dict(epochs=2, train_size=2000), "quick": dict(epochs=3, train_size=30_000)}


# ---------------------------------------------------------------- 07: Vision Transformer

# On the CPU (smoke, quick): both published settings' optimizers and schedules, no augmentation
VIT_CPU_SETTINGS = dict(
    uw_madison=dict(
        lr=0.01, weight_decay=0.05, schedule="warmup_cosine", warmup=0.1, wd_warmup_epochs=1, augment="none"
    ),
    tu_wien=dict(lr=3.65e-4, weight_decay=0.1, schedule="exponential", gamma=0.9, augment="none"),
)
VIT_CPU_SETTINGS["tu_wien_augmented"] = {**VIT_CPU_SETTINGS["tu_wien"], "augment": "tu_wien"}
VIT_CPU_MODEL = dict(dim=64, depth=4, num_heads=2, patch_size=8, window_size=2)


TU_WIEN_VIT = dict(  # the TU Wien report §6.3.3's tuned ViT
    patch_size=2,
    dim=32,
    depth=4,
    num_heads=20,
    head_dim=16,
    mlp_hidden=1024,
    head_hidden=1024,
    drop=0.25,
    block_kinds=["global"] * 4,
)


TU_WIEN = dict(  # the TU Wien report §6.3.3
    epochs=60,
    batch_size=128,
    lr=3.65e-4,
    weight_decay=0.1,
    schedule="exponential",
    gamma=0.9,
    augment="none",  # "without" did better
    model=TU_WIEN_VIT,
)
TU_WIEN_AUGMENTED = {**TU_WIEN, "augment": "tu_wien"}  # §6.3.3's other run, with §6.2's flip, rotation, resized crop


@dataclass(frozen=True)
class VitRecipe(Recipe):
    """Two published ViT settings, each a whole recipe of its own (model, epochs, batch, AdamW,
    schedule, augmentation; see helpers.recipes.train_vit for the keys), and TU Wien's with the
    augmentation it trained once and found worse."""

    seeds: list = _default([0, 1, 2])
    settings: dict = _default(
        dict(
            uw_madison=dict(  # the UW-Madison report §2-3.3
                epochs=90,
                batch_size=256,
                lr=0.01,
                weight_decay=0.05,
                schedule="warmup_cosine",
                warmup=0.1,  # lr warm-up length: ours
                wd_warmup_epochs=5,
                augment="uw_madison",
            ),
            tu_wien=TU_WIEN,
            tu_wien_augmented=TU_WIEN_AUGMENTED,
        )
    )


@dataclass(frozen=True)
class Vit(LabConfig):
    """UW-Madison's SimpleViT (§3.3: AdamW lr 0.01, wd 0.05, warm-up + cosine, 5-epoch wd warm-up,
    crop/flip/colour/scale/rotation, batch 256, 90 epochs, 4 blocks, 1st and 3rd local) and TU Wien's
    ViT (§6.3.3). `model`: SimpleViT's; width, heads, patch and window are ours. On the CPU (smoke,
    quick) both train one narrow ViT with 8x8 patches for `epochs` at `batch_size`; quick: 3 seeds x 3
    settings on 20k images, no augmentation but in TU Wien's augmented run."""

    epochs: int = 90
    batch_size: int = 256
    model: dict = _default(dict(dim=128, depth=4, num_heads=4, patch_size=4, window_size=4))
    recipe: VitRecipe = field(default_factory=VitRecipe)

    NAME: ClassVar[str] = "07_vit"
    PROFILES: ClassVar[dict] = {
        "smoke": dict(epochs=3, batch_size=64, model=VIT_CPU_MODEL, recipe=dict(seeds=[0], settings=VIT_CPU_SETTINGS)),
        "quick": dict(
            epochs=5, batch_size=128, train_size=20_000, model=VIT_CPU_MODEL, recipe=dict(settings=VIT_CPU_SETTINGS)
        ),
    }


# ---------------------------------------------------------------- 08: fast CIFAR-10 net

# On the CPU: weight decay 0.0575 per 1024 (~3.8x airbench's), lr from 0 to 0, lookahead from the start,
# whitening bias always trained: the settings quick had before the full recipe became airbench's
FAST_CPU = dict(weight_decay=0.0575, lr_start=0.0, lr_end=0.0, lookahead_start_epochs=0, whiten_bias_epochs=None)


# The TAMU report's own recipe (its §3, its Table 1's row #7 at 93.20%) as changes to FastRecipe's switches;
# helpers/recipes.py TAMU_TABLE walks its cumulative table from row #1 to this one.
TAMU = dict(
    epochs=200,
    batch_size=128,
    units="torch",
    lr=0.08,
    momentum=0.9,
    weight_decay=0.02,
    schedule="step",
    step_epochs=30,  # lr / 10 every 30 epochs: 8e-5 from epoch 90 on
    optimizer="nesterov",
    adamw_lr=1e-3,
    whiten=True,
    translate=4,
    padding_mode="reflect",
    label_smoothing=0.2,
    normalize="channel",
    alternating_flip=False,
    bias_scaler=1.0,
    lookahead_every=0,
    whiten_bias_epochs=None,
    tta_level=0,
)
# Its first 90 epochs, where the lr is at least 8e-4, one epoch for every 30: 0.08, 0.008, 0.0008
TAMU_SHORT = {**TAMU, "epochs": 3, "step_epochs": 1}


@dataclass(frozen=True)
class FastCifarRecipe(Recipe):
    """`fast`: FastRecipe's switches (helpers/recipes.py); `tamu`: the TAMU report's own recipe as
    changes to them (None: its rows are skipped). train_on_val: train on train + val and evaluate on the
    test set, as airbench does."""

    seeds: list = _default([0, 1, 2])
    train_on_val: bool = True  # airbench94: all 50k, test as val
    fast: dict = _default(
        dict(
            epochs=9.9,
            units="airbench",
            lr=11.5,
            momentum=0.85,  # airbench94 hyp
            weight_decay=0.0153,
            optimizer="nesterov",
            lr_start=0.2,
            lr_peak=0.23,
            lr_end=0.07,
            bias_scaler=64.0,
            whiten_bias_epochs=3,
            lookahead_every=5,
            lookahead_start_epochs=0,  # the legacy script: from the first step
            label_smoothing=0.2,
            translate=2,
            padding_mode="reflect",
            alternating_flip=True,
            tta_level=2,
        )
    )
    tamu: dict | None = _default(TAMU)


@dataclass(frozen=True)
class FastCifar(LabConfig):
    """Full: airbench94.py's hyp, on all 50k training images. On the CPU a narrower net and the
    pre-airbench-faithful settings that reach 91% on Fashion-MNIST in quick."""

    epochs: int = 10
    batch_size: int = 1024
    model: dict = _default(dict(widths=(64, 256, 256)))  # airbench94 widths
    recipe: FastCifarRecipe = field(default_factory=FastCifarRecipe)

    NAME: ClassVar[str] = "08_fast_cifar"
    PROFILES: ClassVar[dict] = {
        "smoke": dict(
            epochs=2,
            batch_size=128,
            model=dict(widths=(16, 32, 32)),
            recipe=dict(
                seeds=[0],
                train_on_val=False,
                fast=FAST_CPU,
                tamu={**TAMU, "epochs": 1, "step_epochs": 1},
            ),
        ),
        "quick": dict(
            epochs=5,
            batch_size=256,
            model=dict(widths=(16, 32, 32)),
            recipe=dict(seeds=[0], train_on_val=False, fast=FAST_CPU, tamu=TAMU_SHORT),
        ),
    }


# ---------------------------------------------------------------- 09: convolution from scratch


@dataclass(frozen=True)
class ConvolutionRecipe(Recipe):
    """custom_conv_steps: SimpleNet with the student's Conv2D vs nn.Conv2d from the same weights.
    bench: (batch, channels, size) of the Conv2D time/memory table, 3x3 kernels, padding 1."""

    seeds: list = _default([0, 1, 2])
    warmup_epochs: float = 1
    wd_warmup_epochs: int = 5
    custom_conv_steps: int = 2000
    bench: list = _default([(64, 64, 32), (64, 128, 16), (256, 64, 32)])
    bench_repeats: int = 5


@dataclass(frozen=True)
class Convolution(SGD, LabConfig):
    """The UW-Madison report 3.1-3.4: SimpleNet (7 convs) vs CustomNet (BN + 4 skip blocks), SGD lr 0.1,
    momentum 0.9, wd 1e-4, batch 256, linear warm-up + cosine, a weight decay warm-up of 5 epochs, 60
    epochs (on MiniPlaces; full runs CIFAR-10). Widths and the warm-up's length are not in the report
    (ours). smoke/quick: lr 0.05 and batch 64 (ours): at lr 0.1 our plain SimpleNet sometimes failed to
    start in 3 epochs."""

    epochs: int = 60
    batch_size: int = 256
    lr: float = 0.1
    model: dict = _default(dict(widths=(64, 128, 256)))
    recipe: ConvolutionRecipe = field(default_factory=ConvolutionRecipe)

    NAME: ClassVar[str] = "09_convolution"
    PROFILES: ClassVar[dict] = {
        "smoke": dict(
            epochs=3,
            lr=0.05,
            model=dict(widths=(8, 16, 32)),
            recipe=dict(
                seeds=[0],
                warmup_epochs=0.5,
                wd_warmup_epochs=1,
                custom_conv_steps=40,
                bench=[(8, 8, 32), (8, 32, 16)],
                bench_repeats=2,
            ),
        ),
        "quick": dict(
            epochs=5,
            batch_size=128,
            lr=0.05,
            train_size=8000,
            val_size=5000,
            model=dict(widths=(8, 16, 32)),
            recipe=dict(
                wd_warmup_epochs=1,
                custom_conv_steps=300,
                bench=[(32, 16, 32), (32, 64, 16), (128, 32, 32)],
                bench_repeats=3,
            ),
        ),
    }


# ---------------------------------------------------------------- 10: evaluating a classifier


@dataclass(frozen=True)
class EvaluationRecipe(Recipe):
    """patience: early stopping's (ours: the TU Wien report saved the weights whenever val accuracy
    improved but did not stop); the rest sizes the calibration plot and the galleries."""

    patience: int = 5
    calibration_bins: int = 15
    gallery: int = 16
    top_pairs: int = 5


@dataclass(frozen=True)
class Evaluation(SGD, LabConfig):
    """Evaluating on the test set as the TU Wien report 6.4 did (confusion matrices, ROC curves), plus
    top-5, most-confused pairs, the highest-loss images and calibration (ours). The model: lab 01's
    SimpleNN and its SGD recipe (30 epochs, best val 0.6606 at ~10 epochs), trained up to `epochs` with
    early stopping. quick: 10k training images, so the validation accuracy levels off early."""

    recipe: EvaluationRecipe = field(default_factory=EvaluationRecipe)

    NAME: ClassVar[str] = "10_evaluation"
    PROFILES: ClassVar[dict] = {
        "smoke": dict(epochs=12, lr=0.05, train_size=2000, recipe=dict(patience=2, calibration_bins=10, gallery=12)),
        "quick": dict(epochs=30, lr=0.05, train_size=10_000, recipe=dict(patience=3)),
    }


# ---------------------------------------------------------------- 11: transfer learning


@dataclass(frozen=True)
class TransferRecipe(Recipe):
    """Classes 5-9 from labels_per_class images each, each run `steps` SGD steps: from scratch
    (scratch_lr), linear probe (head_lr), fine-tune (backbone_lr and head_lr: two param groups). All lrs
    ours. resnet18 (full only): the TU Wien report trained torchvision's ResNet18, head replaced, for 60
    epochs (78% test) with AdamW + ExponentialLR (its lr unstated); the UW-Madison report fine-tuned a
    pretrained one for 60 epochs on MiniPlaces. Ours: SGD, lrs as above."""

    source_classes: list = _default([0, 1, 2, 3, 4])
    labels_per_class: list = _default([10, 100, 1000])
    steps: int = 1000
    seeds: list = _default([0, 1, 2])
    scratch_lr: float = 0.05
    head_lr: float = 0.05
    backbone_lr: float = 0.005
    resnet18: dict | None = _default(dict(epochs=60, scratch_lr=0.05, head_lr=0.05, backbone_lr=0.005))


@dataclass(frozen=True)
class Transfer(SGD, LabConfig):
    """Transfer between halves of the dataset (all profiles) and, in full, torchvision's ResNet18 with
    its ImageNet weights on CIFAR-10. epochs/lr: pretraining a SmallCNN on classes 0-4 (ours)."""

    lr: float = 2e-3
    model: dict = _default(dict(widths=(32, 64, 128)))
    recipe: TransferRecipe = field(default_factory=TransferRecipe)

    NAME: ClassVar[str] = "11_transfer"
    PROFILES: ClassVar[dict] = {
        "smoke": dict(
            epochs=4,
            train_size=8000,
            model=dict(widths=(8, 16, 32)),
            recipe=dict(labels_per_class=[10, 100], steps=60, seeds=[0], resnet18=None),
        ),
        "quick": dict(epochs=3, model=dict(widths=(8, 16, 32)), recipe=dict(steps=300, resnet18=None)),
    }


# ---------------------------------------------------------------- 12: interpretation and adversarial examples


@dataclass(frozen=True)
class InterpretationAdversarialRecipe(Recipe):
    """eps in pixel units (images in [0, 1]); full: the common CIFAR-10 budgets up to 8/255. PGD step
    alpha = 2.5 eps / steps, a rule of thumb (Madry et al. 2018 used 7 steps of 2/255 at 8/255 on
    CIFAR-10). Every PGD starts at a random point of the ball. Adversarial training: PGD with adv_steps
    steps at adv_eps; evaluation: pgd_steps steps (more), pgd_restarts random starts, the worst per image."""

    eps: list = _default([e / 255 for e in (0, 1, 2, 4, 8)])
    pgd_steps: int = 10
    pgd_restarts: int = 3
    adv_eps: float = 8 / 255
    adv_steps: int = 7
    vit_lr: float = 1e-3
    attack_images: int = 2000
    seeds: list = _default([0, 1, 2])


CPU_EPS = dict(eps=[0.0, 0.01, 0.02, 0.05, 0.1], adv_eps=0.05, pgd_restarts=2)


@dataclass(frozen=True)
class InterpretationAdversarial(LabConfig):
    """Saliency, Grad-CAM (Captum), ViT attention and rollout, FGSM/PGD: the UW-Madison report section 4
    names "Attention and Adversarial Samples" and gives no numbers or settings, so all values are ours.
    lr: the CNN's AdamW (SGD at 0.05 gave an erratic validation accuracy in these short runs)."""

    lr: float = 2e-3
    model: dict = _default(dict(cnn=dict(widths=(32, 64, 128)), vit=dict()))
    recipe: InterpretationAdversarialRecipe = field(default_factory=InterpretationAdversarialRecipe)

    NAME: ClassVar[str] = "12_interpretation_adversarial"
    PROFILES: ClassVar[dict] = {
        "smoke": dict(
            epochs=2,
            model=dict(cnn=dict(widths=(8, 16, 32)), vit=VIT_CPU_MODEL),
            recipe=dict(**CPU_EPS, pgd_steps=5, adv_steps=1, attack_images=500, seeds=[0]),
        ),
        "quick": dict(
            epochs=5,
            train_size=10_000,
            model=dict(cnn=dict(widths=(8, 16, 32)), vit=VIT_CPU_MODEL),
            recipe=dict(**CPU_EPS, pgd_steps=10, adv_steps=3, attack_images=1000),
        ),
    }


# ---------------------------------------------------------------- 13: hyperparameter search


@dataclass(frozen=True)
class HparamSearchRecipe(Recipe):
    """target: the lab whose settings are searched (helpers/search.py SPACES); trials: per sampler;
    retrain_epochs: the best setting, retrained once and tested. cnn_trials: the random search over the
    TU Wien CNN (SPACES["tu_wien_cnn"]), its best retrained for cnn_retrain_epochs."""

    target: str = "01_sanity_checks"
    trials: int = 83  # as many runs as the TU Wien report's W&B sweep
    retrain_epochs: int = 30
    cnn_trials: int = 24  # ours: the report does not say how many CNN runs its sweep made
    cnn_retrain_epochs: int = 120  # the TU Wien report §6.3.2: "We trained our CNN model for 120 epochs"


@dataclass(frozen=True)
class HparamSearch(LabConfig):
    """TU Wien swept its ViT with 83 random W&B runs; here random search vs TPE on one budget each, with
    a median pruner, over SimpleNN's settings on a training subset; then a random search over TU Wien's
    own CNN, as its report swept it. epochs: per trial."""

    epochs: int = 10
    recipe: HparamSearchRecipe = field(default_factory=HparamSearchRecipe)

    NAME: ClassVar[str] = "13_hparam_search"
    PROFILES: ClassVar[dict] = {
        "smoke": dict(
            epochs=2,
            train_size=2000,
            val_size=1000,
            recipe=dict(trials=5, retrain_epochs=6, cnn_trials=3, cnn_retrain_epochs=1),
        ),
        "quick": dict(
            epochs=3,
            train_size=10_000,
            val_size=5000,
            recipe=dict(trials=20, retrain_epochs=8, cnn_trials=6, cnn_retrain_epochs=4),
        ),
    }


LABS: dict[str, type[LabConfig]] = {
    cls.NAME: cls
    for cls in (
        SanityChecks,
        LrSchedules,
        Augmentation,
        BatchnormSwish,
        Regularization,
        Resnet20,
        Vit,
        FastCifar,
        Convolution,
        Evaluation,
        Transfer,
        InterpretationAdversarial,
        HparamSearch,
    )
}
