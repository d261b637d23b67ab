"""Profiles and per-lab settings: one notebook, three sizes.

Introduced in lab 01. A lab calls `resolve("01_sanity_checks", profile=profile, ...)` with its
parameters cell's values and gets a `LabConfig`. A profile sets the defaults; an explicit
parameter (not None) overrides them. Unknown names are errors that list the valid ones.

- `smoke`: seconds on a CPU; a few thousand real images. Tests and CI.
- `quick`: minutes on a 2-core CPU, Fashion-MNIST. The default without a GPU.
- `full`: the published recipes on CIFAR-10. The default on a GPU.
- `auto`: `$LABS_PROFILE` if set, else `full` on CUDA, else `quick`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from helpers import catalog, runtime
from helpers.errors import LabError, did_you_mean

PROFILES = ("smoke", "quick", "full")
REPO = Path(__file__).resolve().parent.parent  # the source checkout, where helpers runs from one
IN_CHECKOUT = (REPO / "labs").is_dir() and (REPO / "pyproject.toml").is_file()


@dataclass(frozen=True)
class LabConfig:
    """Everything a lab's run depends on. Printed at the top of a lab; saved with its results."""

    lab: str
    profile: str
    dataset: str = "fashion-mnist"
    epochs: int = 2
    batch_size: int = 128
    lr: float = 0.01  # SGD; the Duke report does not state its optimizer settings: these are ours
    momentum: float = 0.9
    weight_decay: float = 1e-4
    train_size: int | None = None  # None: the whole training split
    val_size: int = 10_000  # held out of the training set, seeded
    test_size: int | None = None  # None: the whole test set
    model: dict = field(default_factory=dict)  # model size for this profile, e.g. narrower on a CPU
    recipe: dict = field(default_factory=dict)  # the lab's own settings: schedules, variants, sweeps (per seed)
    seed: int = 0
    device: str = "auto"
    data_dir: Path = field(default_factory=lambda: default_dir("LABS_DATA_DIR", "data"))
    results_dir: Path = field(default_factory=lambda: default_dir("LABS_RESULTS_DIR", "results"))
    started: float = field(default_factory=time.time, repr=False, compare=False)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("started")
        return {k: str(v) if isinstance(v, Path) else v for k, v in d.items()}


# Profile defaults, then per-lab changes. Why each value:
PROFILE_DEFAULTS: dict[str, dict] = {
    # a few thousand real images, so a smoke run still learns far above chance in seconds
    "smoke": dict(train_size=4000, val_size=1000, test_size=1000, epochs=2, batch_size=64),
    # all of Fashion-MNIST (50k/10k/10k): minutes per lab on 2 cores
    "quick": dict(val_size=10_000, epochs=5),
    # CIFAR-10 split 40k/10k/10k as in the TU Wien assignment
    "full": dict(dataset="cifar10", val_size=10_000, epochs=30),
}

# Lab 06's two learning-rate schedules, each in its source's unit (see "06_resnet20" below).
RESNET_SCHEDULES = dict(
    he2016=dict(iterations=64_000, milestones_iterations=[32_000, 48_000], gamma=0.1),  # He et al. 2016, 4.2
    duke=dict(epochs=200, milestones_epochs=[50, 100, 150], gamma=0.1),  # the Duke report, lab 3(a)
)

# Lab 07 on the CPU (smoke, quick): both published settings' optimizers and schedules, no augmentation
VIT_CPU_SETTINGS = dict(
    uw_madison=dict(
        lr=0.01, weight_decay=0.05, schedule="warmup_cosine", warmup=0.1, wd_warmup_epochs=1, augment="none"
    ),
    tu_wien=dict(lr=3.65e-4, weight_decay=0.1, schedule="exponential", gamma=0.9, augment="none"),
)

LAB_SETTINGS: dict[str, dict[str, dict]] = {
    # Duke ECE 661 lab 1: SimpleNN, 30 epochs on CIFAR-10; SGD 0.01, momentum 0.9 are ours (not in the seed)
    # recipe: the overfit-one-batch test (32 images, 200 Adam steps at 3e-3: our choice, not in the seed)
    "01_sanity_checks": {
        "smoke": dict(epochs=3, lr=0.05, recipe=dict(overfit_images=32, overfit_steps=200, overfit_lr=3e-3)),
        "quick": dict(epochs=8, lr=0.05, recipe=dict(overfit_images=32, overfit_steps=200, overfit_lr=3e-3)),
        # the Duke report lab 1(f-g): 30 epochs on CIFAR-10, best val 0.6606; its SGD values are not stated (ours)
        "full": dict(epochs=30, lr=0.01, recipe=dict(overfit_images=32, overfit_steps=200, overfit_lr=3e-3)),
    },
    # five runs (constant, step, exponential, warm-up + cosine with and without the wd warm-up), each
    # over recipe["seeds"]. step: x gamma at each milestone epoch; the Duke report lab 1(h): DECAY_EPOCHS 10,
    # DECAY 0.9 in 30 epochs = drops at epochs 10 and 20 (0.81 at the end); smoke/quick keep the two
    # drops at 1/3 and 2/3 of the run. exp_gamma: the TU Wien report's ExponentialLR gamma 0.9 (per epoch).
    # warmup_epochs: the UW-Madison report says "linear warm-up" but not how long (1 epoch: ours). wd_warmup_epochs:
    # the UW-Madison report, "a weight decay warm-up of 5 epochs"; 1 epoch in the short profiles. quick: 20k
    # training images and 6 epochs, so 5 runs x 3 seeds stay around 4 minutes on 2 cores.
    "02_lr_schedules": {
        "smoke": dict(
            epochs=3,
            lr=0.05,
            recipe=dict(
                seeds=[0],
                step=dict(milestones=[1, 2], gamma=0.9),
                exp_gamma=0.9,
                warmup_epochs=1,
                wd_warmup_epochs=1,
            ),
        ),
        "quick": dict(
            epochs=6,
            lr=0.05,
            train_size=20_000,
            recipe=dict(
                seeds=[0, 1, 2],
                step=dict(milestones=[2, 4], gamma=0.9),
                exp_gamma=0.9,
                warmup_epochs=1,
                wd_warmup_epochs=1,
            ),
        ),
        "full": dict(
            epochs=30,
            lr=0.01,
            recipe=dict(
                seeds=[0, 1, 2],
                step=dict(milestones=[10, 20], gamma=0.9),
                exp_gamma=0.9,
                warmup_epochs=1,
                wd_warmup_epochs=5,
            ),
        ),
    },
    # none / p=0.5 / p=1, each over recipe["seeds"]. The Duke report 2(a): RandomCrop(32, padding=4) and
    # RandomHorizontalFlip() (p=0.5), SimpleNN, compared with its 30-epoch baseline; the probability
    # knob is the TU Wien report's (TU Wien). Quick: 6k images for 30 epochs, so the model has time to overfit.
    "03_augmentation": {
        "smoke": dict(epochs=3, lr=0.05, recipe=dict(crop_padding=4, flip_p=0.5, probabilities=[0.5, 1.0], seeds=[0])),
        "quick": dict(
            epochs=30,
            lr=0.05,
            train_size=6000,
            val_size=5000,
            recipe=dict(crop_padding=4, flip_p=0.5, probabilities=[0.5, 1.0], seeds=[0, 1, 2]),
        ),
        "full": dict(
            epochs=30, lr=0.01, recipe=dict(crop_padding=4, flip_p=0.5, probabilities=[0.5, 1.0], seeds=[0, 1, 2])
        ),
    },
    # The Duke report 2(b), all on pipeline (a) = SimpleNN + crop (pad 4) + flip: BN at the default lr (0.7144),
    # BN vs no BN at "a moderately high learning rate of 0.1", Swish + BN at lr 0.1 (0.7258). The default
    # lr is the report's "pre-defined" SGD lr, which it does not state: ours is lab 01's full lr, 0.01.
    # Five runs per seed (recipe["runs"]: norm, activation, lr). Quick: 10k images, 10 epochs, 3 seeds.
    "04_batchnorm_swish": {
        "smoke": dict(epochs=3, lr=0.01, recipe=dict(high_lr=0.1, crop_padding=4, flip=True, seeds=[0])),
        "quick": dict(
            epochs=10,
            lr=0.01,
            train_size=10_000,
            val_size=5000,
            recipe=dict(high_lr=0.1, crop_padding=4, flip=True, seeds=[0, 1, 2]),
        ),
        "full": dict(epochs=30, lr=0.01, recipe=dict(high_lr=0.1, crop_padding=4, flip=True, seeds=[0, 1, 2])),
    },
    # 13 runs per seed (6 learning rates, 5 L2 strengths, L1, dropout). The Duke report 2(c): lr sweep
    # [1, 0.1, 0.05, 0.01, 0.005, 0.001], L2 sweep [1e-2, 1e-3, 1e-4, 1e-5, 0]; its epochs, L1 strength
    # and the L2 sweep's lr are not stated (30 epochs as its other SimpleNN runs; lr 0.05, its best).
    # Dropout 0.5 is ours (the TU Wien report swept 0-0.7). Quick: 8k images, 6 epochs, 3 seeds (39 runs).
    "05_regularization": {
        "smoke": dict(
            epochs=2,
            train_size=2000,
            lr=0.05,
            recipe=dict(
                lr_sweep=[1, 0.1, 0.05, 0.01, 0.005, 0.001],
                l2_sweep=[1e-2, 1e-3, 1e-4, 1e-5, 0.0],
                l1_strength=1e-4,
                dropout=0.5,
                seeds=[0],
            ),
        ),
        "quick": dict(
            epochs=6,
            train_size=8000,
            val_size=5000,
            lr=0.05,
            recipe=dict(
                lr_sweep=[1, 0.1, 0.05, 0.01, 0.005, 0.001],
                l2_sweep=[1e-2, 1e-3, 1e-4, 1e-5, 0.0],
                l1_strength=1e-4,
                dropout=0.5,
                seeds=[0, 1, 2],
            ),
        ),
        "full": dict(
            epochs=30,
            lr=0.05,
            recipe=dict(
                lr_sweep=[1, 0.1, 0.05, 0.01, 0.005, 0.001],
                l2_sweep=[1e-2, 1e-3, 1e-4, 1e-5, 0.0],
                l1_strength=1e-4,
                dropout=0.5,
                seeds=[0, 1, 2],
            ),
        ),
    },
    # Two runs (option A, option B), one seed. SGD lr 0.1, momentum 0.9, wd 1e-4, batch 128 in both seeds'
    # recipes; recipe[name] holds each schedule in its source's unit, recipe["schedule"] the one a run uses.
    # He et al. 2016 sec. 4.2: /10 at 32k and 48k iterations, 64k in all, batch 128, 45k/5k split to fix the
    # schedule (final models on 50k; we keep the 5k for model selection). The Duke report lab 3(a): /10 every
    # 50 epochs of 200 (drops at 50, 100, 150), wd 1e-4, SGD. smoke/quick keep the drops at the same
    # fractions of their shorter runs.
    "06_resnet20": {
        "smoke": dict(epochs=2, train_size=2000, lr=0.1, recipe=dict(schedule="duke", **RESNET_SCHEDULES)),
        "quick": dict(epochs=3, train_size=30_000, lr=0.1, recipe=dict(schedule="duke", **RESNET_SCHEDULES)),
        "full": dict(epochs=200, lr=0.1, val_size=5000, recipe=dict(schedule="duke", **RESNET_SCHEDULES)),
    },
    # Lab 07: two published ViT settings, each a whole recipe of its own (model, epochs, batch, AdamW,
    # schedule, augmentation): UW-Madison's SimpleViT (§3.3: AdamW lr 0.01, wd 0.05, warm-up +
    # cosine, 5-epoch wd warm-up, crop/flip/colour/scale/rotation, batch 256, 90 epochs, 4 blocks, 1st and
    # 3rd local) and TU Wien's ViT (§6.3.3). On the CPU (smoke, quick) both train one narrow ViT
    # with 8x8 patches for cfg.epochs at cfg.batch_size (their "model"/"epochs"/"batch_size" are absent).
    "07_vit": {
        "smoke": dict(
            epochs=3,
            model=dict(dim=64, depth=4, num_heads=2, patch_size=8, window_size=2),
            recipe=dict(
                seeds=[0],
                settings=VIT_CPU_SETTINGS,
            ),
        ),
        # 3 seeds x 2 settings on 20k images; no augmentation on the CPU (too few epochs for it to pay off)
        "quick": dict(
            epochs=5,
            train_size=20_000,
            model=dict(dim=64, depth=4, num_heads=2, patch_size=8, window_size=2),
            recipe=dict(
                seeds=[0, 1, 2],
                settings=VIT_CPU_SETTINGS,
            ),
        ),
        "full": dict(
            epochs=90,
            batch_size=256,
            # SimpleViT: 4 blocks, 1st and 3rd local; width, heads, patch and window are ours
            model=dict(dim=128, depth=4, num_heads=4, patch_size=4, window_size=4),
            recipe=dict(
                seeds=[0, 1, 2],
                settings=dict(
                    uw_madison=dict(
                        epochs=90,
                        batch_size=256,
                        lr=0.01,
                        weight_decay=0.05,  # the UW-Madison report §3.3
                        schedule="warmup_cosine",
                        warmup=0.1,  # lr warm-up length: ours
                        wd_warmup_epochs=5,
                        augment="uw_madison",
                    ),  # the UW-Madison report §2
                    tu_wien=dict(
                        epochs=60,
                        batch_size=128,
                        lr=3.65e-4,
                        weight_decay=0.1,  # the TU Wien report §6.3.3
                        schedule="exponential",
                        gamma=0.9,
                        augment="none",  # "without" did better
                        model=dict(
                            patch_size=2,
                            dim=32,
                            depth=4,
                            num_heads=20,
                            head_dim=16,
                            mlp_hidden=1024,
                            head_hidden=1024,
                            drop=0.25,
                            block_kinds=["global"] * 4,
                        ),
                    ),
                ),
            ),
        ),
    },
    # Lab 08: "fast" holds FastRecipe's switches (helpers/recipes.py), "tamu" the TAMU report's own recipe
    # as changes to them (None: its rows are skipped). Full: airbench94.py's hyp, on all 50k training
    # images (train_on_val: train + val, evaluated on the test set as airbench does). On the CPU a narrower
    # net and the pre-airbench-faithful settings that reach 91% on Fashion-MNIST in quick.
    "08_fast_cifar": {
        "smoke": dict(
            epochs=2,
            train_size=4000,
            batch_size=128,
            model=dict(widths=(16, 32, 32)),
            recipe=dict(
                seeds=[0],
                train_on_val=False,
                fast=dict(
                    weight_decay=0.0575, lr_start=0.0, lr_end=0.0, lookahead_start_epochs=0, whiten_bias_epochs=None
                ),
                tamu=dict(
                    epochs=1,
                    batch_size=128,
                    units="torch",
                    lr=0.08,
                    momentum=0.9,
                    weight_decay=0.02,
                    schedule="step",
                    step_epochs=1,
                    translate=4,
                    alternating_flip=False,
                    bias_scaler=1.0,
                    lookahead_every=0,
                    whiten_bias_epochs=None,
                    tta_level=0,
                ),
            ),
        ),
        # weight decay 0.0575 per 1024 (~3.8x airbench's), lr from 0 to 0, lookahead from the start,
        # whitening bias always trained: the settings quick had before the full recipe became airbench's
        "quick": dict(
            epochs=5,
            batch_size=256,
            model=dict(widths=(16, 32, 32)),
            recipe=dict(
                seeds=[0],
                train_on_val=False,
                fast=dict(
                    weight_decay=0.0575, lr_start=0.0, lr_end=0.0, lookahead_start_epochs=0, whiten_bias_epochs=None
                ),
                tamu=None,
            ),
        ),
        "full": dict(
            epochs=10,
            batch_size=1024,
            model=dict(widths=(64, 256, 256)),  # airbench94 widths
            recipe=dict(
                seeds=[0, 1, 2],
                train_on_val=True,  # airbench94: all 50k, test as val
                fast=dict(
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
                ),
                tamu=dict(
                    epochs=200,
                    batch_size=128,
                    units="torch",
                    lr=0.08,  # the TAMU report §3
                    momentum=0.9,
                    weight_decay=0.02,
                    schedule="step",
                    step_epochs=30,
                    optimizer="nesterov",
                    adamw_lr=1e-3,
                    translate=4,
                    padding_mode="reflect",
                    label_smoothing=0.2,
                    normalize="channel",
                    alternating_flip=False,
                    bias_scaler=1.0,
                    lookahead_every=0,
                    whiten_bias_epochs=None,
                    tta_level=0,
                ),
            ),
        ),
    },
    # The UW-Madison report 3.1-3.4: SimpleNet (7 convs) vs CustomNet (BN + 4 skip blocks), SGD lr 0.1,
    # momentum 0.9, wd 1e-4, batch 256, linear warm-up + cosine, a weight decay warm-up of 5 epochs, 60 epochs
    # (on MiniPlaces; full runs CIFAR-10). Widths and the warm-up's length are not in the report (ours).
    # smoke/quick: lr 0.05 and batch 64 (ours): at lr 0.1 our plain SimpleNet sometimes failed to start in
    # 3 epochs. custom_conv_steps: SimpleNet with the student's Conv2D vs nn.Conv2d from the same weights.
    # bench: (batch, channels, size) of the Conv2D time/memory table, 3x3 kernels, padding 1.
    "09_convolution": {
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
            lr=0.05,
            train_size=8000,
            val_size=5000,
            model=dict(widths=(8, 16, 32)),
            recipe=dict(
                seeds=[0, 1, 2],
                warmup_epochs=1,
                wd_warmup_epochs=1,
                custom_conv_steps=300,
                bench=[(32, 16, 32), (32, 64, 16), (128, 32, 32)],
                bench_repeats=3,
            ),
        ),
        "full": dict(
            epochs=60,
            lr=0.1,
            batch_size=256,
            model=dict(widths=(64, 128, 256)),
            recipe=dict(
                seeds=[0, 1, 2],
                warmup_epochs=1,
                wd_warmup_epochs=5,
                custom_conv_steps=2000,
                bench=[(64, 64, 32), (64, 128, 16), (256, 64, 32)],
                bench_repeats=5,
            ),
        ),
    },
    # Evaluating on the test set as the TU Wien report 6.4 did (confusion matrices, ROC curves), plus top-5
    # , most-confused pairs, the highest-loss images and calibration (ours). The model: lab 01's
    # SimpleNN and its SGD recipe (30 epochs, best val 0.6606 at ~10 epochs), trained up to
    # `epochs` with early stopping; the TU Wien report saved the weights whenever val accuracy improved but did not
    # stop; `patience` is ours. Quick: 10k training images, so the validation accuracy levels off early.
    "10_evaluation": {
        "smoke": dict(
            epochs=12, lr=0.05, train_size=2000, recipe=dict(patience=2, calibration_bins=10, gallery=12, top_pairs=5)
        ),
        "quick": dict(
            epochs=30, lr=0.05, train_size=10_000, recipe=dict(patience=3, calibration_bins=15, gallery=16, top_pairs=5)
        ),
        "full": dict(epochs=30, lr=0.01, recipe=dict(patience=5, calibration_bins=15, gallery=16, top_pairs=5)),
    },
    # TU Wien swept its ViT with 83 random W&B runs; here random search vs TPE on one budget each,
    # with a median pruner, over SimpleNN's settings (helpers/search.py SPACES) on a training subset
    "13_hparam_search": {
        # epochs: per trial; retrain_epochs: the best setting, retrained once and tested
        "smoke": dict(
            epochs=2, train_size=2000, val_size=1000, recipe=dict(target="01_sanity_checks", trials=5, retrain_epochs=6)
        ),
        "quick": dict(
            epochs=3,
            train_size=10_000,
            val_size=5000,
            recipe=dict(target="01_sanity_checks", trials=20, retrain_epochs=8),
        ),
        "full": dict(epochs=10, recipe=dict(target="01_sanity_checks", trials=83, retrain_epochs=30)),
    },
    # Transfer between halves of the dataset (all profiles) and, in full, torchvision's ResNet18 with its
    # ImageNet weights on CIFAR-10. cfg.epochs/lr: pretraining a SmallCNN on classes 0-4 (ours). Then
    # classes 5-9 from labels_per_class images each (10/100/1000 in quick and full; fewer in smoke), each run
    # `steps` SGD steps: from scratch (scratch_lr), linear probe (head_lr), fine-tune (backbone_lr and
    # head_lr: two param groups). All lrs ours. resnet18: the TU Wien report trained torchvision's
    # ResNet18, head replaced, for 60 epochs (78% test) with AdamW + ExponentialLR (its lr unstated);
    # the UW-Madison report fine-tuned a pretrained one for 60 epochs on MiniPlaces. Ours: SGD, lrs as above.
    "11_transfer": {
        "smoke": dict(
            epochs=4,
            train_size=8000,
            lr=2e-3,
            model=dict(widths=(8, 16, 32)),
            recipe=dict(
                source_classes=[0, 1, 2, 3, 4],
                labels_per_class=[10, 100],
                steps=60,
                seeds=[0],
                scratch_lr=0.05,
                head_lr=0.05,
                backbone_lr=0.005,
                resnet18=None,
            ),
        ),
        "quick": dict(
            epochs=3,
            lr=2e-3,
            model=dict(widths=(8, 16, 32)),
            recipe=dict(
                source_classes=[0, 1, 2, 3, 4],
                labels_per_class=[10, 100, 1000],
                steps=300,
                seeds=[0, 1, 2],
                scratch_lr=0.05,
                head_lr=0.05,
                backbone_lr=0.005,
                resnet18=None,
            ),
        ),
        "full": dict(
            epochs=30,
            lr=2e-3,
            model=dict(widths=(32, 64, 128)),
            recipe=dict(
                source_classes=[0, 1, 2, 3, 4],
                labels_per_class=[10, 100, 1000],
                steps=1000,
                seeds=[0, 1, 2],
                scratch_lr=0.05,
                head_lr=0.05,
                backbone_lr=0.005,
                resnet18=dict(epochs=60, scratch_lr=0.05, head_lr=0.05, backbone_lr=0.005),
            ),
        ),
    },
    # Saliency, Grad-CAM (Captum), ViT attention and rollout, FGSM/PGD: the UW-Madison report section 4
    # names "Attention and Adversarial Samples" and gives no numbers or settings, so all values are ours.
    # eps in pixel units (images in [0, 1]); full: the common CIFAR-10 budgets up to 8/255. PGD step
    # alpha = 2.5 eps / steps, a rule of thumb (Madry et al. 2018 used 7 steps of 2/255 at 8/255 on CIFAR-10).
    # Every PGD starts at a random point of the ball. Adversarial training: PGD with adv_steps steps at
    # adv_eps; evaluation: pgd_steps steps (more), pgd_restarts random starts, the worst per image.
    # cfg.lr: the CNN's AdamW (SGD at 0.05 gave an erratic validation accuracy in these short runs).
    "12_interpretation_adversarial": {
        "smoke": dict(
            epochs=2,
            lr=2e-3,
            model=dict(
                cnn=dict(widths=(8, 16, 32)), vit=dict(dim=64, depth=4, num_heads=2, patch_size=8, window_size=2)
            ),
            recipe=dict(
                eps=[0.0, 0.01, 0.02, 0.05, 0.1],
                pgd_steps=5,
                pgd_restarts=2,
                adv_eps=0.05,
                adv_steps=1,
                vit_lr=1e-3,
                attack_images=500,
                seeds=[0],
            ),
        ),
        "quick": dict(
            epochs=5,
            lr=2e-3,
            train_size=10_000,
            model=dict(
                cnn=dict(widths=(8, 16, 32)), vit=dict(dim=64, depth=4, num_heads=2, patch_size=8, window_size=2)
            ),
            recipe=dict(
                eps=[0.0, 0.01, 0.02, 0.05, 0.1],
                pgd_steps=10,
                pgd_restarts=2,
                adv_eps=0.05,
                adv_steps=3,
                vit_lr=1e-3,
                attack_images=1000,
                seeds=[0, 1, 2],
            ),
        ),
        "full": dict(
            epochs=30,
            lr=2e-3,
            model=dict(cnn=dict(widths=(32, 64, 128)), vit=dict()),
            recipe=dict(
                eps=[e / 255 for e in (0, 1, 2, 4, 8)],
                pgd_steps=10,
                pgd_restarts=3,
                adv_eps=8 / 255,
                adv_steps=7,
                vit_lr=1e-3,
                attack_images=2000,
                seeds=[0, 1, 2],
            ),
        ),
    },
}


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


def resolve_profile(profile: str | None = "auto") -> str:
    """`auto` becomes `$LABS_PROFILE`, else `full` on CUDA, else `quick`."""
    name = (profile or "auto").strip().lower()
    if name == "auto":
        name = os.environ.get("LABS_PROFILE", "").strip().lower()
        if name and name not in PROFILES:
            raise LabError(
                f"LABS_PROFILE={name!r} is not a profile. Valid: {', '.join(PROFILES)}." + did_you_mean(name, PROFILES)
            )
        name = name or ("full" if torch.cuda.is_available() else "quick")
    if name not in PROFILES:
        raise LabError(
            f"Unknown profile {profile!r}. Valid: {', '.join(PROFILES)} or auto." + did_you_mean(name, PROFILES)
        )
    return name


def resolve(lab: str, profile: str | None = "auto", **overrides) -> LabConfig:
    """The settings of `lab` in `profile`, with every non-None override applied."""
    if lab not in LAB_SETTINGS:
        raise LabError(f"Unknown lab {lab!r}. Known labs: {', '.join(LAB_SETTINGS)}." + did_you_mean(lab, LAB_SETTINGS))
    name = resolve_profile(profile)
    valid = [f.name for f in dataclasses.fields(LabConfig) if f.name not in ("lab", "profile", "started")]
    unknown = sorted(set(overrides) - set(valid))
    if unknown:
        raise LabError(
            f"Unknown setting(s) {', '.join(unknown)} for {lab}. Valid: {', '.join(valid)}."
            + did_you_mean(unknown[0], valid)
        )
    settings = {**PROFILE_DEFAULTS[name], **LAB_SETTINGS[lab].get(name, {})}
    settings.update({k: v for k, v in overrides.items() if v is not None})
    for key in ("data_dir", "results_dir"):
        if key in settings:
            settings[key] = Path(settings[key])
    return LabConfig(lab=lab, profile=name, **settings)


def recipe_json(lab: str, profile: str | None = "auto", **overrides) -> dict:
    """A lab's resolved settings as plain JSON (`python -m helpers config LAB --profile P`).

    Everything the run depends on except where files go: so a recipe can be checked against
    its seed without opening the code.
    """
    cfg = resolve(lab, profile, **overrides).to_dict()
    for key in ("data_dir", "results_dir", "device", "seed"):
        cfg.pop(key, None)
    return json.loads(json.dumps(cfg, default=list))  # tuples become lists, as JSON has them


def setup(lab: str, profile: str | None = "auto", **params) -> tuple[LabConfig, torch.device]:
    """What the first code cell of every lab does: resolve the config, pick the device, seed
    everything, ask for deterministic kernels, and print one line on each."""

    cfg = resolve(lab, profile, **params)
    device = runtime.pick_device(cfg.device)
    print(catalog.banner(lab, profile, cfg.profile, device.type))
    runtime.seed_everything(cfg.seed)
    runtime.set_deterministic()
    print(runtime.describe(device))
    print(f"{lab} | profile {cfg.profile}: {cfg.dataset}, {cfg.epochs} epochs, batch {cfg.batch_size}, lr {cfg.lr}")
    return cfg, device
