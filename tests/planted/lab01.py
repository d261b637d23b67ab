"""Planted wrong answers for lab 01 (tests/test_exercises.py)."""

from planted import Planted

PLANTED = {
    # initial_loss(model, x, y)
    "b0e237f7": [
        Planted(
            "a constant instead of the model's loss",
            "return F.cross_entropy(model(x), y).item()",
            "return math.log(10)",
        ),
        Planted(
            "softmax before cross_entropy (a doubled softmax)",
            "F.cross_entropy(model(x), y)",
            "F.cross_entropy(model(x).softmax(dim=1), y)",
        ),
        Planted("nll_loss on raw logits (no log-softmax)", "F.cross_entropy(model(x), y)", "F.nll_loss(model(x), y)"),
        Planted(
            "summed over the batch instead of averaged",
            "F.cross_entropy(model(x), y)",
            "F.cross_entropy(model(x), y, reduction='sum')",
        ),
        Planted("returns a tensor, not a float", "F.cross_entropy(model(x), y).item()", "F.cross_entropy(model(x), y)"),
    ],
    # train_one_epoch(model, loader, optimizer)
    "60d6eea0": [
        Planted("never calls optimizer.zero_grad", "        optimizer.zero_grad()\n", ""),
        Planted(
            "softmax before cross_entropy (the TU Wien CNN's likely bug)",
            "F.cross_entropy(logits, y)",
            "F.cross_entropy(logits.softmax(dim=1), y)",
        ),
        Planted(
            "accuracy as the mean of batch accuracies, not over images",
            "correct += (logits.argmax(dim=1) == y).sum().item()\n        seen += len(y)\n"
            "    return loss_sum / seen, correct / seen",
            "correct += (logits.argmax(dim=1) == y).float().mean().item()\n        seen += len(y)\n"
            "    return loss_sum / seen, correct / len(loader)",
        ),
        Planted(
            "loss summed as batch means, not weighted by images",
            "loss_sum += loss.item() * len(y)",
            "loss_sum += loss.item()",
        ),
        Planted("never calls model.train()", "    model.train()\n", ""),
        Planted(
            "accuracy scored after the optimizer step (a second forward pass)",
            "correct += (logits.argmax(dim=1) == y).sum().item()",
            "correct += (model(x).argmax(dim=1) == y).sum().item()",
        ),
        Planted(
            "loss measured after the optimizer step",
            "loss_sum += loss.item() * len(y)",
            "loss_sum += F.cross_entropy(model(x), y).item() * len(y)",
        ),
        Planted(
            "steps before backward",
            "        loss.backward()\n        optimizer.step()\n",
            "        optimizer.step()\n        loss.backward()\n",
        ),
    ],
}
