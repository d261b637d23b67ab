"""The aten ops one training step of lab 08's recipe dispatches, against airbench94's own script.

    python benchmarks/fastnet_ops.py [PATH] [--batch-size 32] [--widths 8 16 16]

PATH: a checkout of https://github.com/KellerJordan/cifar10-airbench (or `legacy/airbench94.py`),
loaded as benchmarks/fastnet_vs_airbench.py loads it (nothing of it is copied here); without it,
only ours is counted. A `TorchDispatchMode` counts every aten op that reaches the dispatcher —
forward, backward, optimizer, data, bookkeeping: on a GPU each is at least one kernel launch, and
airbench's step is launch-bound — while each side trains `--epochs` epochs on the same generated
CIFAR-shaped data (3 x 32 x 32, 10 classes), at the same batch size and widths, with no evaluation
during training (ours: `train_fastnet` with val=None; airbench's per-epoch and final evaluations
are not counted). Per step is one steady-state epoch's ops over its steps: the 4th of 5, after
both freeze the whitening bias (3 epochs) and before the last; per-epoch work (shuffle, crop,
flip) is spread over its steps, as is the lookahead every 5 steps.

The count is exact and the same on every run and machine: it does not depend on the widths or the
batch size (small ones keep the run short), only on the steps per epoch, over which per-epoch
work is spread. The default keeps airbench94's 48 steps per epoch (its 50,000 images at batch
1024): `--images` defaults to 50,000 x batch / 1024. On the CPU both run in float32 (airbench's
float16 network is a GPU format). Prints JSON: each side's ops per step, by op, and per epoch.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fastnet_vs_airbench as side_by_side  # noqa: E402

from helpers import data, loader, recipes  # noqa: E402
from helpers.errors import LabError  # noqa: E402

MEASURED_EPOCH = 4  # 1-based: whitening bias frozen after 3, and not the last of EPOCHS
EPOCHS = 5


class OpCounter(TorchDispatchMode):
    """Counts the aten ops dispatched while `active`, per epoch (the training loader's passes)."""

    def __init__(self):
        super().__init__()
        self.active, self.epoch = False, 0
        self.ops: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
        self.steps: collections.Counter = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if self.active:
            self.ops[self.epoch][func.overloadpacket.__name__] += 1
        return func(*args, **(kwargs or {}))

    def counted(self, batches):
        """Wrap a training loader's pass: a new epoch starts, each batch is a step."""
        if not self.active:
            yield from batches
            return
        self.epoch += 1
        for batch in batches:
            self.steps[self.epoch] += 1
            yield batch

    def per_step(self, epoch: int) -> dict:
        ops, steps = self.ops[epoch], self.steps[epoch]
        return {
            "ops_per_step": round(sum(ops.values()) / steps, 2),
            "steps": steps,
            "ops": sum(ops.values()),
            "by_op": {k: round(v / steps, 2) for k, v in ops.most_common()},
            "per_epoch": [sum(self.ops[e].values()) for e in sorted(self.steps)],
        }


def count_ours(ds: data.Dataset, args) -> dict:
    """train_fastnet, counted inside `fit` only (whitening init and the final TTA evaluation are not)."""
    counter, fit, iterate = OpCounter(), recipes.fit, loader.Loader.__iter__

    def counted_fit(*a, **kw):
        counter.active = True
        try:
            return fit(*a, **kw)
        finally:
            counter.active = False

    recipe = recipes.FastRecipe(epochs=EPOCHS, batch_size=args.batch_size, widths=tuple(args.widths))
    recipes.fit, loader.Loader.__iter__ = counted_fit, lambda self: counter.counted(iterate(self))
    try:
        with counter:
            recipes.train_fastnet(recipe, ds.train, None, ds.test, device=torch.device("cpu"), seed=0, progress=False)
    finally:
        recipes.fit, loader.Loader.__iter__ = fit, iterate
    return counter.per_step(MEASURED_EPOCH)


def count_airbench(module, args) -> dict:
    """airbench94's `main`, counted from its start; its evaluations are not."""
    counter, evaluate, iterate = OpCounter(), module.evaluate, module.CifarLoader.__iter__

    def uncounted_evaluate(*a, **kw):
        counter.active = False
        try:
            return evaluate(*a, **kw)
        finally:
            counter.active = True

    module.hyp["opt"].update(train_epochs=EPOCHS, batch_size=args.batch_size)
    module.hyp["net"]["widths"] = dict(zip(("block1", "block2", "block3"), args.widths, strict=True))
    module.evaluate = uncounted_evaluate
    module.CifarLoader.__iter__ = lambda self: counter.counted(iterate(self))
    printer, module.print_training_details = module.print_training_details, lambda *a, **kw: None
    try:
        with counter:
            counter.active = True
            torch.manual_seed(0)
            module.main(0)
            counter.active = False
    finally:
        module.evaluate, module.CifarLoader.__iter__, module.print_training_details = evaluate, iterate, printer
    return counter.per_step(MEASURED_EPOCH)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, help="a checkout of KellerJordan/cifar10-airbench")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--images", type=int, default=None, help="default: 50,000 x batch / 1024, airbench's 48 steps per epoch"
    )
    parser.add_argument("--widths", type=int, nargs=3, default=(8, 16, 16))
    args = parser.parse_args(argv)
    images = args.images or 50_000 * args.batch_size // 1024
    if images // args.batch_size < 5:
        parser.error(f"--images {images} at --batch-size {args.batch_size} is under 5 steps per epoch")
    torch.set_num_threads(min(2, torch.get_num_threads()))
    ds = data.synthetic(n_train=images, n_test=200)
    result = {
        "benchmark": "fastnet_ops",
        "measured": f"epoch {MEASURED_EPOCH} of {EPOCHS}, ops per training step",
        "settings": {
            "batch_size": args.batch_size,
            "images": images,
            "widths": list(args.widths),
            "device": "cpu",
            "torch": torch.__version__,
        },
        "ours": count_ours(ds, args),
    }
    if args.path is not None:
        try:
            module = side_by_side.load_airbench(side_by_side.find_script(args.path.resolve()), torch.device("cpu"))
        except LabError as err:
            sys.exit(str(err))
        result["airbench_script"] = str(side_by_side.find_script(args.path.resolve()))
        with tempfile.TemporaryDirectory() as tmp:
            side_by_side.write_airbench_data(ds, Path(tmp) / "cifar10")
            cwd = os.getcwd()
            os.chdir(tmp)  # airbench reads ./cifar10/{train,test}.pt
            try:
                result["airbench94"] = count_airbench(module, args)
            finally:
                os.chdir(cwd)
        ours, theirs = result["ours"]["ops_per_step"], result["airbench94"]["ops_per_step"]
        result["ratio"] = round(ours / theirs, 3)
        result["difference_by_op"] = {
            k: round(result["ours"]["by_op"].get(k, 0) - result["airbench94"]["by_op"].get(k, 0), 2)
            for k in sorted(set(result["ours"]["by_op"]) | set(result["airbench94"]["by_op"]))
            if result["ours"]["by_op"].get(k, 0) != result["airbench94"]["by_op"].get(k, 0)
        }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
