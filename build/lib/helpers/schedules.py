"""Learning-rate and weight-decay schedules, as functions of the optimizer step (lab 02).

A schedule maps a step (0, 1, 2, ...) to a multiplier of the base value, so it can be plotted
before training (`values(schedule, steps)`) and `fit` applies it at every step. Steps, not
epochs: a warm-up of 2 epochs over 390 batches per epoch is `warmup=780`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from helpers.errors import LabError


@dataclass(frozen=True)
class Constant:
    """No decay: the multiplier is 1 at every step."""

    def __call__(self, step: int) -> float:
        return 1.0


@dataclass(frozen=True)
class StepDecay:
    """Multiply by `gamma` every `every` steps (the Duke report: 0.9 every 10 epochs)."""

    every: int
    gamma: float = 0.1

    def __post_init__(self):
        _positive("every", self.every)

    def __call__(self, step: int) -> float:
        return self.gamma ** (step // self.every)


@dataclass(frozen=True)
class MultiStep:
    """Multiply by `gamma` at each milestone step (ResNet: /10 at 50% and 75% of training)."""

    milestones: tuple[int, ...]
    gamma: float = 0.1

    def __call__(self, step: int) -> float:
        return self.gamma ** sum(step >= m for m in self.milestones)


@dataclass(frozen=True)
class Exponential:
    """Multiply by `gamma` every step (the TU Wien report's ExponentialLR, per epoch: gamma**(1/steps))."""

    gamma: float

    def __call__(self, step: int) -> float:
        return self.gamma**step


@dataclass(frozen=True)
class WarmupCosine:
    """Linear warm-up from 0 over `warmup` steps, then cosine annealing to `final` at `total`
    (the UW-Madison report's schedule)."""

    total: int
    warmup: int = 0
    final: float = 0.0

    def __post_init__(self):
        _positive("total", self.total)
        if not 0 <= self.warmup < self.total:
            raise LabError(f"warmup must be in [0, total={self.total}), got {self.warmup}.")

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / self.warmup
        progress = min(1.0, (step - self.warmup) / max(1, self.total - self.warmup))
        return self.final + (1 - self.final) * 0.5 * (1 + math.cos(math.pi * progress))


@dataclass(frozen=True)
class WarmupLinear:
    """Linear warm-up over `warmup` steps, then linear decay to `final` at `total` (airbench)."""

    total: int
    warmup: int = 0
    final: float = 0.0

    def __post_init__(self):
        _positive("total", self.total)

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / self.warmup
        progress = min(1.0, (step - self.warmup) / max(1, self.total - self.warmup))
        return 1 + (self.final - 1) * progress


@dataclass(frozen=True)
class Warmup:
    """Linear ramp from 0 to 1 over `steps`, then 1: the UW-Madison weight-decay warm-up."""

    steps: int

    def __call__(self, step: int) -> float:
        return min(1.0, (step + 1) / self.steps) if self.steps > 0 else 1.0


def values(schedule, steps: int, base: float = 1.0) -> list[float]:
    """The schedule's value at steps 0..steps-1, times `base`: what a plot shows."""
    return [base * schedule(s) for s in range(steps)]


def _positive(name: str, value: int) -> None:
    if not isinstance(value, int) or value < 1:
        raise LabError(f"{name} must be a positive whole number of steps, got {value!r}.")
