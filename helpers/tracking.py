"""Experiment tracking: a hook in `fit` that receives each epoch's row, and TensorBoard behind it.

`fit(..., logger=callable)` calls `logger(row)` after every epoch with the row it records
(epoch, lr, train_loss, train_top1, val_loss, val_top1, seconds, ...). With no logger passed,
`fit` uses `from_env(desc)`: a `TensorBoard` logger writing under `$LABS_TENSORBOARD` when that
variable names a folder (works offline: `tensorboard --logdir $LABS_TENSORBOARD`), else nothing.
Any other tracker plugs into the same hook, e.g. Weights & Biases, which the TU Wien report used:

    run = wandb.init(project="labs", config=cfg.to_dict())
    fit(model, train, val, epochs=..., optimizer=opt, logger=lambda row: wandb.log(row, step=row["epoch"]))
"""

from __future__ import annotations

import math
import os
import re
import time
from pathlib import Path


class TensorBoard:
    """Write each epoch's numbers as TensorBoard scalars in `log_dir/run` ("train_loss" -> "train/loss")."""

    def __init__(self, log_dir: str | Path, run: str):
        from torch.utils.tensorboard import SummaryWriter

        self.path = Path(log_dir) / run
        self.writer = SummaryWriter(log_dir=str(self.path))

    def __call__(self, row: dict) -> None:
        step = int(row.get("epoch", 0))
        for key, value in row.items():
            if key != "epoch" and isinstance(value, (int, float)) and math.isfinite(value):
                self.writer.add_scalar(
                    key.replace("_", "/", 1) if key.startswith(("train_", "val_")) else key, value, step
                )
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


def run_name(desc: str) -> str:
    """A folder name for one run: its description, made safe, and the time it started."""
    safe = re.sub(r"[^A-Za-z0-9._=-]+", "-", desc).strip("-") or "run"
    return f"{safe}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"


def from_env(desc: str):
    """The logger `fit` uses when none is given: TensorBoard under $LABS_TENSORBOARD, or None."""
    folder = os.environ.get("LABS_TENSORBOARD", "").strip()
    return TensorBoard(folder, run_name(desc)) if folder else None
