"""Seed recipe of lab 01: the Duke ECE 661 report, lab 1, as `python -m helpers config 01 --profile full`
should print it. Not listed: lr, momentum, weight decay and batch size (the report says only "pre-defined
hyperparameters"), and the training-set size (the report does not say how it split CIFAR-10; the lab says
it trains on 40k with a 10k validation split)."""

EXPECTED = {
    "full": {
        "dataset": "cifar10",  # Duke lab 1(a): "the same shape as the CIFAR-10 dataset (3 channels of 32x32)"
        "epochs": 30,  # the Duke report lab 1(g): "training accuracy continuously improving throughout the 30 epochs"
    },
}
