"""Seed recipe of lab 10: the TU Wien report's test-set evaluation on lab 01's SimpleNN
recipe, as `python -m helpers config 10 --profile full` should print it. Not listed: the
patience (ours: the TU Wien report saved the best weights but did not stop early), lr and batch size (the Duke report
does not state them)."""

EXPECTED = {
    "full": {
        "dataset": "cifar10",  # the TU Wien report §2: CIFAR-10, "Test set: 10,000 samples"
        "val_size": 10_000,  # the TU Wien report §2: "Validation set: 10,000 samples"
        "epochs": 30,  # the Duke report lab 1(g): SimpleNN trained for 30 epochs (the most early stopping allows here)
    },
}
