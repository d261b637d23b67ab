"""Lab 06's full-profile recipes: He et al. 2016 (sec. 4.2) and the Duke ECE 661 report, lab 3(a).

Not listed, on purpose: the training-set size. He et al. fixed the schedule on a 45k/5k split and
trained the final models on all 50k; the full profile keeps the 45k/5k split (val_size 5000) for
model selection in both recipes. Duke's validation set is not described. The epochs of the He
recipe follow from its iterations (64k at batch 128 on 45k images: 182 epochs).
"""

EXPECTED = {
    "full": {
        "dataset": "cifar10",  # the Duke report 3(a) and He et al. 4.2: CIFAR-10
        "lr": 0.1,  # Duke 3(a): "an initial learning rate of 0.1"; He et al.: "start with a learning rate of 0.1"
        "weight_decay": 0.0001,  # the Duke report 3(a): "1e-4 L2 regularization"; He et al.: "weight decay of 0.0001"
        "momentum": 0.9,  # He et al. 4.2: "momentum of 0.9" (the Duke report says only "stochastic gradient descent")
        "batch_size": 128,  # He et al. 4.2: "mini-batch size of 128"
        "val_size": 5000,  # He et al. 4.2: "45k/5k train/val split" to decide the schedule
        "epochs": 200,  # the Duke report 3(a): "I ran the model for 200 epochs"
        "recipe.duke.epochs": 200,  # the Duke report 3(a): 200 epochs
        "recipe.duke.milestones_epochs": [50, 100, 150],  # Duke 3(a): "90% learning rate decay every 50 epochs"
        "recipe.duke.gamma": 0.1,  # the Duke report 3(a): "shrinks from 0.1 to 0.01 or from 0.01 to 0.001"
        "recipe.he2016.iterations": 64000,  # He et al. 4.2: "terminate training at 64k iterations"
        # He et al. 4.2: "divide it by 10 at 32k and 48k iterations"
        "recipe.he2016.milestones_iterations": [32000, 48000],
        "recipe.he2016.gamma": 0.1,  # He et al. 4.2: "divide it by 10"
    },
}
