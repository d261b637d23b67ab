"""fit, evaluate, checkpoints and resume, the divergence guard, schedules and metrics."""

from __future__ import annotations

import math

import pytest
import torch

from helpers import data, schedules
from helpers.errors import LabError
from helpers.loader import Augment, Loader
from helpers.metrics import accuracy, confusion_matrix, per_class_accuracy, topk_correct
from helpers.models.simple import SimpleNN
from helpers.training import Callback, Checkpoints, DivergenceGuard, History, StopAfter, evaluate, fit


@pytest.fixture(scope="module")
def toy():
    train, val, _ = data.split(data.synthetic(n_train=1200), val_size=300, seed=0)
    return train, val


def make_run(toy, seed=0, lr=0.05, dropout=0.2):
    train, val = toy
    torch.manual_seed(seed)
    model = SimpleNN(num_classes=10, in_channels=3, dropout=dropout)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)
    loaders = (
        Loader(train, batch_size=100, shuffle=True, augment=Augment(2, flip=True), seed=seed),
        Loader(val, batch_size=300),
    )
    return model, opt, *loaders


def test_fit_learns_a_learnable_problem(toy):
    model, opt, train, val = make_run(toy)
    before = evaluate(model, val)
    history = fit(model, train, val, epochs=4, optimizer=opt, progress=False)
    assert history.status == "ok" and len(history) == 4
    assert history["train_loss"][-1] < history["train_loss"][0] < before["loss"] + 0.1
    assert history.last()["val_top1"] > 0.8 > before["top1"] + 0.3
    assert set(history.rows[0]) >= {
        "epoch",
        "lr",
        "train_loss",
        "train_top1",
        "train_top5",
        "val_loss",
        "val_top1",
        "val_top5",
        "seconds",
        "peak_memory_mib",
    }
    assert history.to_frame().shape == (4, len(history.rows[0]))


def test_resume_after_interruption_gives_the_same_weights(toy, tmp_path):
    model, opt, train, val = make_run(toy, seed=3)
    fit(model, train, val, epochs=4, optimizer=opt, progress=False)
    expected = model.state_dict()

    class Interrupt(Exception):
        pass

    class Breaking(Loader):  # a loader whose third epoch is interrupted halfway
        def __iter__(self):
            for i, batch in enumerate(super().__iter__()):
                if self.epoch == 3 and i == 5:
                    raise Interrupt
                yield batch

    model, opt, _, val = make_run(toy, seed=3)
    train = Breaking(toy[0], batch_size=100, shuffle=True, augment=Augment(2, flip=True), seed=3)
    with pytest.raises(Interrupt):
        fit(model, train, val, epochs=4, optimizer=opt, progress=False, checkpoint_dir=tmp_path)
    assert len(History(**torch.load(tmp_path / "last.pt", weights_only=True)["history"])) == 2

    torch.manual_seed(999)  # a fresh process: different global RNG, fresh model and loader
    model, opt, train, val = make_run(toy, seed=123)
    history = fit(model, train, val, epochs=4, optimizer=opt, progress=False, checkpoint_dir=tmp_path)
    assert len(history) == 4
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, expected[name]), name


def test_checkpoints_round_trip_and_best_is_the_best_epoch(toy, tmp_path):
    model, opt, train, val = make_run(toy)
    history = fit(model, train, val, epochs=3, optimizer=opt, progress=False, checkpoint_dir=tmp_path)
    fresh = SimpleNN(num_classes=10, in_channels=3, dropout=0.2)
    epoch = Checkpoints(tmp_path).load_best(fresh)
    assert epoch == history.best()["epoch"]
    if epoch == 3:
        assert all(
            torch.equal(a, b) for a, b in zip(fresh.state_dict().values(), model.state_dict().values(), strict=True)
        )
    assert evaluate(fresh, val)["top1"] == pytest.approx(history.best()["val_top1"])
    assert not list(tmp_path.glob("*.tmp"))  # atomic writes leave nothing behind
    again = fit(model, train, val, epochs=3, optimizer=opt, progress=False, checkpoint_dir=tmp_path)
    assert again.rows == history.rows  # a finished run resumes as finished


def test_divergence_is_recorded_not_raised(toy, capsys):
    model, opt, train, val = make_run(toy, lr=1e6, dropout=0.0)
    history = fit(model, train, val, epochs=3, optimizer=opt, progress=False)
    assert history.diverged and "loss became" in history.message
    assert len(history) < 3
    assert "diverged" in capsys.readouterr().out


class CountReads(torch.overrides.TorchFunctionMode):
    """Counts the calls that make the host wait for the device: .item(), .tolist(), bool/int/float of a tensor."""

    READS = {
        torch.Tensor.item,
        torch.Tensor.tolist,
        torch.Tensor.__bool__,
        torch.Tensor.__int__,
        torch.Tensor.__float__,
        torch.Tensor.__index__,
        torch.Tensor.numpy,
    }

    def __init__(self):
        super().__init__()
        self.reads = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.reads += func in self.READS
        return func(*args, **(kwargs or {}))


def test_fit_reads_nothing_back_per_step(toy):
    """Sums and the divergence flag stay on the device: reads grow with epochs, not with steps."""
    train, val = toy
    counts = {}
    for batch in (100, 10):  # 9 and 90 steps per epoch
        torch.manual_seed(0)
        model = SimpleNN(num_classes=10, in_channels=3)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        with CountReads() as mode:
            fit(
                model,
                Loader(train, batch_size=batch),
                Loader(val, batch_size=300),
                epochs=2,
                optimizer=opt,
                progress=False,
                callbacks=[DivergenceGuard(every=1000)],
            )
        counts[batch] = mode.reads
    assert counts[10] == counts[100] < 30, f"host reads: {counts} (90 steps vs 9 steps per epoch)"


def test_divergence_within_the_check_window_stops_the_run(toy):
    model, opt, train, val = make_run(toy, lr=1e6, dropout=0.0)
    history = fit(model, train, val, epochs=3, optimizer=opt, progress=False, callbacks=[DivergenceGuard(every=3)])
    assert history.diverged and len(history) == 0 and "in epoch 1" in history.message


def test_schedules_change_lr_and_weight_decay_per_step(toy):
    model, opt, train, _ = make_run(toy)
    seen = []
    sched = schedules.StepDecay(every=5, gamma=0.5)
    wd = schedules.Warmup(steps=10)

    class Spy(torch.optim.SGD):
        def step(self, closure=None):
            seen.append((self.param_groups[0]["lr"], self.param_groups[0]["weight_decay"]))
            return super().step(closure)

    opt = Spy(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    fit(model, train, None, epochs=2, optimizer=opt, scheduler=sched, wd_schedule=wd, progress=False)
    assert [lr for lr, _ in seen[:11]] == pytest.approx([0.1] * 5 + [0.05] * 5 + [0.025])
    assert seen[0][1] == pytest.approx(1e-5) and seen[9][1] == pytest.approx(1e-4) and seen[15][1] == 1e-4


def test_schedule_values_at_known_steps():
    assert schedules.values(schedules.Constant(), 3) == [1, 1, 1]
    step = schedules.StepDecay(every=10, gamma=0.9)
    assert (step(0), step(9), step(10), step(25)) == pytest.approx((1, 1, 0.9, 0.81))
    assert schedules.MultiStep((50, 75))(49) == 1 and schedules.MultiStep((50, 75))(75) == pytest.approx(0.01)
    assert schedules.Exponential(0.5)(3) == 0.125
    cos = schedules.WarmupCosine(total=110, warmup=10)
    assert (cos(0), cos(4), cos(9)) == pytest.approx((0.1, 0.5, 1.0))
    assert (cos(10), cos(60), cos(110)) == pytest.approx((1.0, 0.5, 0.0))
    assert schedules.WarmupCosine(total=100, final=0.1)(100) == pytest.approx(0.1)
    lin = schedules.WarmupLinear(total=20, warmup=10)
    assert (lin(9), lin(15), lin(20)) == pytest.approx((1.0, 0.5, 0.0))
    assert schedules.Warmup(5)(0) == pytest.approx(0.2) and schedules.Warmup(5)(100) == 1
    assert schedules.values(schedules.Exponential(0.5), 3, base=0.1) == pytest.approx([0.1, 0.05, 0.025])


def test_schedule_errors():
    with pytest.raises(LabError, match="warmup must be in"):
        schedules.WarmupCosine(total=10, warmup=10)
    with pytest.raises(LabError, match="positive whole number"):
        schedules.StepDecay(every=0)


def test_metrics_against_hand_computed_cases():
    logits = torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    labels = torch.tensor([1, 1, 0, 2])
    # predictions 1, 0, 2, 0: only the first is right; top-2 sets {1,2}, {0,1}, {2,1}, {0,1}
    assert topk_correct(logits, labels, (1, 2)) == {1: 1, 2: 2}
    assert accuracy(logits, labels) == 0.25 and accuracy(logits, labels, k=5) == 1.0  # k capped at C
    cm = confusion_matrix(logits.argmax(1), labels, 3)
    assert cm.tolist() == [[0, 0, 1], [1, 1, 0], [1, 0, 0]]
    assert per_class_accuracy(logits.argmax(1), labels, 3).tolist() == [0.0, 0.5, 0.0]
    assert math.isnan(per_class_accuracy(torch.tensor([0]), torch.tensor([0]), 2)[1])


def test_history_save_and_load(tmp_path):
    h = History(rows=[{"epoch": 1, "val_top1": 0.5}, {"epoch": 2, "val_top1": 0.7}], status="ok")
    h.save(tmp_path / "h.json")
    assert History.load(tmp_path / "h.json") == h
    assert h.best()["epoch"] == 2 and h["val_top1"] == [0.5, 0.7] and History().best() == {}


def test_plots_return_figures_headless(toy):
    import matplotlib

    from helpers import plotting

    model, opt, train, val = make_run(toy)
    history = fit(model, train, val, epochs=1, optimizer=opt, progress=False)
    diverged = History(status="diverged")
    figures = [
        plotting.plot_history(history, history, labels=["a", "b"]),
        plotting.show_images(toy[0].images[:10], toy[0].labels[:10], toy[0].classes),
        plotting.plot_schedules({"cos": schedules.WarmupCosine(100, 10)}, 100, base=0.1, steps_per_epoch=10),
        plotting.plot_runs({"ok": history, "lr=1": diverged}),
        plotting.weight_histograms({"a": model, "b": SimpleNN()}),
        plotting.plot_confusion(torch.eye(10, dtype=torch.long) * 5, toy[0].classes),
    ]
    assert all(isinstance(f, matplotlib.figure.Figure) for f in figures)
    labels = [t.get_text() for t in figures[3].axes[0].get_legend().get_texts()]
    assert labels == ["ok", "lr=1 (diverged)"]


@pytest.mark.parametrize(
    ("capability", "expected"),
    [((9, 0), torch.bfloat16), ((8, 0), torch.bfloat16), ((7, 5), torch.float16), ((6, 0), torch.float16)],
)
def test_mixed_precision_fits_the_gpu(monkeypatch, capability, expected):
    """bf16 where the GPU has it (A100/H100: 8.0+), fp16 (with a scaler in fit) on a T4 (7.5); none on the CPU."""
    from helpers.training import amp_dtype, autocast

    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    assert amp_dtype(torch.device("cuda")) == expected
    assert amp_dtype(torch.device("cpu")) is None and amp_dtype(torch.device("mps")) is None
    with autocast(torch.device("cpu")):
        assert torch.ones(2, 2).matmul(torch.ones(2, 2)).dtype == torch.float32


def test_fit_logs_each_epoch_to_a_hook_and_to_tensorboard(toy, tmp_path, monkeypatch):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    model, opt, train, val = make_run(toy)
    rows = []
    history = fit(model, train, val, epochs=2, optimizer=opt, progress=False, logger=rows.append)
    assert rows == history.rows
    monkeypatch.setenv("LABS_TENSORBOARD", str(tmp_path))
    history = fit(model, train, val, epochs=2, optimizer=opt, progress=False, desc="seed 0, lr=0.05")
    (run,) = tmp_path.iterdir()
    assert run.name.startswith("seed-0-lr=0.05-")
    events = EventAccumulator(str(run))
    events.Reload()
    assert {"train/loss", "val/top1", "lr", "seconds"} <= set(events.Tags()["scalars"])
    logged = [(e.step, e.value) for e in events.Scalars("val/top1")]
    assert logged == [(r["epoch"], pytest.approx(r["val_top1"])) for r in history.rows]


def _dataset(split, n: int) -> torch.utils.data.TensorDataset:
    mean, std = torch.tensor(split.mean).view(1, -1, 1, 1), torch.tensor(split.std).view(1, -1, 1, 1)
    return torch.utils.data.TensorDataset((split.images[:n].float() / 255 - mean) / std, split.labels[:n])


def test_fit_trains_through_a_plain_torch_dataloader_on_fashion_mnist(fmnist):
    """Any iterable of (x, y) batches: a torch DataLoader over real Fashion-MNIST, no course Loader."""
    torch.manual_seed(0)
    train = torch.utils.data.DataLoader(_dataset(fmnist.train, 6000), batch_size=100, shuffle=True)
    val = torch.utils.data.DataLoader(_dataset(fmnist.test, 2000), batch_size=500)
    model = SimpleNN(num_classes=10, in_channels=1)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    history = fit(model, train, val, epochs=2, optimizer=opt, progress=False)
    assert history.status == "ok" and len(history) == 2 and "train_top5" in history.rows[0]
    assert history.last()["val_top1"] > 0.7, history.rows  # chance is 0.1


def test_a_generator_of_batches_gets_a_clear_error_in_its_second_epoch(toy):
    model, opt, train, val = make_run(toy)
    with pytest.raises(LabError, match="no training batches came in epoch 2.*not a generator"):
        fit(model, (batch for batch in train), val, epochs=2, optimizer=opt, progress=False)


def test_callbacks_see_every_step_and_epoch_and_can_stop_the_run_mid_epoch(toy):
    """StopAfter ends the run mid-epoch (lab 08's 9.9 epochs): the partial epoch is recorded."""
    model, opt, train, val = make_run(toy)  # 9 steps per epoch

    class Count(Callback):
        steps = epochs = 0

        def on_step_end(self, run):
            self.steps += 1

        def on_epoch_end(self, run, row):
            self.epochs += 1

    count = Count()
    history = fit(model, train, val, epochs=3, optimizer=opt, progress=False, callbacks=[StopAfter(20), count])
    assert (count.steps, count.epochs, len(history)) == (20, 3, 3)
    assert history.status == "ok" and "val_top1" in history.last()


def test_a_penalty_is_trained_on_but_not_reported_in_the_validation_loss(toy):
    """train_loss includes the penalty (what the step minimises); val_loss is the plain loss."""
    model, opt, train, val = make_run(toy)
    history = fit(model, train, val, epochs=1, optimizer=opt, progress=False, penalty=lambda m: torch.tensor(5.0))
    assert history.status == "ok" and history.last()["train_loss"] > 5 > 3 > history.last()["val_loss"]


def test_a_history_of_top_one_only_has_the_same_numbers_without_train_top5(toy):
    """Lab 08's lean step records train_top1 with an argmax instead of a top-5: the same numbers, one key fewer."""
    from helpers.recipes import TopOneOnly

    runs = []
    for callbacks in ((), (TopOneOnly(),)):
        model, opt, train, val = make_run(toy)
        runs.append(fit(model, train, val, epochs=2, optimizer=opt, callbacks=callbacks, progress=False))
    full, lean = runs
    assert "train_top5" in full.rows[0] and "train_top5" not in lean.rows[0]
    timing = ("seconds", "peak_memory_mib")
    for a, b in zip(full.rows, lean.rows, strict=True):
        assert {k: v for k, v in a.items() if k not in ("train_top5", *timing)} == {
            k: v for k, v in b.items() if k not in timing
        }
