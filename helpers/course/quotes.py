"""The sentences and table rows the course quotes from its reference runs, made from the files.

The results page (docs/results.md) holds one table per quick reference set (Fashion-MNIST and
CIFAR-10): each row is generated here from `reference/quick-<dataset>/<lab>.json`, between
`<!-- results:<profile>-<dataset>:start -->` and `:end -->` markers, by `python -m helpers reference
--tables`. A lab's discussion that quotes a reference quotes one of the phrases below, and
`QUOTES` lists where; `stale_quotes()` names each quote the text no longer holds and the sentence to
write instead. A test runs both, so a re-made reference whose numbers moved cannot leave a stale
number in the page or the labs.

Spreads are mean ± half the range over the seeds (`reference.spread`); "beyond the spread" means the
two settings' ranges over the seeds do not overlap.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers import catalog
from helpers.config import REPO
from helpers.course import reference
from helpers.course.untrusted import atomic_write_text

RESULTS_PAGE = REPO / "docs" / "results.md"
TRAIN_IMAGES = {"fashion-mnist": "50k", "cifar10": "40k"}  # the full training split, less its 10k validation


# -- numbers as the text writes them -------------------------------------------------------------------------


def mean_spread(values: list[float], scale: float = 100, digits: int = 1) -> str:
    """Mean ± half the range, as the references compute it (`reference.spread`) and the text writes it."""
    s = reference.spread(values)
    return f"{s['mean'] * scale:.{digits}f} ± {s['spread'] * scale:.{digits}f}"


def metric(ref: dict, name: str, scale: float = 100, digits: int = 1) -> str:
    """A headline metric over the reference's seeds."""
    return mean_spread(ref["metrics"][name]["values"], scale, digits)


def seeds(values: list[float]) -> str:
    """Each seed's value in percent, `64.3 / 64.5 / 64.7`."""
    return " / ".join(f"{100 * v:.1f}" for v in values)


def each_seed(ref: dict, name: str) -> str:
    """A headline metric's value in each seed."""
    return seeds(ref["metrics"][name]["values"])


def against(values: list[float], other: list[float], it: str = "it") -> str:
    """Where one setting's seeds sit against another's: above or below beyond the spread, or within."""
    if min(values) > max(other):
        return f"above {it} beyond the spread"
    if max(values) < min(other):
        return f"below {it} beyond the spread"
    return f"within {it}s spread" if it == "it" else f"within the spread of {it}"


def apart(ref: dict, a: str, b: str) -> bool:
    """Whether two headline metrics' ranges over the reference's seeds do not overlap."""
    x, y = ref["metrics"][a], ref["metrics"][b]
    return x["min"] > y["max"] or y["min"] > x["max"]


def verdicts(values: Callable[[str], list[float]], pairs: list[tuple[str, str, str]]) -> str:
    """Which of `pairs` (label, higher setting, lower setting) are apart beyond the seeds' spread, and
    which are not; `values(setting)` gives a setting's per-seed values."""
    beyond = [label for label, a, b in pairs if min(values(a)) > max(values(b))]
    within = [label for label, a, b in pairs if label not in beyond]
    return f"beyond the spread: {', '.join(beyond) or 'none'}; within it: {', '.join(within) or 'none'}"


# -- each lab's result, from its reference -------------------------------------------------------------------


def sanity(ref: dict) -> str:
    """Lab 01: best validation and test top-1 over the seeds."""
    n = len(ref["seeds"])
    return f"best val {metric(ref, 'best_val_top1')}%, test {metric(ref, 'test_top1')}% over {n} seeds"


# The Duke report's best validation accuracy (one run each) for the settings the labs run, by (lab, setting as
# the lab's reference names it). Its baseline without decay is both lab 02's constant and lab 03's none; its
# crop + flip is lab 03's p = 1 and lab 04's no-BN run at lr 0.01.
DUKE = {
    ("01_sanity_checks", "SimpleNN"): 0.6606,
    ("02_lr_schedules", "constant"): 0.6606,
    ("02_lr_schedules", "step"): 0.6576,
    ("03_augmentation", "none"): 0.6606,
    ("03_augmentation", "crop+flip p=1"): 0.7122,
    ("04_batchnorm_swish", "no BN, ReLU, lr 0.01"): 0.7122,
    ("04_batchnorm_swish", "BN, ReLU, lr 0.01"): 0.7144,
    ("04_batchnorm_swish", "BN, Swish, lr 0.1"): 0.7258,
}


def _span(values: list[float], fmt: str) -> str:
    low, high = format(min(values), fmt), format(max(values), fmt)
    return low if low == high else f"{low}–{high}"


def sanity_full(ref: dict) -> str:
    """Lab 01 in `full` on CIFAR-10: best val and test per seed, the time, and the overfitting picture."""
    runs = ref["runs"]
    best_loss = [min(h["val_loss"] for h in r["history"]) for r in runs]
    low_epoch = [min(r["history"], key=lambda h: h["val_loss"])["epoch"] for r in runs]
    mean, duke = ref["metrics"]["best_val_top1"]["mean"], DUKE["01_sanity_checks", "SimpleNN"]
    short = "beyond" if duke > ref["metrics"]["best_val_top1"]["max"] else "within"
    return (
        f"best validation accuracy **{each_seed(ref, 'best_val_top1')}%, {metric(ref, 'best_val_top1')}%** (Duke: "
        f"{duke:.1%}), test accuracy of the last weights {each_seed(ref, 'test_top1')}%, after "
        f"{runs[0]['epochs']} epochs of SimpleNN in {_span([r['train_seconds'] for r in runs], '.0f')} s of training "
        f"each ({_span([r['seconds_per_epoch'] for r in runs], '.1f')} s per epoch). The overfitting picture is the "
        f"report's: validation loss is lowest at epoch {_span(low_epoch, 'd')} ({_span(best_loss, '.2f')}) and then "
        f"climbs to {_span([r['history'][-1]['val_loss'] for r in runs], '.2f')}, while training accuracy keeps "
        f"rising to {_span([100 * r['history'][-1]['train_top1'] for r in runs], '.0f')}%. We fall "
        f"{100 * (duke - mean):.1f} points short of Duke's number, {short} our spread"
    )


def lab_setting(ref: dict, name: str, key: str = "best_val_top1") -> list[float]:
    """One setting's `key` over the seeds of a lab that runs its settings × seeds inside one run (02–04)."""
    values = [r[key] for r in ref["runs"][0]["runs"] if r["setting"] == name]
    if not values:
        raise ValueError(f"{ref['lab']}'s reference has no setting {name!r}")
    return values


def schedules(ref: dict, key: str = "val_top1") -> str:
    """Lab 02: each schedule's `key` (final val top-1 by default; best_val_top1: the best epoch's) in the
    reference's run, and which beat constant beyond the spread."""
    labels = {
        "constant": "constant",
        "step": "step",
        "exponential": "exponential",
        "warm-up + cosine": "warm-up + cosine",
        "warm-up + cosine, wd warm-up": "with weight-decay warm-up",
    }

    def values(setting: str) -> list[float]:
        return lab_setting(ref, setting, key)

    found = ", ".join(f"{label} {mean_spread(values(name))}" for name, label in labels.items())
    beyond = [label for name, label in labels.items() if min(values(name)) > max(values("constant"))]
    below = [label for name, label in labels.items() if max(values(name)) < min(values("constant"))]
    what = "final val" if key == "val_top1" else "best val"
    return (
        f"{what}: {found} (its {ref['profile']} reference, one run of the lab); beyond the spread of constant: "
        + (", ".join(beyond) or "none")
        + (f"; below it beyond the spread: {', '.join(below)}" if below else "")
    )


def augmentation(ref: dict) -> str:
    """Lab 03: best val and the clean-train − val gap per setting in the reference's run, and the verdicts."""
    settings = {
        "none": "none",
        "crop+flip p=0.5": "crop + flip p = 0.5",
        "crop+flip p=1": "p = 1",
        "flip+rotation+resized crop p=1": "TU Wien's flip + rotation + resized crop",
        "crop+flip once, before training": "crop + flip drawn once before training",
    }

    def values(setting: str, name: str = "best_val_top1") -> list[float]:
        return lab_setting(ref, setting, name)

    best = ", ".join(f"{label} {mean_spread(values(s))}" for s, label in settings.items())
    gap = ", ".join(f"{label} {mean_spread(values(s, 'gap'))}" for s, label in settings.items())
    verdict = ", ".join(f"{label} {against(values(s), values('none'))}" for s, label in list(settings.items())[1:])
    return (
        f"best val: {best}; clean-train − val gap, points: {gap} (its {ref['profile']} reference, one run of the lab). "
        f"Against none: {verdict}"
    )


def batchnorm(ref: dict) -> str:
    """Lab 04: each setting's best val top-1 in the reference's run, and which differences exceed the spread."""

    def values(setting: str) -> list[float]:
        return lab_setting(ref, setting)

    def cell(setting: str) -> str:
        return mean_spread(values(setting))

    pairs = [
        ("BN over no BN at lr 0.01", "BN, ReLU, lr 0.01", "no BN, ReLU, lr 0.01"),
        ("BN over no BN at lr 0.1", "BN, ReLU, lr 0.1", "no BN, ReLU, lr 0.1"),
        ("Swish over ReLU at lr 0.1", "BN, Swish, lr 0.1", "BN, ReLU, lr 0.1"),
    ]
    return (
        f"best val: no BN {cell('no BN, ReLU, lr 0.01')} (lr 0.01), {cell('no BN, ReLU, lr 0.1')} (lr 0.1); "
        f"BN {cell('BN, ReLU, lr 0.01')} (lr 0.01), {cell('BN, ReLU, lr 0.1')} (lr 0.1); BN + Swish "
        f"{cell('BN, Swish, lr 0.1')} (lr 0.1) (its {ref['profile']} reference, one run of the lab); "
        + verdicts(values, pairs)
    )


def _sweep(run: dict, name: str, key: str = "best_val_top1") -> list[float]:
    """One of lab 05's settings: `key` over the seeds that trained (not the diverged ones)."""
    return [r[key] for r in run["seed_runs"] if r["setting"] == name and r["status"] == "ok"]


def _sweep_value(run: dict, name: str, label: str) -> str:
    """A setting of lab 05's sweeps as the tables write it: its best val, or how its seeds diverged."""
    diverged = sum(r["status"] == "diverged" for r in run["seed_runs"] if r["setting"] == name)
    ok = _sweep(run, name)
    if not ok:
        return f"{label} diverged in every seed"
    if diverged and len(ok) == 1:
        return f"{label} diverged in {diverged} seeds and stayed at {100 * ok[0]:.1f}% in the other"
    count = f"{diverged} seed{'s' * (diverged > 1)}"
    return f"{label} {mean_spread(ok)}" + (f" (diverged in {count})" if diverged else "")


def _top(names: dict[str, list[float]]) -> tuple[str, list[str]]:
    """The setting with the highest mean among those that trained in two seeds or more, and the others whose
    range reaches into its range."""
    trained = {k: v for k, v in names.items() if len(v) >= 2}
    winner = max(trained, key=lambda k: sum(trained[k]) / len(trained[k]))
    close = [k for k, v in trained.items() if k != winner and max(v) >= min(trained[winner])]
    return winner, close


def regularization(ref: dict) -> str:
    """Lab 05's sweeps in the reference's run: best val by lr and by L2, L1's near-zero weights, dropout,
    and which settings stand apart beyond the spread."""
    run = ref["runs"][0]
    recipe = run["config"]["recipe"]

    def best(setting: str, name: str = "best_val_top1") -> list[float]:
        return _sweep(run, setting, name)

    wd = run["config"]["weight_decay"]
    lrs = ", ".join(_sweep_value(run, f"lr={lr:g}", f"{lr:g}") for lr in recipe["lr_sweep"])
    l2 = ", ".join(f"{w:g} {mean_spread(best(f'L2={w:g}'))}" for w in recipe["l2_sweep"])
    zero = run["near_zero"]
    without = best(f"L2={wd:g}", "val_top1")
    drop = ", ".join(f"{p:g} {mean_spread(best(f'dropout {p:g}', 'val_top1'))}" for p in recipe["dropout_sweep"])
    lr_best, lr_close = _top({f"{lr:g}": best(f"lr={lr:g}") for lr in recipe["lr_sweep"]})
    l2_best, l2_close = _top({f"{w:g}": best(f"L2={w:g}") for w in recipe["l2_sweep"]})
    drop_verdict = ", ".join(
        f"{p:g} {against(best(f'dropout {p:g}', 'val_top1'), without, 'no dropout')}" for p in recipe["dropout_sweep"]
    )
    return (
        f"best val by lr: {lrs}. By L2 (lr {run['config']['lr']:g}): {l2}. L1 ({recipe['l1_strength']:g}) leaves "
        f"{100 * zero['l1']:.1f}% of the weights under 1e-3 against {100 * zero['l2']:.1f}% for L2 of the same "
        f"strength (means over the seeds). Last-epoch val with dropout {drop}, against {mean_spread(without)} "
        f"without (its {ref['profile']} reference, one run of the lab). The best rate is {lr_best}, "
        + (f"within the spread of {', '.join(lr_close)}" if lr_close else "beyond the spread of every other")
        + f"; the best L2 strength is {l2_best}, "
        + (f"within the spread of {', '.join(l2_close)}" if l2_close else "beyond the spread of every other")
        + f"; last-epoch val with dropout against without: {drop_verdict}"
    )


def resnet(ref: dict) -> str:
    """Lab 06: each shortcut option's test top-1 and training seconds in the reference's first run."""
    runs = {r["run"]: r for r in ref["runs"][0]["runs"]}
    return (
        f"test {100 * runs['option A']['test_top1']:.1f}% (A), {100 * runs['option B']['test_top1']:.1f}% (B), in "
        f"{runs['option A']['seconds']:.0f} and {runs['option B']['seconds']:.0f} s of training with each epoch's "
        "validation (its quick reference, one seed)"
    )


def setting(ref: dict, name: str, key: str = "test_top1", runs: slice = slice(0, 1)) -> list[float]:
    """A setting's metric over the seed rows a lab records (`runs` of its reference: the first by default)."""
    return [r[key] for run in ref["runs"][runs] for r in run["runs"] if r["setting"] == name]


def vit(ref: dict) -> str:
    """Lab 07: the two settings and TU Wien's with augmentation, in the first run and over all runs."""
    every = slice(None)
    uw, tu, aug = (setting(ref, s, runs=every) for s in ("uw_madison", "tu_wien", "tu_wien_augmented"))
    if min(tu) > max(uw) or min(uw) > max(tu):
        ahead = "TU Wien" if min(tu) > max(uw) else "UW-Madison"
        verdict = f"{ahead} ahead beyond the spread"
    else:
        verdict = "no difference beyond the spread"
    n = len(ref["runs"])
    return (
        f"test UW-Madison {mean_spread(setting(ref, 'uw_madison'))}%, TU Wien {mean_spread(setting(ref, 'tu_wien'))}% "
        f"in its quick reference's first run; over its {n} runs (each on its own images, {len(tu)} runs a setting): "
        f"{mean_spread(uw)}% and {mean_spread(tu)}%: {verdict}. TU Wien with its flip, rotation and resized crop: "
        f"{mean_spread(setting(ref, 'tu_wien_augmented'))}% in the first run, {mean_spread(aug)}% over the {n}, "
        f"{against(aug, tu, 'TU Wien without')}"
    )


def tamu_rows(ref: dict) -> str:
    """Lab 08: the TAMU table's rows in the reference's first run, ours beside the report's."""
    rows = ref["runs"][0]["tamu_table"]
    return ", ".join(f"{r['row'].split()[0]} {r['ours %']:.1f} (report {r['TAMU report %']:.2f})" for r in rows)


def tamu_gains(ref: dict) -> str:
    """Lab 08's discussion: each row's gain over the one before, ours and the report's, in points."""
    rows = ref["runs"][0]["tamu_table"][1:]
    return ", ".join(f"{r['row'].split()[0]} {r['ours, gain']:+.2f} ({r['report, gain']:+.2f})" for r in rows)


def fastnet(ref: dict) -> str:
    """Lab 08: the full recipe's test top-1, its ablation and the TAMU table in the reference's first run."""
    run = ref["runs"][0]
    ablation = {r["setting"]: r["vs full"] for r in run["ablation"] if r["setting"] != "full recipe"}
    rows = ", ".join(f"{name} {100 * gain:+.1f}" for name, gain in ablation.items())
    return (
        f"test {100 * run['metrics']['test_top1']:.1f}% with TTA, {100 * run['metrics']['test_top1_no_tta']:.1f}% "
        f"without, after {run['train_seconds']:.0f} s of training; points against the full recipe, one seed: {rows}. "
        f"The TAMU table row by row, 3 epochs a row, test % (the report's val % after 200 epochs): {tamu_rows(ref)} "
        "(its quick reference, one run of the lab)"
    )


def convolution(ref: dict) -> str:
    """Lab 09: the memory and time table's largest row and SimpleNet vs CustomNet in the reference's first run."""
    run = ref["runs"][0]
    big = max(row["batch"] * row["channels"] * row["size"] ** 2 for row in run["conv_table"])
    ours, lib = (
        next(
            row
            for row in run["conv_table"]
            if row["layer"] == layer and row["batch"] * row["channels"] * row["size"] ** 2 == big
        )
        for layer in ("Conv2D (unfold)", "nn.Conv2d")
    )
    nets = {r["setting"]: r for r in run["runs"]}
    simple, custom = nets["SimpleNet"], nets["CustomNet"]
    return (
        f"the unfolded matrix {ours['unfolded MiB (predicted)']:.0f} MiB predicted, "
        f"{ours['saved for backward MiB']:.1f} MiB saved for backward (nn.Conv2d: {lib['saved for backward MiB']:.0f} "
        f"MiB) at batch {ours['batch']}, {ours['channels']} channels, {ours['size']}×{ours['size']}; "
        f"{ours['fwd+bwd ms'] / lib['fwd+bwd ms']:.1f}× slower forward + backward ({ours['fwd+bwd ms']:.0f} vs "
        f"{lib['fwd+bwd ms']:.0f} ms); val SimpleNet {100 * simple['mean']:.1f} ± {100 * simple['spread']:.1f}%, "
        f"CustomNet {100 * custom['mean']:.1f} ± {100 * custom['spread']:.1f}% over the lab's {custom['n']} seeds, "
        f"{simple['params']:,} vs {custom['params']:,} parameters, {simple['s/epoch']:.1f} vs {custom['s/epoch']:.1f} "
        f"s per epoch; CustomNet test {100 * run['metrics']['test_top1']:.1f}% (its quick reference's first run)"
    )


def evaluation(ref: dict) -> str:
    """Lab 10: test top-1, top-5, macro AUC and ECE over the seeds."""
    return (
        f"test top-1 {metric(ref, 'test_top1')}%, top-5 {metric(ref, 'test_top5')}%, macro AUC "
        f"{metric(ref, 'test_macro_auc', 1, 3)}, ECE {metric(ref, 'test_ece', 1, 3)} over {len(ref['seeds'])} seeds"
    )


def _transfer_values(run: dict, method: str, n: int) -> list[float]:
    """Lab 11: a method's test top-1 at `n` labels per class over the seeds of one run of the lab."""
    return [r["test_top1"] for r in run["runs"] if r["method"] == method and r["labels"] == n]


def transfer(ref: dict) -> str:
    """Lab 11's comparison in the reference's first run (seed 0): test top-1 per method and labels."""
    run = ref["runs"][0]
    labels = sorted({r["labels"] for r in run["runs"]})
    methods = ", ".join(
        f"{m} " + " / ".join(mean_spread(_transfer_values(run, m, n)) for n in labels) + "%"
        for m in ("scratch", "linear probe", "fine-tune")
    )
    return (
        f"the backbone at {run['metrics']['source_val_top1']:.1%} on the source's validation images) measured, "
        f"at {' / '.join(map(str, labels))} labels per class: {methods}."
    )


def transfer_verdict(ref: dict) -> str:
    """Lab 11: where the probe and fine-tuning sit against scratch, at each number of labels."""
    run = ref["runs"][0]
    labels = sorted({r["labels"] for r in run["runs"]})

    def method(name: str, label: str) -> str:
        where: dict[str, list[str]] = {}
        for n in labels:
            verdict = against(_transfer_values(run, name, n), _transfer_values(run, "scratch", n), "scratch")
            where.setdefault(verdict, []).append(str(n))
        return f"{label} " + "; ".join(f"{verdict} at {' / '.join(ns)} labels" for verdict, ns in where.items())

    return f"Against scratch: {method('linear probe', 'the linear probe')}; {method('fine-tune', 'fine-tuning')}"


def transfer_found(ref: dict) -> str:
    """Lab 11: what the reference's first run measured, and where each method sits against scratch."""
    return f"{transfer(ref)} {transfer_verdict(ref)}"


def pgd(ref: dict, model: str, eps: float = 0.05) -> str:
    """Lab 12: the model's test accuracy under PGD at `eps`, over the reference's seeds."""
    return mean_spread(
        [
            next(c["accuracy"] for c in run["curves"] if (c["model"], c["attack"], c["eps"]) == (model, "PGD", eps))
            for run in ref["runs"]
        ]
    )


def adversarial(ref: dict) -> str:
    """Lab 12: both models' clean and PGD accuracy, and adversarial training's robust and clean accuracy."""
    return (
        f"val CNN {metric(ref, 'val_top1')}%, ViT {metric(ref, 'vit_val_top1')}%; PGD at ε = 0.05 leaves "
        f"{pgd(ref, 'CNN')}% (CNN) and {pgd(ref, 'ViT')}% (ViT); adversarial training: under PGD at ε = 0.05 "
        f"{metric(ref, 'adv_robust_test_top1')}% against {metric(ref, 'std_robust_test_top1')}% for standard "
        f"training, clean {metric(ref, 'adv_clean_test_top1')}% over {len(ref['seeds'])} seeds"
    )


def search(ref: dict) -> str:
    """Lab 13: both samplers' best, the retrained setting, the TU Wien CNN's sweep, and the samplers' verdict."""
    return (
        f"best val: random {metric(ref, 'best_random_val_top1')}%, TPE {metric(ref, 'best_tpe_val_top1')}%, "
        f"the best setting retrained: test {metric(ref, 'test_top1')}% over {len(ref['seeds'])} seeds; the TU Wien "
        f"CNN's sweep: best val {metric(ref, 'cnn_best_val_top1')}%, its best setting retrained: test "
        f"{metric(ref, 'cnn_test_top1')}%, test loss {metric(ref, 'cnn_test_loss', 1, 2)}; the samplers' best values "
        + ("differ" if apart(ref, "best_tpe_val_top1", "best_random_val_top1") else "do not differ")
        + " beyond the spread"
    )


# -- the results page's table of the Duke report's rows, from the full references ------------------------------


# The table's rows: (lab, setting, the report's setting as the table writes it).
DUKE_ROWS = (
    ("03_augmentation", "none", "SimpleNN, SGD lr 0.01, no augmentation (lab 03's baseline)"),
    ("02_lr_schedules", "step", "the same, LR ×0.9 after epochs 10 and 20"),
    ("03_augmentation", "crop+flip p=1", "the baseline + random crop (padding 4) and flip"),
    ("04_batchnorm_swish", "BN, ReLU, lr 0.01", "crop + flip + BatchNorm, lr 0.01"),
    ("04_batchnorm_swish", "BN, Swish, lr 0.1", "crop + flip + BatchNorm + Swish, lr 0.1"),
)

# What the report compared, each pair within one lab's reference (one split, the same seeds):
# (what, lab, the setting, the one it is set against).
DUKE_COMPARISONS = (
    ("augmentation", "03_augmentation", "crop+flip p=1", "none"),
    ("step decay", "02_lr_schedules", "step", "constant"),
    ("BatchNorm on top of augmentation", "04_batchnorm_swish", "BN, ReLU, lr 0.01", "no BN, ReLU, lr 0.01"),
    ("Swish at lr 0.1 against ReLU at lr 0.01", "04_batchnorm_swish", "BN, Swish, lr 0.1", "BN, ReLU, lr 0.01"),
)


def _points(value: float) -> str:
    """A difference in points as the page writes it: signed, one decimal, a true minus, never −0.0."""
    return f"{round(value, 1) + 0.0:+.1f}".replace("-", "−")


def _apart(x: list[float], y: list[float]) -> bool:
    """Whether two settings' ranges over the seeds do not overlap."""
    return min(x) > max(y) or min(y) > max(x)


def _compared(ref: dict, a: str, b: str) -> tuple[float, bool]:
    """`a`'s mean best val minus `b`'s, in points, and whether their ranges over the seeds are apart."""
    x, y = lab_setting(ref, a), lab_setting(ref, b)
    return 100 * (sum(x) / len(x) - sum(y) / len(y)), _apart(x, y)


def report_table(root: Path = reference.REFERENCE_DIR) -> str:
    """The Duke report's rows beside the labs' full references on CIFAR-10, and what they find; a row whose
    lab has no full reference says so."""
    refs = {lab: reference.find(lab, "full", "cifar10", root) for lab, _, _ in DUKE_ROWS}
    lines = ["| lab | the report's setting | Duke (one run) | here (3 seeds) |", "|---|---|---|---|"]
    under = []
    for lab, name, written in DUKE_ROWS:
        ref = refs[lab]
        if ref is None:
            cell = f"no full reference yet (`python -m helpers reference {lab[:2]} --profile full --seeds 1`)"
        else:
            values = lab_setting(ref, name)
            cell = f"**{mean_spread(values)}%** ({seeds(values)})"
            under.append(100 * (DUKE[lab, name] - sum(values) / len(values)))
        lines.append(f"| {lab[:2]} | {written} | {DUKE[lab, name]:.1%} | {cell} |")
    found, missing = [], []
    for what, lab, a, b in DUKE_COMPARISONS:
        ref = refs[lab]
        if ref is None:
            missing.append(what)
            continue
        ours, beyond = _compared(ref, a, b)
        theirs = 100 * (DUKE[lab, a] - DUKE[lab, b])
        found.append(
            f"{what} {_points(ours)} points (the report: {_points(theirs)}), {'beyond' if beyond else 'within'} "
            "the spread"
        )
    text = "\n".join(lines) + "\n\nWhat the report compared, each pair within one lab's reference: "
    text += "; ".join(found + ([f"not measured yet: {', '.join(missing)}"] if missing else []))
    lab03, lab04 = refs["03_augmentation"], refs["04_batchnorm_swish"]
    if lab03 is not None:
        none, crop = (mean_spread(lab_setting(lab03, s, "gap")) for s in ("none", "crop+flip p=1"))
        text += (
            f". The clean-train − validation gap at the last epoch, in points: {none} without augmentation, "
            f"{crop} with crop + flip"
        )
    if lab03 is not None and lab04 is not None:
        x, y = lab_setting(lab04, "no BN, ReLU, lr 0.01"), lab_setting(lab03, "crop+flip p=1")
        apart = "beyond" if _apart(x, y) else "within"
        text += (
            f". Lab 04's own crop + flip without BatchNorm at lr 0.01, the baseline of its BN comparison, reaches "
            f"{mean_spread(x)}% against lab 03's {mean_spread(y)}%, {apart} the spread. The two differ in their "
            "padding (lab 04's loader pads the uint8 images with black before it normalizes them, as torchvision's "
            "`RandomCrop` before `Normalize` does; lab 03's crop pads the normalized images with the mean colour, "
            "as the report cropped after `Normalize`) and in their random draws; which of the two makes the "
            "difference is not measured"
        )
    if under:
        text += f". {_against_report(under)}"
    return text + "."


def _against_report(points: list[float]) -> str:
    """Where the rows' means sit against the report's numbers (`points`: the report's minus ours)."""
    lo, hi = min(points), max(points)
    if lo >= 0:
        return f"Our means sit {_span([lo, hi], '.1f')} points under the report's one run per setting"
    if hi <= 0:
        return f"Our means sit {_span([-hi, -lo], '.1f')} points over the report's one run per setting"
    return f"Our means sit from {-lo:.1f} points over to {hi:.1f} points under the report's one run per setting"


# Lab 05's sweeps as the report ran them; it gave only the best setting of each, no accuracy:
# (what is swept, the recipe's list, the setting's name in the reference, the report's sweep, its best).
DUKE_SWEEPS = (
    (
        "rate",
        "lr_sweep",
        "lr={:g}",
        "SimpleNN without augmentation, lr swept over 1, 0.1, 0.05, 0.01, 0.005, 0.001",
        0.05,
    ),
    ("L2 strength", "l2_sweep", "L2={:g}", "the same at lr 0.05, L2 swept over 1e-2, 1e-3, 1e-4, 1e-5, 0", 1e-5),
)


def _sweep_cell(run: dict, key: str, name: str) -> tuple[str, str]:
    """A sweep's cell in the table (its best setting, those within its spread, those under it) and the best."""
    labels = {f"{v:g}": name.format(v) for v in run["config"]["recipe"][key]}
    values = {label: _sweep(run, setting) for label, setting in labels.items()}
    best, close = _top(values)
    under = [label for label in labels if label != best and label not in close]
    cell = f"best **{best}: {mean_spread(values[best])}%** ({seeds(values[best])})"
    if close:
        cell += "; within its spread: " + ", ".join(_sweep_value(run, labels[k], k) for k in close)
    if under:
        cell += "; under it beyond the spread: " + ", ".join(_sweep_value(run, labels[k], k) for k in under)
    return cell, best


def sweep_table(root: Path = reference.REFERENCE_DIR) -> str:
    """Lab 05's lr and L2 sweeps from its full reference, beside the report's best settings, and what they
    find; without the reference, rows that say so."""
    ref = reference.find("05_regularization", "full", "cifar10", root)
    lines = ["| lab | the report's sweep | Duke's best | here (3 seeds): the best, and the rest |", "|---|---|---|---|"]
    if ref is None:
        for _, _, _, written, duke in DUKE_SWEEPS:
            cell = "no full reference yet (`python -m helpers reference 05 --profile full --seeds 1`)"
            lines.append(f"| 05 | {written} | {duke:g} | {cell} |")
        return "\n".join(lines)
    run = ref["runs"][0]
    found = []
    for what, key, name, written, duke in DUKE_SWEEPS:
        cell, best = _sweep_cell(run, key, name)
        lines.append(f"| 05 | {written} | {duke:g} | {cell} |")
        theirs, ours = _sweep(run, name.format(duke)), _sweep(run, name.format(float(best)))
        if best == f"{duke:g}":
            found.append(f"the report's best {what}, {duke:g}, is ours too")
        else:
            gap = 100 * (sum(ours) / len(ours) - sum(theirs) / len(theirs))
            found.append(
                f"the report's best {what}, {duke:g}, reaches {mean_spread(theirs)}%, {gap:.1f} points under our "
                f"best, {best}, {'beyond' if _apart(ours, theirs) else 'within'} the spread"
            )
    lr = run["config"]["lr"]
    at = f"lr={lr:g}"
    fell = zip(_sweep(run, at), _sweep(run, at, "val_top1"), strict=True)

    def gap(name: str) -> str:
        train, val = _sweep(run, name, "train_top1"), _sweep(run, name, "val_top1")
        return mean_spread([t - v for t, v in zip(train, val, strict=True)])

    gaps = ", ".join(f"{w:g} {gap(f'L2={w:g}')}" for w in run["config"]["recipe"]["l2_sweep"])
    text = (
        "\n".join(lines)
        + "\n\nIn lab 05's full reference, "
        + "; ".join(found)
        + f". At lr {lr:g} the last epoch's validation accuracy sits "
        + _span([100 * (peak - last) for peak, last in fell], ".1f")
        + " points under the best epoch's. The last epoch's running training accuracy over its validation "
        + f"accuracy, in points, by L2 strength: {gaps}"
    )
    baseline = reference.find("03_augmentation", "full", "cifar10", root)
    if baseline is not None:
        ours, theirs = _sweep(run, "lr=0.01"), lab_setting(baseline, "none")
        same = [round(v, 4) for v in ours] == [round(v, 4) for v in theirs]
        text += (
            f". Lab 05's lr 0.01 runs are lab 03's baseline again (the same recipe, split and seeds): {seeds(ours)}"
            + (", the same to the digit in every seed" if same else f" against lab 03's {seeds(theirs)}")
        )
    return text + "."


# -- the results page's quick tables -------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    runs: str  # what the lab runs in `quick`; {train} is the dataset's training images
    result: Callable[[dict], str]


ROWS = {
    "01_sanity_checks": Row("SimpleNN, {train} images, 8 epochs", lambda r: f"{sanity(r)} (its quick reference)"),
    "02_lr_schedules": Row("5 schedules × 3 seeds, 20k images, 6 epochs", schedules),
    "03_augmentation": Row(
        "none / crop + flip at p = 0.5 / p = 1 / TU Wien's flip + rotation + resized crop / crop + flip drawn once "
        "before training, × 3 seeds, 6k images, 30 epochs",
        augmentation,
    ),
    "04_batchnorm_swish": Row("5 settings × 3 seeds, 10k images, 10 epochs, crop + flip", batchnorm),
    "05_regularization": Row(
        "lr, L2, L1 and dropout (0.3, 0.5, 0.7) runs × 3 seeds, 8k images, 6 epochs", regularization
    ),
    "06_resnet20": Row("ResNet-20 option A (your block) and B, 30k images, 3 epochs, one seed", resnet),
    "07_vit": Row(
        "ViT (dim 64, depth 4, patch 8) under the UW-Madison and TU Wien settings, and TU Wien's with its "
        "augmentation, × 3 seeds, 20k images, 5 epochs",
        vit,
    ),
    "08_fast_cifar": Row(
        "airbench94's recipe switch by switch, FastNet (16, 32, 32), {train} images, 5 epochs, batch 256; its "
        "ablation and the TAMU table (3 epochs a row), one seed",
        fastnet,
    ),
    "09_convolution": Row(
        "your unfold conv vs `nn.Conv2d`; SimpleNet vs CustomNet × 3 seeds, 8k images, 5 epochs", convolution
    ),
    "10_evaluation": Row(
        "SimpleNN with early stopping (patience 3), 10k/10k/10k split",
        lambda r: f"{evaluation(r)} (its quick reference; early stopping restores the best epoch's weights in each)",
    ),
    "11_transfer": Row(
        "pretrain on 5 classes, then 10 / 100 / 1000 labels per target class × 3 seeds",
        lambda r: f"its quick reference's first run ({transfer_found(r)}",
    ),
    "12_interpretation_adversarial": Row(
        "SmallCNN and ViT attacked with your FGSM and PGD (random start, restarts); adversarial training × 3 seeds",
        lambda r: f"{adversarial(r)} (its quick reference)",
    ),
    "13_hparam_search": Row(
        "random search vs TPE, 20 trials each of 3 epochs with median pruning, best retrained; the TU Wien CNN, "
        "6 random trials of 3 epochs, its best retrained 4 epochs",
        search,
    ),
}


def _minutes(ref: dict) -> str:
    """One run of the lab: the catalog's minutes on Fashion-MNIST (held to its reference by a test), else
    the reference's own; `≤` where the seeds ran at once and shared the machine."""
    entry = catalog.find(ref["lab"])
    if ref["dataset"] == "fashion-mnist" and entry is not None:
        return ("≤ " if entry.quick_shared else "") + f"{entry.quick_cpu_min:g}"
    minutes = reference.minutes_per_run(ref)
    if minutes is None:
        return "-"
    return ("≤ " if reference.seeds_at_once(ref) > 1 else "") + f"{minutes:.1f}"


def quick_table(dataset: str, root: Path = reference.REFERENCE_DIR) -> str:
    """The results page's table of every lab's quick reference on `dataset`; a lab without one says so."""
    lines = ["| lab | runs | result | minutes |", "|---|---|---|---|"]
    for lab, row in ROWS.items():
        ref = reference.find(lab, "quick", dataset, root)
        runs = row.runs.format(train=TRAIN_IMAGES.get(dataset, "all"))
        if ref is None:
            lines.append(f"| {lab[:2]} | {runs} | no quick reference on {dataset} yet | - |")
            continue
        lines.append(f"| {lab[:2]} | {runs} | {row.result(ref)} | {_minutes(ref)} |")
    return "\n".join(lines)


def _block(key: str) -> re.Pattern:
    return re.compile(rf"(<!-- results:{re.escape(key)}:start -->\n).*?(\n<!-- results:{re.escape(key)}:end -->)", re.S)


def results_page(text: str, root: Path = reference.REFERENCE_DIR) -> str:
    """`text` (the results page) with each marked block re-made from the references."""
    blocks = {f"quick-{dataset}": lambda d=dataset: quick_table(d, root) for dataset in TRAIN_IMAGES}
    blocks["full-cifar10"] = lambda: report_table(root)
    blocks["full-cifar10-sweeps"] = lambda: sweep_table(root)
    for key, make in blocks.items():
        pattern = _block(key)
        if not pattern.search(text):
            raise ValueError(f"{RESULTS_PAGE.name} has no `<!-- results:{key}:start -->` block")
        table = make()
        text = pattern.sub(lambda m, t=table: m.group(1) + t + m.group(2), text)
    return text


def write_results_page(path: Path = RESULTS_PAGE, root: Path = reference.REFERENCE_DIR) -> Path:
    return atomic_write_text(path, results_page(path.read_text(encoding="utf-8"), root))


# -- the labs' own sentences ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    path: str  # relative to the repository
    lab: str
    make: Callable[[dict], str]
    dataset: str = "fashion-mnist"
    profile: str = "quick"


QUOTES = {
    "lab 11's discussion": Quote("labs/11_transfer.ipynb", "11_transfer", transfer_found),
    "lab 11's discussion on CIFAR-10": Quote("labs/11_transfer.ipynb", "11_transfer", transfer_found, "cifar10"),
    "lab 04's discussion": Quote("labs/04_batchnorm_swish.ipynb", "04_batchnorm_swish", batchnorm),
    "lab 03's discussion": Quote("labs/03_augmentation.ipynb", "03_augmentation", augmentation),
    "lab 08's discussion": Quote(
        "labs/08_fast_cifar.ipynb",
        "08_fast_cifar",
        lambda r: (
            f"the rows measured test {tamu_rows(r)}; each row's gain over the row before, in points, ours (the "
            f"report's): {tamu_gains(r)}"
        ),
    ),
    "lab 06's opening": Quote(
        "labs/06_resnet20.ipynb",
        "06_resnet20",
        lambda r: f"an epoch of 30k images took {r['runs'][0]['seconds_per_epoch']:.0f} s in `quick` (its reference)",
    ),
    "lab 07's discussion": Quote(
        "labs/07_vit.ipynb",
        "07_vit",
        lambda r: (
            f"the TU Wien ViT reached test {mean_spread(setting(r, 'tu_wien'))}% without augmentation and "
            f"{mean_spread(setting(r, 'tu_wien_augmented'))}% with it"
        ),
    ),
    "lab 03's discussion on CIFAR-10": Quote("labs/03_augmentation.ipynb", "03_augmentation", augmentation, "cifar10"),
    "lab 05's discussion on CIFAR-10": Quote(
        "labs/05_regularization.ipynb",
        "05_regularization",
        lambda r: (
            "on CIFAR-10, `-p dataset=cifar10`: "
            + mean_spread([x["best_val_top1"] for x in r["runs"][0]["seed_runs"] if x["setting"] == "lr=0.05"])
            + "%"
        ),
        "cifar10",
    ),
    "results page, lab 01 in full": Quote(
        "docs/results.md", "01_sanity_checks", sanity_full, dataset="cifar10", profile="full"
    ),
    "results page, lab 01 itself in full": Quote(
        "docs/results.md",
        "01_sanity_checks",
        lambda r: f"gave {metric(r, 'best_val_top1')}% ({each_seed(r, 'best_val_top1')})",
        dataset="cifar10",
        profile="full",
    ),
    "results page, lab 02 in full, best epoch": Quote(
        "docs/results.md",
        "02_lr_schedules",
        lambda r: schedules(r, "best_val_top1"),
        dataset="cifar10",
        profile="full",
    ),
    "results page, lab 02 in full, last epoch": Quote(
        "docs/results.md", "02_lr_schedules", schedules, dataset="cifar10", profile="full"
    ),
    "lab 02's discussion, full": Quote(
        "labs/02_lr_schedules.ipynb",
        "02_lr_schedules",
        lambda r: f"{schedules(r, 'best_val_top1')}. At the last epoch, {schedules(r)}",
        dataset="cifar10",
        profile="full",
    ),
    "lab 03's discussion, full": Quote(
        "labs/03_augmentation.ipynb", "03_augmentation", augmentation, dataset="cifar10", profile="full"
    ),
    "results page, lab 03 in full": Quote(
        "docs/results.md", "03_augmentation", augmentation, dataset="cifar10", profile="full"
    ),
    "lab 04's discussion, full": Quote(
        "labs/04_batchnorm_swish.ipynb", "04_batchnorm_swish", batchnorm, dataset="cifar10", profile="full"
    ),
    "results page, lab 04 in full": Quote(
        "docs/results.md", "04_batchnorm_swish", batchnorm, dataset="cifar10", profile="full"
    ),
    "lab 05's discussion, full": Quote(
        "labs/05_regularization.ipynb", "05_regularization", regularization, dataset="cifar10", profile="full"
    ),
    "results page, lab 05 in full": Quote(
        "docs/results.md", "05_regularization", regularization, dataset="cifar10", profile="full"
    ),
    "lab 04's discussion on CIFAR-10": Quote(
        "labs/04_batchnorm_swish.ipynb", "04_batchnorm_swish", batchnorm, "cifar10"
    ),
}


def prose(path: Path) -> str:
    """A page's text, or a notebook's markdown cells, with runs of whitespace as one space."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        text = "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells if c.cell_type == "markdown")
    return " ".join(text.split())


def stale_quotes(root: Path = reference.REFERENCE_DIR, repo: Path = REPO) -> dict[str, str]:
    """{where: what is wrong} for each quote its text no longer holds, with the sentence to write."""
    problems = {}
    for where, quote in QUOTES.items():
        ref = reference.find(quote.lab, quote.profile, quote.dataset, root)
        if ref is None:
            problems[where] = f"quotes {quote.lab}'s {quote.profile} reference on {quote.dataset}, which is missing"
            continue
        expected = quote.make(ref)
        if expected not in prose(repo / quote.path):
            problems[where] = f"{quote.path} should quote {quote.lab}'s {quote.profile} reference as: {expected}"
    return problems
