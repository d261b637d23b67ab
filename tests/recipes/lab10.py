"""Seed recipe of lab 10: the TU Wien report's test-set evaluation (seed 003) on lab 01's SimpleNN
recipe (seed 001), as `python -m helpers config 10 --profile full` should print it. Not listed: the
patience (ours: seed 003 saved the best weights but did not stop early), lr and batch size (seed 001
does not state them)."""

EXPECTED = {
    "full": {
        "dataset": "cifar10",  # seed 003 §2: CIFAR-10, "Test set: 10,000 samples"
        "val_size": 10_000,  # seed 003 §2: "Validation set: 10,000 samples"
        "epochs": 30,  # seed 001 lab 1(g): SimpleNN trained for 30 epochs (the most early stopping allows here)
    },
}
