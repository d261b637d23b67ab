"""Unit tests of the lab architectures: SimpleNN (labs 01-05), ResNet-20 (06), ViT (07), the fast net (08)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.errors import LabError
from helpers.models.fastnet import (
    EMA,
    FastNet,
    dirac_init_,
    init_whitening,
    mirror_logits,
    patch_moments,
    predict_tta,
    shift,
    tta_views,
)
from helpers.models.resnet import BasicBlock, PadShortcut, ResNet, resnet20
from helpers.models.simple import SimpleNN
from helpers.models.vit import AttentionBase, ViT, attention_weights, split_heads, window_mask

MODELS = {
    "resnet20-A": lambda c: resnet20(in_channels=c),
    "resnet20-B": lambda c: resnet20(in_channels=c, shortcut="B"),
    "vit": lambda c: ViT(in_channels=c),
    "fastnet": lambda c: FastNet(in_channels=c),
}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """These tensors are tiny: threads gain nothing, and on a busy 2-core box they wait on each other
    (measured: 33 s for this file with 2 threads beside a running notebook, 2 s with 1)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------- every model


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("name", MODELS)
def test_output_shape(name, channels):
    torch.manual_seed(0)
    model = MODELS[name](channels)
    logits = model(torch.randn(4, channels, 32, 32))
    assert logits.shape == (4, 10)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("name", MODELS)
def test_a_gradient_step_reduces_the_loss(name):
    torch.manual_seed(0)
    model = MODELS[name](3)
    x, y = torch.randn(8, 3, 32, 32), torch.arange(8) % 10
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.05)
    before = F.cross_entropy(model(x), y)
    before.backward()
    optimizer.step()
    with torch.no_grad():
        after = F.cross_entropy(model(x), y)  # still train mode: the same batch statistics
    assert after < before


def test_num_classes_is_respected():
    for factory in (lambda: resnet20(num_classes=100), lambda: ViT(100), lambda: FastNet(100)):
        assert factory()(torch.randn(2, 3, 32, 32)).shape == (2, 100)


# ---------------------------------------------------------------- ResNet-20


def test_resnet20_parameter_counts():
    # Option A, the paper's CIFAR ResNet-20: 0.27M as in He et al. 2016, Table 6.
    assert n_params(resnet20()) == 269_722
    # Option B adds two projections, each a 1x1 conv (no bias) and a BatchNorm (scale + shift):
    # 16 -> 32: 16*32 + 2*32 = 576;  32 -> 64: 32*64 + 2*64 = 2,176;  269,722 + 2,752 = 272,474.
    assert n_params(resnet20(shortcut="B")) == 272_474
    # One input channel drops 2 * 16 * 3 * 3 = 288 weights of the first conv.
    assert n_params(resnet20(in_channels=1)) == 269_722 - 288


def test_resnet_depth_gives_6n_plus_2_layers():
    model = ResNet(depth=5)  # ResNet-32
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) + 1 == 32  # option A shortcuts add no convs; +1 for the linear head


def test_option_a_shortcut_is_strided_identity_with_zero_channels():
    x = torch.randn(2, 16, 8, 8)
    out = PadShortcut(16, 32, stride=2)(x)
    assert out.shape == (2, 32, 4, 4)
    assert torch.equal(out[:, 8:24], x[:, :, ::2, ::2])
    assert (out[:, :8] == 0).all() and (out[:, 24:] == 0).all()


def test_resnet_builds_from_a_given_block_class():
    calls = []

    class Block(nn.Module):  # a minimal block: what lab 06's student writes has this signature
        def __init__(self, in_channels, out_channels, stride=1):
            super().__init__()
            calls.append((in_channels, out_channels, stride))
            self.conv = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1)

        def forward(self, x):
            return self.conv(x)

    model = resnet20(block=Block)
    assert calls == [(16, 16, 1)] * 3 + [(16, 32, 2)] + [(32, 32, 1)] * 2 + [(32, 64, 2)] + [(64, 64, 1)] * 2
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    # the default block with the same weights as an explicit BasicBlock: the same network
    torch.manual_seed(0)
    default = resnet20()
    torch.manual_seed(0)
    explicit = resnet20(block=BasicBlock)
    assert torch.equal(default.eval()(torch.ones(1, 3, 32, 32)), explicit.eval()(torch.ones(1, 3, 32, 32)))


def test_simple_nn_takes_the_norm_layer_and_activation():
    model = SimpleNN(norm_layer=nn.BatchNorm2d, act_layer=nn.SiLU)
    assert isinstance(model.bn1, nn.BatchNorm2d) and model.bn2.num_features == 16
    assert isinstance(model.act, nn.SiLU)
    assert isinstance(SimpleNN().bn1, nn.Identity)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_resnet_takes_the_activation_and_rejects_unknown_shortcut():
    model = resnet20(act_layer=nn.SiLU)
    assert any(isinstance(m, nn.SiLU) for m in model.modules())
    assert not any(isinstance(m, nn.ReLU) for m in model.modules())
    with pytest.raises(LabError, match="Valid: A, B"):
        resnet20(shortcut="C")


# ---------------------------------------------------------------- ViT


def test_window_mask_groups_patches_in_square_windows():
    mask = window_mask(grid=8, window_size=4)  # (64, 64)
    assert mask.sum(1).eq(16).all()  # each token sees its 4x4 window
    assert mask[0, 3] and mask[0, 3 * 8 + 3] and not mask[0, 4] and not mask[0, 4 * 8]


def test_vit_local_attention_stays_inside_its_window():
    torch.manual_seed(0)
    model = ViT(depth=4, dim=32, num_heads=2).eval()
    maps = model.attention_maps(torch.randn(2, 3, 32, 32))
    outside = ~window_mask(8, 4)  # (N, N)
    assert [b.kind for b in model.blocks] == ["local", "global", "local", "global"]
    for block, weights in zip(model.blocks, maps, strict=True):
        assert weights.shape == (2, 2, 64, 64)
        assert torch.allclose(weights.sum(-1), torch.ones(2, 2, 64))
        if block.kind == "local":
            assert (weights[..., outside] == 0).all()
        else:
            assert (weights[..., outside] > 0).any()


class ExplicitAttention(AttentionBase):
    """softmax(q k^T / sqrt(d)) v written out: what lab 07's student writes."""

    def forward(self, x):
        B, N, _ = x.shape
        q, k, v = split_heads(self, x)
        weights = attention_weights(self, x)  # (B, H, N, N)
        return self.drop(self.proj((weights @ v).transpose(1, 2).reshape(B, N, -1)))


@pytest.mark.parametrize("head_dim", [None, 16])
def test_vit_takes_its_attention_as_an_argument_and_it_matches_the_fused_one(head_dim):
    torch.manual_seed(0)
    fused = ViT(depth=2, dim=32, num_heads=2, head_dim=head_dim).eval()
    torch.manual_seed(0)
    explicit = ViT(depth=2, dim=32, num_heads=2, head_dim=head_dim, attn_layer=ExplicitAttention).eval()
    assert isinstance(explicit.blocks[0].attn, ExplicitAttention)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(fused(x), explicit(x), atol=1e-5)
    assert explicit.attention_maps(x)[0].shape == (2, 2, 64, 64)


def test_vit_takes_its_mask_function_as_an_argument():
    calls = []

    def mask_fn(grid, window):
        calls.append((grid, window))
        return window_mask(grid, window)

    model = ViT(depth=2, dim=32, num_heads=2, mask_fn=mask_fn)
    assert calls == [(8, 4)] and torch.equal(model.blocks[0].attn.mask, window_mask(8, 4))
    assert ViT(depth=2, block_kinds=["global"] * 2, mask_fn=lambda g, w: 1 / 0).blocks[0].attn.mask is None


def test_tu_wien_vit_has_the_reports_shape():
    """The TU Wien report: patch 2, embed 32, 4 layers, 20 heads of 16, MLP 1024, head MLP 1024, dropout 0.25."""
    model = ViT(
        patch_size=2,
        dim=32,
        depth=4,
        num_heads=20,
        head_dim=16,
        mlp_hidden=1024,
        head_hidden=1024,
        drop=0.25,
        block_kinds=["global"] * 4,
    )
    attn = model.blocks[0].attn
    assert model.pos_embed.shape == (1, 256, 32)
    assert attn.qkv.out_features == 3 * 20 * 16 and attn.proj.in_features == 320
    assert model.blocks[0].mlp.fc1.out_features == 1024 and model.head[0].out_features == 1024
    assert all(b.kind == "global" for b in model.blocks)
    assert model.eval()(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_vit_rejects_bad_block_kinds_and_sizes():
    with pytest.raises(LabError, match="Valid: local, global"):
        ViT(depth=2, block_kinds=["local", "windowed"])
    with pytest.raises(LabError, match="one kind per block"):
        ViT(depth=3, block_kinds=["local", "global"])
    with pytest.raises(LabError, match="divisible"):
        ViT(dim=30, num_heads=4)
    assert ViT(dim=30, num_heads=4, head_dim=8).blocks[0].attn.qkv.out_features == 3 * 32
    assert [b.kind for b in ViT(depth=2, block_kinds=["global", "global"]).blocks] == ["global", "global"]


# ---------------------------------------------------------------- fast net


def correlated_images(n: int = 64, channels: int = 3, seed: int = 0) -> torch.Tensor:
    """Smoothed, channel-mixed noise: neighbouring pixels and channels strongly correlated."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, channels, 32, 32, generator=g)
    x = F.avg_pool2d(x, 3, stride=1, padding=1)  # spatial correlation
    mix = torch.eye(channels) + 0.8 * torch.ones(channels, channels)  # channel correlation
    x = torch.einsum("dc,nchw->ndhw", mix, x) + 0.3  # and a nonzero mean
    return x / x.std()


def patch_covariance(x: torch.Tensor) -> torch.Tensor:
    """Covariance over all pixels of the channels of x (B, C, H, W): (C, C)."""
    flat = x.transpose(0, 1).flatten(1).double()  # (C, B*H*W)
    return torch.cov(flat)


@pytest.mark.parametrize("channels", [1, 3])
def test_whitening_conv_whitens_training_patches(channels):
    images = correlated_images(channels=channels)
    model = FastNet(in_channels=channels)
    d = channels * 4
    before = patch_covariance(F.unfold(images, 2).view(len(images), d, 31, 31))
    assert (before - torch.eye(d, dtype=before.dtype)).abs().max() > 0.5  # far from white
    init_whitening(model.whiten, images, eps=1e-6)
    with torch.no_grad():
        out = model.whiten(images)  # (B, 2d, 31, 31)
    assert torch.allclose(out[:, d:], -out[:, :d], atol=1e-5)  # second half: the negatives
    assert out[:, :d].mean(dim=(0, 2, 3)).abs().max() < 1e-3  # bias removes the mean
    after = patch_covariance(out[:, :d])
    assert torch.allclose(after, torch.eye(d, dtype=after.dtype), atol=1e-3)
    assert not model.whiten.weight.requires_grad


def test_whitening_needs_float_images():
    with pytest.raises(LabError, match="float"):
        init_whitening(FastNet().whiten, torch.zeros(4, 3, 32, 32, dtype=torch.uint8))


@pytest.mark.parametrize(("c_in", "c_out"), [(8, 16), (16, 8)])
def test_dirac_init_makes_a_fresh_conv_an_identity_on_its_first_channels(c_in, c_out):
    conv = dirac_init_(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False))
    x = torch.randn(2, c_in, 8, 8)
    k = min(c_in, c_out)
    with torch.no_grad():
        assert torch.allclose(conv(x)[:, :k], x[:, :k])
    if c_out > c_in:
        assert conv.weight[c_in:].abs().sum() > 0  # the rest keep the default init


def test_fastnet_batchnorm_scale_is_frozen_and_counts_match_the_tamu_report():
    model = FastNet()
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and all(not m.weight.requires_grad and m.bias.requires_grad for m in norms)
    assert all((m.weight == 1).all() for m in norms)
    assert model.head.bias is None and model.scale == pytest.approx(1 / 9)
    assert n_params(model) == 1_972_792  # the TAMU report's count, frozen weights included
    # frozen: 24 * 3 * 2 * 2 = 288 whitening weights, 2 * (64 + 256 + 256) = 1,152 BatchNorm scales
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 1_972_792 - 288 - 1_152


def test_tta_views_are_the_intended_flips_and_shifts():
    x = torch.arange(2 * 3 * 6 * 6, dtype=torch.float32).view(2, 3, 6, 6)
    assert [w for _, w in tta_views(x, 0)] == [1.0]
    assert [w for _, w in tta_views(x, 1)] == [0.5, 0.5]
    views, weights = zip(*tta_views(x, 2), strict=True)
    assert math.isclose(sum(weights), 1.0) and weights == (0.25, 0.25, 0.125, 0.125, 0.125, 0.125)
    same, mirror, down_right, down_right_mirror, up_left, up_left_mirror = views
    assert torch.equal(same, x)
    assert torch.equal(mirror[..., :, 0], x[..., :, 5])  # left column <- right column
    assert torch.equal(down_right[..., 1:, 1:], x[..., :-1, :-1])  # content moved one pixel down-right
    assert torch.equal(down_right[..., 0, 1:], x[..., 1, :-1])  # reflected border
    assert torch.equal(up_left[..., :-1, :-1], x[..., 1:, 1:])
    assert torch.equal(up_left[..., -1, :-1], x[..., -2, 1:])
    assert torch.equal(down_right_mirror, down_right.flip(-1))
    assert torch.equal(up_left_mirror, up_left.flip(-1))
    assert torch.equal(shift(x, 0, 0), x)
    with pytest.raises(LabError, match="Valid: 0, 1, 2"):
        tta_views(x, 3)


def test_predict_tta_is_the_weighted_mean_of_logits_in_eval_mode():
    torch.manual_seed(0)
    model = FastNet(widths=(8, 16, 16)).train()
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        model.eval()
        expected = sum(w * model(v) for v, w in tta_views(x, 2))
        plain = model(x)
        model.train()
    assert torch.allclose(predict_tta(model, x, 2), expected, atol=1e-6)
    assert torch.allclose(predict_tta(model, x, 0), plain, atol=1e-6)
    assert model.training  # mode restored
    calls = []

    def mirror(m, v):
        calls.append(v.shape)
        return mirror_logits(m, v)

    assert torch.allclose(predict_tta(model, x, 2, mirror), expected, atol=1e-6) and len(calls) == 3


def test_patch_moments_and_whitening_accept_a_covariance_function():
    images = correlated_images(channels=3).double()
    _, cov = patch_moments(images, 2)
    p = F.unfold(images, 2).transpose(1, 2).reshape(-1, 12)
    assert torch.allclose(cov, torch.cov(p.T, correction=0), atol=1e-10)
    a, b = FastNet().whiten, FastNet().whiten
    init_whitening(a, images)
    init_whitening(
        b, images, covariance=lambda x: torch.cov(F.unfold(x, 2).transpose(1, 2).reshape(-1, 12).T, correction=0)
    )
    assert torch.allclose(a.weight, b.weight, atol=1e-4)


def test_ema_averages_weights_and_buffers_and_copies_them_back():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    ema = EMA(model, decay=0.5)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        model[0].weight.add_(2.0)
    model(torch.randn(8, 2))  # train mode: BatchNorm's running statistics move, its counter too
    ema.update()
    assert torch.allclose(ema.average["0.weight"], start["0.weight"] + 1.0)
    assert "1.num_batches_tracked" not in ema.average  # integer buffers are not averaged
    expected_mean = (start["1.running_mean"] + model[1].running_mean) / 2
    ema.copy_to(model)  # lookahead: training continues from the average
    assert torch.allclose(model[0].weight, start["0.weight"] + 1.0)
    assert torch.allclose(model[1].running_mean, expected_mean)
    assert model[1].num_batches_tracked == 1
    with torch.no_grad():
        model[0].weight.add_(4.0)
    ema.update(pull=True)  # both in one pass: the average moves halfway, the model takes it
    assert torch.allclose(ema.average["0.weight"], start["0.weight"] + 3.0)
    assert torch.allclose(model[0].weight, start["0.weight"] + 3.0)


# ---------------------------------------------------------------- recipes (lab 08)


def test_lookahead_is_the_legacy_airbench94_scripts():
    """Our Lookahead against legacy/airbench94.py's loop, restated: the average starts from the
    weights before the first step; every 5 steps it moves towards the weights by 1 - 0.95^5 (step /
    total)^3 and is copied back; the last step ends on it. 7 steps an epoch: an average copied back
    at epoch ends (the first release) would land elsewhere."""
    from helpers.recipes import FastRecipe, Lookahead

    total, every = 23, 5
    alpha = 0.95**5 * (torch.arange(total + 1, dtype=torch.float64) / total) ** 3
    net, ema = torch.zeros(1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
    for step in range(1, total + 1):
        net += step  # the optimizer's step
        if step % every == 0:
            ema.lerp_(net, 1 - alpha[step])
            net.copy_(ema)
        if step == total:
            net.copy_(ema)
    model = nn.Linear(1, 1, bias=False).double()
    nn.init.zeros_(model.weight)
    lookahead = Lookahead(model, FastRecipe(), per_epoch=7, total=total)
    for step in range(1, total + 1):
        with torch.no_grad():
            model.weight += step
        lookahead(step)
    assert model.weight.item() == pytest.approx(net.item(), rel=1e-12)
    assert net.item() != pytest.approx(sum(range(1, total + 1)))  # the lookahead did act


def test_fastnet_compile_trains_through_the_compiled_model(fmnist, monkeypatch):
    """compile=True trains through torch.compile(model), whose parameters are the model's: the result
    is the eager run's. (TorchDynamo's eager backend here: Inductor's code generation takes
    minutes on a small CPU; benchmarks/fastnet_compile.py measures it.)"""
    from helpers.recipes import FastRecipe, train_fastnet

    compiled = []

    def eager_compile(model, **kwargs):
        compiled.append(model)
        return torch._dynamo.optimize("eager")(model)  # traced and run by TorchDynamo, no codegen

    monkeypatch.setattr(torch, "compile", eager_compile)
    torch._dynamo.reset()
    train, test = fmnist.train.subset(torch.arange(2048)), fmnist.test.subset(torch.arange(500))
    recipe = FastRecipe(epochs=3, batch_size=256, widths=(8, 16, 16), tta_level=0)
    runs = [
        train_fastnet(recipe, train, None, test, device=torch.device("cpu"), progress=False, compile=c)
        for c in (False, True)
    ]
    assert len(compiled) == 1 and compiled[0] is runs[1].model  # the lab's model, not a copy
    assert runs[1].history["train_loss"] == pytest.approx(runs[0].history["train_loss"], rel=1e-4)
    assert abs(runs[1].test_top1 - runs[0].test_top1) <= 0.004  # two images in 500
    assert runs[1].test_top1 > 0.3  # it learned (chance: 0.1)


def test_airbench_units_give_its_lr_and_per_step_weight_decay():
    from helpers.recipes import FastRecipe, make_optimizer

    model = FastNet(widths=(8, 16, 16))
    opt = make_optimizer(model, FastRecipe())
    others, biases = opt.param_groups
    assert others["lr"] == pytest.approx(1.5, rel=1e-3)  # 11.5 / (1 + 1 / 0.15) per 1024 examples, mean loss
    shrink = 0.0153 * 1024 / (1024 * (1 + 1 / 0.15))  # airbench's wd per step, ~0.0020
    for g in (others, biases):
        assert g["lr"] * g["weight_decay"] == pytest.approx(shrink)
    assert biases["lr"] == pytest.approx(64 * others["lr"])
    tamu = make_optimizer(model, FastRecipe(units="torch", lr=0.08, weight_decay=0.02, momentum=0.9, bias_scaler=1))
    assert tamu.param_groups[0]["lr"] == 0.08 and tamu.param_groups[0]["weight_decay"] == 0.02


@pytest.mark.parametrize("profile", ["smoke", "quick", "full"])
def test_the_tamu_table_walks_from_row_1_to_the_tamu_recipe_one_change_at_a_time(profile):
    from dataclasses import asdict

    from helpers import config
    from helpers.recipes import TAMU_TABLE, recipe_from, tamu_cumulative, tamu_table

    cfg = config.resolve("08_fast_cifar", profile)
    tamu = recipe_from(cfg).but(**cfg.recipe["tamu"])
    rows = list(tamu_cumulative(tamu).values())
    assert rows[-1] == tamu and len(rows) == len(TAMU_TABLE) == 7
    first = rows[0]
    assert (first.optimizer, first.batch_size, first.whiten, first.padding_mode, first.normalize) == (
        "adamw",
        1024,
        False,
        "zeros",
        "length",
    )
    assert first.label_smoothing == 0
    for (name, changes, _), before, after in zip(TAMU_TABLE[1:], rows[:-1], rows[1:], strict=True):
        moved = {k for k, v in asdict(after).items() if asdict(before)[k] != v}
        assert moved == set(changes), f"{name} should change only {sorted(changes)}, changed {sorted(moved)}"
    table = tamu_table(
        [{"setting": TAMU_TABLE[0][0], "test_top1": 0.80}, {"setting": TAMU_TABLE[1][0], "test_top1": 0.85}]
    )
    assert table["ours, gain"].iloc[1] == pytest.approx(5.0) and table["report, gain"].iloc[1] == pytest.approx(3.03)


def test_a_tamu_recipe_the_table_cannot_reach_is_refused():
    from helpers.recipes import FastRecipe, tamu_cumulative

    with pytest.raises(LabError, match="optimizer"):
        tamu_cumulative(FastRecipe(optimizer="sgd"))  # row #5 turns Nesterov on: the last row cannot be plain SGD


def test_airbench_triangle():
    from helpers.recipes import Triangle

    tri = Triangle(total=476)
    assert (
        tri(0) == pytest.approx(0.2) and tri(int(0.23 * 476)) == pytest.approx(1.0) and tri(476) == pytest.approx(0.07)
    )


def test_normalization_along_the_length_uses_one_mean_and_std():
    from helpers.data import Split
    from helpers.recipes import along_length

    images = torch.randint(0, 256, (50, 3, 8, 8), dtype=torch.uint8)
    x = images.double() / 255
    split = Split(
        images,
        torch.zeros(50, dtype=torch.long),
        ["a"],
        tuple(x.mean((0, 2, 3)).tolist()),
        tuple(x.std((0, 2, 3), correction=0).tolist()),
    )
    flat = along_length(split)
    assert len(set(flat.mean)) == 1 and flat.mean[0] == pytest.approx(x.mean().item())
    assert flat.std[0] == pytest.approx(x.std(correction=0).item(), rel=1e-6)


def test_uw_madison_jitter_changes_each_image_differently_and_keeps_shapes():
    from helpers.recipes import uw_madison_jitter

    x = correlated_images(n=8, channels=3)
    out = uw_madison_jitter(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.dtype == x.dtype and torch.isfinite(out).all()
    change = (out - x).flatten(1).abs().mean(1)  # (B,)
    assert (change > 1e-3).all() and change.std() > 0  # every image moved, not all alike
    gray = uw_madison_jitter(x[:, :1], torch.Generator().manual_seed(0))  # one channel: no saturation step
    assert gray.shape == (8, 1, 32, 32)


@pytest.mark.parametrize("side", [28, 32])
def test_the_tu_wien_cnn_gives_logits_for_its_image_size_and_drops_out_in_training(side):
    from helpers.models.tuwien_cnn import TuWienCNN

    model = TuWienCNN(10, 1, image_size=side, convs=(4, 8, 16), hidden=(32, 16), dropout=0.7)
    x = torch.randn(6, 1, side, side)
    assert model(x).shape == (6, 10)
    assert [m.p for m in model.modules() if isinstance(m, nn.Dropout)] == [0.7, 0.7]
    model.eval()
    assert torch.equal(model(x), model(x)), "in eval, dropout is off: the same input gives the same logits"
    model.train()
    assert not torch.equal(model(x), model(x)), "in training, dropout draws a new mask each forward"
