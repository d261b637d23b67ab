"""Planted wrong answers for lab 07's exercises (tokens, the local window mask, attention)."""

from planted import Planted

PLANTED = {
    "835a254c": [  # patchify
        Planted("keeps the feature axis first", ".flatten(2).transpose(1, 2)", ".flatten(2)"),
        Planted(
            "reshapes (B, D, grid, grid) straight to (B, N, D)",
            "return model.patch_embed(images).flatten(2).transpose(1, 2)",
            "return model.patch_embed(images).reshape(len(images), -1, model.pos_embed.shape[-1])",
        ),
        Planted("numbers the tokens column by column", "images).flatten(2)", "images).transpose(2, 3).flatten(2)"),
    ],
    "c4e6a8b0": [  # local_window_mask
        Planted(
            "mask inverted (True where attention is forbidden)",
            "window[:, None] == window[None, :]",
            "window[:, None] != window[None, :]",
        ),
        Planted("strided windows: % instead of //", "arange(grid) // window_size", "arange(grid) % window_size"),
        Planted("window ids collide: row + column", "band[:, None] * grid + band", "band[:, None] + band"),
    ],
    "f0c2e4a6": [  # MultiHeadSelfAttention.forward
        Planted("no 1/sqrt(d) scale", " / math.sqrt(d)", ""),
        Planted("softmax over the wrong axis (the queries)", "scores.softmax(dim=-1)", "scores.softmax(dim=-2)"),
        Planted("heads merged in the wrong order", "(weights @ v).transpose(1, 2).reshape(", "(weights @ v).reshape("),
        Planted("mask inverted", "masked_fill(~self.mask,", "masked_fill(self.mask,"),
    ],
}
