"""Images per second: `Loader` (tensor ops, data on the device) vs a DataLoader doing the same
augmentation through PIL transforms (torchvision's usual pipeline), same data, same run.

    python benchmarks/loader.py [--dataset fashion-mnist] [--device auto] [--images 20000]

Both pipelines do: random crop 32 with 4-pixel zero padding, random horizontal flip, to float,
normalize, and deliver batches of 256 on the device. The DataLoader is measured with 0 and with
as many workers as there are cores, and the faster figure is the baseline. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os

import torch

from helpers import data, runtime
from helpers.loader import Augment, Loader, PILDataset, images_per_second, pil_transforms


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--images", type=int, default=20_000, help="images per measured epoch")
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()

    device = runtime.pick_device(args.device)
    ds = data.load(args.dataset)
    split = ds.train.subset(torch.arange(args.images))
    bs = args.batch_size

    loader = Loader(split, batch_size=bs, shuffle=True, augment=Augment(crop_padding=4, flip=True), device=device)
    next(iter(loader))  # warm-up
    ours = max(images_per_second(loader, device) for _ in range(3))

    pil = pil_transforms(split, crop_padding=4, flip=True)
    baseline = {}
    for workers in sorted({0, os.cpu_count() or 1}):
        dl = torch.utils.data.DataLoader(
            PILDataset(split, pil),
            batch_size=bs,
            shuffle=True,
            num_workers=workers,
            pin_memory=device.type == "cuda",
            persistent_workers=workers > 0,
        )
        images_per_second(dl, device)  # warm-up: workers start
        baseline[workers] = images_per_second(dl, device)
    best_workers = max(baseline, key=baseline.get)
    print(
        json.dumps(
            {
                "benchmark": "loader",
                "machine": runtime.describe(device),
                "dataset": args.dataset,
                "images": args.images,
                "batch_size": bs,
                "loader_images_per_s": round(ours),
                "dataloader_pil_images_per_s": {f"workers={w}": round(v) for w, v in baseline.items()},
                "ratio": round(ours / baseline[best_workers], 1),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
