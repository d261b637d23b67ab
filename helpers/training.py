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
from helpers.errors import LabError
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
            logits.append(model(_to(x, device)).float())
            labels.append(_to(y, device))
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
    was among its top-k logits (k = 5 with more than 5 classes, the history's train_top5, else 1;
    `top` caps k: 1 records train_top1 only).

    A step adds 4 ops (detach, topk, unsqueeze, eq; 3 for k = 1: detach, argmax, eq) and nothing
    waits for the device: the host reads the losses at a divergence check and everything once per epoch.
    """

    def __init__(self, top: int = 5):
        self.top = top
        self.losses, self.sizes, self.hits = [], [], []

    def add(self, loss: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> None:
        self.classes = logits.shape[1]
        self.k = 5 if self.classes > 5 and self.top >= 5 else 1
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

    def row(self) -> dict:
        """The epoch's train_loss and train_top1 (and train_top5 with more than 5 classes)."""
        seen = sum(self.sizes)
        loss, (top1, topk) = self.results()
        return {"train_loss": loss, "train_top1": top1 / seen, **({"train_top5": topk / seen} if self.k == 5 else {})}


class Callback:
    """A hook into `fit`'s loop. Override the moments you need; `run` is the loop's state (`Run`).

    Each extra of the loop is one of these: schedules, the divergence guard, extra evaluations,
    checkpoints, loggers, the progress bar, early stopping (helpers.early_stopping), lab 08's
    Lookahead and step limit. A callback ends the run by setting `run.stop` (after the current
    step; the epoch so far is recorded), or marks it diverged (`run.history.status`: not recorded).
    """

    def on_fit_start(self, run: Run) -> None: ...
    def on_step_start(self, run: Run) -> None: ...
    def on_step_end(self, run: Run) -> None: ...
    def on_train_epoch_end(self, run: Run) -> None: ...  # before the evaluations
    def on_evaluate(self, run: Run, row: dict) -> None: ...  # add measurements to the epoch's row
    def on_epoch_end(self, run: Run, row: dict) -> None: ...  # the row as recorded
    def on_fit_end(self, run: Run) -> None: ...


@dataclass(eq=False)
class Run:
    """What `fit`'s callbacks see: the model and optimizer, the batches, the history so far, the
    optimizer steps taken (`step`), the epoch, the first group's lr at this step, and this epoch's
    `Tally`."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    train: object
    device: torch.device
    callbacks: list = field(default_factory=list)
    history: History = field(default_factory=History)
    step: int = 0
    epoch: int = 0
    lr: float | None = None
    tally: Tally | None = None
    train_top: int = 5  # the largest k of the training history's top-k (a callback may set 1: lab 08)
    stop: bool = False

    def emit(self, moment: str, *args) -> None:
        for callback in self.callbacks:
            getattr(callback, moment)(self, *args)


def fit(
    model: nn.Module,
    train,
    val=None,
    *,
    epochs: int,
    optimizer: torch.optim.Optimizer,
    loss_fn=None,
    scheduler=None,
    wd_schedule=None,
    penalty=None,
    extra_eval: dict | None = None,
    checkpoint_dir: str | Path | None = None,
    logger=None,
    callbacks=(),
    amp: bool | None = None,
    progress: bool = True,
    desc: str = "train",
) -> History:
    """Train `model` for `epochs` passes over `train` (any iterable of `(x, y)` batches, a
    `torch.utils.data.DataLoader` included), evaluating on `val` after each (lab 01).

    The loop is the one written in lab 01; each keyword below attaches one `Callback`:
    scheduler: a per-step multiplier of each group's initial lr (see helpers.schedules), or a
        torch LR scheduler, stepped once per batch (`Schedules`).
    wd_schedule: a per-step multiplier of each group's initial weight decay (lab 02; `Schedules`).
    penalty: `penalty(model) -> tensor` added to the loss, e.g. an L1 term (lab 05).
    extra_eval: {name: loader} evaluated after each epoch like `val`, recorded as `<name>_loss`,
        `<name>_top1`, ... (lab 03: clean training images, since `train_top1` is measured on the
        augmented batches while the model was still changing; `ExtraEval`).
    checkpoint_dir: save `last.pt`/`best.pt` there and resume from `last.pt` if present (`Checkpoints`).
    logger: called with each epoch's row after it is recorded (helpers.tracking); None: TensorBoard
        under $LABS_TENSORBOARD where that is set, else no logging (`Logger`).
    callbacks: more `Callback`s, run in order after those. A run counts as diverged when a batch's
        loss turns NaN/inf or exceeds 10 x ln(classes) (`DivergenceGuard`; pass one to change it).
    amp: mixed precision (`amp_dtype`); None: on where the device has it (CUDA), False: float32.
    """
    device = next(model.parameters()).device
    loss_fn = loss_fn or nn.CrossEntropyLoss()  # what the evaluations report
    train_loss = loss_fn if penalty is None else _with_penalty(loss_fn, penalty, model)  # what the step minimises
    extras = [Checkpoints(checkpoint_dir)] if checkpoint_dir else []  # first: resuming sets the step
    extras += [Schedules(scheduler, wd_schedule)] if scheduler is not None or wd_schedule is not None else []
    if not any(isinstance(c, DivergenceGuard) for c in callbacks):
        extras.append(DivergenceGuard())
    extras += [ExtraEval(extra_eval, loss_fn, amp)] if extra_eval else []
    after = [Logger(logger, desc), ProgressBar(epochs, desc, disable=not progress)]
    run = Run(model, optimizer, train, device, callbacks=[*extras, *callbacks, *after])
    step_optimizer = _stepper(optimizer, device, amp)
    run.emit("on_fit_start")
    for epoch in range(len(run.history) + 1, epochs + 1):
        run.epoch = epoch
        runtime.reset_peak_memory(device)
        start = time.perf_counter()
        model.train()
        run.tally = Tally(run.train_top)  # the steps' numbers stay on the device: the host reads them once per epoch
        for x, y in train:
            x, y = _to(x, device), _to(y, device)
            run.emit("on_step_start")
            run.lr = optimizer.param_groups[0]["lr"]
            with autocast(device, amp):
                logits = model(x)
                loss = train_loss(logits, y)
            run.tally.add(loss, logits, y)
            optimizer.zero_grad(set_to_none=True)
            step_optimizer(loss)
            run.step += 1
            run.emit("on_step_end")
            if run.stop or run.history.diverged:
                break
        run.emit("on_train_epoch_end")
        if run.history.diverged:
            break
        if not run.tally.sizes:
            raise LabError(
                f"fit: no training batches came in epoch {epoch}. Pass something that can be iterated again every "
                "epoch (a Loader, a torch DataLoader, a list of (x, y) batches), not a generator."
            )
        row = {"epoch": run.epoch, "lr": run.lr, **run.tally.row()}
        if val is not None:
            row.update({f"val_{k}": v for k, v in evaluate(model, val, loss_fn, amp).items()})
        run.emit("on_evaluate", row)
        runtime.synchronize(device)
        row["seconds"] = time.perf_counter() - start
        row["peak_memory_mib"] = runtime.peak_memory_mib(device)
        run.history.rows.append(row)
        run.emit("on_epoch_end", row)
        if run.stop:
            break
    run.emit("on_fit_end")
    if run.history.diverged:
        print(f"{desc}: diverged — {run.history.message}")
    return run.history


def _to(t, device: torch.device):
    """A DataLoader's batch to the model's device (the course's Loader already puts it there)."""
    return t.to(device, non_blocking=True) if isinstance(t, torch.Tensor) and t.device != device else t


def _with_penalty(loss_fn, penalty, model):
    return lambda logits, y: loss_fn(logits, y) + penalty(model)


def _stepper(optimizer, device: torch.device, amp: bool | None):
    """backward and step; in float16 (older GPUs) through a gradient scaler, so small gradients
    survive, and a step with inf/NaN gradients is skipped."""
    if amp is False or amp_dtype(device) != torch.float16:

        def step(loss):
            loss.backward()
            optimizer.step()

        return step
    scaler = torch.amp.GradScaler("cuda")

    def scaled_step(loss):
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    return scaled_step


class Schedules(Callback):
    """Before every step, set each group's lr to its initial lr x `lr(step)` and its weight decay to
    its initial weight decay x `wd(step)` (helpers.schedules); a torch LR scheduler given as `lr` is
    stepped after every step instead."""

    def __init__(self, lr=None, wd=None):
        self.lr, self.wd = lr, wd
        self.torch_scheduler = hasattr(lr, "step")

    def on_fit_start(self, run: Run) -> None:
        for group in run.optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
            group.setdefault("initial_weight_decay", group.get("weight_decay", 0.0))

    def on_step_start(self, run: Run) -> None:
        apply_schedules(run.optimizer, self.lr, self.wd, run.step)

    def on_step_end(self, run: Run) -> None:
        if self.torch_scheduler:
            self.lr.step()

    def state_dict(self) -> dict:
        return self.lr.state_dict() if self.torch_scheduler else {}

    def load_state_dict(self, state: dict) -> None:
        if self.torch_scheduler and state:
            self.lr.load_state_dict(state)


class DivergenceGuard(Callback):
    """Mark the run diverged when a batch's loss turns NaN/inf or exceeds `explode` x ln(classes),
    an untrained classifier's loss (23 for 10 classes), so a sweep goes on instead of raising.

    It reads the epoch's worst loss, kept on the device, every `every` steps and at the end of the
    epoch, so the loop never waits for the device; a diverged run stops at most that many steps
    late, and the epoch it diverged in is not recorded (its numbers would be meaningless)."""

    def __init__(self, explode: float = 10.0, every: int = 50):
        self.explode, self.every = explode, every

    def on_step_end(self, run: Run) -> None:
        if len(run.tally.sizes) % self.every == 0:
            self.check(run)

    def on_train_epoch_end(self, run: Run) -> None:
        if not run.history.diverged and run.tally.sizes:
            self.check(run)

    def check(self, run: Run) -> None:
        worst, limit = run.tally.worst(), self.explode * math.log(run.tally.classes)
        if worst <= limit:
            return
        became = "NaN or inf" if not math.isfinite(worst) else f"{worst:.4g}"
        run.history.status = "diverged"
        run.history.message = (
            f"loss became {became} (limit {limit:.3g}) in epoch {run.epoch} at lr {run.lr:g}; this run stopped there"
        )


class ExtraEval(Callback):
    """Evaluate more loaders after each epoch, like `val`: {name: loader} -> `<name>_top1`, ..."""

    def __init__(self, loaders: dict, loss_fn=None, amp: bool | None = None):
        self.loaders, self.loss_fn, self.amp = loaders, loss_fn, amp

    def on_evaluate(self, run: Run, row: dict) -> None:
        for name, loader in self.loaders.items():
            row.update({f"{name}_{k}": v for k, v in evaluate(run.model, loader, self.loss_fn, self.amp).items()})


class StopAfter(Callback):
    """End the run after `steps` optimizer steps in all, mid-epoch if need be (airbench's 9.9
    epochs, lab 08); the last, partial epoch is evaluated and recorded like the others."""

    def __init__(self, steps: int):
        self.steps = steps

    def on_step_end(self, run: Run) -> None:
        run.stop = run.stop or run.step >= self.steps


class Logger(Callback):
    """Call `logger(row)` with each recorded epoch (helpers.tracking); None: TensorBoard under
    $LABS_TENSORBOARD where that is set (closed at the end), else nothing."""

    def __init__(self, logger=None, desc: str = "train"):
        self.logger, self.desc, self.own = logger, desc, logger is None

    def on_fit_start(self, run: Run) -> None:
        if self.own:
            self.logger = tracking.from_env(self.desc)

    def on_epoch_end(self, run: Run, row: dict) -> None:
        if self.logger is not None:
            self.logger(row)

    def on_fit_end(self, run: Run) -> None:
        if self.own and self.logger is not None:
            self.logger.close()


class ProgressBar(Callback):
    """One bar per run, counting steps, with the last epoch's train loss and val top-1."""

    def __init__(self, epochs: int, desc: str = "train", disable: bool = False):
        self.epochs, self.desc, self.disable = epochs, desc, disable

    def on_fit_start(self, run: Run) -> None:
        per_epoch = len(run.train) if hasattr(run.train, "__len__") else None
        total = self.epochs * per_epoch if per_epoch is not None else None
        self.bar = progress_bar(total, self.desc, initial=run.step, disable=self.disable)

    def on_step_end(self, run: Run) -> None:
        self.bar.update()

    def on_epoch_end(self, run: Run, row: dict) -> None:
        self.bar.set_postfix({k: f"{row[k]:.3f}" for k in ("train_loss", "val_top1") if k in row})

    def on_fit_end(self, run: Run) -> None:
        self.bar.close()


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


class Checkpoints(Callback):
    """`last.pt` (everything needed to resume) after every epoch and `best.pt` (weights at the best
    val top-1), both written atomically; a run that finds `last.pt` resumes from it (loaded with
    weights_only=True): weights, optimizer, step, history, random state, the Loader's position and
    every callback's state (a torch LR scheduler's)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def has_last(self) -> bool:
        return (self.folder / "last.pt").exists()

    def on_fit_start(self, run: Run) -> None:
        if self.has_last():
            self.resume(run)

    def on_epoch_end(self, run: Run, row: dict) -> None:
        self.save(run)

    def save(self, run: Run) -> None:
        state = {
            "model": run.model.state_dict(),
            "optimizer": run.optimizer.state_dict(),
            "history": run.history.to_dict(),
            "step": run.step,
            "rng": torch.get_rng_state(),
            "callbacks": {type(c).__name__: c.state_dict() for c in _stateful(run)},
        }
        if hasattr(run.train, "state_dict"):
            state["loader"] = run.train.state_dict()
        if torch.cuda.is_available():
            state["cuda_rng"] = torch.cuda.get_rng_state_all()
        runtime.atomic_write(self.folder / "last.pt", lambda tmp: torch.save(state, tmp))
        history = run.history
        if history.best().get("epoch") == history.last().get("epoch"):
            best = {"model": run.model.state_dict(), "epoch": history.last()["epoch"]}
            runtime.atomic_write(self.folder / "best.pt", lambda tmp: torch.save(best, tmp))

    def resume(self, run: Run) -> None:
        state = torch.load(self.folder / "last.pt", weights_only=True, map_location="cpu")
        run.model.load_state_dict(state["model"])
        run.optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
        if "cuda_rng" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        if "loader" in state and hasattr(run.train, "load_state_dict"):
            run.train.load_state_dict(state["loader"])
        for callback in _stateful(run):
            callback.load_state_dict(state.get("callbacks", {}).get(type(callback).__name__, {}))
        run.history, run.step = History(**state["history"]), state["step"]
        print(f"resumed from {self.folder / 'last.pt'} after epoch {len(run.history)}")

    def load_best(self, model) -> int:
        """Load the best epoch's weights into `model`; return that epoch."""
        state = torch.load(self.folder / "best.pt", weights_only=True, map_location="cpu")
        model.load_state_dict(state["model"])
        return state["epoch"]


def _stateful(run: Run) -> list:
    return [c for c in run.callbacks if hasattr(c, "state_dict")]
