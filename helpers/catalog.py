"""The 13 labs at a glance: what each teaches, what the student writes, and how long it runs.

One table serves the README's lab table, each lab's title cell, the website's home page and the
line every lab prints before it trains (`helpers.config.setup`), so a time is written once.
Times are minutes measured on real runs; None where nobody has timed that profile on that kind of
machine yet (and the line a lab prints then says so rather than guess).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Lab:
    name: str  # the notebook's stem, e.g. "01_sanity_checks"
    title: str
    teaches: str  # a few words: the lab's subject
    writes: str  # what the student writes (the lab then trains or measures with it)
    quick_cpu_min: float  # the whole lab in `quick` on Fashion-MNIST, on the 2-core reference CPU
    quick_shared: bool = False  # True: timed beside other runs, so an upper bound
    full_gpu_min: float | None = None  # the whole lab in `full` on one NVIDIA H200; None: not timed
    full_gpu_per_epoch: bool = False  # True: the measured time per epoch times the recipe's epochs
    full_cpu_min: float | None = None  # the whole lab in `full` on the 2-core CPU; None: not timed
    full_note: str = ""  # what the full-profile time rests on

    @property
    def number(self) -> str:
        return self.name[:2]


LABS = (
    Lab(
        "01_sanity_checks",
        "Sanity checks",
        "shapes, the initial loss, overfitting one batch, a baseline",
        "`initial_loss`, `train_one_epoch`",
        0.7,
        full_cpu_min=1.9,
        full_note="30 epochs of SimpleNN on CIFAR-10: 98-101 s of training on the 2-core CPU (its full reference)",
    ),
    Lab(
        "02_lr_schedules",
        "Learning-rate schedules",
        "step, exponential and warm-up + cosine schedules",
        "`warmup_cosine`, `wd_warmup`",
        4.1,
        full_cpu_min=27.4,
        full_note="5 schedules x 3 seeds x 30 epochs of SimpleNN on CIFAR-10, one after another (its full reference)",
    ),
    Lab(
        "03_augmentation",
        "Data augmentation",
        "random crop and flip, the train-val gap, augmentation speed",
        "`random_crop`, `random_flip`",
        8.4,
        full_cpu_min=33.1,
        full_note="5 settings x 3 seeds x 30 epochs of SimpleNN on CIFAR-10, one after another (its full reference)",
    ),
    Lab(
        "04_batchnorm_swish",
        "BatchNorm and Swish",
        "BatchNorm in training and eval, Swish, larger rates",
        "`BatchNorm2d`, `Swish`",
        5.7,
        full_cpu_min=52.6,
        full_note="5 settings x 3 seeds x 30 epochs of SimpleNN on CIFAR-10, one after another (its full reference)",
    ),
    Lab(
        "05_regularization",
        "Regularization",
        "learning-rate and L2 sweeps, L1, dropout",
        "`l1_penalty`, `Dropout`",
        3.4,
        full_cpu_min=71.9,
        full_note="15 settings x 3 seeds x 30 epochs of SimpleNN on CIFAR-10, one after another (its full reference)",
    ),
    Lab(
        "06_resnet20",
        "ResNet-20",
        "residual blocks, He et al.'s schedule, shortcut options A and B",
        "the option-A shortcut and the basic block",
        6.9,
        full_gpu_min=33,
        full_gpu_per_epoch=True,
        full_note="5.2 s per epoch on an H200 (82 of 182 epochs timed), 182 epochs for each of options A and B",
    ),
    Lab(
        "07_vit",
        "Vision Transformer",
        "patches, local and global attention, AdamW",
        "`patchify`, the window mask, multi-head attention",
        3.9,
    ),
    Lab(
        "08_fast_cifar",
        "A fast CIFAR-10 net",
        "airbench94's recipe switch by switch, its ablation, the TAMU table row by row",
        "the whitening covariance, TTA's mirror view, label-smoothed cross-entropy",
        14.1,
    ),
    Lab(
        "09_convolution",
        "Convolution from scratch",
        "im2col, gradcheck, a layer's time and memory",
        "`conv2d_unfold`",
        3.4,
    ),
    Lab(
        "10_evaluation",
        "Evaluating a classifier",
        "confusion, ROC, calibration, early stopping",
        "the confusion matrix, per-class accuracy, ECE",
        0.4,
    ),
    Lab(
        "11_transfer",
        "Transfer learning",
        "scratch vs linear probe vs fine-tuning with few labels",
        "`replace_head`, `freeze_all_but_head`, `make_optimizer`",
        2.1,
    ),
    Lab(
        "12_interpretation_adversarial",
        "Interpretation and adversarial examples",
        "saliency, Grad-CAM, attention rollout, FGSM and PGD, adversarial training",
        "`attention_rollout`, `fgsm`, `pgd`",
        3.1,
    ),
    Lab(
        "13_hparam_search",
        "Hyperparameter search",
        "random search vs TPE, pruning, shared studies, the TU Wien CNN's sweep",
        "`suggest_params`, the `objective`",
        4.9,
    ),
)

LONG_RUN_MIN = 30  # `auto` says so in its first line before a run expected to take longer


def find(lab: str) -> Lab | None:
    """The catalog entry of a lab named by its stem or number ("01_sanity_checks", "01"); None if unknown."""
    return next((entry for entry in LABS if entry.name == lab or entry.number == lab), None)


def minutes(value: float) -> str:
    return f"{value:.0f}" if value >= 3 else f"{value:.1f}".rstrip("0").rstrip(".")


def expected_time(lab: str, profile: str, device_type: str) -> tuple[str, bool]:
    """(what to expect, in one sentence; whether it is long) for a lab in a profile on a kind of device.

    Long: more than LONG_RUN_MIN minutes, or not timed at all in the full profile (the published
    recipes run from minutes to hours)."""
    entry = find(lab)
    if entry is None or profile == "smoke":
        return ("seconds to a minute", False) if profile == "smoke" else ("", False)
    if profile == "quick":
        bound = "at most " if entry.quick_shared else "about "
        where = "on a 2-core CPU" + ("; less on a GPU" if device_type != "cpu" else "")
        return f"{bound}{minutes(entry.quick_cpu_min)} min {where}", entry.quick_cpu_min > LONG_RUN_MIN
    timed = entry.full_gpu_min if device_type == "cuda" else entry.full_cpu_min
    if timed is not None:
        where = "on an NVIDIA H200 (longer on a smaller GPU)" if device_type == "cuda" else "on a 2-core CPU"
        return f"about {minutes(timed)} min {where}", timed > LONG_RUN_MIN
    return ("not measured on this kind of device yet (the published recipe, which can take hours)", True)


def banner(lab: str, asked: str | None, profile: str, device_type: str) -> str:
    """The first line a lab prints: the profile it resolved to and the time to expect on this device.

    When `auto` picked a long run, the line says so and how to pick `quick` instead."""
    time, long = expected_time(lab, profile, device_type)
    chosen = f"profile {profile}" + (" (chosen by auto)" if asked in (None, "auto") else "")
    line = f"{lab}: {chosen} on {device_type}" + (f", expected time: {time}." if time else ".")
    if long and asked in (None, "auto"):
        line = (
            f'LONG RUN: {line} For a run of minutes set profile = "quick" in the parameters cell '
            "(or LABS_PROFILE=quick) and run again."
        )
    return line
