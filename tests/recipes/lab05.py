"""Lab 05's full-profile recipe against the Duke ECE 661 report, lab 2(c).

Not listed, on purpose (the seed does not state them): the epochs, the L1 strength, the L2
sweep's learning rate and the dropout rate (ours; the TU Wien report swept dropout 0-0.7).
"""

EXPECTED = {
    "full": {
        "dataset": "cifar10",  # the Duke report: SimpleNN on CIFAR-10
        # the Duke report 2(c)1: "6 models with varied learning rates: [1, 0.1, 0.05, 0.01, 0.005, 0.001]"
        "recipe.lr_sweep": [1, 0.1, 0.05, 0.01, 0.005, 0.001],
        # the Duke report 2(c)2: "varied L2 regularization parameters: [1e-2, 1e-3, 1e-4, 1e-5, 0.0]"
        "recipe.l2_sweep": [1e-2, 1e-3, 1e-4, 1e-5, 0.0],
    },
}
