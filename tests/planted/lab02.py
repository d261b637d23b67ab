"""Planted wrong answers for lab 02 (tests/test_exercises.py)."""

from planted import Planted

PLANTED = {
    # warmup_cosine(step, total, warmup)
    "a34eced0": [
        Planted("warm-up starts at 0: step / warmup", "return (step + 1) / warmup", "return step / warmup"),
        Planted(
            "cosine progress counted from step 0, not from the end of the warm-up",
            "(step - warmup) / max(1, total - warmup)",
            "step / total",
        ),
        Planted(
            "progress not clamped: the cosine climbs again after total",
            "min(1.0, (step - warmup) / max(1, total - warmup))",
            "(step - warmup) / max(1, total - warmup)",
        ),
        Planted(
            "a full cosine period instead of half", "math.cos(math.pi * progress)", "math.cos(2 * math.pi * progress)"
        ),
    ],
    # wd_warmup(step, warmup)
    "80fe9b1f": [
        Planted(
            "integer division: 0 for the whole warm-up", "return (step + 1) / warmup", "return (step + 1) // warmup"
        ),
        Planted(
            "never capped at 1",
            "    if step < warmup:\n        return (step + 1) / warmup\n    return 1.0",
            "    return (step + 1) / max(1, warmup)",
        ),
        Planted("ramps down instead of up", "return (step + 1) / warmup", "return 1 - step / warmup"),
    ],
}
