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

from helpers.course import compare, quotes, reference, tables
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


@pytest.mark.parametrize("where", ["smoke-fashion-mnist/03_augmentation", "quick-cifar10/05_regularization"])
def test_the_config_command_prints_the_recipe_a_reference_records(where):
    """The same check through the command line an instructor would use (one process per reference would
    cost seconds each; `stale` above runs the same resolution in-process for every file)."""
    ref = reference.load(reference.REFERENCE_DIR / f"{where}.json")
    proc = cli("config", ref["lab"], "--profile", ref["profile"], "-p", f"dataset={ref['dataset']}")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == ref["recipe"], f"{where}: re-make it with {ref['made']['command']}"


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


def test_the_lab_tables_full_cpu_minutes_are_the_references():
    """A lab's full-profile CPU time in the catalog is its full reference's, where one was made on the CPU."""
    from helpers import catalog

    checked = 0
    for entry in catalog.LABS:
        ref = reference.find(entry.name, "full", "cifar10")
        if ref is None or ref["machine"].get("gpu") or reference.seeds_at_once(ref) != 1:
            continue
        minutes = round(reference.minutes_per_run(ref), 1)
        assert entry.full_cpu_min == minutes, (
            f"{entry.name}: the catalog says {entry.full_cpu_min} min in full on the CPU, its reference {minutes} "
            f"min: set full_cpu_min={minutes} in helpers/catalog.py and run `python -m helpers frontdoor`"
        )
        checked += 1
    assert checked, "no full reference on the CPU: lab 01's is expected (reference/full-cifar10/)"


def test_the_results_pages_quick_tables_are_what_the_references_make():
    text = quotes.RESULTS_PAGE.read_text(encoding="utf-8")
    assert quotes.results_page(text) == text, (
        "docs/results.md's quick tables are not what reference/ makes: run `python -m helpers reference --tables`"
    )


def test_a_moved_reference_changes_its_row_and_a_stale_quote_is_named(tmp_path):
    """The generator reads the file, not a copy of its numbers: move one seed's number and the row moves;
    a page or lab that still quotes the old numbers is named with the sentence to write."""
    root = tmp_path / "reference"
    for path in REFERENCES:
        (root / path.parent.name).mkdir(parents=True, exist_ok=True)
        (root / path.parent.name / path.name).write_bytes(path.read_bytes())
    ref_path = root / "quick-fashion-mnist" / "01_sanity_checks.json"
    ref = json.loads(ref_path.read_text())
    before = quotes.quick_table("fashion-mnist", root)
    ref["metrics"]["test_top1"]["values"][0] -= 0.05
    ref_path.write_text(json.dumps(ref))
    after = quotes.quick_table("fashion-mnist", root)
    (old,) = set(before.splitlines()) - set(after.splitlines())
    (new,) = set(after.splitlines()) - set(before.splitlines())
    assert old.startswith("| 01 |") and new.startswith("| 01 |") and old != new
    assert quotes.stale_quotes() == {}, quotes.stale_quotes()
    moved = root / "quick-fashion-mnist" / "07_vit.json"
    vit = json.loads(moved.read_text())
    for run in vit["runs"][0]["runs"]:
        run["test_top1"] -= 0.01
    moved.write_text(json.dumps(vit))
    problems = quotes.stale_quotes(root)
    assert set(problems) == {"lab 07's discussion"}, problems
    assert (
        "labs/07_vit.ipynb should quote 07_vit's quick reference as: the TU Wien ViT reached test"
        in (problems["lab 07's discussion"])
    )


@pytest.mark.parametrize("where", sorted(quotes.QUOTES))
def test_quoted_numbers_are_the_references(where):
    quote = quotes.QUOTES[where]
    ref = reference.find(quote.lab, quote.profile, quote.dataset)
    assert ref is not None, f"{where} quotes {quote.lab}'s {quote.profile} reference on {quote.dataset}: missing"
    assert quote.make(ref) in quotes.prose(REPO / quote.path), quotes.stale_quotes()[where]


def _lab_reference(root, lab: str, settings: dict[str, list[float]]) -> None:
    """A full CIFAR-10 reference of a lab that runs its settings × seeds inside one run, with these best-val
    values per seed (and a clean-train − val gap of each less 50 points)."""
    rows = [
        {"setting": name, "seed": seed, "best_val_top1": v, "gap": v - 0.5}
        for name, values in settings.items()
        for seed, v in enumerate(values)
    ]
    ref = {"lab": lab, "profile": "full", "dataset": "cifar10", "metrics": {}, "runs": [{"runs": rows}]}
    path = reference.path_for(lab, "full", "cifar10", root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(ref))


def test_the_report_table_sets_each_setting_against_its_own_labs_baseline(tmp_path):
    """The Duke rows come from the full references; each comparison is within one lab's run, and its verdict
    follows the seeds' ranges; a lab without a full reference says how to make one."""
    _lab_reference(
        tmp_path,
        "03_augmentation",
        {"none": [0.640, 0.650, 0.645], "crop+flip p=1": [0.700, 0.705, 0.710]},
    )
    _lab_reference(
        tmp_path,
        "04_batchnorm_swish",
        {
            "no BN, ReLU, lr 0.01": [0.700, 0.705, 0.710],
            "BN, ReLU, lr 0.01": [0.706, 0.709, 0.712],
            "BN, Swish, lr 0.1": [0.690, 0.692, 0.694],
        },
    )
    text = quotes.report_table(tmp_path)
    assert (
        "| 03 | SimpleNN, SGD lr 0.01, no augmentation (lab 03's baseline) | 66.1% | "
        "**64.5 ± 0.5%** (64.0 / 65.0 / 64.5) |" in text
    )
    assert "| 04 | crop + flip + BatchNorm + Swish, lr 0.1 | 72.6% | **69.2 ± 0.2%** (69.0 / 69.2 / 69.4) |" in text
    assert "augmentation +6.0 points (the report: +5.2), beyond the spread" in text
    assert "BatchNorm on top of augmentation +0.4 points (the report: +0.2), within the spread" in text
    assert "Swish at lr 0.1 against ReLU at lr 0.01 −1.7 points (the report: +1.1), beyond the spread" in text
    assert "not measured yet: step decay" in text
    assert "`python -m helpers reference 02 --profile full --seeds 1`" in text
    assert "gap at the last epoch, in points: 14.5 ± 0.5 without augmentation, 20.5 ± 0.5 with crop + flip" in text
    assert "Our means sit from" not in text and "points under the report's one run per setting" in text


def _sweep_reference(root, settings: dict[str, list[float | None]]) -> None:
    """A full CIFAR-10 reference of lab 05 with these best-val values per seed (None: the seed diverged); each
    run ends 2 points under its best epoch and trains to 20 points over it."""
    rows = [
        {"setting": name, "seed": seed, "status": "ok", "best_val_top1": v, "val_top1": v - 0.02, "train_top1": v + 0.2}
        if v is not None
        else {"setting": name, "seed": seed, "status": "diverged"}
        for name, values in settings.items()
        for seed, v in enumerate(values)
    ]
    recipe = {"lr_sweep": [1, 0.05, 0.01, 0.005], "l2_sweep": [0.001, 1e-05, 0.0]}
    run = {"seed_runs": rows, "config": {"recipe": recipe, "lr": 0.05, "weight_decay": 1e-4}}
    ref = {"lab": "05_regularization", "profile": "full", "dataset": "cifar10", "metrics": {}, "runs": [run]}
    path = reference.path_for("05_regularization", "full", "cifar10", root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(ref))


def test_the_sweep_table_names_the_best_setting_and_sets_the_reports_best_against_it(tmp_path):
    """Lab 05's sweeps: the best setting by mean, the others within or beyond its range, diverged seeds said,
    and the report's best against ours; without the reference, rows that say how to make it."""
    assert "no full reference yet (`python -m helpers reference 05 --profile full --seeds 1`)" in quotes.sweep_table(
        tmp_path
    )
    _sweep_reference(
        tmp_path,
        {
            "lr=1": [None, None, 0.10],
            "lr=0.05": [0.60, 0.61, 0.62],
            "lr=0.005": [0.64, 0.65, 0.66],
            "lr=0.01": [0.60, 0.61, 0.62],
            "L2=0.001": [0.62, 0.63, 0.64],
            "L2=1e-05": [0.60, 0.61, 0.63],
            "L2=0": [0.60, 0.60, 0.60],
        },
    )
    text = quotes.sweep_table(tmp_path)
    assert "best **0.005: 65.0 ± 1.0%** (64.0 / 65.0 / 66.0); under it beyond the spread: 1 diverged in 2 seeds" in text
    assert "0.05 61.0 ± 1.0, 0.01 61.0 ± 1.0 |" in text
    assert "best **0.001: 63.0 ± 1.0%** (62.0 / 63.0 / 64.0); within its spread: 1e-05 61.3 ± 1.5; under it" in text
    assert (
        "the report's best rate, 0.05, reaches 61.0 ± 1.0%, 4.0 points under our best, 0.005, beyond the spread" in text
    )
    assert "the report's best L2 strength, 1e-05, reaches 61.3 ± 1.5%, 1.7 points under our best, 0.001, within" in text
    assert "sits 2.0 points under the best epoch's" in text
    assert "in points, by L2 strength: 0.001 22.0 ± 0.0, 1e-05 22.0 ± 0.0, 0 22.0 ± 0.0." in text
    assert "lab 03's baseline again" not in text  # no lab 03 reference to set it against
    _lab_reference(tmp_path, "03_augmentation", {"none": [0.60, 0.61, 0.62]})
    assert "lab 03's baseline again (the same recipe, split and seeds): 60.0 / 61.0 / 62.0, the same to the digit" in (
        quotes.sweep_table(tmp_path)
    )
    _lab_reference(tmp_path, "03_augmentation", {"none": [0.60, 0.61, 0.63]})
    assert "60.0 / 61.0 / 62.0 against lab 03's 60.0 / 61.0 / 63.0." in quotes.sweep_table(tmp_path)
