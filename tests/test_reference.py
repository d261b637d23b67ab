"""Reference runs guard the labs' results: the suite's smoke runs against reference/smoke-fashion-mnist/.

A change that moves a headline metric beyond the reference seeds' spread, or reverses a lesson a lab
teaches, fails here with the lab, the metric and both values; a reference whose recipe is no longer
what the code resolves fails too (re-make it); the generated tables must be what the files make.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import pytest
from lab_run import REPO, cli, smoke_output, status

from helpers.course import compare, reference, tables
from helpers.course.runner import list_labs

LABS = [p.stem for p in list_labs()]
SMOKE = ("smoke", "fashion-mnist")
REFERENCES = sorted(reference.REFERENCE_DIR.glob("*-*/[0-9][0-9]_*.json"))


# Labs whose smoke reference is still to be made (none today). Make one with
# `python -m helpers reference NN --profile smoke -p device=cpu-strict` (on a quiet machine, seconds to
# a minute per seed), commit it and take the lab off this list.
PENDING: set[str] = set()
MAKE = "python -m helpers reference {} --profile smoke -p device=cpu-strict"


def smoke_reference(lab: str) -> dict:
    if lab in PENDING:
        pytest.skip(f"{lab} has no smoke reference yet (PENDING): {MAKE.format(lab[:2])}")
    ref = reference.find(lab, *SMOKE)
    assert ref is not None, f"no smoke reference for {lab}: {MAKE.format(lab[:2])}"
    return ref


def test_every_lab_has_a_smoke_reference_or_is_pending():
    have = {lab for lab in LABS if reference.find(lab, *SMOKE) is not None}
    assert not have & PENDING, f"{sorted(have & PENDING)} have a smoke reference now: take them off PENDING"
    assert have | PENDING == set(LABS), f"no smoke reference for {sorted(set(LABS) - have - PENDING)}"


@pytest.mark.parametrize("lab", LABS)
def test_every_lab_has_a_smoke_reference_with_a_spread(lab):
    ref = smoke_reference(lab)
    assert len(ref["seeds"]) >= 2 and len(ref["runs"]) == len(ref["seeds"]), "a spread needs two seeds or more"
    assert [run["seed"] for run in ref["runs"]] == ref["seeds"]
    assert ref["metrics"] and all(v["min"] <= v["mean"] <= v["max"] for v in ref["metrics"].values())


@pytest.mark.parametrize("path", REFERENCES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_reference_recipe_is_what_config_resolves_today(path):
    ref = reference.load(path)
    assert reference.stale(ref) is None, reference.stale(ref)
    # the same thing through the command line an instructor would use
    proc = cli("config", ref["lab"], "--profile", ref["profile"], "-p", f"dataset={ref['dataset']}")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == ref["recipe"], f"{path}: re-make it with {ref['made']['command']}"


@pytest.mark.parametrize("path", REFERENCES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_reference_is_small_and_says_how_it_was_made(path):
    assert path.stat().st_size < reference.MAX_BYTES, "a reference holds metrics and histories, kilobytes"
    ref = reference.load(path)
    made = ref["made"]
    assert made["command"].startswith("python -m helpers reference ") and ref["lab"][:2] in made["command"]
    assert len(made["commit"]) == 40 and made["date"].endswith("Z")
    assert ref["machine"]["cpu"] and ref["machine"]["threads"] >= 1 and ref["versions"]["torch"]
    assert len(ref["seconds"]) == len(ref["seeds"]) and all(s > 0 for s in ref["seconds"])
    assert all(run["history"] for run in ref["runs"]), "each seed's per-epoch history is kept"
    assert not any(key in run["config"] for run in ref["runs"] for key in reference.LOCAL), "no local paths"


def test_declared_smoke_lessons_hold_in_every_reference_seed():
    declared = [lesson for lesson in compare.LESSONS if "smoke" in lesson.profiles]
    assert {lesson.lab for lesson in declared} >= {"05_regularization"}
    for lesson in (lesson for lesson in declared if lesson.lab not in PENDING):  # checked once they are made
        for run in smoke_reference(lesson.lab)["runs"]:
            margin = compare.lesson_margins(lesson, run)
            assert margin is not None and margin[2] > 0, f"{lesson.lab} seed {run['seed']}: '{lesson.text}' {margin}"


def test_declared_quick_lessons_hold_in_every_quick_reference_run():
    """A lesson the labs state for quick is what every run of its quick reference shows (by the means)."""
    for lesson in (lesson for lesson in compare.LESSONS if "quick" in lesson.profiles):
        ref = reference.find(lesson.lab, "quick", "fashion-mnist")
        assert ref is not None, f"{lesson.lab} states '{lesson.text}' in quick, and has no quick reference"
        for run in ref["runs"]:
            margin = compare.lesson_margins(lesson, run)
            assert margin is not None and margin[2] > 0, f"{lesson.lab} seed {run['seed']}: '{lesson.text}' {margin}"


@pytest.mark.parametrize("lab", LABS)
def test_smoke_run_stays_within_its_reference(lab):
    """The suite's one smoke run of every lab (seed 0, the reference's first seed) beside the reference."""
    out, proc = smoke_output()
    assert status(proc, lab) == "ok", proc.stdout
    results = json.loads((out / f"{lab}.json").read_text())
    flags = compare.compare_results(results, smoke_reference(lab))
    assert not flags, "\n".join(f.message for f in flags)


def test_compare_flags_a_moved_metric_and_a_reversed_lesson(tmp_path):
    lab = "05_regularization"
    ref = smoke_reference(lab)
    run = copy.deepcopy(ref["runs"][0])
    assert compare.compare_results(run, ref) == [], "a reference's own seed is within it"
    run["metrics"]["val_top1"] = ref["metrics"]["val_top1"]["min"] - 0.2
    for row in run["seed_runs"]:  # the lesson reversed: lr 1 now trains and beats lr 0.05
        if row["setting"] in ("lr=1", "lr=0.05"):
            row.update(status="ok", best_val_top1=0.5 if row["setting"] == "lr=1" else 0.01)
    flags = compare.compare_results(run, ref)
    lesson = compare.lessons_for(lab, "smoke")[0]
    assert [(f.kind, f.name) for f in flags] == [("metric", "val_top1"), ("lesson", lesson.text)]
    moved = flags[0].message
    assert lab in moved and "val_top1" in moved and f"{run['metrics']['val_top1']:.4f}" in moved
    assert f"{ref['metrics']['val_top1']['min']:.4f}" in moved, moved
    assert "0.0100" in flags[1].message and "0.5000" in flags[1].message
    # the command line: exit status 1 and the same message; a run within its reference: 0
    (tmp_path / f"{lab}.json").write_text(json.dumps(run))
    proc = cli("compare", str(tmp_path))
    assert proc.returncode == 1 and moved in proc.stdout, proc.stdout + proc.stderr
    (tmp_path / f"{lab}.json").write_text(json.dumps(ref["runs"][1]))
    proc = cli("compare", str(tmp_path))
    assert proc.returncode == 0 and lab in proc.stdout and "ok" in proc.stdout, proc.stdout


def test_compare_says_which_labs_have_no_reference(tmp_path):
    run = {**smoke_reference("01_sanity_checks")["runs"][0], "profile": "full"}  # no full reference on Fashion-MNIST
    (tmp_path / "01_sanity_checks.json").write_text(json.dumps(run))
    found = compare.compare(tmp_path)
    assert not found.flags and "no full-fashion-mnist reference" in found.notes[0]
    assert reference.find("../../etc/x", "smoke", "fashion-mnist") is None


def test_a_planted_recipe_change_fails_the_comparison(tmp_path):
    """Lab 03's crop padding changed from 4 to 0 (patched into every process the runner starts):
    the comparison with the smoke reference names the lab, the metric and both values."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import helpers.settings as s\ns.Augmentation.PROFILES['smoke']['recipe']['crop_padding'] = 0\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "helpers",
        "run",
        "03",
        "--profile",
        "smoke",
        "-p",
        "device=cpu-strict",
        "--out",
        str(out),
    ]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env)
    assert status(proc, "03_augmentation") == "ok", proc.stdout + proc.stderr
    results = json.loads((out / "03_augmentation.json").read_text())
    assert results["config"]["recipe"]["crop_padding"] == 0, "the planted change did not reach the lab"
    found = compare.compare(out)
    assert found.flags, compare.format_report(found)
    ref = smoke_reference("03_augmentation")
    for flag in found.flags:
        assert flag.message.startswith("03_augmentation: ")
        if flag.kind == "metric":
            assert f"{results['metrics'][flag.name]:.4f}" in flag.message
            assert f"{ref['metrics'][flag.name]['min']:.4f}" in flag.message
    # a reference made from that recipe is stale against today's code, and says where it differs
    why = reference.stale({**ref, "recipe": reference.recipe_of(results["config"])})
    assert why and "crop_padding': 0" in why and "crop_padding': 4" in why, why


def test_generated_tables_are_what_the_references_make():
    for name, text in tables.render().items():
        path = tables.OUT_DIR / name
        assert path.is_file() and path.read_text() == text, (
            f"{path.relative_to(REPO)} is not what reference/ makes: run `python -m helpers reference --tables`"
        )
    results = (tables.OUT_DIR / "results.md").read_text()
    for lab in sorted(set(LABS) - PENDING):
        values = smoke_reference(lab)["metrics"][tables.headline_metric(smoke_reference(lab))]
        assert f"| {lab} | smoke | fashion-mnist |" in results and f"{values['mean']:.1%}" in results


def test_report_takes_its_expected_column_from_the_reference():
    from helpers.course.report import table_rows

    ref = smoke_reference("01_sanity_checks")
    (row,) = table_rows([ref["runs"][1]])
    values = ref["metrics"]["test_top1"]
    assert row["expected"] == f"{values['mean']:.1%} ± {values['spread'] * 100:.1f} ({len(ref['seeds'])} seeds)"
    (row,) = table_rows([{**ref["runs"][1], "dataset": "cifar10"}])
    assert row["expected"] is None


def test_a_run_is_drawn_over_the_reference_runs_labelled_by_profile_dataset_and_machine():
    from helpers.references import plot_over_references
    from helpers.training import History

    ref = smoke_reference("01_sanity_checks")
    refs = [r for r in (reference.find("01_sanity_checks", p, "fashion-mnist") for p in ("smoke", "quick")) if r]
    history = History(rows=[{"epoch": 1, "val_top1": 0.5}, {"epoch": 2, "val_top1": 0.6}])
    fig = plot_over_references(history, "01_sanity_checks", "fashion-mnist", profiles=("smoke", "quick"))
    (ax,) = fig.axes
    labels = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    expected = [f"{r['profile']}, fashion-mnist, {len(r['seeds'])} seeds ({reference.machine_line(r)})" for r in refs]
    assert labels == [*expected, "your run"]
    assert len(ax.get_lines()) == sum(len(r["runs"]) for r in refs) + 1, "one line per reference seed, and the run"
    assert list(ax.get_lines()[0].get_ydata()) == [row["val_top1"] for row in ref["runs"][0]["history"]]
    fig = plot_over_references(history, "01_sanity_checks", "cifar10")  # its quick reference on CIFAR-10
    assert any(line.get_label().startswith("quick, cifar10, 3 seeds") for line in fig.axes[0].get_lines())
    fig = plot_over_references(history, "01_sanity_checks", "synthetic")  # no reference of that dataset
    assert "no reference runs" in fig.axes[0].get_title() and len(fig.axes[0].get_lines()) == 1


@pytest.mark.parametrize("lab", LABS)
def test_each_lab_draws_the_run_it_records_over_the_references(lab):
    """A lab draws the history its record() call saves: the run the references hold, seed by seed."""
    import ast

    import nbformat

    cells = [c for c in nbformat.read(REPO / "labs" / f"{lab}.ipynb", as_version=4).cells if c.cell_type == "code"]

    def calls(name: str) -> list[ast.Call]:
        found = (n for c in cells for n in ast.walk(ast.parse(c.source)) if isinstance(n, ast.Call))
        return [n for n in found if getattr(n.func, "id", None) == name]

    (record,) = calls("record")
    (plot,) = calls("plot_over_references")
    recorded = ast.unparse(next(k.value for k in record.keywords if k.arg == "history"))
    assert [ast.unparse(a) for a in plot.args] == [recorded, "cfg.lab", "cfg.dataset"], (
        f"{lab}: plot_over_references({', '.join(ast.unparse(a) for a in plot.args)}) should draw {recorded}, "
        "the history record() saves"
    )


@pytest.mark.parametrize("lab", LABS)
def test_each_lab_drew_its_run_over_the_references_in_the_smoke_run(lab):
    import nbformat

    out, proc = smoke_output()
    assert status(proc, lab) == "ok", proc.stdout
    last = nbformat.read(out / f"{lab}.ipynb", as_version=4).cells[-1]
    assert "plot_over_references" in last.source
    assert any("image/png" in o.get("data", {}) for o in last.outputs), f"{lab}: the last cell drew no figure"


def test_the_lab_tables_quick_minutes_are_the_references_timed_one_seed_at_a_time():
    """The README's and each title cell's quick time (helpers/catalog.py) is the reference's, where one
    was made with its seeds one at a time on the 2-core CPU; seeds run at once only bound it."""
    from helpers import catalog

    for entry in catalog.LABS:
        ref = reference.find(entry.name, "quick", "fashion-mnist")
        if ref is None or ref["machine"].get("gpu"):
            continue
        minutes = reference.minutes_per_run(ref)
        if reference.seeds_at_once(ref) == 1:
            assert (entry.quick_cpu_min, entry.quick_shared) == (round(minutes, 1), False), (
                f"{entry.name}: the catalog says {entry.quick_cpu_min} min in quick, its reference "
                f"{minutes:.1f} min (seeds one at a time): set quick_cpu_min={round(minutes, 1)}, "
                "quick_shared=False in helpers/catalog.py and run `python -m helpers frontdoor`"
            )
        else:
            assert entry.quick_cpu_min <= round(minutes, 1) + 0.05, (
                f"{entry.name}: the catalog's {entry.quick_cpu_min} min exceeds its reference's {minutes:.1f} min "
                "with seeds run at once (an upper bound)"
            )


def _mean_spread(values: list[float], scale: float = 100, digits: int = 1) -> str:
    """Mean ± half the range, as the references compute it (`reference.spread`) and the text writes it."""
    s = reference.spread(values)
    return f"{s['mean'] * scale:.{digits}f} ± {s['spread'] * scale:.{digits}f}"


def _metric(ref: dict, name: str, scale: float = 100, digits: int = 1) -> str:
    return _mean_spread(ref["metrics"][name]["values"], scale, digits)


def _transfer_run(ref: dict) -> str:
    """Lab 11's comparison in the reference's first run (seed 0): test top-1 per method and labels."""
    run = ref["runs"][0]
    labels = sorted({r["labels"] for r in run["runs"]})

    def cell(method: str, n: int) -> str:
        return _mean_spread([r["test_top1"] for r in run["runs"] if r["method"] == method and r["labels"] == n])

    methods = ", ".join(
        f"{m} " + " / ".join(cell(m, n) for n in labels) + "%" for m in ("scratch", "linear probe", "fine-tune")
    )
    return (
        f"the backbone at {run['metrics']['source_val_top1']:.1%} on the source's validation images) measured, "
        f"at {' / '.join(map(str, labels))} labels per class: {methods}."
    )


def _setting(ref: dict, setting: str, metric: str = "test_top1", runs: slice = slice(0, 1)) -> str:
    """A setting's metric over the seed rows a lab records (`runs` of its reference: the first by default)."""
    return _mean_spread([r[metric] for run in ref["runs"][runs] for r in run["runs"] if r["setting"] == setting])


def _schedules(ref: dict) -> str:
    """Lab 02: each schedule's final val top-1 in the reference's run, and which beat constant beyond the spread."""
    rows = ref["runs"][0]["runs"]
    labels = {
        "constant": "constant",
        "step": "step",
        "exponential": "exponential",
        "warm-up + cosine": "warm-up + cosine",
        "warm-up + cosine, wd warm-up": "with weight-decay warm-up",
    }

    def values(setting: str) -> list[float]:
        return [r["val_top1"] for r in rows if r["setting"] == setting]

    found = ", ".join(f"{label} {_mean_spread(values(name))}" for name, label in labels.items())
    beyond = [label for name, label in labels.items() if min(values(name)) > max(values("constant"))]
    return f"final val: {found} (its quick reference, one run of the lab); beyond the spread of constant: " + (
        ", ".join(beyond) or "none"
    )


def _regularization(ref: dict) -> str:
    """Lab 05's sweeps in the reference's run: best val by lr and by L2, L1's near-zero weights, dropout."""
    run = ref["runs"][0]
    rows, recipe = run["seed_runs"], run["config"]["recipe"]

    def best(setting: str, metric: str = "best_val_top1") -> list[float]:
        return [r[metric] for r in rows if r["setting"] == setting and r["status"] == "ok"]

    def lr_text(lr) -> str:
        name = f"lr={lr:g}"
        diverged = sum(r["status"] == "diverged" for r in rows if r["setting"] == name)
        ok = best(name)
        if not ok:
            return f"{lr:g} diverged in every seed"
        if diverged and len(ok) == 1:
            return f"{lr:g} diverged in {diverged} seeds and stayed at {100 * ok[0]:.1f}% in the other"
        seeds = f"{diverged} seed{'s' * (diverged > 1)}"
        return f"{lr:g} {_mean_spread(ok)}" + (f" (diverged in {seeds})" if diverged else "")

    wd = run["config"]["weight_decay"]
    lrs = ", ".join(lr_text(lr) for lr in recipe["lr_sweep"])
    l2 = ", ".join(f"{w:g} {_mean_spread(best(f'L2={w:g}'))}" for w in recipe["l2_sweep"])
    zero = run["near_zero"]
    drop = ", ".join(f"{p:g} {_mean_spread(best(f'dropout {p:g}', 'val_top1'))}" for p in recipe["dropout_sweep"])
    return (
        f"best val by lr: {lrs}. By L2 (lr {run['config']['lr']:g}): {l2}. L1 ({recipe['l1_strength']:g}) leaves "
        f"{100 * zero['l1']:.1f}% of the weights under 1e-3 against {100 * zero['l2']:.1f}% for L2 of the same "
        f"strength (means over the seeds). Last-epoch val with dropout {drop}, against "
        f"{_mean_spread(best(f'L2={wd:g}', 'val_top1'))} without (its quick reference, one run of the lab)"
    )


def _verdicts(values, pairs: list[tuple[str, str, str]]) -> str:
    """Which of `pairs` (label, higher setting, lower setting) are apart beyond the seeds' spread (the ranges
    do not overlap), and which are not; `values(setting)` gives a setting's per-seed values."""
    beyond = [label for label, a, b in pairs if min(values(a)) > max(values(b))]
    within = [label for label, a, b in pairs if label not in beyond]
    return f"beyond the spread: {', '.join(beyond) or 'none'}; within it: {', '.join(within) or 'none'}"


def _apart(ref: dict, a: str, b: str) -> bool:
    """Whether two headline metrics' ranges over the reference's seeds do not overlap."""
    x, y = ref["metrics"][a], ref["metrics"][b]
    return x["min"] > y["max"] or y["min"] > x["max"]


def _batchnorm(ref: dict) -> str:
    """Lab 04: each setting's best val top-1 in the reference's run, and which differences exceed the spread."""
    rows = ref["runs"][0]["runs"]

    def values(setting: str) -> list[float]:
        return [r["best_val_top1"] for r in rows if r["setting"] == setting]

    def cell(setting: str) -> str:
        return _mean_spread(values(setting))

    pairs = [
        ("BN over no BN at lr 0.01", "BN, ReLU, lr 0.01", "no BN, ReLU, lr 0.01"),
        ("BN over no BN at lr 0.1", "BN, ReLU, lr 0.1", "no BN, ReLU, lr 0.1"),
        ("Swish over ReLU at lr 0.1", "BN, Swish, lr 0.1", "BN, ReLU, lr 0.1"),
    ]
    return (
        f"best val: no BN {cell('no BN, ReLU, lr 0.01')} (lr 0.01), {cell('no BN, ReLU, lr 0.1')} (lr 0.1); "
        f"BN {cell('BN, ReLU, lr 0.01')} (lr 0.01), {cell('BN, ReLU, lr 0.1')} (lr 0.1); BN + Swish "
        f"{cell('BN, Swish, lr 0.1')} (lr 0.1) (its quick reference, one run of the lab); " + _verdicts(values, pairs)
    )


def _augmentation(ref: dict) -> str:
    """Lab 03: best val and the clean-train − val gap per setting in the reference's run, and the verdicts."""
    rows = ref["runs"][0]["runs"]
    settings = {
        "none": "none",
        "crop+flip p=0.5": "crop + flip p = 0.5",
        "crop+flip p=1": "p = 1",
        "flip+rotation+resized crop p=1": "TU Wien's flip + rotation + resized crop",
        "crop+flip once, before training": "crop + flip drawn once before training",
    }

    def values(setting: str, metric: str = "best_val_top1") -> list[float]:
        return [r[metric] for r in rows if r["setting"] == setting]

    best = ", ".join(f"{label} {_mean_spread(values(s))}" for s, label in settings.items())
    gap = ", ".join(f"{label} {_mean_spread(values(s, 'gap'))}" for s, label in settings.items())

    def against_none(setting: str) -> str:
        if min(values(setting)) > max(values("none")):
            return "above it beyond the spread"
        if max(values(setting)) < min(values("none")):
            return "below it beyond the spread"
        return "within its spread"

    verdicts = ", ".join(f"{label} {against_none(s)}" for s, label in list(settings.items())[1:])
    return (
        f"best val: {best}; clean-train − val gap, points: {gap} (its quick reference, one run of the lab). "
        f"Against none: {verdicts}"
    )


def _resnet(ref: dict) -> str:
    """Lab 06: each shortcut option's test top-1 and training seconds in the reference's first run."""
    runs = {r["run"]: r for r in ref["runs"][0]["runs"]}
    return (
        f"test {100 * runs['option A']['test_top1']:.1f}% (A), {100 * runs['option B']['test_top1']:.1f}% (B), in "
        f"{runs['option A']['seconds']:.0f} and {runs['option B']['seconds']:.0f} s of training with each epoch's "
        "validation (its quick reference, one seed)"
    )


def _tamu_rows(ref: dict) -> str:
    """Lab 08: the TAMU table's rows in the reference's first run, ours beside the report's."""
    rows = ref["runs"][0]["tamu_table"]
    return ", ".join(f"{r['row'].split()[0]} {r['ours %']:.1f} (report {r['TAMU report %']:.2f})" for r in rows)


def _tamu_gains(ref: dict) -> str:
    """Lab 08's discussion: each row's gain over the one before, ours and the report's, in points."""
    rows = ref["runs"][0]["tamu_table"][1:]
    return ", ".join(f"{r['row'].split()[0]} {r['ours, gain']:+.2f} ({r['report, gain']:+.2f})" for r in rows)


def _fastnet(ref: dict) -> str:
    """Lab 08: the full recipe's test top-1, its ablation and the TAMU table in the reference's first run."""
    run = ref["runs"][0]
    ablation = {r["setting"]: r["vs full"] for r in run["ablation"] if r["setting"] != "full recipe"}
    rows = ", ".join(f"{name} {100 * gain:+.1f}" for name, gain in ablation.items())
    tamu = _tamu_rows(ref)
    return (
        f"test {100 * run['metrics']['test_top1']:.1f}% with TTA, {100 * run['metrics']['test_top1_no_tta']:.1f}% "
        f"without, after {run['train_seconds']:.0f} s of training; points against the full recipe, one seed: {rows}. "
        f"The TAMU table row by row, 3 epochs a row, test % (the report's val % after 200 epochs): {tamu} (its quick "
        "reference, one run of the lab)"
    )


def _convolution(ref: dict) -> str:
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


def _pgd(ref: dict, model: str, eps: float = 0.05) -> str:
    """Lab 12: the model's test accuracy under PGD at `eps`, over the reference's seeds."""
    return _mean_spread(
        [
            next(c["accuracy"] for c in run["curves"] if (c["model"], c["attack"], c["eps"]) == (model, "PGD", eps))
            for run in ref["runs"]
        ]
    )


# Numbers the labs and the results page quote from a reference, as the reference makes them today: a re-made
# reference whose numbers moved fails here with the sentence to write.
QUOTED = {
    "lab 11's discussion": ("labs/11_transfer.ipynb", "11_transfer", _transfer_run),
    "results page, lab 01 quick": (
        "docs/results.md",
        "01_sanity_checks",
        lambda r: f"best val {_metric(r, 'best_val_top1')}%, test {_metric(r, 'test_top1')}% over 3 seeds",
    ),
    "results page, lab 02 quick": ("docs/results.md", "02_lr_schedules", _schedules),
    "results page, lab 04 quick": ("docs/results.md", "04_batchnorm_swish", _batchnorm),
    "lab 04's discussion": ("labs/04_batchnorm_swish.ipynb", "04_batchnorm_swish", _batchnorm),
    "results page, lab 03 quick": ("docs/results.md", "03_augmentation", _augmentation),
    "lab 03's discussion": ("labs/03_augmentation.ipynb", "03_augmentation", _augmentation),
    "results page, lab 05 quick": ("docs/results.md", "05_regularization", _regularization),
    "results page, lab 06 quick": ("docs/results.md", "06_resnet20", _resnet),
    "lab 08's discussion": (
        "labs/08_fast_cifar.ipynb",
        "08_fast_cifar",
        lambda r: (
            f"the rows measured test {_tamu_rows(r)}; each row's gain over the row before, in points, ours (the "
            f"report's): {_tamu_gains(r)}"
        ),
    ),
    "lab 06's opening": (
        "labs/06_resnet20.ipynb",
        "06_resnet20",
        lambda r: f"an epoch of 30k images took {r['runs'][0]['seconds_per_epoch']:.0f} s in `quick` (its reference)",
    ),
    "results page, lab 08 quick": ("docs/results.md", "08_fast_cifar", _fastnet),
    "results page, lab 07 quick": (
        "docs/results.md",
        "07_vit",
        lambda r: (
            f"test UW-Madison {_setting(r, 'uw_madison')}%, TU Wien {_setting(r, 'tu_wien')}% in its quick "
            f"reference's first run; over its three runs (each on its own 20k images, 9 runs a setting): "
            f"{_setting(r, 'uw_madison', runs=slice(None))}% and {_setting(r, 'tu_wien', runs=slice(None))}%: no "
            f"difference beyond the spread. TU Wien with its flip, rotation and resized crop: "
            f"{_setting(r, 'tu_wien_augmented')}% in the first run, "
            f"{_setting(r, 'tu_wien_augmented', runs=slice(None))}% over the three"
        ),
    ),
    "lab 07's discussion": (
        "labs/07_vit.ipynb",
        "07_vit",
        lambda r: (
            f"the TU Wien ViT reached test {_setting(r, 'tu_wien')}% without augmentation and "
            f"{_setting(r, 'tu_wien_augmented')}% with it"
        ),
    ),
    "results page, lab 09 quick": ("docs/results.md", "09_convolution", _convolution),
    "results page, lab 01 quick on CIFAR-10": (
        "docs/results.md",
        "01_sanity_checks",
        lambda r: f"best val {_metric(r, 'best_val_top1')}%, test {_metric(r, 'test_top1')}% over 3 seeds",
        "cifar10",
    ),
    "results page, lab 02 quick on CIFAR-10": ("docs/results.md", "02_lr_schedules", _schedules, "cifar10"),
    "results page, lab 03 quick on CIFAR-10": ("docs/results.md", "03_augmentation", _augmentation, "cifar10"),
    "lab 03's discussion on CIFAR-10": ("labs/03_augmentation.ipynb", "03_augmentation", _augmentation, "cifar10"),
    "results page, lab 05 quick on CIFAR-10": ("docs/results.md", "05_regularization", _regularization, "cifar10"),
    "lab 05's discussion on CIFAR-10": (
        "labs/05_regularization.ipynb",
        "05_regularization",
        lambda r: (
            "on CIFAR-10, `-p dataset=cifar10`: "
            + _mean_spread([x["best_val_top1"] for x in r["runs"][0]["seed_runs"] if x["setting"] == "lr=0.05"])
            + "%"
        ),
        "cifar10",
    ),
    "results page, lab 04 quick on CIFAR-10": ("docs/results.md", "04_batchnorm_swish", _batchnorm, "cifar10"),
    "lab 04's discussion on CIFAR-10": ("labs/04_batchnorm_swish.ipynb", "04_batchnorm_swish", _batchnorm, "cifar10"),
    "results page, lab 10 quick on CIFAR-10": (
        "docs/results.md",
        "10_evaluation",
        lambda r: (
            f"test top-1 {_metric(r, 'test_top1')}%, top-5 {_metric(r, 'test_top5')}%, macro AUC "
            f"{_metric(r, 'test_macro_auc', 1, 3)}, ECE {_metric(r, 'test_ece', 1, 3)} over 3 seeds"
        ),
        "cifar10",
    ),
    "results page, lab 10 quick": (
        "docs/results.md",
        "10_evaluation",
        lambda r: (
            f"test top-1 {_metric(r, 'test_top1')}%, top-5 {_metric(r, 'test_top5')}%, macro AUC "
            f"{_metric(r, 'test_macro_auc', 1, 3)}, ECE {_metric(r, 'test_ece', 1, 3)} over 3 seeds"
        ),
    ),
    "results page, lab 11 quick": ("docs/results.md", "11_transfer", _transfer_run),
    "results page, lab 12 quick": (
        "docs/results.md",
        "12_interpretation_adversarial",
        lambda r: (
            f"val CNN {_metric(r, 'val_top1')}%, ViT {_metric(r, 'vit_val_top1')}%; PGD at ε = 0.05 leaves "
            f"{_pgd(r, 'CNN')}% (CNN) and {_pgd(r, 'ViT')}% (ViT); adversarial training: under PGD at ε = 0.05 "
            f"{_metric(r, 'adv_robust_test_top1')}% against {_metric(r, 'std_robust_test_top1')}% for standard "
            f"training, clean {_metric(r, 'adv_clean_test_top1')}% over 3 seeds"
        ),
    ),
    "results page, lab 13 quick": (
        "docs/results.md",
        "13_hparam_search",
        lambda r: (
            f"best val: random {_metric(r, 'best_random_val_top1')}%, TPE {_metric(r, 'best_tpe_val_top1')}%, "
            f"the best setting retrained: test {_metric(r, 'test_top1')}% over 3 seeds; the TU Wien CNN's sweep: best "
            f"val {_metric(r, 'cnn_best_val_top1')}%, its best setting retrained: test {_metric(r, 'cnn_test_top1')}%, "
            f"test loss {_metric(r, 'cnn_test_loss', 1, 2)}; the samplers' best values "
            + ("differ" if _apart(r, "best_tpe_val_top1", "best_random_val_top1") else "do not differ")
            + " beyond the spread"
        ),
    ),
}


@pytest.mark.parametrize("where", sorted(QUOTED))
def test_quoted_numbers_are_the_references(where):
    path, lab, make, *dataset = QUOTED[where]  # a fourth element: the reference's dataset (else Fashion-MNIST)
    ref = reference.find(lab, "quick", *(dataset or ["fashion-mnist"]))
    assert ref is not None, f"{where} quotes {lab}'s quick reference, which is missing"
    text = (REPO / path).read_text(encoding="utf-8")
    if path.endswith(".ipynb"):
        import nbformat

        text = "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells if c.cell_type == "markdown")
    expected = make(ref)
    assert expected in " ".join(text.split()), f"{path} should quote {lab}'s quick reference as: {expected}"
