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
            'search.build(TARGET, {**params, "lr": cfg.lr},',
        ),
    ],
}
