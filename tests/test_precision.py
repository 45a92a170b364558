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
