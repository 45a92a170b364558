"""The denoiser's faster paths compute what the reference path does: the fused attention kernel against the
textbook formula, bf16 autocast within a stated tolerance, and a compiled network sampling the same images."""
import math

import pytest
import torch

import diffedu as de
from diffedu.models.unet import Attention


def test_unet_attention_equals_the_textbook_formula():
    torch.manual_seed(0)
    att = Attention(32, groups=8)
    with torch.no_grad():
        att.out.weight.normal_(0, 0.1)  # the zero initialisation would hide the attention path
        x = torch.randn(3, 32, 7, 7)
        B, C, H, W = x.shape
        q, k, v = att.qkv(att.norm(x)).reshape(B, 3, C, H * W).unbind(1)             # (B, C, HW)
        a = torch.softmax(q.transpose(1, 2) @ k / math.sqrt(C), dim=-1)                 # (B, HW, HW)
        want = x + att.out((v @ a.transpose(1, 2)).reshape(B, C, H, W))
        got = att(x)
    assert torch.allclose(got, want, rtol=1e-5, atol=1e-6)


def _inputs(n=8):
    g = torch.Generator().manual_seed(1)
    return torch.randn(n, 1, 28, 28, generator=g), torch.randint(1, 1001, (n,), generator=g), torch.arange(n) % 10


def test_bf16_autocast_stays_within_two_percent_of_fp32():
    net = de.pretrained("mnist-unet").net
    x, t, y = _inputs()
    with torch.no_grad():
        ref = net(x, t, y)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = net(x, t, y).float()
    rel = (low - ref).norm() / ref.norm()
    assert rel < 0.02, float(rel)  # bf16 keeps 8 bits of mantissa: about 0.4 % per operation


@pytest.mark.slow
def test_a_compiled_network_samples_the_same_images_as_the_eager_one():
    unet = de.pretrained("mnist-unet")
    fast = de.DiffusionModel(torch.compile(unet.net), unet.process, unet.prediction, unet.num_classes)
    x = torch.randn(4, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    y = torch.tensor([3, 1, 4, 1])
    eager = de.ddim_sample(unet.given(y, 3.0), x, 4, clip_x0=1.0)
    compiled = de.ddim_sample(fast.given(y, 3.0), x, 4, clip_x0=1.0)
    assert torch.allclose(eager, compiled, atol=1e-4), float((eager - compiled).abs().max())
