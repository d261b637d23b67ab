"""Training: `fit` and `evaluate`, the `History` they record, checkpoints and resume.

Introduced in lab 01 (a baseline run); schedules in lab 02, penalties in lab 05. `fit`:
- runs one progress bar per run (a widget in Jupyter, plain text lines in a papermill log);
- records per epoch: train/val loss, top-1 (and top-5 with more than 5 classes), learning
  rate, seconds and peak memory;
- applies a per-step schedule to the learning rate and one to the weight decay;
- stops a run whose loss turns NaN/inf and marks it `diverged` instead of raising, so a sweep
  goes on;
- with `checkpoint_dir`, writes `last.pt` after every epoch and `best.pt` at the best
  validation accuracy (atomically), and resumes from `last.pt` (loaded with weights_only=True);
- on CUDA, trains in mixed precision by default (`amp_dtype`): bfloat16 where the GPU supports it
  (compute capability 8.0+), float16 with a gradient scaler on older GPUs (Colab's T4).
"""

from __future__ import annotations

import json
import math
import os
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from helpers import runtime, tracking
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


def summary(histories: dict, test: dict | None = None):
    """One row per run: how it ended, its best and final val top-1, final train top-1, seconds.

    `test` optionally maps a run's name to its test metrics (from `evaluate`). Labs 02-05.
    """
    import pandas as pd

    rows = []
    for name, h in histories.items():
        last = h.last()
        row = {
            "run": str(name),
            "status": h.status,
            "epochs": len(h),
            "best_val_top1": h.best().get("val_top1", math.nan),
            "val_top1": last.get("val_top1", math.nan),
            "train_top1": last.get("train_top1", math.nan),
            "seconds": sum(h["seconds"]),
        }
        if test and name in test:
            row["test_top1"] = test[name]["top1"]
        rows.append(row)
    return pd.DataFrame(rows).set_index("run")


def amp_dtype(device: torch.device) -> torch.dtype | None:
    """The mixed precision that fits the device: bfloat16 on CUDA GPUs with native support (compute
    capability 8.0 and up: A100, H100, RTX 30xx and later), float16 on older ones (T4, V100: with a
    gradient scaler, as float16's range is narrow), None (float32) on the CPU and MPS."""
    if device.type != "cuda":
        return None
    major, _ = torch.cuda.get_device_capability(device)
    return torch.bfloat16 if major >= 8 else torch.float16


def autocast(device: torch.device, enabled: bool | None = None):
    """Autocast at `amp_dtype(device)` on CUDA (default on), nothing elsewhere."""
    dtype = amp_dtype(device)
    if enabled is False or dtype is None:
        return nullcontext()
    return torch.autocast("cuda", dtype=dtype)


@torch.no_grad()
def predict(model: nn.Module, loader, amp: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """All logits (N, classes) as float32 and labels (N,) of `loader`, in order (lab 01)."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    logits, labels = [], []
    with autocast(device, amp):
        for x, y in loader:
            logits.append(model(x).float())
            labels.append(y)
    model.train(was_training)
    return torch.cat(logits), torch.cat(labels)


def evaluate(model: nn.Module, loader, loss_fn=None, amp: bool | None = None) -> dict[str, float]:
    """Mean loss, top-1 and (with more than 5 classes) top-5 accuracy of `model` (lab 01)."""
    logits, labels = predict(model, loader, amp)
    loss = (loss_fn or nn.CrossEntropyLoss())(logits, labels).item()
    hits = topk_correct(logits, labels, (1, 5))
    out = {"loss": loss, "top1": hits[1] / len(labels)}
    if logits.shape[1] > 5:
        out["top5"] = hits[5] / len(labels)
    return out


class Tally:
    """What `fit` adds up over an epoch, kept on the device: each step's loss and whether the label
    was among its top-k logits (k = 5 with more than 5 classes, the history's train_top5, else 1).

    A step adds 4 ops (detach, topk, unsqueeze, eq; argmax and eq for k = 1) and nothing waits for
    the device: the host reads the losses at a divergence check and everything once per epoch.
    """

    def __init__(self):
        self.losses, self.sizes, self.hits = [], [], []

    def add(self, loss: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> None:
        self.k = 5 if logits.shape[1] > 5 else 1
        with torch.no_grad():
            self.losses.append(loss.detach())  # detached: the step's graph is freed
            self.sizes.append(len(y))
            if self.k == 1:
                self.hits.append(logits.argmax(1) == y)  # (B,)
            else:
                self.hits.append(logits.topk(self.k, dim=1).indices == y.unsqueeze(1))  # (B, k): rank of the hit

    def worst(self) -> float:
        """The largest loss of the epoch so far (NaN if any was NaN)."""
        return torch.stack(self.losses).max().item() if self.losses else 0.0

    def results(self) -> tuple[float, list[int]]:
        """(mean loss per example, [top-1 hits, top-k hits]) of the epoch so far."""
        seen = sum(self.sizes)
        losses = torch.stack(self.losses).float().tolist()
        ranks = torch.cat(self.hits).reshape(seen, -1).sum(0).tolist()  # hits at rank 1, 2, ..., k
        return sum(v * n for v, n in zip(losses, self.sizes, strict=True)) / seen, [ranks[0], sum(ranks)]


def fit(
    model: nn.Module,
    train,
    val=None,
    *,
    epochs: int,
    optimizer: torch.optim.Optimizer,
    scheduler=None,
    wd_schedule=None,
    loss_fn=None,
    penalty=None,
    checkpoint_dir: str | Path | None = None,
    amp: bool | None = None,
    explode: float = 10.0,
    after_step=None,
    progress: bool = True,
    desc: str = "train",
    extra_eval: dict | None = None,
    check_every: int = 50,
    logger=None,
) -> History:
    """Train `model` for `epochs` passes over `train`, evaluating on `val` after each (lab 01).

    scheduler: a per-step multiplier of each group's initial lr (see helpers.schedules), or a
        torch LR scheduler, stepped once per batch.
    wd_schedule: a per-step multiplier of each group's initial weight decay (lab 02).
    penalty: `penalty(model) -> tensor` added to the loss, e.g. an L1 term (lab 05).
    checkpoint_dir: save `last.pt`/`best.pt` there and resume from `last.pt` if present.
    explode: the run counts as diverged when a batch's loss turns NaN/inf or exceeds
        `explode` x ln(classes) — an untrained classifier's loss — e.g. 23 for 10 classes.
        The check reads a flag kept on the device every `check_every` steps and at the end of each
        epoch, so a diverged run stops at most that many steps late; the epoch it diverged in is
        not recorded (its numbers would be meaningless).
    logger: called with each epoch's row after it is recorded (helpers.tracking); None: TensorBoard
        under $LABS_TENSORBOARD where that is set, else no logging.
    amp: mixed precision (`amp_dtype`); None: on where the device has it (CUDA), False: float32.
    after_step: called with the step number after every optimizer step (e.g. an EMA update, lab 08).
    extra_eval: {name: loader} evaluated after each epoch like `val`, recorded as `<name>_loss`,
        `<name>_top1`, ... (lab 03: clean training images, since `train_top1` is measured on the
        augmented batches while the model was still changing).
    """
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    device = next(model.parameters()).device
    for group in optimizer.param_groups:
        group.setdefault("initial_lr", group["lr"])
        group.setdefault("initial_weight_decay", group.get("weight_decay", 0.0))
    history, step = History(), 0
    ckpt = Checkpoints(checkpoint_dir) if checkpoint_dir else None
    if ckpt and ckpt.has_last():
        history, step = ckpt.resume(model, optimizer, train, scheduler)
    fp16 = amp is not False and amp_dtype(device) == torch.float16
    scaler = torch.amp.GradScaler("cuda") if fp16 else None
    own_logger = logger is None
    logger = tracking.from_env(desc) if own_logger else logger
    bar = progress_bar(epochs * len(train), desc, initial=step, disable=not progress)
    for epoch in range(len(history) + 1, epochs + 1):
        if history.diverged:
            break
        runtime.reset_peak_memory(device)
        start = time.perf_counter()
        model.train()
        # the step's numbers stay on the device; the host reads them once per epoch and the worst loss
        # every `check_every` steps, so the loop never waits for the device (no .item() per step)
        tally = Tally()
        lr = limit = None
        for i, (x, y) in enumerate(train, start=1):
            lr = apply_schedules(optimizer, scheduler, wd_schedule, step)
            with autocast(device, amp):
                logits = model(x)
                loss = loss_fn(logits, y)
                if penalty is not None:
                    loss = loss + penalty(model)
            limit = explode * math.log(logits.shape[1])
            tally.add(loss, logits, y)
            if i % check_every == 0 and _diverged(history, tally.worst(), limit, epoch, lr):
                break
            optimizer.zero_grad(set_to_none=True)
            if scaler is None:
                loss.backward()
                optimizer.step()
            else:  # float16: scale the loss so small gradients survive; a step with inf/NaN gradients is skipped
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            if scheduler is not None and hasattr(scheduler, "step"):
                scheduler.step()
            step += 1
            if after_step is not None:
                after_step(step)
            bar.update()
        if not history.diverged and limit is not None:
            _diverged(history, tally.worst(), limit, epoch, lr)  # the steps since the last look
        if history.diverged:
            break
        seen = sum(tally.sizes)
        train_loss, (top1, top5) = tally.results()
        row = {"epoch": epoch, "lr": lr, "train_loss": train_loss, "train_top1": top1 / seen}
        if len(train.classes) > 5:
            row["train_top5"] = top5 / seen
        if val is not None:
            row.update({f"val_{k}": v for k, v in evaluate(model, val, loss_fn, amp).items()})
        for name, loader in (extra_eval or {}).items():
            row.update({f"{name}_{k}": v for k, v in evaluate(model, loader, loss_fn, amp).items()})
        runtime.synchronize(device)
        row["seconds"] = time.perf_counter() - start
        row["peak_memory_mib"] = runtime.peak_memory_mib(device)
        history.rows.append(row)
        if logger is not None:
            logger(row)
        bar.set_postfix({k: f"{row[k]:.3f}" for k in ("train_loss", "val_top1") if k in row})
        if ckpt:
            ckpt.save(model, optimizer, train, scheduler, history, step)
    bar.close()
    if own_logger and logger is not None:
        logger.close()
    if history.diverged:
        print(f"{desc}: diverged — {history.message}")
    return history


def _diverged(history: History, value: float, limit: float, epoch: int, lr) -> bool:
    """The worst loss past `limit`, or NaN or inf: mark the run diverged."""
    if value <= limit:
        return False
    history.status = "diverged"
    became = "NaN or inf" if not math.isfinite(value) else f"{value:.4g}"
    history.message = f"loss became {became} (limit {limit:.3g}) in epoch {epoch} at lr {lr:g}; this run stopped there"
    return True


def apply_schedules(optimizer, scheduler, wd_schedule, step: int) -> float:
    """Set each group's lr and weight decay for this step; return the first group's lr."""
    for group in optimizer.param_groups:
        if scheduler is not None and not hasattr(scheduler, "step"):
            group["lr"] = group["initial_lr"] * scheduler(step)
        if wd_schedule is not None:
            group["weight_decay"] = group["initial_weight_decay"] * wd_schedule(step)
    return optimizer.param_groups[0]["lr"]


def progress_bar(total: int, desc: str, initial: int = 0, disable: bool = False):
    """A widget bar in Jupyter; plain text (every 10 s) when run headless by the runner."""
    if os.environ.get("LABS_HEADLESS"):
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, initial=initial, disable=disable, mininterval=10, ascii=True)
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, initial=initial, disable=disable, mininterval=0.5)


class Checkpoints:
    """`last.pt` (everything needed to resume) and `best.pt` (weights at the best val top-1)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def has_last(self) -> bool:
        return (self.folder / "last.pt").exists()

    def save(self, model, optimizer, train, scheduler, history: History, step: int) -> None:
        state = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "history": history.to_dict(),
            "step": step,
            "rng": torch.get_rng_state(),
        }
        if hasattr(train, "state_dict"):
            state["loader"] = train.state_dict()
        if hasattr(scheduler, "state_dict"):
            state["scheduler"] = scheduler.state_dict()
        if torch.cuda.is_available():
            state["cuda_rng"] = torch.cuda.get_rng_state_all()
        runtime.atomic_write(self.folder / "last.pt", lambda tmp: torch.save(state, tmp))
        if history.best().get("epoch") == history.last().get("epoch"):
            best = {"model": model.state_dict(), "epoch": history.last()["epoch"]}
            runtime.atomic_write(self.folder / "best.pt", lambda tmp: torch.save(best, tmp))

    def resume(self, model, optimizer, train, scheduler) -> tuple[History, int]:
        state = torch.load(self.folder / "last.pt", weights_only=True, map_location="cpu")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
        if "cuda_rng" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        if "loader" in state and hasattr(train, "load_state_dict"):
            train.load_state_dict(state["loader"])
        if "scheduler" in state and hasattr(scheduler, "load_state_dict"):
            scheduler.load_state_dict(state["scheduler"])
        history = History(**state["history"])
        print(f"resumed from {self.folder / 'last.pt'} after epoch {len(history)}")
        return history, state["step"]

    def load_best(self, model) -> int:
        """Load the best epoch's weights into `model`; return that epoch."""
        state = torch.load(self.folder / "best.pt", weights_only=True, map_location="cpu")
        model.load_state_dict(state["model"])
        return state["epoch"]
