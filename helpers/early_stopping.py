"""Early stopping: a `fit` callback that ends the run when validation accuracy has not improved for
`patience` epochs; `fit_early_stopping` then restores the best epoch's weights (lab 10).

`fit(checkpoint_dir=...)` writes `best.pt` at the best validation accuracy; `EarlyStopping` sets
`run.stop` after the epoch that used up the patience, and `Checkpoints.load_best` loads `best.pt`.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from helpers.training import Callback, Checkpoints, History, fit


@dataclass
class EarlyStopping(Callback):
    """Stop once `patience` epochs have passed since the best `key` (ties do not count as better)."""

    patience: int
    key: str = "val_top1"
    verbose: bool = False

    def epochs_since_best(self, history: History) -> int:
        values = history[self.key]
        best = max(range(len(values)), key=lambda i: (values[i], -i))  # the first epoch with the best value
        return len(values) - 1 - best

    def should_stop(self, history: History) -> bool:
        return len(history) > 0 and self.epochs_since_best(history) >= self.patience

    def on_epoch_end(self, run, row: dict) -> None:
        if self.verbose:
            print(
                f"epoch {row['epoch']}: train loss {row['train_loss']:.4f}, val top-1 {row[self.key]:.4f}, "
                f"epochs since the best {self.epochs_since_best(run.history)}"
            )
        run.stop = run.stop or self.should_stop(run.history)


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
    stopper = EarlyStopping(patience, verbose=verbose)
    callbacks = [*fit_kwargs.pop("callbacks", ()), stopper]
    history = fit(
        model,
        train,
        val,
        epochs=max_epochs,
        optimizer=optimizer,
        checkpoint_dir=folder,
        callbacks=callbacks,
        progress=False,
        **fit_kwargs,
    )
    best_epoch = Checkpoints(folder).load_best(model)
    stopped = len(history)
    return history, {
        "stopped_epoch": stopped,
        "best_epoch": best_epoch,
        "early_stopped": stopped < max_epochs and not history.diverged,
    }
