"""Planted wrong answers for lab 08's exercises (patch covariance, TTA's mirror view, label smoothing)."""

from planted import Planted

PLANTED = {
    "0894a195": [  # patch_covariance
        Planted("forgets to subtract the mean patch", "centred = patches - patches.mean(0)", "centred = patches"),
        Planted(
            "reshapes unfold's (N, C*4, L) without transposing: rows mix patches",
            "F.unfold(images, 2).transpose(1, 2).reshape(",
            "F.unfold(images, 2).reshape(",
        ),
        Planted("centres each patch on its own mean", "patches.mean(0)", "patches.mean(1, keepdim=True)"),
    ],
    "c3e9a1d2": [  # mirror_tta
        Planted("flips top to bottom", "model(x.flip(-1))", "model(x.flip(-2))"),
        Planted("adds the two views' logits", "0.5 * model(x) + 0.5 * model(", "model(x) + model("),
        Planted(
            "averages probabilities, not logits",
            "return 0.5 * model(x) + 0.5 * model(x.flip(-1))",
            "return 0.5 * model(x).softmax(-1) + 0.5 * model(x.flip(-1)).softmax(-1)",
        ),
    ],
    "lab08-smoothing": [  # smoothed_cross_entropy
        Planted("sums over the batch", "every_class).mean()", "every_class).sum()"),
        Planted(
            "log of softmax (overflows for large logits)", "logits.log_softmax(dim=1)", "logits.softmax(dim=1).log()"
        ),
        Planted("keeps weight 1 on the true class", "(1 - smoothing) * true_class", "true_class"),
        Planted(
            "spreads the smoothing over the other C - 1 classes only",
            "every_class = -logp.mean(dim=1)",
            "every_class = -(logp.sum(dim=1) - logp.gather(1, y[:, None]).squeeze(1)) / (logits.shape[1] - 1)",
        ),
        Planted(
            "probabilities, not log-probabilities, in the smoothing term",
            "every_class = -logp.mean(dim=1)",
            "every_class = -logp.exp().mean(dim=1)",
        ),
        Planted("a float, not a tensor (no gradient)", "every_class).mean()", "every_class).mean().item()"),
    ],
}
