"""Runtime: seeding, device choice, determinism, and measuring time and memory.

Introduced in lab 01 (sanity checks). Every lab calls `seed_everything` and `pick_device`
first and prints `describe()` so an executed notebook says where and how it ran.
"""

from __future__ import annotations

import os
import platform
import random
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from helpers.errors import LabError

DEVICES = ("auto", "cpu", "cuda", "mps")


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices); return a CPU generator seeded the same.

    Lab 01. Same seed on the same machine gives the same numbers: together with
    `set_deterministic` this is what makes a smoke run reproducible for nbval.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise LabError(f"seed must be a non-negative integer, got {seed!r}.")
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 -- the global generator is what student code uses
    torch.manual_seed(seed)  # seeds CUDA and MPS generators too
    return torch.Generator().manual_seed(seed)


def set_deterministic(enabled: bool = True) -> None:
    """Ask torch for deterministic kernels (lab 01); on CUDA this may cost some speed."""
    torch.backends.cudnn.deterministic = enabled
    torch.backends.cudnn.benchmark = not enabled
    if enabled:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(enabled, warn_only=True)


def set_threads(n: int | None = None) -> int:
    """Use `n` CPU threads for torch ops (default: all cores). Returns the number in use."""
    if n is not None:
        torch.set_num_threads(max(1, int(n)))
    return torch.get_num_threads()


def pick_device(name: str = "auto") -> torch.device:
    """Resolve a device name (lab 01). `auto` picks cuda, then mps, then cpu.

    Asking for a device this machine does not have is an error that says what it does have.
    `cpu-strict` runs on the CPU but raises where CUDA or MPS would (helpers/course/devicecheck.py).
    """
    name = (name or "auto").lower()
    if name == "cpu-strict":
        from helpers.course import devicecheck  # the course's CI tool: loaded only when asked for

        return devicecheck.enable()
    kind = name.split(":")[0]
    if kind not in DEVICES:
        raise LabError(f"Unknown device {name!r}. Valid: {', '.join(DEVICES)} (or cuda:N, cpu-strict).")
    available = available_devices()
    if kind == "auto":
        return torch.device(available[0])
    if kind not in available:
        raise LabError(
            f"Device {name!r} is not available on this machine; available: "
            f"{', '.join(available)}. Use device='auto' to pick the best one."
        )
    return torch.device(name)


def available_devices() -> list[str]:
    """Devices usable here, best first."""
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        found.append("mps")
    return [*found, "cpu"]


def has_float64(device: torch.device) -> bool:
    """Whether `device` computes in float64: not MPS (nor `cpu-strict`, which stands in for it)."""
    strict = sys.modules.get("helpers.course.devicecheck")  # loaded only by device="cpu-strict" (the tests)
    return device.type != "mps" and not (strict and strict.active() and device == strict.LAB_DEVICE)


def device_name(device: torch.device) -> str:
    """A human-readable name: the GPU model or the CPU architecture."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple GPU (mps)"
    return f"CPU {platform.machine()} x{os.cpu_count()} ({torch.get_num_threads()} threads)"


def versions() -> dict[str, str]:
    """Versions of the pieces that change results: Python, torch, torchvision, NumPy."""
    import torchvision

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "numpy": np.__version__,
        "cuda": torch.version.cuda or "none",
    }


def describe(device: torch.device) -> str:
    """One line on the environment, printed at the top of every lab."""
    v = versions()
    return (
        f"torch {v['torch']} | torchvision {v['torchvision']} | python {v['python']} | "
        f"device {device.type}: {device_name(device)}"
    )


def reset_peak_memory(device: torch.device) -> None:
    """Start a new peak-memory measurement (CUDA only; the CPU peak is per process)."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_mib(device: torch.device) -> float:
    """Peak memory in MiB: allocated GPU memory on CUDA, else the process's peak RSS."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    try:
        import resource  # POSIX only
    except ImportError:  # Windows
        return float("nan")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if platform.system() == "Darwin" else rss / 2**10  # bytes vs KiB


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so a timer measures the work and not its launch."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


class Timer:
    """Wall-clock seconds, accumulated over `with timer:` blocks; syncs the device first."""

    def __init__(self, device: torch.device | None = None):
        self.device = device or torch.device("cpu")
        self.seconds = 0.0

    def __enter__(self) -> Timer:
        synchronize(self.device)
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        synchronize(self.device)
        self.seconds += time.perf_counter() - self._start


@contextmanager
def timed(device: torch.device | None = None):
    """`with timed() as t: ...` then `t.seconds`."""
    timer = Timer(device)
    with timer:
        yield timer


def atomic_write(path: str | Path, write) -> Path:
    """Call `write(tmp_path)`, then rename onto `path`: a crash never leaves half a file behind.

    Used for dataset caches, checkpoints and results files.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path
