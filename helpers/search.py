"""Hyperparameter search with Optuna, on one machine or many (lab 13).

The TU Wien report tuned its ViT with 83 runs of a W&B random sweep, coarse then fine. Here
the same job is done with Optuna: a *search space* (what to try and on which scale), a
*sampler* (random search, or TPE that learns from the trials so far), a *pruner* (early
stopping for trials that trail the others at the same epoch), and a *study* that holds every
trial in a database:

- SQLite in `results/` by default: embedded, nothing to install, and resumable — rerunning
  the lab or the command continues the study instead of starting over;
- PostgreSQL (or any database SQLAlchemy reaches) when many workers on many machines share
  one study: `python -m helpers sweep 01 --storage postgresql://... --trials 200 --workers 4`
  on each machine. Workers coordinate through the database alone; no scheduler of our own.

A worker that dies mid-trial (a killed process, a lost machine) stops sending heartbeats; the
next worker to start a trial marks that trial failed and queues it again with the parameters
it had drawn (Optuna's `RetryHeartbeatStaleTrialCallback`), so no trial of the budget is lost.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import torch
from torch import nn

from helpers import config, runtime
from helpers.data import load_splits
from helpers.errors import LabError, did_you_mean
from helpers.loader import Loader
from helpers.models.simple import SimpleNN
from helpers.models.tuwien_cnn import TuWienCNN
from helpers.models.vit import ViT
from helpers.training import fit, progress_bar

HEARTBEAT_SECONDS = 2  # a running trial writes a heartbeat this often ...
GRACE_SECONDS = 10  # ... and counts as dead after this long without one
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


@dataclass(frozen=True)
class Param:
    """One dimension of a search space: `log` and `float` are ranges, `int` too, `choice` a list."""

    kind: str  # log, float, int or choice
    low: float | None = None
    high: float | None = None
    choices: tuple | None = None

    def suggest(self, trial: optuna.Trial, name: str):
        if self.kind == "log":
            return trial.suggest_float(name, self.low, self.high, log=True)
        if self.kind == "float":
            return trial.suggest_float(name, self.low, self.high)
        if self.kind == "int":
            return trial.suggest_int(name, int(self.low), int(self.high))
        return trial.suggest_categorical(name, list(self.choices))


# What each sweepable lab's model is tuned over, and why each range:
SPACES: dict[str, dict[str, Param]] = {
    # SimpleNN with SGD, as in labs 01-05: lr spans two decades around lab 05's best (0.05)
    "01_sanity_checks": {
        "lr": Param("log", 1e-3, 0.3),
        "momentum": Param("float", 0.5, 0.95),
        "weight_decay": Param("log", 1e-6, 1e-2),  # Duke's L2 sweep covered 1e-5 ... 1e-2
        "batch_size": Param("choice", choices=(64, 128, 256)),
    },
    # the ViT of lab 07 with AdamW: TU Wien's best lr (3.65e-4) and wd (0.1) sit inside the ranges
    "07_vit": {
        "lr": Param("log", 1e-4, 1e-2),
        "weight_decay": Param("log", 1e-3, 0.3),
        "depth": Param("int", 2, 4),
        "dim": Param("choice", choices=(32, 64)),
        "batch_size": Param("choice", choices=(64, 128)),
    },
    # the TU Wien report's CNN (§6.1.2): its batch sizes and dropout rates; it also tuned the three conv
    # widths and the two MLP widths without listing the options, so those choices are ours
    "tu_wien_cnn": {
        "batch_size": Param("choice", choices=(128, 256, 512)),
        "dropout": Param("choice", choices=(0.3, 0.5, 0.7)),
        "conv1": Param("choice", choices=(16, 32)),
        "conv2": Param("choice", choices=(32, 64)),
        "conv3": Param("choice", choices=(64, 128)),
        "fc1": Param("choice", choices=(128, 256, 512)),
        "fc2": Param("choice", choices=(64, 128)),
    },
}
# The TU Wien CNN's optimizer: AdamW at PyTorch's defaults. The report fixed AdamW for its sweeps ("the
# optimizer used was not important") and does not give the CNN's lr, so lr and decay are not searched.
CNN_ADAMW = {"lr": 1e-3, "weight_decay": 0.01}


def space_for(lab: str) -> dict[str, Param]:
    """The search space of a lab's model; a LabError listing the sweepable labs otherwise."""
    if lab not in SPACES:
        raise LabError(f"Lab {lab!r} has no search space. Sweepable: {', '.join(SPACES)}." + did_you_mean(lab, SPACES))
    return SPACES[lab]


def check_space(space: dict[str, Param], lab: str) -> None:
    """Every name in `space` is one the lab's model and optimizer take; else a LabError naming it."""
    valid = set(SPACES.get(lab, {})) | {"lr", "weight_decay", "batch_size", "momentum", "epochs"}
    unknown = sorted(set(space) - valid)
    if unknown:
        raise LabError(
            f"Unknown parameter(s) {', '.join(unknown)} in the search space of {lab}. "
            f"Valid: {', '.join(sorted(valid))}." + did_you_mean(unknown[0], valid)
        )


def suggest(trial: optuna.Trial, space: dict[str, Param]) -> dict:
    """One point of `space`, drawn by the trial's sampler."""
    return {name: param.suggest(trial, name) for name, param in space.items()}


def build(
    lab: str, params: dict, in_channels: int, num_classes: int, device, image_size: int = 32
) -> tuple[nn.Module, torch.optim.Optimizer]:
    """The model and optimizer of one trial (`image_size`: the side of the square images, for the CNN's MLP)."""
    if lab == "tu_wien_cnn":
        model = TuWienCNN(
            num_classes,
            in_channels,
            image_size=image_size,
            convs=(params.get("conv1", 32), params.get("conv2", 64), params.get("conv3", 128)),
            hidden=(params.get("fc1", 256), params.get("fc2", 128)),
            dropout=params.get("dropout", 0.5),
        ).to(device)
        opt = torch.optim.AdamW(
            model.parameters(),
            lr=params.get("lr", CNN_ADAMW["lr"]),
            weight_decay=params.get("weight_decay", CNN_ADAMW["weight_decay"]),
        )
        return model, opt
    if lab == "07_vit":
        dim = params.get("dim", 64)
        model = ViT(
            num_classes=num_classes,
            in_channels=in_channels,
            dim=dim,
            depth=params.get("depth", 4),
            num_heads=2,
            patch_size=8,
            window_size=2,
        ).to(device)
        opt = torch.optim.AdamW(model.parameters(), lr=params["lr"], weight_decay=params.get("weight_decay", 0.05))
        return model, opt

    model = SimpleNN(num_classes=num_classes, in_channels=in_channels).to(device)
    opt = torch.optim.SGD(
        model.parameters(),
        lr=params["lr"],
        momentum=params.get("momentum", 0.9),
        weight_decay=params.get("weight_decay", 0.0),
    )
    return model, opt


def objective(lab: str, cfg, device, suggest_fn: Callable | None = None, space: dict | None = None) -> Callable:
    """`objective(trial) -> best validation top-1` for a lab's model, on `cfg`'s data and epochs.

    Each epoch's validation accuracy is reported to the trial, so a pruner can stop a trial that
    trails the others; a diverged run fails its trial (NaN) instead of stopping the study.
    """

    space = space or space_for(lab)
    suggest_fn = suggest_fn or (lambda trial: suggest(trial, space))
    ds, train_set, val_set, _ = load_splits(cfg)
    val = Loader(val_set, batch_size=1000, device=device)

    def run(trial: optuna.Trial) -> float:
        params = suggest_fn(trial)
        torch.manual_seed(cfg.seed + trial.number)
        model, opt = build(lab, params, ds.shape[0], len(ds.train.classes), device, image_size=ds.shape[-1])
        train = Loader(
            train_set,
            batch_size=int(params.get("batch_size", cfg.batch_size)),
            shuffle=True,
            device=device,
            seed=cfg.seed + trial.number,
        )
        best = 0.0
        for epoch in range(cfg.epochs):
            history = fit(model, train, val, epochs=1, optimizer=opt, progress=False)
            if history.diverged:
                trial.set_user_attr("diverged", history.message)
                return math.nan
            best = max(best, history.last()["val_top1"])
            trial.report(history.last()["val_top1"], epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return best

    return run


# ---------------------------------------------------------------- studies and their storage


def default_storage(results_dir: str | Path) -> str:
    """SQLite in the results folder: embedded, and rerunning continues the study."""
    folder = Path(results_dir) / "13_hparam_search"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'studies.db'}"


def _storage(url: str) -> optuna.storages.RDBStorage:
    given = url
    if url.startswith(("postgresql://", "postgres://")):  # SQLAlchemy's default driver is psycopg2; ours is psycopg 3
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)  # heartbeats: stable in use
    engine = {"connect_args": {"connect_timeout": 5}} if url.startswith("postgresql") else {}
    try:
        return optuna.storages.RDBStorage(
            url,
            engine_kwargs=engine,
            heartbeat_interval=HEARTBEAT_SECONDS,
            grace_period=GRACE_SECONDS,
            heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=3),
        )
    except ModuleNotFoundError as err:
        raise LabError(
            f"The storage {url.split(':')[0]!r} needs the Python package {err.name!r}: pip install it."
        ) from None
    except Exception as err:  # SQLAlchemy's errors: bad URL, server down, wrong password, ...
        reason = str(getattr(err, "orig", None) or err).strip().splitlines()[0][:200]
        raise LabError(
            f"Cannot open the study storage {_safe(given)}: {reason}. Check the URL (e.g. "
            "postgresql://user:password@host:5432/dbname or sqlite:///path/studies.db), that the server "
            "runs and accepts connections from this machine, and that the database exists."
        ) from None


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    head, sep, tail = url.partition("@")
    return (head.rsplit(":", 1)[0] + ":***@" + tail) if sep and head.count(":") >= 2 else url


def open_study(
    lab: str, storage: str, name: str | None = None, sampler: str = "tpe", seed: int = 0, space: dict | None = None
) -> optuna.Study:
    """Create the study, or load it to continue; a LabError if it belongs to another lab or space.

    A study is never deleted or overwritten: rerunning adds trials to it.
    """
    space = space or space_for(lab)
    check_space(space, lab)
    samplers = {"tpe": optuna.samplers.TPESampler, "random": optuna.samplers.RandomSampler}
    if sampler not in samplers:
        raise LabError(f"Unknown sampler {sampler!r}. Valid: {', '.join(samplers)}." + did_you_mean(sampler, samplers))
    name = name or f"{lab}-{sampler}"
    described = json.dumps({k: asdict(v) for k, v in space.items()}, sort_keys=True, default=list)
    study = optuna.create_study(
        study_name=name,
        storage=_storage(storage),
        direction="maximize",
        load_if_exists=True,
        sampler=samplers[sampler](seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=1),
    )
    attrs = study.user_attrs
    if not attrs:
        study.set_user_attr("lab", lab)
        study.set_user_attr("space", described)
        study.set_user_attr("sampler", sampler)
    elif attrs.get("lab") != lab:
        raise LabError(
            f"Study {name!r} in {_safe(storage)} was created for lab {attrs.get('lab')!r}, not {lab!r}; "
            "pick another --study name."
        )
    elif attrs.get("space") != described:
        raise LabError(
            f"Study {name!r} was created with another search space; its trials would not compare. "
            "Pick another --study name."
        )
    return study


def finished(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=FINISHED))


def optimize(study: optuna.Study, objective_fn: Callable, trials: int, desc: str | None = None) -> None:
    """Run trials until the study holds `trials` finished ones (counting every worker's).

    With `desc`, a progress bar counts the finished trials, with the best value so far and how
    many the pruner stopped."""

    done = finished(study)
    if done >= trials and not _waiting(study):
        return
    budget = optuna.study.MaxTrialsCallback(trials, states=FINISHED)
    bar = progress_bar(trials, desc or "", initial=min(done, trials), disable=desc is None)

    def show(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        bar.n = min(trials, finished(study))
        pruned = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.PRUNED,)))
        best = max(
            (t.value for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))),
            default=float("nan"),
        )
        bar.set_postfix(best=f"{best:.4f}", pruned=pruned)

    try:
        if done < trials:
            study.optimize(objective_fn, callbacks=[budget, show], gc_after_trial=False, show_progress_bar=False)
        # A dead worker's trial is retried even once the budget is met: the retry is already queued
        # (WAITING) with the parameters it drew, and optimize() takes queued trials first.
        while left := _waiting(study):
            study.optimize(objective_fn, n_trials=left, callbacks=[show], gc_after_trial=False, show_progress_bar=False)
    finally:
        bar.close()


def _waiting(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,)))


def _worker(lab: str, storage: str, name: str, sampler: str, trials: int, profile: str, seed: int) -> None:

    torch.set_num_threads(1)  # K workers share the machine's cores
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    cfg = config.resolve("13_hparam_search", profile, seed=seed)
    device = runtime.pick_device(cfg.device)
    study = open_study(lab, storage, name, sampler, seed=seed)
    optimize(study, objective(lab, cfg, device), trials)


def sweep(
    lab: str,
    storage: str,
    trials: int,
    workers: int = 1,
    *,
    name: str | None = None,
    sampler: str = "tpe",
    profile: str = "auto",
    seed: int = 0,
) -> optuna.Study:
    """`workers` processes on this machine run one study to `trials` finished trials.

    The same call on other machines, with the same storage and name, joins the same study.
    Trials left running by a dead worker are failed and retried once their heartbeat is stale.
    """
    if trials < 1 or workers < 1:
        raise LabError(f"--trials and --workers must be at least 1 (got {trials} and {workers}).")
    study = open_study(lab, storage, name, sampler, seed=seed)  # checks everything before any process starts
    args = (lab, storage, study.study_name, sampler, trials, profile)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(*args, seed + k), daemon=False) for k in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    _finish_orphans(study, args, seed)
    return study


def _finish_orphans(study: optuna.Study, args: tuple, seed: int) -> None:
    """Fail the trials a dead worker left running (once stale) and run their retries here."""
    running = optuna.trial.TrialState.RUNNING
    if study.get_trials(deepcopy=False, states=(running,)):
        time.sleep(GRACE_SECONDS + HEARTBEAT_SECONDS)
        optuna.storages.fail_stale_trials(study)
    if _waiting(study) or finished(study) < args[4]:
        _worker(*args, seed)


def summary(study: optuna.Study) -> dict:
    """Counts by state, the best trial, and where the study lives: what `sweep` prints."""
    counts: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        counts[t.state.name.lower()] = counts.get(t.state.name.lower(), 0) + 1
    done = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
    best = max(done, key=lambda t: t.value) if done else None
    return {
        "study": study.study_name,
        "lab": study.user_attrs.get("lab"),
        "trials": counts,
        "best_value": best.value if best else None,
        "best_params": best.params if best else None,
    }


def per_value(study: optuna.Study, name: str):
    """For each value the trials drew for `name`: how many finished, how many the pruner stopped, and
    the mean and best value of the completed ones (lab 13: the TU Wien CNN's dropout and batch size)."""
    rows = [
        {name: t.params[name], "pruned": t.state == optuna.trial.TrialState.PRUNED, "value": t.value}
        for t in study.get_trials(deepcopy=False, states=FINISHED)
        if name in t.params
    ]
    if not rows:
        return pd.DataFrame(columns=["trials", "pruned", "mean", "best"])
    df = pd.DataFrame(rows)
    done = df[~df["pruned"]].groupby(name)["value"]
    table = df.groupby(name).agg(trials=("value", "size"), pruned=("pruned", "sum"))
    return table.join(done.mean().rename("mean")).join(done.max().rename("best")).round(4)


# ---------------------------------------------------------------- plots


def plot_best_so_far(studies: dict[str, optuna.Study]):
    """The best value found after each finished trial, one line per study (lab 13)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for label, study in studies.items():
        values = [t.value for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        best = [max(values[: i + 1]) for i in range(len(values))]
        ax.plot(range(1, len(best) + 1), best, marker="o", ms=3, label=label)
    ax.set(xlabel="completed trial", ylabel="best val top-1 so far", title="search progress")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_importance_and_coordinates(study: optuna.Study):
    """Parameter importances (fANOVA) beside a parallel-coordinates plot of the trials (lab 13)."""
    import matplotlib.pyplot as plt

    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    names = list(done[0].params) if done else []
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [1, 2]})
    if len(done) >= 2:
        importance = optuna.importance.get_param_importances(
            study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0)
        )
        left.barh(list(importance)[::-1], list(importance.values())[::-1])
    left.set(title="importance (fANOVA)", xlabel="share of variance", ylabel="setting")
    space = {name: study.trials[0].distributions.get(name) for name in names} if done else {}
    columns = []
    for name in names:  # each axis scaled to [0, 1]: log axes in log space, choices by index
        dist, raw = space[name], [t.params[name] for t in done]
        if isinstance(dist, optuna.distributions.CategoricalDistribution):
            col = [dist.choices.index(v) / max(1, len(dist.choices) - 1) for v in raw]
        else:
            lo, hi, f = dist.low, dist.high, (np.log10 if getattr(dist, "log", False) else (lambda v: v))
            col = [(f(v) - f(lo)) / ((f(hi) - f(lo)) or 1) for v in raw]
        columns.append(col)
    values = [t.value for t in done]
    cmap, vmin, vmax = plt.get_cmap("viridis"), min(values, default=0), max(values, default=1)
    for k in np.argsort(values):
        right.plot(
            range(len(names)), [c[k] for c in columns], color=cmap((values[k] - vmin) / ((vmax - vmin) or 1)), alpha=0.8
        )
    right.set_xticks(
        range(len(names)), [f"{n}\n({'log' if getattr(space[n], 'log', False) else 'lin'})" for n in names]
    )
    right.set(
        title="trials across the settings (colour: val top-1)",
        xlabel="setting (axis: its search range)",
        ylabel="low → high",
        yticks=[],
    )
    fig.colorbar(plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(vmin, vmax)), ax=right, label="val top-1")
    fig.tight_layout()
    return fig
