"""Measuring a convolution layer: time, memory kept for backward, peak GPU memory (lab 09).

Lab 09 compares a Conv2D written with `unfold` (im2col) + matmul against `nn.Conv2d`. What can
be measured, and where:

- time of the forward pass and of forward + backward: everywhere (a median over a few repeats);
- the bytes autograd *saves for backward* (`saved_tensor_bytes`): everywhere, exactly — every
  tensor a layer keeps alive until `backward()`, each storage counted once;
- the peak memory a forward + backward adds: on CUDA only (`torch.cuda.max_memory_allocated`
  after a reset). On the CPU there is no per-run allocation peak to read (the process's peak
  RSS never goes down), so that column is NaN there.
"""

from __future__ import annotations

import statistics
import time

import pandas as pd
import torch
from torch import nn

from helpers import runtime

MIB = 2**20


def saved_tensor_bytes(fn, *args) -> tuple[torch.Tensor, int]:
    """Run `fn(*args)` and return (its output, bytes of the tensors autograd saved for backward).

    Each storage is counted once (a view of the input and the input itself share one).
    """
    storages: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn(*args)
    return out, sum(storages.values())


def _median_ms(fn, device: torch.device, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        runtime.synchronize(device)
        start = time.perf_counter()
        fn()
        runtime.synchronize(device)
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def measure_layer(layer: nn.Module, x: torch.Tensor, repeats: int = 3) -> dict[str, float]:
    """Forward and forward + backward time (ms), MiB saved for backward, and peak extra MiB (CUDA)."""
    device = x.device
    x = x.detach().requires_grad_(True)

    def forward():
        return layer(x)

    def forward_backward():
        layer(x).sum().backward()

    forward_backward()  # warm-up: allocator, kernels, lazy inits
    row = {
        "forward ms": _median_ms(forward, device, repeats),
        "fwd+bwd ms": _median_ms(forward_backward, device, repeats),
    }
    out, saved = saved_tensor_bytes(forward)
    del out
    row["saved for backward MiB"] = saved / MIB
    row["peak extra MiB"] = float("nan")
    if device.type == "cuda":
        layer.zero_grad(set_to_none=True)
        x.grad = None
        torch.cuda.synchronize(device)
        base = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        forward_backward()
        torch.cuda.synchronize(device)
        row["peak extra MiB"] = (torch.cuda.max_memory_allocated(device) - base) / MIB
    return row


def conv_table(layers: dict, sizes, device: torch.device, repeats: int = 3, kernel_size: int = 3) -> pd.DataFrame:
    """One row per (size, layer): `layers` maps a name to `make(channels) -> module`, a
    channels -> channels conv with `kernel_size` and padding kernel_size // 2.

    sizes: (batch, channels, height = width) triples.
    """
    rows = []
    for batch, channels, size in sizes:
        x = torch.randn(batch, channels, size, size, device=device)
        for name, make in layers.items():
            torch.manual_seed(0)
            layer = make(channels).to(device)
            rows.append(
                {"batch": batch, "channels": channels, "size": size, "layer": name, **measure_layer(layer, x, repeats)}
            )
    return pd.DataFrame(rows)


def train_steps(model: nn.Module, loader, steps: int, lr: float, momentum: float = 0.9) -> tuple[list[float], float]:
    """`steps` plain SGD steps on `loader`'s batches (cycling); (loss per step, seconds) (lab 09).

    Two models that start from the same weights and see the same batches should trace the same
    losses when they compute the same function: lab 09 compares its Conv2D with nn.Conv2d so.
    """
    device = next(model.parameters()).device
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    model.train()
    losses: list[float] = []
    with runtime.timed(device) as clock:
        while len(losses) < steps:
            for x, y in loader:
                loss = nn.functional.cross_entropy(model(x), y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                losses.append(loss.item())
                if len(losses) == steps:
                    break
    return losses, clock.seconds
