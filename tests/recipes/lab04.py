"""Lab 04's full-profile recipe against the Duke ECE 661 report, lab 2(b).

Not listed, on purpose: the default learning rate `lr` (0.01; the Duke report says only "pre-defined
hyperparameters" for its SGD, and 2(b)1 trains "upon the SimpleNN model in part (a)"), momentum,
batch size and weight decay (not stated), the epochs (2(b) does not state them; 30 as the
report's other SimpleNN runs), and the training-set size (40k held out of 50k, ours).
"""

EXPECTED = {
    "full": {
        "dataset": "cifar10",  # the Duke report: "Optimizing Convolutional Neural Networks" on CIFAR-10, SimpleNN
        # Duke 2(b)2: "a moderately high learning rate of 0.1"; 2(b)3: Swish "with BN and a learning rate of 0.1"
        "recipe.high_lr": 0.1,
        "recipe.crop_padding": 4,  # Duke 2(a)/2(b)1: pipeline (a), transforms.RandomCrop(size = 32, padding = 4)
        "recipe.flip": True,  # the Duke report 2(a): transforms.RandomHorizontalFlip()
    },
}
