"""Training: `fit` and `evaluate`, and the `History` they record.

Introduced in lab 01 (a baseline run with train/val curves). `fit` runs one progress bar per
run, records per-epoch train/val loss and accuracy, learning rate and seconds, and stops a
run whose loss turns NaN/inf, marking it `diverged` instead of raising, so a sweep goes on.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from helpers import runtime
from helpers.metrics import topk_correct


@dataclass
class History:
    """Per-epoch records of one run, and how the run ended (`ok` or `diverged`)."""

    rows: list[dict] = field(default_factory=list)  # one dict per epoch
    status: str = "ok"
    message: str = ""

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, key: str) -> list:
        """`history["val_top1"]`: that column, one value per epoch."""
        return [row.get(key, math.nan) for row in self.rows]

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"

    def best(self, key: str = "val_top1") -> dict:
        """The epoch row with the highest `key` (empty if nothing was recorded)."""
        rows = [r for r in self.rows if not math.isnan(r.get(key, math.nan))]
        return max(rows, key=lambda r: r[key]) if rows else {}

    def last(self) -> dict:
        return self.rows[-1] if self.rows else {}

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self.rows)

    def to_dict(self) -> dict:
        return asdict(self)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path: str | Path) -> History:
        return cls(**json.loads(Path(path).read_text()))


@torch.no_grad()
def evaluate(model: nn.Module, loader, loss_fn=None) -> dict[str, float]:
    """Mean loss, top-1 and top-5 accuracy (fractions) of `model` over `loader` (lab 01)."""
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    was_training = model.training
    model.eval()
    total, loss_sum, hits = 0, 0.0, {1: 0, 5: 0}
    for x, y in loader:
        logits = model(x)
        loss_sum += loss_fn(logits, y).item() * len(y)
        for k, v in topk_correct(logits, y, (1, 5)).items():
            hits[k] += v
        total += len(y)
    model.train(was_training)
    out = {"loss": loss_sum / total, "top1": hits[1] / total}
    if len(loader.classes) > 5:
        out["top5"] = hits[5] / total
    return out


def fit(model: nn.Module, train, val=None, *, epochs: int, optimizer: torch.optim.Optimizer,
        scheduler=None, loss_fn=None, progress: bool = True, desc: str = "train") -> History:  # fmt: skip
    """Train `model` for `epochs` over `train`, evaluating on `val` after each epoch (lab 01).

    `scheduler` (optional) is stepped once per batch. Returns a History; a NaN/inf loss ends
    the run early with `history.status == "diverged"`.
    """
    from tqdm.auto import tqdm

    loss_fn = loss_fn or nn.CrossEntropyLoss()
    device = next(model.parameters()).device
    history = History()
    bar = tqdm(total=epochs * len(train), desc=desc, disable=not progress, mininterval=1.0)
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        model.train()
        seen, loss_sum, correct = 0, 0.0, 0
        lr = optimizer.param_groups[0]["lr"]
        for x, y in train:
            logits = model(x)
            loss = loss_fn(logits, y)
            if not torch.isfinite(loss):
                history.status = "diverged"
                history.message = f"loss became {loss.item()} in epoch {epoch} (lr {lr:g}); run stopped"
                bar.close()
                return history
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            loss_sum += loss.item() * len(y)
            correct += int((logits.argmax(1) == y).sum())
            seen += len(y)
            bar.update()
        row = {"epoch": epoch, "lr": lr, "train_loss": loss_sum / seen, "train_top1": correct / seen}
        if val is not None:
            row.update({f"val_{k}": v for k, v in evaluate(model, val, loss_fn).items()})
        runtime.synchronize(device)
        row["seconds"] = time.perf_counter() - start
        history.rows.append(row)
        bar.set_postfix({k: f"{v:.3f}" for k, v in row.items() if k in ("train_loss", "val_top1")})
    bar.close()
    return history
