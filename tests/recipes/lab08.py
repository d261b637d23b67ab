"""Seed recipes of lab 08: airbench94 (the TAMU report's reference [1]; KellerJordan/cifar10-airbench,
airbench94.py's `hyp`) and the TAMU CSCE 636 report's own recipe (§3), as
`python -m helpers config 08 --profile full` should print them. Not listed: the settings of the TAMU
recipe that the report does not state — airbench's lookahead, bias scaler and TTA, which its recipe
leaves off by our choice, as the lab says — and how it normalized "along the length" (undefined)."""

FAST = "recipe.fast."
TAMU = "recipe.tamu."

EXPECTED = {
    "full": {
        "dataset": "cifar10",  # the TAMU report: "Cifar-10 dataset consisting of 50000 32x32 color images"
        "recipe.train_on_val": True,  # airbench94 trains on all 50,000 training images
        "batch_size": 1024,  # airbench94 hyp opt.batch_size; the TAMU report rows #1-#2: batch 1024
        "model.widths": [64, 256, 256],  # the TAMU report A.1: Conv(24, 64), Conv(64, 256), Conv(256, 256)
        FAST + "epochs": 9.9,  # airbench94 hyp opt.train_epochs
        FAST + "lr": 11.5,  # airbench94: "learning rate per 1024 examples"
        FAST + "momentum": 0.85,  # airbench94 hyp opt.momentum (Nesterov)
        FAST + "weight_decay": 0.0153,  # airbench94: "weight decay per 1024 examples (decoupled from learning rate)"
        FAST + "optimizer": "nesterov",  # airbench94: SGD(..., nesterov=True)
        FAST + "lr_start": 0.2,  # airbench94: triangle(total_train_steps, start=0.2, end=0.07, peak=0.23)
        FAST + "lr_peak": 0.23,
        FAST + "lr_end": 0.07,
        FAST + "bias_scaler": 64.0,  # airbench94 hyp opt.bias_scaler
        FAST + "label_smoothing": 0.2,  # airbench94 hyp opt.label_smoothing; the TAMU report row #7 "factor of 0.2"
        FAST + "whiten_bias_epochs": 3,  # airbench94 hyp opt.whiten_bias_epochs
        FAST + "lookahead_every": 5,  # legacy/airbench94.py: `if current_steps % 5 == 0: lookahead_state.update`
        FAST + "lookahead_start_epochs": 0,  # legacy/airbench94.py: LookaheadState(model) before the first step
        FAST + "translate": 2,  # airbench94 hyp aug.translate (reflect padding)
        FAST + "padding_mode": "reflect",
        FAST + "alternating_flip": True,  # airbench94: flip all images together every other epoch
        FAST + "tta_level": 2,  # airbench94 hyp net.tta_level
        # the TAMU report §3: "Each training run comprises 200 epochs, with the learning rate initialized at 0.08
        # for SGD and 0.001 for Adam, reducing by a factor of 10 every 30 epochs. The weight decay is set
        # to 0.02, and the momentum is 0.9." Row #7: batch 128, whitening, reflect, SGD-nesterov, channel
        # normalization, label smoothing; §1.2: "reflective padding of 4 pixels", "random horizontal flipping"
        TAMU + "epochs": 200,
        TAMU + "lr": 0.08,
        TAMU + "adamw_lr": 0.001,
        TAMU + "schedule": "step",
        TAMU + "step_epochs": 30,
        TAMU + "weight_decay": 0.02,
        TAMU + "momentum": 0.9,
        TAMU + "batch_size": 128,
        TAMU + "optimizer": "nesterov",
        TAMU + "padding_mode": "reflect",
        TAMU + "translate": 4,
        TAMU + "alternating_flip": False,
        TAMU + "normalize": "channel",
        TAMU + "label_smoothing": 0.2,
    },
}
