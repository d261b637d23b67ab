"""Planted wrong answers for lab 05's exercise (the L1 penalty)."""

from planted import Planted

PLANTED = {
    "62fb2e24": [  # l1_penalty(model, strength)
        Planted("includes biases and norm parameters", " if p.dim() > 1", ""),
        Planted("squared weights (that is L2)", "p.abs().sum()", "p.pow(2).sum()"),
        Planted("forgets the strength", "return strength * sum(", "return sum("),
        Planted("detaches the weights (the Duke report's param.data bug)", "p.abs().sum()", "p.data.abs().sum()"),
    ],
}
