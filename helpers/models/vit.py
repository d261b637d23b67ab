"""A small Vision Transformer with interleaved local and global attention (lab 07).

After the UW-Madison SimpleViT (patch embedding as a conv with kernel = stride, a learned
position embedding, pre-norm transformer blocks alternating local and global self-attention,
global average pooling, a final norm and a linear head; 43.9% top-1 on MiniPlaces) and the
TU Wien ViT (Dosovitskiy et al. 2021 from scratch, 73% on CIFAR-10).

On a 32x32 image with patch_size 4 the patch grid is 8x8 = 64 tokens. A *global* block lets
every token attend to all 64; a *local* block only to the tokens in its own window of
window_size x window_size patches (4 windows of 16 tokens by default), implemented with an
attention mask so both kinds share one code path.

Attention weights for plotting: `model.attention_maps(x)` returns one (B, heads, N, N) tensor
per block; or set `model.store_attention = True` and read `model.blocks[i].attn.last_attention`
after a forward pass. The normal path uses `F.scaled_dot_product_attention` (fused, fast); the
weights are computed explicitly only when they are asked for.

Defaults (dim 128, depth 6, 4 heads, mlp_ratio 2: ~0.8M parameters) train on a 2-core CPU in minutes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from helpers.errors import LabError

KINDS = ("local", "global")


def window_ids(grid: int, window_size: int) -> torch.Tensor:
    """Which window each patch of a grid x grid patch grid falls in, row-major tokens: (grid*grid,)."""
    r = torch.arange(grid) // window_size  # window row of each patch row
    per_row = math.ceil(grid / window_size)  # windows across
    return (r[:, None] * per_row + r[None, :]).flatten()  # (N,)


def window_mask(grid: int, window_size: int) -> torch.Tensor:
    """(N, N) bool, True where query token i may attend to key token j (same window)."""
    ids = window_ids(grid, window_size)
    return ids[:, None] == ids[None, :]  # (N, N)


class Attention(nn.Module):
    """Multi-head self-attention; `mask` (N, N) bool restricts it (None: global)."""

    def __init__(self, dim: int, num_heads: int, mask: torch.Tensor | None = None, drop: float = 0.0):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.drop = nn.Dropout(drop)
        self.register_buffer("mask", mask, persistent=False)  # (N, N) or None
        self.store_attention = False  # True: compute weights explicitly, keep them in last_attention
        self.last_attention: torch.Tensor | None = None  # (B, heads, N, N) after a stored forward

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, N, D = x.shape
        qkv = self.qkv(x).view(B, N, 3, self.num_heads, D // self.num_heads)  # (B, N, 3, heads, d)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B, heads, N, d)
        if self.store_attention:
            out = self.explicit_attention(q, k, v)
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=self.mask)  # (B, heads, N, d)
        out = out.transpose(1, 2).reshape(B, N, D)  # (B, N, D)
        return self.drop(self.proj(out))

    def explicit_attention(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """softmax(q k^T / sqrt(d)) v, written out so the weights can be kept."""
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, heads, N, N)
        if self.mask is not None:
            scores = scores.masked_fill(~self.mask, float("-inf"))  # exactly 0 after the softmax
        weights = scores.softmax(dim=-1)  # (B, heads, N, N)
        self.last_attention = weights.detach()
        return weights @ v  # (B, heads, N, d)


class Mlp(nn.Module):
    """Linear -> act -> Linear, the transformer's per-token feed-forward."""

    def __init__(self, dim: int, hidden: int, act_layer=nn.GELU, drop: float = 0.0):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = act_layer()
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.act(self.fc1(x)))  # (B, N, hidden)
        return self.drop(self.fc2(x))  # (B, N, D)


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float, mask: torch.Tensor | None = None, *,
                 drop: float = 0.0, act_layer=nn.GELU, norm_layer=nn.LayerNorm):  # fmt: skip
        super().__init__()
        self.kind = "global" if mask is None else "local"
        self.norm1 = norm_layer(dim)
        self.attn = Attention(dim, num_heads, mask, drop)
        self.norm2 = norm_layer(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), act_layer, drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))  # (B, N, D)
        return x + self.mlp(self.norm2(x))  # (B, N, D)


def resolve_kinds(block_kinds: Sequence[str] | None, depth: int) -> list[str]:
    """The kind of each block; by default local, global, local, ... as in SimpleViT."""
    kinds = list(block_kinds) if block_kinds is not None else [KINDS[i % 2] for i in range(depth)]
    if len(kinds) != depth:
        raise LabError(f"block_kinds has {len(kinds)} entries but depth is {depth}; give one kind per block.")
    for kind in kinds:
        if kind not in KINDS:
            raise LabError(f"Unknown block kind {kind!r}. Valid: {', '.join(KINDS)}.")
    return kinds


class ViT(nn.Module):
    """Vision Transformer for small images; `ViT()` takes (B, 3, 32, 32) to 10 logits.

    patch_size: side of a patch in pixels (4: an 8x8 grid of 64 tokens on 32x32).
    window_size: side of a local block's window, in patches (4: four windows of 16 tokens).
    block_kinds: "local" or "global" per block; default alternates, starting local.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, *, img_size: int = 32, patch_size: int = 4,
                 dim: int = 128, depth: int = 6, num_heads: int = 4, mlp_ratio: float = 2.0, window_size: int = 4,
                 block_kinds: Sequence[str] | None = None, drop: float = 0.0, act_layer=nn.GELU,
                 norm_layer=nn.LayerNorm):  # fmt: skip
        super().__init__()
        check_sizes(img_size, patch_size, dim, num_heads, window_size)
        self.grid = img_size // patch_size  # patches per side
        self.patch_embed = nn.Conv2d(in_channels, dim, patch_size, stride=patch_size)
        self.pos_embed = nn.Parameter(torch.zeros(1, self.grid**2, dim))  # learned, one vector per patch
        mask = window_mask(self.grid, window_size)
        kw = dict(drop=drop, act_layer=act_layer, norm_layer=norm_layer)
        kinds = resolve_kinds(block_kinds, depth)
        self.blocks = nn.ModuleList(
            [Block(dim, num_heads, mlp_ratio, mask if kind == "local" else None, **kw) for kind in kinds]
        )
        self.norm = norm_layer(dim)
        self.head = nn.Linear(dim, num_classes)
        self.init_weights()

    def init_weights(self) -> None:
        """Truncated normal (std 0.02) for the position embedding and linear layers, as in ViT."""
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)  # (B, D, grid, grid)
        x = x.flatten(2).transpose(1, 2)  # (B, N, D), tokens in row-major patch order
        return x + self.pos_embed  # (B, N, D)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embed(x)  # (B, N, D)
        for block in self.blocks:
            x = block(x)  # (B, N, D)
        x = self.norm(x.mean(dim=1))  # (B, D): global average pool over tokens, then norm
        return self.head(x)  # (B, num_classes)

    @property
    def store_attention(self) -> bool:
        return all(block.attn.store_attention for block in self.blocks)

    @store_attention.setter
    def store_attention(self, value: bool) -> None:
        for block in self.blocks:
            block.attn.store_attention = value

    @torch.no_grad()
    def attention_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """One (B, heads, N, N) tensor of attention weights per block, for x of shape (B, C, H, W)."""
        was_storing, self.store_attention = self.store_attention, True
        try:
            self(x)
        finally:
            self.store_attention = was_storing
        return [block.attn.last_attention for block in self.blocks]


def check_sizes(img_size: int, patch_size: int, dim: int, num_heads: int, window_size: int) -> None:
    """Clear errors for sizes that do not fit together."""
    if img_size % patch_size:
        raise LabError(f"img_size {img_size} is not a multiple of patch_size {patch_size}.")
    if dim % num_heads:
        raise LabError(f"dim {dim} must be divisible by num_heads {num_heads}.")
    if window_size < 1:
        raise LabError(f"window_size (in patches) must be >= 1, got {window_size}.")
