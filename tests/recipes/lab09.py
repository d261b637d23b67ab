"""Seed recipe of lab 09: the UW-Madison report (§3.1-3.4), as `python -m helpers config 09
--profile full` should print it. Not listed: the dataset (the report trained on MiniPlaces, not in this
course's data: full runs CIFAR-10, as the lab says), the widths and the lr warm-up's length (not in the
report), and smoke/quick's lr 0.05 (ours, said in the lab)."""

EXPECTED = {
    "full": {
        "epochs": 60,  # the UW-Madison report §3.2.1: SimpleNet "was trained for 60 epochs"; CustomNet §3.4 likewise
        "lr": 0.1,  # the UW-Madison report §3.1.1: "starting learning rate of 0.1"
        "momentum": 0.9,  # the UW-Madison report §3.1.1: "momentum of 0.9"
        "batch_size": 256,  # the UW-Madison report §3.1.1: "a batch size of 256"
        "weight_decay": 1e-4,  # the UW-Madison report §3.1.1: "weight decay parameter of 1e-4"
        "recipe.wd_warmup_epochs": 5,  # the UW-Madison report §3.1.1: "A weight decay warm-up of 5 epochs"
    },
}
