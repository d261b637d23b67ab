"""Planted wrong answers for lab 05's exercises (the L1 penalty, dropout as a module)."""

from planted import Planted

PLANTED = {
    "62fb2e24": [  # l1_penalty(model, strength)
        Planted("includes biases and norm parameters", " if p.dim() > 1", ""),
        Planted("squared weights (that is L2)", "p.abs().sum()", "p.pow(2).sum()"),
        Planted("forgets the strength", "return strength * sum(", "return sum("),
        Planted("detaches the weights (the Duke report's param.data bug)", "p.abs().sum()", "p.data.abs().sum()"),
    ],
    "lab05-dropout": [  # Dropout(p)
        Planted("no 1/(1-p) scaling", "return x * keep / (1 - self.p)", "return x * keep"),
        Planted("scales by 1-p (the paper's test-time factor) in training", "/ (1 - self.p)", "* (1 - self.p)"),
        Planted("keeps an element with probability p", "torch.rand_like(x) >= self.p", "torch.rand_like(x) < self.p"),
        Planted("drops in eval mode too", "if not self.training or self.p == 0:", "if self.p == 0:"),
        Planted("one mask for the whole batch", "torch.rand_like(x)", "torch.rand_like(x[0])"),
        Planted("changes x in place", "return x * keep / (1 - self.p)", "return x.mul_(keep / (1 - self.p))"),
        Planted(
            "a mask from numpy's generator, which torch.manual_seed does not reset",
            "torch.rand_like(x)",
            "torch.from_numpy(__import__('numpy').random.rand(*x.shape)).to(x.dtype)",
        ),
        Planted("accepts p = 1 (every output 0/0)", "if not 0 <= p < 1:", "if not 0 <= p <= 1:"),
        Planted(
            "a detached output (no gradient reaches x)",
            "return x * keep / (1 - self.p)",
            "return x.detach() * keep / (1 - self.p)",
        ),
    ],
}
