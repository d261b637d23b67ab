"""A small Vision Transformer with interleaved local and global attention (lab 07).

After the UW-Madison SimpleViT (patch embedding as a conv with kernel = stride, a learned
position embedding, pre-norm transformer blocks alternating local and global self-attention,
global average pooling, a final norm and a linear head; 43.9% top-1 on MiniPlaces) and the
TU Wien ViT (Dosovitskiy et al. 2021 from scratch, 73% on CIFAR-10).

On a 32x32 image with patch_size 4 the patch grid is 8x8 = 64 tokens. A *global* block lets
every token attend to all 64; a *local* block only to the tokens in its own window of
window_size x window_size patches (4 windows of 16 tokens by default), implemented with an
attention mask so both kinds share one code path.

The attention is an argument (`attn_layer`, as timm passes layers): lab 07's student writes
`forward` of an `AttentionBase` subclass and the lab's ViT uses it; `Attention` here is the
reference, on `F.scaled_dot_product_attention` (fused, fast). Attention weights for plotting:
`model.attention_maps(x)` returns one (B, heads, N, N) tensor per block.

The TU Wien ViT: `ViT(patch_size=2, dim=32, depth=4, num_heads=20, head_dim=16, mlp_hidden=1024,
head_hidden=1024, drop=0.25, block_kinds=["global"] * 4)` (it pools by averaging the tokens here).
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


class AttentionBase(nn.Module):
    """The parameters of multi-head self-attention; a subclass writes `forward` (lab 07's exercise).

    qkv: one Linear giving queries, keys and values for all heads at once, dim -> 3 * heads * head_dim.
    proj: the output projection, heads * head_dim -> dim. mask: (N, N) bool, True where query i may
    attend to key j, or None (global attention). head_dim defaults to dim // num_heads; the TU Wien
    ViT uses 20 heads of 16 on a 32-wide embedding (inner width 320).
    """

    def __init__(
        self, dim: int, num_heads: int, mask: torch.Tensor | None = None, drop: float = 0.0, head_dim: int | None = None
    ):
        super().__init__()
        self.num_heads, self.head_dim = num_heads, head_dim or dim // num_heads
        inner = num_heads * self.head_dim
        self.qkv = nn.Linear(dim, 3 * inner)  # (B, N, D) -> (B, N, 3 * heads * head_dim)
        self.proj = nn.Linear(inner, dim)
        self.drop = nn.Dropout(drop)
        self.register_buffer("mask", mask, persistent=False)  # (N, N) or None


class Attention(AttentionBase):
    """Multi-head self-attention with PyTorch's fused kernel (the reference for lab 07's exercise)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, N, _ = x.shape
        q, k, v = split_heads(self, x)  # each (B, heads, N, head_dim)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=self.mask)  # (B, heads, N, head_dim)
        out = out.transpose(1, 2).reshape(B, N, -1)  # (B, N, heads * head_dim)
        return self.drop(self.proj(out))


def split_heads(attn: AttentionBase, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """q, k, v of `attn` for tokens x (B, N, D), each (B, heads, N, head_dim)."""
    B, N, _ = x.shape
    qkv = attn.qkv(x).view(B, N, 3, attn.num_heads, attn.head_dim)  # (B, N, 3, heads, d)
    q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B, heads, N, d)
    return q, k, v


def attention_weights(attn: AttentionBase, x: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(d)) of `attn` for tokens x, masked: (B, heads, N, N), for plotting."""
    q, k, _ = split_heads(attn, x)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, heads, N, N)
    if attn.mask is not None:
        scores = scores.masked_fill(~attn.mask, float("-inf"))  # exactly 0 after the softmax
    return scores.softmax(dim=-1)


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

    def __init__(
        self,
        dim: int,
        num_heads: int,
        mlp_hidden: int,
        mask: torch.Tensor | None = None,
        *,
        drop: float = 0.0,
        head_dim: int | None = None,
        attn_layer=Attention,
        act_layer=nn.GELU,
        norm_layer=nn.LayerNorm,
    ):
        super().__init__()
        self.kind = "global" if mask is None else "local"
        self.norm1 = norm_layer(dim)
        self.attn = attn_layer(dim, num_heads, mask, drop, head_dim)
        self.norm2 = norm_layer(dim)
        self.mlp = Mlp(dim, mlp_hidden, act_layer, drop)

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
    head_dim: width of each head (default dim // num_heads). mlp_hidden: the blocks' MLP width
    (default dim * mlp_ratio). head_hidden: None for a linear head, else an MLP head of that width.
    attn_layer: the attention class, `attn_layer(dim, num_heads, mask, drop, head_dim)`; lab 07 passes
    the student's. mask_fn: `mask_fn(grid, window_size)` -> (N, N) bool, the local blocks' mask.
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 3,
        *,
        img_size: int = 32,
        patch_size: int = 4,
        dim: int = 128,
        depth: int = 6,
        num_heads: int = 4,
        mlp_ratio: float = 2.0,
        window_size: int = 4,
        block_kinds: Sequence[str] | None = None,
        drop: float = 0.0,
        head_dim: int | None = None,
        mlp_hidden: int | None = None,
        head_hidden: int | None = None,
        attn_layer=Attention,
        mask_fn=window_mask,
        act_layer=nn.GELU,
        norm_layer=nn.LayerNorm,
    ):
        super().__init__()
        check_sizes(img_size, patch_size, dim, num_heads, window_size, head_dim)
        self.grid = img_size // patch_size  # patches per side
        self.patch_embed = nn.Conv2d(in_channels, dim, patch_size, stride=patch_size)
        self.pos_embed = nn.Parameter(torch.zeros(1, self.grid**2, dim))  # learned, one vector per patch
        kinds = resolve_kinds(block_kinds, depth)
        mask = mask_fn(self.grid, window_size) if "local" in kinds else None
        kw = dict(drop=drop, head_dim=head_dim, attn_layer=attn_layer, act_layer=act_layer, norm_layer=norm_layer)
        hidden = mlp_hidden or int(dim * mlp_ratio)
        self.blocks = nn.ModuleList(
            [Block(dim, num_heads, hidden, mask if kind == "local" else None, **kw) for kind in kinds]
        )
        self.norm = norm_layer(dim)
        if head_hidden:  # the TU Wien ViT's MLP head
            self.head = nn.Sequential(
                nn.Linear(dim, head_hidden), act_layer(), nn.Dropout(drop), nn.Linear(head_hidden, num_classes)
            )
        else:
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

    @torch.no_grad()
    def attention_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """One (B, heads, N, N) tensor of attention weights per block, for x of shape (B, C, H, W).

        Recomputed from each block's own queries and keys (`attention_weights`), whatever its
        attention class, so it works with the student's attention too."""
        maps, hooks = [], []
        for block in self.blocks:
            hook = block.attn.register_forward_pre_hook(lambda m, args: maps.append(attention_weights(m, args[0])))
            hooks.append(hook)
        try:
            self(x)
        finally:
            for hook in hooks:
                hook.remove()
        return maps


def check_sizes(
    img_size: int, patch_size: int, dim: int, num_heads: int, window_size: int, head_dim: int | None = None
) -> None:
    """Clear errors for sizes that do not fit together."""
    if img_size % patch_size:
        raise LabError(f"img_size {img_size} is not a multiple of patch_size {patch_size}.")
    if head_dim is None and dim % num_heads:
        raise LabError(f"dim {dim} must be divisible by num_heads {num_heads} (or give head_dim).")
    if window_size < 1:
        raise LabError(f"window_size (in patches) must be >= 1, got {window_size}.")
