"""What `fit` costs beyond the model: `fit` vs a bare training loop, same model, batches and steps.

    python benchmarks/fit_overhead.py [--model simplenn|resnet20] [--device auto] [--images 10000] [--repeats 3]

The bare loop is forward, cross-entropy, zero_grad, backward, SGD step, and nothing else. `fit`
adds what makes a run a lab's run: per-step schedules, the divergence guard, loss and top-k sums
kept on the device, a progress bar (off here), and one read-back per epoch. Neither evaluates
(val=None), so the ratio is the loop's own overhead. Each is timed `--repeats` times, alternating,
from fresh weights; the best of each is compared, and so is each repeat's pair (fit's time over the
bare loop's run just before it), whose median and range show how far the machine's noise reaches.
Where that noise is larger than the overhead (a 2-core machine: ±10% between runs), the third
measurement resolves it: fit's per-step bookkeeping alone (schedules, the device-side loss, worst-loss
and top-k sums), repeated over one batch's logits, timed against the bare step. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F

from helpers import data, runtime
from helpers.loader import Loader
from helpers.models.resnet import resnet20
from helpers.models.simple import SimpleNN
from helpers.schedules import WarmupCosine
from helpers.training import Tally, apply_schedules, fit


def bare(model, loader, opt, device) -> float:
    start = time.perf_counter()
    for x, y in loader:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    runtime.synchronize(device)
    return time.perf_counter() - start


def with_fit(model, loader, opt, device) -> float:
    start = time.perf_counter()
    history = fit(model, loader, None, epochs=1, optimizer=opt, progress=False)
    runtime.synchronize(device)
    assert history.status == "ok"
    return time.perf_counter() - start


def bookkeeping(model, loader, opt, device, steps: int) -> float:
    """Seconds per step of what `fit` does around the model each step (its loop, minus forward,
    backward and the optimizer step), on one real batch: the cost the wall-clock ratio cannot resolve."""
    x, y = next(iter(loader))
    with torch.no_grad():
        logits = model(x)
    loss = F.cross_entropy(logits, y)
    schedule = WarmupCosine(total=steps, warmup=steps // 10)
    tally = Tally()
    runtime.synchronize(device)
    start = time.perf_counter()
    for step in range(1, steps + 1):  # the lines of fit's inner loop other than the model's
        apply_schedules(opt, schedule, None, step)
        tally.add(loss, logits, y)
        if step % 50 == 0:
            tally.worst()
    tally.results()
    runtime.synchronize(device)
    return (time.perf_counter() - start) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="simplenn", choices=("simplenn", "resnet20"))
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    device = runtime.pick_device(args.device)
    ds = data.load(args.dataset)
    split = ds.train.subset(torch.arange(args.images))
    loader = Loader(split, batch_size=args.batch_size, device=device)
    build = {
        "simplenn": lambda: SimpleNN(10, ds.shape[0]),
        "resnet20": lambda: resnet20(num_classes=10, in_channels=ds.shape[0]),
    }[args.model]
    times = {"bare": [], "fit": []}
    for repeat in range(args.repeats + 1):  # the first round warms up and is not counted
        for name, run in (("bare", bare), ("fit", with_fit)):
            torch.manual_seed(repeat)
            model = build().to(device)
            opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
            seconds = run(model, loader, opt, device)
            if repeat:
                times[name].append(seconds)
    best = {k: min(v) for k, v in times.items()}
    for group in opt.param_groups:
        group.setdefault("initial_lr", group["lr"])
        group.setdefault("initial_weight_decay", group.get("weight_decay", 0.0))
    per_step = min(bookkeeping(model, loader, opt, device, steps=2000) for _ in range(3))
    bare_step = best["bare"] / len(loader)
    paired = [f / b - 1 for f, b in zip(times["fit"], times["bare"], strict=True)]
    print(
        json.dumps(
            {
                "benchmark": "fit_overhead",
                "machine": runtime.describe(device),
                "model": args.model,
                "images": args.images,
                "batch_size": args.batch_size,
                "steps": len(loader),
                "bare_seconds": [round(t, 3) for t in times["bare"]],
                "fit_seconds": [round(t, 3) for t in times["fit"]],
                "overhead": round(best["fit"] / best["bare"] - 1, 4),
                "paired_overhead_median": round(statistics.median(paired), 4),
                "paired_overhead_range": [round(min(paired), 4), round(max(paired), 4)],
                "bare_step_ms": round(bare_step * 1e3, 3),
                "bookkeeping_step_ms": round(per_step * 1e3, 4),
                "bookkeeping_overhead": round(per_step / bare_step, 4),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
