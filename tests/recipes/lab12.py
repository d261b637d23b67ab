"""Seed recipe of lab 12: the UW-Madison report §4, "Attention and Adversarial Samples", gives a heading but no
settings or numbers, so only the dataset is checked; every attack and training setting is the lab's own."""

EXPECTED = {
    "full": {
        "dataset": "cifar10",  # the course's full profile; UW-Madison itself used MiniPlaces, which has no loader here
    },
}
