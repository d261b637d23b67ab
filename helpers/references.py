"""Your run over the reference runs: where the same lab went in the course's measured runs.

Introduced in lab 01. The repository keeps the results of the runs the course quotes in
`reference/<profile>-<dataset>/<lab>.json` (made by `python -m helpers reference`, see
helpers/course/reference.py): each seed's per-epoch history, the recipe and the machine. A quick
run on a laptop stops after a few epochs; `plot_over_references` draws it over the reference
curves of the same lab and dataset (quick and, where measured, full), so you see where the longer
recipe goes.

    fig = plot_over_references(history, "01_sanity_checks", dataset=cfg.dataset)
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from helpers.config import PROFILES, REPO

# reference/ in a checkout; an installed package carries the same files as helpers/reference_runs (pyproject.toml)
REFERENCE_DIR = REPO / "reference" if (REPO / "reference").is_dir() else Path(__file__).parent / "reference_runs"
PROFILE_STYLE = {"smoke": ":", "quick": "--", "full": "-"}


def path_for(lab: str, profile: str, dataset: str, root: Path = REFERENCE_DIR) -> Path:
    """`reference/<profile>-<dataset>/<lab>.json` (a `folder:PATH` dataset is named by its folder)."""
    name = dataset.split(":", 1)[1].rstrip("/").rsplit("/", 1)[-1] if dataset.startswith("folder:") else dataset
    return Path(root) / f"{profile}-{name}" / f"{lab}.json"


def find(lab: str, profile: str, dataset: str, root: Path = REFERENCE_DIR) -> dict | None:
    """The reference of a lab in a profile and dataset, or None where none was made (or where the
    names, which may come from anyone's results file, are not a lab's, a profile's and a dataset's)."""
    if not (re.fullmatch(r"\d\d_\w+", str(lab)) and profile in PROFILES and re.fullmatch(r"[\w.:/-]+", str(dataset))):
        return None
    path = path_for(lab, profile, dataset, root)
    if ".." in path.relative_to(root).parts or not path.is_file():
        return None
    return json.loads(path.read_text())


def machine_line(ref: dict) -> str:
    """Where a reference was measured: the GPU's name, or `2-core <CPU model>, 2 thread(s)`."""
    m = ref.get("machine") or {}
    runs = ref.get("runs") or [{}]
    if m.get("gpu") and str(runs[0].get("device", "")).startswith("cuda"):
        return str(m["gpu"])
    return f"{m.get('cores', '?')}-core {m.get('cpu', 'CPU')}, {m.get('threads', '?')} thread(s)"


def reference_curves(
    lab: str, dataset: str, key: str = "val_top1", profiles=("quick", "full"), root: Path = REFERENCE_DIR
) -> list[tuple[str, str, list[tuple[list, list]]]]:
    """[(profile, label, [(epochs, values) per seed])] of the references of `lab` on `dataset`.

    label names the profile, dataset, seeds and machine, e.g. `quick, fashion-mnist, 3 seeds (2-core ...)`."""
    found = []
    for profile in profiles:
        ref = find(lab, profile, dataset, root)
        if ref is None:
            continue
        curves = []
        for run in ref.get("runs", []):
            rows = [r for r in run.get("history", []) if isinstance(r, dict) and key in r]
            curves.append(([r.get("epoch", i + 1) for i, r in enumerate(rows)], [r[key] for r in rows]))
        label = f"{profile}, {ref['dataset']}, {len(curves)} seed{'s' * (len(curves) != 1)} ({machine_line(ref)})"
        found.append((profile, label, curves))
    return found


def plot_over_references(
    history,
    lab: str,
    dataset: str,
    key: str = "val_top1",
    profiles=("quick", "full"),
    label: str = "your run",
    ax=None,
    title: str | None = None,
    root: Path = REFERENCE_DIR,
):
    """`key` per epoch of your run (a `History`), drawn over the reference runs of the same lab and
    dataset, one line style per profile (quick dashed, full solid), labelled by profile, dataset,
    seeds and machine. With no reference on this machine it draws your run alone and says so."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4)) if ax is None else (ax.figure, ax)
    curves = reference_curves(lab, dataset, key, profiles, root)
    for n, (profile, text, runs) in enumerate(curves):
        for i, (epochs, values) in enumerate(runs):
            ax.plot(
                epochs,
                [math.nan if v is None else v for v in values],
                PROFILE_STYLE.get(profile, "-"),
                color=f"C{n + 1}",
                alpha=0.6,
                linewidth=1,
                label=text if i == 0 else None,
            )
    ax.plot(history["epoch"], history[key], "-o", color="C0", markersize=3, linewidth=2, label=label)
    where = "" if curves else " (no reference runs of this lab and dataset here)"
    ax.set(xlabel="epoch", ylabel=key.replace("_", " "), title=(title or f"{lab}: {key.replace('_', ' ')}") + where)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
