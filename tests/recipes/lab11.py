"""Seed recipe of lab 11: torchvision's ResNet18 on CIFAR-10 as the TU Wien report trained it, as
`python -m helpers config 11 --profile full` should print it. Not listed: the optimizer and learning rates (seed
003 used AdamW + ExponentialLR without stating the ResNet's lr; the lab uses SGD and says so), the halves
experiment's settings (ours), and the UW-Madison fine-tune (MiniPlaces, not CIFAR-10)."""

EXPECTED = {
    "full": {
        "dataset": "cifar10",  # the TU Wien report §4.1, §6.4.1: torchvision's ResNet18 on CIFAR-10, test accuracy 0.78
        "val_size": 10_000,  # the TU Wien report §2 (data): the 40,000/10,000/10,000 split of CIFAR-10
        "recipe.resnet18.epochs": 60,  # the TU Wien report §6.3.1: "We trained the ResNet model for 60 epochs"
    },
}
