"""bf16 inference (diffedu.precision): chosen by the hardware, overridable, and the pictures unchanged."""
import pytest
import torch

import diffedu as de
from diffedu import images, metrics
from diffedu.precision import inference_autocast, native_bf16, use_bf16


def test_the_choice_follows_the_argument_then_the_environment_then_the_hardware(monkeypatch):
    monkeypatch.delenv("DIFFEDU_BF16", raising=False)
    assert use_bf16("cpu") == native_bf16("cpu")
    assert use_bf16("cpu", True) is True and use_bf16("cpu", False) is False
    monkeypatch.setenv("DIFFEDU_BF16", "0")
    assert use_bf16("cpu") is False and use_bf16("cpu", True) is True
    monkeypatch.setenv("DIFFEDU_BF16", "1")
    assert use_bf16("cpu") is True
    monkeypatch.setenv("DIFFEDU_BF16", "fast please")
    with pytest.raises(ValueError, match="DIFFEDU_BF16"):
        use_bf16("cpu")
    assert native_bf16("meta") is False


def test_autocast_runs_matrix_products_in_bf16_only_when_asked():
    a, b = torch.randn(4, 8), torch.randn(8, 3)
    with inference_autocast("cpu", True):
        assert (a @ b).dtype == torch.bfloat16
    with inference_autocast("cpu", False):
        assert (a @ b).dtype == torch.float32


def test_bf16_samples_are_the_same_digits_as_float32():
    unet, clf = de.pretrained("mnist-unet"), de.pretrained("mnist-classifier")
    x32, labels = images.sample_grid(unet, 3.0, per_class=1, steps=8, bf16=False)
    x16, _ = images.sample_grid(unet, 3.0, per_class=1, steps=8, bf16=True)
    assert x16.dtype == torch.float32 and x16.shape == x32.shape
    assert 0 < float((x16 - x32).abs().mean()) < 0.06   # bf16 did run (not identical), the pixels barely move
    p32, _ = metrics.classifier_outputs(clf, x32)
    p16, _ = metrics.classifier_outputs(clf, x16)
    assert torch.equal(p32, p16)


def test_attention_is_softmax_of_scaled_dot_products_and_runs_in_float32_under_cpu_autocast():
    from diffedu.models.attention import dot_product_attention
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 64, 32, generator=g, dtype=torch.float64) for _ in range(3))
    exact = torch.softmax(q @ k.transpose(-1, -2) / 32 ** 0.5, dim=-1) @ v
    assert torch.allclose(dot_product_attention(q, k, v), exact, atol=1e-12)
    qb, kb, vb = q.bfloat16(), k.bfloat16(), v.bfloat16()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = dot_product_attention(qb, kb, vb)
    assert out.dtype == torch.bfloat16                                            # the caller's dtype back
    # float32 arithmetic on the bf16 inputs, rounded once to bf16 at the end: (nearly) every element is the exact
    # value's rounding; the bf16 kernel itself rounds along the way and matches about 65 % of them
    exact = torch.softmax(qb.double() @ kb.double().transpose(-1, -2) / 32 ** 0.5, dim=-1) @ vb.double()
    assert (out == exact.float().bfloat16()).float().mean() > 0.99
