"""ResNet-20 training throughput as a fraction of this machine's fp32 matmul throughput.

    python benchmarks/train_step.py [--device auto] [--batch-size 128] [--steps 20] [--repeats 3]

Both are measured in this run. First the machine's practical peak: fp32 matmuls at several sizes,
after a warm-up of about two seconds so the clock settles, each timed `--repeats` times; the peak
is the best of all of them, so the fraction below cannot be flattered by an underestimated peak
(a fraction above 1 would mean it was). Then ResNet-20 training steps (forward, backward, SGD
update) on 32x32 inputs, `--repeats` times per memory format (NCHW, channels_last). A step's FLOPs
are counted from the model's conv and linear layers (2 FLOPs per multiply-add; backward = 2x
forward), so `fraction = achieved training GFLOP/s / matmul GFLOP/s`, for the best repeat of the
faster format, with the spread (worst and best) over the repeats beside it. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from torch import nn

from helpers import runtime
from helpers.models.resnet import resnet20


def matmul_gflops(device: torch.device, n: int, repeats: int = 5) -> float:
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    a @ b
    with runtime.timed(device) as t:
        for _ in range(repeats):
            a @ b
    return 2 * n**3 * repeats / t.seconds / 1e9


def matmul_peak(device: torch.device, sizes=(1024, 2048, 4096), repeats: int = 3, warmup_s: float = 2.0) -> dict:
    """The best fp32 matmul GFLOP/s over `sizes` x `repeats`, after `warmup_s` of matmuls; every measurement too."""
    a = torch.randn(2048, 2048, device=device)
    end = time.perf_counter() + warmup_s
    while time.perf_counter() < end:
        a @ a
    runtime.synchronize(device)
    runs = {n: [matmul_gflops(device, n) for _ in range(repeats)] for n in sizes}
    return {
        "peak": max(max(v) for v in runs.values()),
        "by_size": {n: [round(g, 1) for g in v] for n, v in runs.items()},
    }


def forward_flops(model: nn.Module, x: torch.Tensor) -> int:
    """FLOPs of one forward pass (convs and linears: 2 per multiply-add)."""
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            k = module.weight[0].numel()  # in/groups * kh * kw
            total += 2 * output.numel() * k
        elif isinstance(module, nn.Linear):
            total += 2 * output.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return total


def train_images_per_second(device, batch_size: int, steps: int, channels_last: bool) -> float:
    torch.manual_seed(0)
    model = resnet20().to(device)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    x = torch.randn(batch_size, 3, 32, 32, device=device).contiguous(memory_format=fmt)
    y = torch.randint(0, 10, (batch_size,), device=device)

    def step():
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(3):  # warm-up
        step()
    with runtime.timed(device) as t:
        for _ in range(steps):
            step()
    return batch_size * steps / t.seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3, help="timings of each measurement; the best is used")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of matmuls before the peak is timed")
    args = parser.parse_args()
    device = runtime.pick_device(args.device)

    matmul = matmul_peak(device, repeats=args.repeats, warmup_s=args.warmup)
    peak = matmul["peak"]
    flops_per_image = 3 * forward_flops(resnet20(), torch.randn(1, 3, 32, 32))  # forward + 2x backward
    runs = {
        fmt: [
            train_images_per_second(device, args.batch_size, args.steps, fmt == "channels_last")
            for _ in range(args.repeats)
        ]
        for fmt in ("nchw", "channels_last")
    }
    speeds = {fmt: max(v) for fmt, v in runs.items()}
    best = max(speeds, key=speeds.get)
    achieved = speeds[best] * flops_per_image / 1e9
    spread = [round(min(runs[best]) * flops_per_image / 1e9 / peak, 3), round(achieved / peak, 3)]
    print(
        json.dumps(
            {
                "benchmark": "train_step",
                "machine": runtime.describe(device),
                "model": f"ResNet-20 (option A), SGD, batch {args.batch_size}",
                "matmul_gflops": round(peak, 1),
                "matmul_gflops_by_size": matmul["by_size"],
                "train_gflop_per_image": round(flops_per_image / 1e9, 4),
                "images_per_s": {k: [round(x, 1) for x in v] for k, v in runs.items()},
                "train_gflops": round(achieved, 1),
                "fraction_of_matmul": round(achieved / peak, 3),
                "fraction_spread": spread,
                "best_format": best,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
