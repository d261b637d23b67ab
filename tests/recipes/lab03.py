"""Lab 03's full-profile recipe against the Duke ECE 661 report, lab 2(a).

Not listed, on purpose: the learning rate, momentum and batch size (the Duke report says only
"pre-defined hyperparameters"), the epochs (2(a) does not state them; the full profile trains 30,
as the baseline it is compared with), and the training-set size (40k held out of 50k, ours).
"""

EXPECTED = {
    "full": {
        "dataset": "cifar10",  # the Duke report: "improving ... on the CIFAR-10 dataset", SimpleNN
        "recipe.crop_padding": 4,  # the Duke report 2(a): transforms.RandomCrop(size = 32, padding = 4)
        "recipe.flip_p": 0.5,  # the Duke report 2(a): transforms.RandomHorizontalFlip() (torchvision's default p=0.5)
    },
}
