"""Lab 13: wrong search spaces and objectives a student writes."""

from planted import Planted

PLANTED = {
    # suggest_params
    "7d817435": [
        Planted("learning rate drawn on a linear scale", '"lr", 1e-3, 0.3, log=True', '"lr", 1e-3, 0.3'),
        Planted(
            "batch size drawn as an integer range",
            'trial.suggest_categorical("batch_size", [64, 128, 256])',
            'trial.suggest_int("batch_size", 64, 256)',
        ),
        Planted("a constant instead of a draw", '"lr": trial.suggest_float("lr", 1e-3, 0.3, log=True)', '"lr": 0.01'),
    ],
    # objective
    "fb177cbc": [
        Planted("never reports to the pruner", "        trial.report(accuracy, epoch)\n", ""),
        Planted(
            "reports but never prunes", "        if trial.should_prune():\n            raise optuna.TrialPruned()\n", ""
        ),
        Planted(
            "ignores the trial's learning rate",
            "search.build(TARGET, params,",
            'search.build(TARGET, {**params, "lr": 0.01},',
        ),
        Planted(
            "passes only the learning rate (momentum and weight decay at build's defaults)",
            "search.build(TARGET, params,",
            'search.build(TARGET, {"lr": params["lr"]},',
        ),
        Planted(
            "trains with the lab's batch size, not the trial's",
            'batch_size=params["batch_size"]',
            "batch_size=cfg.batch_size",
        ),
        Planted(
            "crashes on a diverged trial (reads val_top1 from a history with no row)",
            "        if history.diverged:  # the loss blew up and no epoch was recorded: a failed trial, not a crash\n"
            "            return math.nan\n",
            "",
        ),
        Planted(
            "reports to the pruner once, after the last epoch",
            "        trial.report(accuracy, epoch)\n        if trial.should_prune():\n"
            "            raise optuna.TrialPruned()\n    return best",
            "    trial.report(best, 0)\n    if trial.should_prune():\n"
            "        raise optuna.TrialPruned()\n    return best",
        ),
    ],
}
