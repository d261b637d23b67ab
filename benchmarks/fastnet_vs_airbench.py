"""Lab 08's recipe against airbench94 itself: same images, widths, epochs and batch, one process.

    python benchmarks/fastnet_vs_airbench.py PATH [--epochs 5] [--widths 32 64 64] [--seeds 0 1 2]

PATH: a checkout of https://github.com/KellerJordan/cifar10-airbench (or its `legacy/airbench94.py`
itself). Nothing of it is copied into this repository: the script is read from PATH and run here
with only its CUDA calls replaced, so it runs on the device this machine has —
`torch.load(map_location=cuda)` loads onto that device, `net.half().cuda()` becomes `.to(device)`,
its CUDA events become a wall clock with a synchronize, and, off CUDA, its float16 images become
float32 (half-precision convolutions are a GPU format). Its `hyp` takes the widths, epochs and
batch given here; everything else is airbench94's.

Both train on all 50,000 CIFAR-10 training images of this project's copy (`helpers data import
cifar10 PATH`) and are tested on its 10,000 test images, with TTA level 2. Times are each side's
own: airbench's `total_time_seconds` (whitening, training and the final TTA evaluation; its
per-epoch evaluation is not counted) and ours, measured the same way (`train_fastnet` with no
per-epoch validation). The runs alternate (airbench seed 0, ours seed 0, airbench seed 1, ...) so
that a machine slowing down hurts both. On CUDA one uncounted round of each runs first
(`--warmup`), so that cuDNN's autotuning and first-call costs are in neither side's times.
Prints JSON: every run, the means, and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path

import torch

from helpers import data, runtime
from helpers.errors import LabError
from helpers.recipes import FastRecipe, train_fastnet

HOW_TO_GET = """This benchmark needs airbench94's script, which is not part of this repository:
    git clone https://github.com/KellerJordan/cifar10-airbench
    python benchmarks/fastnet_vs_airbench.py cifar10-airbench"""

# (what the script says, what it runs here): each must occur exactly once, or the script has
# changed and the benchmark says so instead of comparing against something else.
CUDA_CALLS = [
    ("map_location=torch.device(gpu)", "map_location=_DEVICE"),
    ("net = net.half().cuda()", "net = net.to(_DEVICE, _DTYPE)"),
    ("self.images = (self.images.half() / 255)", "self.images = (self.images.to(_DTYPE) / 255)"),
    ("starter = torch.cuda.Event(enable_timing=True)", "starter = _Clock()"),
    ("ender = torch.cuda.Event(enable_timing=True)", "ender = _Clock()"),
]
SYNC = "torch.cuda.synchronize()"


class _Clock:
    """torch.cuda.Event's interface (record, elapsed_time in ms) on a wall clock with a synchronize."""

    device = torch.device("cpu")

    def record(self) -> None:
        runtime.synchronize(self.device)
        self.t = time.perf_counter()

    def elapsed_time(self, end: _Clock) -> float:
        return 1000 * (end.t - self.t)


def find_script(path: Path) -> Path:
    for candidate in (path, path / "legacy" / "airbench94.py", path / "airbench94.py"):
        if candidate.is_file():
            return candidate
    raise LabError(f"No airbench94 script at {path} (looked for legacy/airbench94.py in it).\n{HOW_TO_GET}")


def load_airbench(script: Path, device: torch.device) -> types.ModuleType:
    """airbench94's script as a module, with its CUDA calls replaced (see the docstring)."""
    source = script.read_text()
    for old, new in CUDA_CALLS:
        if source.count(old) != 1:
            raise LabError(f"{script} has changed: expected `{old}` once, found it {source.count(old)} times.")
        source = source.replace(old, new)
    source = source.replace(SYNC, "_synchronize()")
    module = types.ModuleType("airbench94")
    _Clock.device = device
    module.__dict__.update(
        _DEVICE=device,
        _DTYPE=torch.float16 if device.type == "cuda" else torch.float32,
        _Clock=_Clock,
        _synchronize=lambda: runtime.synchronize(device),
        __file__=str(script),
    )
    exec(compile(source, str(script), "exec"), module.__dict__)  # its __main__ block does not run
    return module


def write_airbench_data(ds: data.Dataset, folder: Path) -> None:
    """The dataset as airbench's CifarLoader reads it: uint8 images (N, H, W, C), labels, classes."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, s in (("train", ds.train), ("test", ds.test)):
        torch.save(
            {"images": s.images.permute(0, 2, 3, 1).contiguous(), "labels": s.labels, "classes": s.classes},
            folder / f"{name}.pt",
        )


def run_airbench(module: types.ModuleType, seed: int | str) -> dict:
    """One airbench94 run; its own accuracy and its own `total_time_seconds`. seed "warmup": its
    own warm-up run (random labels), as its script offers."""
    seen = {}
    printer = module.print_training_details

    def record(variables, is_final_entry):
        seen.update(variables)
        printer(variables, is_final_entry)

    module.print_training_details = record
    torch.manual_seed(seed if isinstance(seed, int) else 0)
    stdout, sys.stdout = sys.stdout, sys.stderr  # its table goes to stderr; stdout is the JSON
    try:
        acc = module.main(seed)
    finally:
        sys.stdout, module.print_training_details = stdout, printer
    return {"seed": seed, "test_top1_tta": acc, "seconds": seen["total_time_seconds"]}


def run_ours(recipe: FastRecipe, ds: data.Dataset, device: torch.device, seed: int) -> dict:
    res = train_fastnet(recipe, ds.train, None, ds.test, device=device, seed=seed, progress=False)
    return {
        "seed": seed,
        "test_top1_tta": res.test_top1,
        "test_top1": res.test_top1_no_tta,
        "seconds": res.train_seconds + res.eval_seconds,
    }


def summary(runs: list[dict]) -> dict:
    accs, secs = [r["test_top1_tta"] for r in runs], [r["seconds"] for r in runs]
    return {
        "mean_test_top1_tta": round(statistics.mean(accs), 4),
        "mean_seconds": round(statistics.mean(secs), 1),
        "runs": [{k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()} for r in runs],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, help="a checkout of KellerJordan/cifar10-airbench")
    parser.add_argument("--epochs", type=float, default=5.0)
    parser.add_argument("--widths", type=int, nargs=3, default=(32, 64, 64))
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--warmup",
        type=int,
        default=None,
        help="uncounted rounds first (airbench's own `main('warmup')`, ours on a spare "
        "seed), so that cuDNN's autotuning stays out of the times; default 1 on CUDA, 0 "
        "elsewhere",
    )
    parser.add_argument("--data-dir", default=None, help="where this project's CIFAR-10 copy is (default: data/)")
    args = parser.parse_args()
    if args.path is None:
        sys.exit(HOW_TO_GET)
    try:
        script = find_script(args.path.resolve())
        device = runtime.pick_device(args.device)
        module = load_airbench(script, device)
        ds = data.load("cifar10", args.data_dir)
    except LabError as err:
        sys.exit(str(err))
    module.hyp["opt"].update(train_epochs=args.epochs, batch_size=args.batch_size)
    module.hyp["net"]["widths"] = dict(zip(("block1", "block2", "block3"), args.widths, strict=True))
    recipe = FastRecipe(epochs=args.epochs, batch_size=args.batch_size, widths=tuple(args.widths))
    airbench, ours = [], []
    with tempfile.TemporaryDirectory() as tmp:
        write_airbench_data(ds, Path(tmp) / "cifar10")
        cwd = os.getcwd()
        os.chdir(tmp)  # airbench reads ./cifar10/{train,test}.pt
        try:
            warmup = args.warmup if args.warmup is not None else int(device.type == "cuda")
            for _ in range(warmup):
                run_airbench(module, "warmup")
                run_ours(recipe, ds, device, 10_000)
            for seed in args.seeds:
                airbench.append(run_airbench(module, seed))
                ours.append(run_ours(recipe, ds, device, seed))
                for name, runs in (("airbench94", airbench), ("ours", ours)):
                    print(
                        f"seed {seed} {name}: {runs[-1]['test_top1_tta']:.4f} in {runs[-1]['seconds']:.1f} s",
                        file=sys.stderr,
                    )
        finally:
            os.chdir(cwd)
    a, o = summary(airbench), summary(ours)
    print(
        json.dumps(
            {
                "benchmark": "fastnet_vs_airbench",
                "machine": runtime.describe(device),
                "threads": torch.get_num_threads(),
                "airbench_script": str(script),
                "settings": {
                    "epochs": args.epochs,
                    "widths": list(args.widths),
                    "batch_size": args.batch_size,
                    "warmup_rounds": warmup,
                    "images": len(ds.train),
                    "dtype": str(module._DTYPE),
                    "source": ds.source,
                },
                "airbench94": a,
                "ours": o,
                "accuracy_difference": round(o["mean_test_top1_tta"] - a["mean_test_top1_tta"], 4),
                "time_ratio": round(o["mean_seconds"] / a["mean_seconds"], 3),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
