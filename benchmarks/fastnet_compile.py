"""What `torch.compile` buys lab 08's fast net: `train_fastnet(compile=True)` vs eager, same recipe and data.

    python benchmarks/fastnet_compile.py [--dataset fashion-mnist] [--images 10240] [--epochs 3]
        [--widths 32 64 64] [--batch-size 1024] [--repeats 2] [--device auto]

Each repeat trains the recipe twice from the same seed, eager then compiled, without per-epoch
evaluation (as airbench times itself). The first epoch of the first compiled run includes the
compilation (TorchDynamo traces the forward and backward, Inductor generates and builds kernels:
C++ on a CPU, Triton on a GPU), so it is reported on its own: `compile_seconds` is that epoch
minus the eager run's first epoch, in this fresh process (later runs reuse the compiled code, as
the lab's ablation would). That first round is not counted otherwise. `speedup` compares the
epochs after the first of the counted repeats, the steady state that a long run is made of: best
eager seconds per epoch / best compiled seconds per epoch. Accuracies are printed too: compiled
kernels may round differently, so the two runs need not agree to the last image. Prints JSON.
"""

from __future__ import annotations

import argparse
import json

import torch

from helpers import data, runtime
from helpers.recipes import FastRecipe, train_fastnet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--images", type=int, default=10_240, help="training images (a multiple of the batch size)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--widths", type=int, nargs=3, default=(32, 64, 64))
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch of a compiled run is its compilation")

    device = runtime.pick_device(args.device)
    ds = data.load(args.dataset)
    train, test = ds.train.subset(torch.arange(args.images)), ds.test
    recipe = FastRecipe(epochs=args.epochs, batch_size=args.batch_size, widths=tuple(args.widths))
    runs, cold = {"eager": [], "compiled": []}, {}
    for repeat in range(args.repeats + 1):  # the first round compiles (and warms up); not counted
        for name in runs:
            res = train_fastnet(
                recipe, train, None, test, device=device, seed=0, progress=False, compile=name == "compiled"
            )
            epochs = list(res.history["seconds"])
            if not repeat:
                cold[name] = epochs[0]
                continue
            runs[name].append(
                {"epoch_seconds": [round(s, 2) for s in epochs], "test_top1_tta": round(res.test_top1, 4)}
            )
    later = {name: min(min(r["epoch_seconds"][1:]) for r in rs) for name, rs in runs.items()}
    print(
        json.dumps(
            {
                "benchmark": "fastnet_compile",
                "machine": runtime.describe(device),
                "threads": torch.get_num_threads(),
                "torch": torch.__version__,
                "settings": {
                    "dataset": ds.name,
                    "images": len(train),
                    "epochs": args.epochs,
                    "widths": list(args.widths),
                    "batch_size": args.batch_size,
                    "steps_per_epoch": len(train) // args.batch_size,
                },
                "eager": runs["eager"],
                "compiled": runs["compiled"],
                "compile_seconds": round(cold["compiled"] - cold["eager"], 1),
                "speedup": round(later["eager"] / later["compiled"], 3),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
