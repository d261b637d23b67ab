"""Seed recipe of lab 12: seed 000 (UW-Madison) §4, "Attention and Adversarial Samples", gives a heading but no
settings or numbers, so only the dataset is checked; every attack and training setting is the lab's own."""

EXPECTED = {
    "full": {
        "dataset": "cifar10",  # the course's full profile; seed 000 itself used MiniPlaces, which has no loader here
    },
}
