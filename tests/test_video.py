"""Lesson 14's video part: the moving-digit clips, spacetime patches, the VideoDiT, the samplers on clips, the
measurements and the checkers."""
from __future__ import annotations

import pytest
import torch

from diffedu.datasets.moving_mnist import (MovingDigits, bounce_path, channels_first, frames_first, ink_centroid,
                                           paste, shrink)
from diffedu.exercises import video as ex
from diffedu.model import FunctionModel
from diffedu.models import VideoDiT, patchify3d, unpatchify3d
from diffedu.processes import DiscreteVP
from diffedu.samplers import ddim_sample, ddpm_sample
from diffedu.video_metrics import crop_digits, folded_times, path_deviation


def _fake_digits(n=20, seed=0):
    """Blobs of different shapes as 28×28 'digits' in [−1, 1], labels 0..9: no MNIST file needed."""
    g = torch.Generator().manual_seed(seed)
    x = -torch.ones(n, 1, 28, 28)
    for i in range(n):
        h, w = (int(v) for v in torch.randint(6, 18, (2,), generator=g))
        r, c = (int(v) for v in torch.randint(2, 28 - 18, (2,), generator=g))
        x[i, 0, r:r + h, c:c + w] = torch.rand(h, w, generator=g) * 2 - 1
    return x, torch.arange(n) % 10


@pytest.fixture(scope="module")
def clips():
    return MovingDigits(data=_fake_digits())


def test_frames_hold_the_stored_positions_and_digits(clips):
    x, y, pos = clips.sample(16, torch.Generator().manual_seed(1))
    assert x.shape == (16, 8, 1, 24, 24) and y.shape == (16,) and pos.shape == (16, 8, 2)
    assert x.min() >= -1 and x.max() <= 1
    assert torch.allclose(ink_centroid(x), pos, atol=1e-9)          # the centroid of every frame is the stored one
    # every frame is the digit of its label, unchanged, somewhere on the canvas
    labels = torch.tensor([0, 3, 3, 9, 5])
    x, y, _ = clips.sample(5, torch.Generator().manual_seed(2), labels=labels)
    assert torch.equal(y, labels)
    pool = clips.images
    for b in range(5):
        crop = x[b, 0, 0]                                                # frame 0 of clip b
        same_class = (clips.labels == labels[b]).nonzero().squeeze(1).tolist()
        found = [i for i in same_class
                 if any(torch.equal(crop[r:r + 14, c:c + 14], pool[i, 0]) for r in range(11) for c in range(11))]
        assert found, f"clip {b} holds no digit of class {int(labels[b])}"


def test_constant_velocity_and_reflection():
    start, v = torch.tensor([[0, 9], [5, 10]]), torch.tensor([[3, -2], [-1, 1]])
    p = bounce_path(start, v, 8, 10)
    assert p.min() >= 0 and p.max() <= 10
    assert p[0, :, 0].tolist() == [0, 3, 6, 9, 8, 5, 2, 1]               # 9 + 3 = 12 → 2·10 − 12 = 8; 2 − 3 → 1
    assert p[1, :, 1].tolist() == [10, 9, 8, 7, 6, 5, 4, 3]             # from the wall: 11 → 9, then on down
    steps = (p[:, 1:] - p[:, :-1]).abs()
    assert (steps <= v.abs()[:, None]).all()


def test_path_deviation_reads_bounces_as_straight_and_shuffles_as_not(clips):
    x, _, pos = clips.sample(64, torch.Generator().manual_seed(3))
    assert path_deviation(pos).max() < 1e-6                             # the data: constant velocity with bounces
    shuffled = pos[:, torch.tensor([3, 0, 6, 1, 7, 2, 5, 4])]
    assert path_deviation(shuffled).mean() > 0.5
    # the folded clock: one bounce at τ turns k into 2τ − k after it (τ = 3, and τ = 2.5)
    g = folded_times(6, step=0.5, max_bounces=1)
    for want in ([0., 1, 2, 3, 2, 1], [0., 1, 2, 2, 1, 0]):
        assert any(torch.allclose(r, torch.tensor(want, dtype=torch.float64)) for r in g)
    # a path with a kink that no reflection explains (the speed doubles) deviates
    kink = torch.tensor([[[0., 0], [1, 1], [2, 2], [3, 3], [5, 5], [7, 7], [9, 9], [11, 11]]])
    assert path_deviation(kink)[0] > 0.1


def test_crop_undoes_the_shrinking():
    digits, _ = _fake_digits(4)
    small = shrink(digits, 14)
    x = paste(small, torch.tensor([[[3, 7]]]).expand(4, 1, 2).contiguous(), 24)
    crops = crop_digits(x, 14)
    assert crops.shape == (4, 1, 28, 28)
    # the crop is centred on the ink: its own centroid is the middle of the 28×28 window
    assert torch.allclose(ink_centroid(crops), torch.full((4, 2), 13.5, dtype=torch.float64), atol=0.6)


def test_spacetime_patchify_round_trip_and_layout():
    x = torch.randn(2, 8, 3, 12, 16)
    for pt, p in ((1, 4), (2, 4), (4, 2), (8, 4)):
        tokens = patchify3d(x, pt, p)
        assert tokens.shape == (2, (8 // pt) * (12 // p) * (16 // p), pt * p * p * 3)
        assert torch.equal(unpatchify3d(tokens, pt, p, 8, 3, 12, 16), x)
        assert torch.equal(patchify3d(unpatchify3d(tokens, pt, p, 8, 3, 12, 16), pt, p), tokens)
    tokens = patchify3d(x, 2, 4)
    # token 0: frames 0–1, rows 0–3, columns 0–3, flattened (frame, row, column, channel)
    assert torch.equal(tokens[0, 0], x[0, :2, :, :4, :4].permute(0, 2, 3, 1).reshape(-1))
    # the next token is one patch to the right; after a whole frame's 3·4 patches, the next frame block
    assert torch.equal(tokens[0, 1], x[0, :2, :, :4, 4:8].permute(0, 2, 3, 1).reshape(-1))
    assert torch.equal(tokens[0, 12], x[0, 2:4, :, :4, :4].permute(0, 2, 3, 1).reshape(-1))
    # one frame per block and one channel: the image DiT's patchify, frame by frame
    from diffedu.models import patchify

    one = torch.randn(2, 4, 1, 8, 8)
    per_frame = torch.cat([patchify(one[:, k], 4) for k in range(4)], 1)
    assert torch.equal(patchify3d(one, 1, 4), per_frame)


def test_video_dit_shape_zero_start_and_condition():
    torch.manual_seed(0)
    net = VideoDiT(frames=4, image_size=8, in_channels=1, frame_patch=2, patch_size=4, hidden_size=32, depth=2,
                   heads=2, num_classes=10)
    assert net.tokens == 2 * 2 * 2
    x, t = torch.randn(3, 4, 1, 8, 8), torch.tensor([1, 500, 999])
    out = net(x, t, torch.tensor([1, 2, 10]))
    assert out.shape == x.shape and torch.equal(out, torch.zeros_like(x))    # adaLN-Zero: the output starts at 0
    for prm in net.parameters():
        torch.nn.init.normal_(prm, std=0.2)
    a, b = net(x, t, torch.tensor([1, 2, 3])), net(x, t, torch.tensor([4, 2, 3]))
    assert not torch.allclose(a[0], b[0]) and torch.allclose(a[1:], b[1:], atol=1e-6)   # each clip its own label
    # a change in the last frame reaches the first (attention over all tokens)
    y = x.clone()
    y[:, -1] += 1
    assert not torch.allclose(net(y, t)[:, 0], net(x, t)[:, 0])
    out, maps = net(x, t, attention_maps=True)
    assert len(maps) == 2 and maps[0].shape == (3, 2, 8, 8)


@pytest.mark.parametrize("layout", ["BTCHW", "BCTHW"])
def test_samplers_take_clips_in_either_layout_unchanged(layout):
    """One clip x* as the whole data set: the exact model predicts x̂_0 = x*, so DDIM (η = 0) lands on x*
    and DDPM's last step too, whatever the axes mean."""
    process = DiscreteVP("cosine", 1000)
    star = torch.rand(1, 4, 1, 6, 6, dtype=torch.float64) * 2 - 1
    star = star if layout == "BTCHW" else channels_first(star)
    exact = FunctionModel(lambda x, t: star.expand_as(x), process, "x0")
    g = torch.Generator().manual_seed(0)
    x = torch.randn((3,) + star.shape[1:], dtype=torch.float64, generator=g)
    out = ddim_sample(exact, x, 10)
    assert out.shape == x.shape and torch.allclose(out, star.expand_as(out), atol=1e-6)
    out = ddpm_sample(exact, x, 10, generator=g)
    assert torch.allclose(out, star.expand_as(out), atol=1e-6)
    assert torch.equal(frames_first(channels_first(star)), star)


def test_checkers_pass_the_reference_and_name_every_planted_mistake():
    assert ex.check_patchify3d(patchify3d).passed and ex.check_unpatchify3d(unpatchify3d).passed
    wrong = {"t before h": ex._patchify_wrong("hptwc"), "t and h are swapped": ex._patchify_wrong(grid="htw"),
             "channel first": ex._patchify_wrong("ctphw"), "read as (B, C, T, H, W)": ex._patchify_wrong(layout="BCTHW"),
             "column by column": ex._patchify_wrong(grid="twh"), "rows and columns": ex._patchify_wrong("tpwhc"),
             "ignores time": lambda x, pt, p: ex._patchify_wrong()(x, 1, p),
             "plain reshape": lambda x, pt, p: x.reshape(x.shape[0], -1, pt * p * p * x.shape[2])}
    for words, fn in wrong.items():
        r = ex.check_patchify3d(fn)
        assert not r.passed and words in r.message, (words, r.message)
    for words, args in {"t before h": ("hptwc",), "t and h are swapped": ("tphwc", "htw"),
                        "(C, pt, p, p)": ("ctphw",), "column by column": ("tphwc", "twh"),
                        "rows and columns": ("tpwhc",)}.items():
        r = ex.check_unpatchify3d(ex._unpatchify_wrong(*args))
        assert not r.passed and words in r.message, (words, r.message)
    r = ex.check_unpatchify3d(lambda tk, pt, p, T, C, H, W: unpatchify3d(tk, pt, p, T, C, H, W).transpose(1, 2))
    assert "(B, C, T, H, W)" in r.message
    with pytest.raises(AssertionError):
        ex.check_patchify3d(ex._patchify_wrong("hptwc"), strict=True)


@pytest.mark.parametrize("call, words", [
    (lambda: patchify3d(torch.randn(2, 1, 8, 8), 2, 4), "x must be clips"),
    (lambda: patchify3d(torch.randn(1, 3, 1, 8, 8), 2, 4), "divisible"),
    (lambda: unpatchify3d(torch.randn(1, 5, 32), 2, 4, 4, 1, 8, 8), "tokens must be"),
    (lambda: VideoDiT(frames=7, frame_patch=2), "frames 7"),
    (lambda: VideoDiT(frame_patch=0), "frame_patch"),
    (lambda: VideoDiT(frames=4, image_size=8, hidden_size=32, heads=2)(torch.randn(2, 1, 8, 8), torch.ones(2)),
     "x must have shape"),
    (lambda: MovingDigits(digit=30, data=_fake_digits()), "digit"),
    (lambda: MovingDigits(max_speed=0, data=_fake_digits()), "max_speed"),
    (lambda: MovingDigits(data=_fake_digits()).sample(0), "n"),
    (lambda: MovingDigits(data=_fake_digits()).sample(2, generator=3), "generator"),
    (lambda: MovingDigits(data=_fake_digits()).sample(2, labels=[1, 12]), "labels"),
    (lambda: path_deviation(torch.randn(4, 8)), "centroids"),
    (lambda: crop_digits(torch.randn(8, 1, 24, 24)), "clips"),
    (lambda: ink_centroid(torch.ones(3, dtype=torch.long)), "frames"),
    (lambda: channels_first(torch.randn(2, 3, 4, 4)), "clips"),
])
def test_bad_inputs_are_named(call, words):
    with pytest.raises((ValueError, TypeError), match=words.replace("(", r"\(").replace(")", r"\)")):
        call()
