"""Seed recipe of lab 02: the Duke ECE 661 report's step decay (lab 1(h)), the UW-Madison
weight-decay warm-up and the TU Wien ExponentialLR gamma, as
`python -m helpers config 02 --profile full` should print them. Not listed: the learning-rate warm-up
length (the UW-Madison report says "linear warm-up" without a length) and UW-Madison's lr 0.1 / batch 256 (the lab
applies the schedule shapes to SimpleNN with the Duke settings, and says so)."""

EXPECTED = {
    "full": {
        "dataset": "cifar10",  # the Duke report: CIFAR-10
        "epochs": 30,  # the Duke report lab 1(g-h): the 30-epoch baseline, then the same run with decay
        # the Duke report lab 1(h): "DECAY_EPOCHS of 10 and a DECAY strength of 0.9 ... decays by 0.9 every
        # 10 epochs": in 30 epochs the drops fall after epochs 10 and 20
        "recipe.step.milestones": [10, 20],
        "recipe.step.gamma": 0.9,
        "recipe.exp_gamma": 0.9,  # the TU Wien report: "lr = 0.000365, gamma = 0.9" with ExponentialLR
        "recipe.wd_warmup_epochs": 5,  # UW-Madison: "A weight decay warm-up of 5 epochs and weight decay ... 1e-4"
        "weight_decay": 1e-4,  # the UW-Madison report: "weight decay parameter of 1e-4" (the lab's SGD uses the same)
    },
}
