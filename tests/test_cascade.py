"""Cascaded diffusion (lesson 09): conditioning augmentation, the super-resolution network's conditioning, and
a two-stage sample."""
import math

import pytest
import torch

from diffedu import cascade
from diffedu.model import DiffusionModel
from diffedu.models import SuperResUNet, UNet
from diffedu.processes import DiscreteVP


def _sr_net(seed=0):
    torch.manual_seed(seed)
    net = SuperResUNet(image_size=16, in_channels=3, base_channels=16, channel_mults=(1, 2), attn_resolutions=(),
                       num_classes=0, dropout=0.0).eval()
    for p in net.parameters():  # zero-initialised layers (output, each block's last conv) would hide any dependence
        if not p.any():
            torch.nn.init.normal_(p, std=0.05)
    return net


def test_augmentation_at_level_zero_is_the_identity():
    low = torch.randn(4, 3, 16, 16)
    assert torch.equal(cascade.augment(low, 0.0), low)
    assert torch.equal(cascade.augment(low, torch.zeros(4, dtype=torch.float64)), low)


def test_augmentation_marginal_matches_alpha_sigma():
    low = torch.full((20000, 1), 2.0, dtype=torch.float64)
    z = cascade.augment(low, 0.5, generator=torch.Generator().manual_seed(0))
    a, s = math.cos(math.pi / 4), math.sin(math.pi / 4)
    assert abs(float(z.mean()) - 2 * a) < 0.03 and abs(float(z.std()) - s) < 0.02
    pure = cascade.augment(low, 1.0, generator=torch.Generator().manual_seed(0))
    assert abs(float(pure.mean())) < 0.03  # at s = 1 nothing of the image is left
    with pytest.raises(ValueError, match="level"):
        cascade.augment(low, 1.5)


def test_down_and_upsampling_shapes_and_means():
    x = torch.randn(2, 3, 32, 32)
    low = cascade.downsample(x)
    assert low.shape == (2, 3, 16, 16)
    torch.testing.assert_close(low[:, :, 0, 0], x[:, :, :2, :2].mean((-1, -2)))
    assert cascade.upsample(low, 32).shape == x.shape


def test_sr_output_does_not_depend_on_other_samples_of_the_batch():
    net = _sr_net()
    g = torch.Generator().manual_seed(1)
    x, low = torch.randn(5, 3, 16, 16, generator=g), torch.randn(5, 3, 16, 16, generator=g)
    t, level = torch.tensor([10, 200, 500, 800, 999]), torch.tensor([0.0, 0.1, 0.2, 0.3, 0.5])
    with torch.no_grad():
        full = net(x, t, low=low, level=level)
        for i in range(5):
            one = net(x[i:i + 1], t[i:i + 1], low=low[i:i + 1], level=level[i:i + 1])
            torch.testing.assert_close(one, full[i:i + 1], atol=1e-5, rtol=1e-4)


def test_sr_network_uses_its_conditioning_and_names_missing_inputs():
    net = _sr_net()
    x, t = torch.randn(2, 3, 16, 16), torch.tensor([300, 300])
    low = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        a = net(x, t, low=low, level=torch.zeros(2))
        assert not torch.allclose(a, net(x, t, low=-low, level=torch.zeros(2)))
        assert not torch.allclose(a, net(x, t, low=low, level=torch.full((2,), 0.4)))
    with pytest.raises(ValueError, match="low="):
        net(x, t)
    with pytest.raises(ValueError, match="level must have shape"):
        net(x, t, low=low, level=torch.zeros(3))


def test_super_resolution_binding_and_sr_loss():
    model = DiffusionModel(_sr_net(), DiscreteVP("cosine", 1000), "v")
    low = torch.rand(3, 3, 8, 8) * 2 - 1
    bound = cascade.SuperResolution(model, low, level=0.0)
    torch.testing.assert_close(bound.low, cascade.upsample(low, 16))  # level 0: the upsampled image itself
    assert bound.eps(torch.randn(3, 3, 16, 16), 500).shape == (3, 3, 16, 16)
    with pytest.raises(ValueError, match="low-resolution images were bound"):
        bound.output(torch.randn(2, 3, 16, 16), torch.tensor([5, 5]))
    with pytest.raises(ValueError, match="level"):
        cascade.SuperResolution(model, low, level=-0.1)
    loss = cascade.sr_loss(model.net.train(), torch.rand(4, 3, 16, 16) * 2 - 1, model.process, prediction="v",
                           generator=torch.Generator().manual_seed(0))
    assert loss.ndim == 0 and torch.isfinite(loss)


def test_cascade_sample_shapes():
    torch.manual_seed(0)
    base = DiffusionModel(UNet(image_size=8, in_channels=3, base_channels=16, channel_mults=(1, 2),
                               attn_resolutions=(), num_classes=10), DiscreteVP("cosine", 1000), "v", 10)
    sr = DiffusionModel(_sr_net(), DiscreteVP("cosine", 1000), "v")
    low, high = cascade.cascade_sample(base, sr, [1, 2, 3], w=2.0, steps=2, sr_steps=2, level=0.2)
    assert low.shape == (3, 3, 8, 8) and high.shape == (3, 3, 16, 16)
    assert high.abs().max() <= 1


def test_augmentation_explorer_precomputes_every_level_and_a_move_then_samples_nothing(monkeypatch):
    import diffedu.widgets.latent as wl

    sr = DiffusionModel(_sr_net(), DiscreteVP("cosine", 1000), "v")
    lows = {"a": torch.rand(2, 3, 8, 8) * 2 - 1}
    levels = []
    real = wl.super_resolve
    monkeypatch.setattr(wl, "super_resolve", lambda m, low, s, *a, **k: levels.append(s) or real(m, low, s, *a, **k))
    box = wl.augmentation_explorer(sr, lows, steps=2, level=0.1, max_level=0.2, precompute=True)
    assert levels == pytest.approx([0.0, 0.05, 0.1, 0.15, 0.2])          # every position, once
    levels.clear()
    for s in (0.15, 0.2, 0.0, 0.05):
        box.controls["s"].value = s
    assert box.compute(0.15)["a"].shape == (2, 3, 16, 16) and levels == []


def test_augmentation_explorer_caches_one_result_per_level_and_levels_differ():
    from diffedu.widgets import augmentation_explorer

    sr = DiffusionModel(_sr_net(), DiscreteVP("cosine", 1000), "v")
    lows = {"a": torch.rand(2, 3, 8, 8) * 2 - 1}
    box = augmentation_explorer(sr, lows, steps=2, level=0.1)
    first = box.compute(0.1)["a"]
    assert first.shape == (2, 3, 16, 16) and box.compute(0.1)["a"] is first   # cached
    assert not torch.allclose(box.compute(0.4)["a"], first)
    assert box.controls["s"].value == 0.1 and not box.controls["s"].continuous_update
