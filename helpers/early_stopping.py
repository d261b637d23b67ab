"""Early stopping around `fit`: stop when validation accuracy has not improved for `patience`
epochs, then restore the best epoch's weights (lab 10).

`fit` already writes `best.pt` at the best validation accuracy and resumes from `last.pt`;
`fit_early_stopping` calls it one epoch at a time on one checkpoint folder, asks `EarlyStopping`
after each epoch whether to go on, and at the end loads `best.pt` (`Checkpoints.load_best`).
"""

from __future__ import annotations

import contextlib
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

from helpers.training import Checkpoints, History, fit


@dataclass
class EarlyStopping:
    """Stop once `patience` epochs have passed since the best `key` (ties do not count as better)."""

    patience: int
    key: str = "val_top1"

    def epochs_since_best(self, history: History) -> int:
        values = history[self.key]
        best = max(range(len(values)), key=lambda i: (values[i], -i))  # the first epoch with the best value
        return len(values) - 1 - best

    def should_stop(self, history: History) -> bool:
        return len(history) > 0 and self.epochs_since_best(history) >= self.patience


def fit_early_stopping(
    model,
    train,
    val,
    *,
    max_epochs: int,
    patience: int,
    checkpoint_dir: str | Path,
    optimizer,
    verbose: bool = True,
    **fit_kwargs,
) -> tuple[History, dict]:
    """Train up to `max_epochs` with early stopping; leave `model` holding the best epoch's weights.

    Returns the history and {"stopped_epoch", "best_epoch", "early_stopped"}. The checkpoint
    folder starts empty (an old run's files there are removed).
    """
    folder = Path(checkpoint_dir)
    shutil.rmtree(folder, ignore_errors=True)
    stopper, history = EarlyStopping(patience), History()
    for epoch in range(1, max_epochs + 1):
        with contextlib.redirect_stdout(io.StringIO()):  # fit prints "resumed from ..." every epoch
            history = fit(
                model,
                train,
                val,
                epochs=epoch,
                optimizer=optimizer,
                checkpoint_dir=folder,
                progress=False,
                **fit_kwargs,
            )
        if history.diverged:
            print(f"diverged: {history.message}")
            break
        row = history.last()
        if verbose:
            print(
                f"epoch {epoch}: train loss {row['train_loss']:.4f}, val top-1 {row['val_top1']:.4f}, "
                f"epochs since the best {stopper.epochs_since_best(history)}"
            )
        if stopper.should_stop(history):
            break
    best_epoch = Checkpoints(folder).load_best(model)
    stopped = len(history)
    return history, {
        "stopped_epoch": stopped,
        "best_epoch": best_epoch,
        "early_stopped": stopped < max_epochs and not history.diverged,
    }
