"""Planted wrong answers for lab 10 (evaluating a classifier)."""

from planted import Planted

PLANTED = {
    # confusion_matrix and per_class_accuracy
    "lab10-010": [
        Planted(
            "rows and columns swapped (rows = predictions)",
            "labels.cpu().long() * num_classes + preds.cpu().long()",
            "preds.cpu().long() * num_classes + labels.cpu().long()",
        ),
        Planted("normalized by the column sum (precision, not accuracy)", "m.sum(dim=1)", "m.sum(dim=0)"),
        Planted(
            "bincount without minlength", "torch.bincount(index, minlength=num_classes**2)", "torch.bincount(index)"
        ),
        Planted(
            "a class without images gets 0, not NaN",
            "m.diagonal() / m.sum(dim=1)",
            "m.diagonal() / m.sum(dim=1).clamp(min=1)",
        ),
    ],
    # expected_calibration_error
    "lab10-020": [
        Planted(
            "plain mean of the gaps, not weighted by the bins' shares",
            "ece += inside.float().mean().item() * gap.item()",
            "ece += gap.item() / n_bins",
        ),
        Planted(
            "confidence = probability of the true class, not the top probability",
            "conf, pred = probs.max(dim=1)",
            "pred = probs.argmax(dim=1)\n    conf = probs[torch.arange(len(labels)), labels]",
        ),
        Planted(
            "weights by the bin's count, not its share", "inside.float().mean().item()", "inside.float().sum().item()"
        ),
        Planted(
            "bins closed on the wrong side, [lo, hi): an edge goes up a bin and 1.0 into none",
            "(conf > b / n_bins) & (conf <= (b + 1) / n_bins)",
            "(conf >= b / n_bins) & (conf < (b + 1) / n_bins)",
        ),
    ],
}
