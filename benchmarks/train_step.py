"""ResNet-20 training throughput as a fraction of this machine's fp32 matmul throughput.

    python benchmarks/train_step.py [--device auto] [--batch-size 128] [--steps 20]

Both are measured in this run: first a large fp32 matmul (the machine's practical peak), then
ResNet-20 training steps (forward, backward, SGD update) on 32x32 inputs. A step's FLOPs are
counted from the model's conv and linear layers (2 FLOPs per multiply-add; backward = 2x
forward), so `fraction = achieved training GFLOP/s / matmul GFLOP/s`. Prints JSON, with the
throughput in images/s for plain (NCHW) and channels_last memory formats.
"""

from __future__ import annotations

import argparse
import json

import torch
from torch import nn

from helpers import runtime
from helpers.models.resnet import resnet20


def matmul_gflops(device: torch.device, n: int = 4096, repeats: int = 10) -> float:
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    a @ b  # warm-up
    with runtime.timed(device) as t:
        for _ in range(repeats):
            a @ b
    return 2 * n**3 * repeats / t.seconds / 1e9


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
    args = parser.parse_args()
    device = runtime.pick_device(args.device)

    peak = matmul_gflops(device)
    flops_per_image = 3 * forward_flops(resnet20(), torch.randn(1, 3, 32, 32))  # forward + 2x backward
    speeds = {fmt: train_images_per_second(device, args.batch_size, args.steps, fmt == "channels_last")
              for fmt in ("nchw", "channels_last")}  # fmt: skip
    best = max(speeds, key=speeds.get)
    achieved = speeds[best] * flops_per_image / 1e9
    print(json.dumps({
        "benchmark": "train_step",
        "machine": runtime.describe(device),
        "model": f"ResNet-20 (option A), SGD, batch {args.batch_size}",
        "matmul_gflops": round(peak, 1),
        "train_gflop_per_image": round(flops_per_image / 1e9, 4),
        "images_per_s": {k: round(v, 1) for k, v in speeds.items()},
        "train_gflops": round(achieved, 1),
        "fraction_of_matmul": round(achieved / peak, 3),
        "best_format": best,
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
