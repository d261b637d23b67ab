"""Planted wrong answers for lab 03's exercises (random crop with padding, random flip)."""

from planted import Planted

PLANTED = {
    "ad5c8209": [  # random_crop(x, padding)
        Planted("one offset for the whole batch", "(B, 1), device=x.device)", "(1, 1), device=x.device)"),
        Planted(
            "no padding: crops inside the unpadded image",
            "padded = F.pad(x, (padding, padding, padding, padding))",
            "padded = x",
        ),
        Planted("offsets 0..2p-1: torch.randint's high is exclusive", "2 * padding + 1", "2 * padding"),
        Planted(
            "the same offset for rows and columns",
            "dx = torch.randint(0, 2 * padding + 1, (B, 1), device=x.device)",
            "dx = dy",
        ),
    ],
    "5c6ca2de": [  # random_flip(x, p)
        Planted("flips along the wrong axis (upside down)", "x.flip(-1)", "x.flip(-2)"),
        Planted(
            "one coin for the whole batch", "torch.rand(len(x), device=x.device)", "torch.rand(1, device=x.device)"
        ),
        Planted("flips with probability 1 - p", "< p", "> p"),
    ],
}
