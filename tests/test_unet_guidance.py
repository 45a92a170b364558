"""The U-Net, guidance (classifier-free and classifier), and checkpoint hygiene for image models."""
import json
import re
from pathlib import Path

import pytest
import torch

from diffedu import checkpoint
from diffedu.guidance import cfg_combine, classifier_guided, guided_score
from diffedu.model import DiffusionModel, FunctionModel
from diffedu.models import NoisyClassifier, UNet
from diffedu.processes import DiscreteVP
from diffedu.samplers import ddim_sample, ddpm_sample


@pytest.mark.parametrize("size, channels, mults, attn", [(28, 1, (1, 2, 2), (7,)), (32, 3, (1, 2, 2, 2), (8,)),
                                                         (16, 1, (1, 2), ())])
def test_unet_output_shape_equals_input_shape(size, channels, mults, attn):
    m = UNet(image_size=size, in_channels=channels, channel_mults=mults, attn_resolutions=attn, base_channels=16)
    x = torch.randn(3, channels, size, size)
    assert m(x, torch.tensor([1, 500, 999]), torch.tensor([0, 3, 10])).shape == x.shape


def test_one_samples_output_does_not_depend_on_the_rest_of_the_batch():
    torch.manual_seed(0)
    m = UNet(base_channels=16).eval()
    for p in m.parameters():  # zero-initialised output layers would make this test vacuous
        torch.nn.init.normal_(p, std=0.05)
    x, t, y = torch.randn(5, 1, 28, 28), torch.tensor([3, 40, 500, 800, 999]), torch.tensor([1, 2, 3, 10, 5])
    with torch.no_grad():
        full = m(x, t, y)
        alone = m(x[2:3], t[2:3], y[2:3])
        other = m(torch.cat([x[2:3], torch.randn(4, 1, 28, 28)]), torch.cat([t[2:3], t[:4]]),
                  torch.cat([y[2:3], y[:4]]))
    assert full.abs().max() > 0
    assert torch.allclose(full[2:3], alone, atol=1e-5) and torch.allclose(other[:1], alone, atol=1e-5)


def _random_unet(process=DiscreteVP("cosine", 1000)):
    """A class-conditional U-Net with random (non-zero) weights, as the model of ``process``."""
    torch.manual_seed(1)
    m = UNet(base_channels=16).eval()
    for p in m.parameters():
        torch.nn.init.normal_(p, std=0.05)
    return DiffusionModel(m, process, "eps", num_classes=m.config["num_classes"])


def test_cfg_with_w0_and_w1_is_exactly_unconditional_and_conditional():
    model = _random_unet()
    m = model.net
    x, t, y = torch.randn(4, 1, 28, 28), torch.tensor([10, 200, 600, 900]), torch.tensor([0, 1, 7, 9])
    with torch.no_grad():
        cond, uncond = m(x, t, y), m(x, t, torch.full((4,), 10))
        assert torch.equal(model.given(y, 0.0).eps(x, t), uncond)
        assert torch.equal(model.given(y, 1.0).eps(x, t), cond)
        # the batched two-pass path for other w, and the combination itself at the end points
        assert torch.allclose(model.given(y, 3.0).eps(x, t), uncond + 3.0 * (cond - uncond), atol=1e-5)
        assert torch.equal(cfg_combine(uncond, cond, 0.0), uncond) and torch.equal(cfg_combine(uncond, cond, 1.0), cond)
    a, b = torch.randn(50, 2), torch.randn(50, 2)
    assert torch.equal(guided_score(a, b, 1.0), b) and torch.equal(guided_score(a, b, 0.0), a)


def test_guided_samplers_run_on_images():
    process = DiscreteVP("cosine", 50)
    m = _random_unet(process)
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        assert ddim_sample(m.given(3, 2.0), x, 3).shape == x.shape
    clf = NoisyClassifier(base_channels=8).eval()
    clf.process = process  # as a loaded noisy classifier carries it: guidance checks it is the model's
    guided = classifier_guided(m.given(3, 1.0), clf, 3, 2.0)
    assert ddpm_sample(guided, torch.randn(2, 1, 28, 28)).shape == x.shape


class ToyClassifier(torch.nn.Module):
    """log p(y = 1 | x) grows with the mean pixel value, whatever t is."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor(1.0))

    def forward(self, x, t):
        m = x.flatten(1).mean(1) * 5 * self.w
        return torch.stack([-m, m], dim=1)


def test_classifier_guidance_moves_samples_toward_the_class():
    zero = FunctionModel(lambda x, t: torch.zeros_like(x), DiscreteVP("linear", 100), "eps")  # predicts no noise
    x = torch.randn(64, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    eps = classifier_guided(zero, ToyClassifier(), 1, 3.0).eps(x, torch.full((64,), 50))
    assert (eps < 0).all()  # ε̂ = −s√(1−ᾱ)∇log p(y=1|x): the denoised estimate moves toward larger means
    base = ddim_sample(zero, x, 20)
    toward = ddim_sample(classifier_guided(zero, ToyClassifier(), 1, 3.0), x, 20)
    away = ddim_sample(classifier_guided(zero, ToyClassifier(), 0, 3.0), x, 20)
    assert toward.mean() > base.mean() + 0.1 > away.mean() + 0.2


def test_unet_checkpoint_refuses_wrong_shape_and_missing_tensor(tmp_path):
    from safetensors.torch import save_file

    path = checkpoint.save(tmp_path / "u", UNet(base_channels=16), dtype=torch.float16)
    assert checkpoint.load(path).inp.weight.dtype == torch.float32  # fp16 on disk, float32 in memory
    header, tensors = checkpoint.read(path)

    def write(tensors):  # a consistent file (its sha256 recomputed), so the structure check is what refuses it
        save_file(tensors, str(path), metadata={"diffedu": json.dumps({**header,
                                                                       "sha256": checkpoint.tensor_digest(tensors)})})

    name = "mid.1.qkv.weight"
    tensors[name] = torch.zeros(3, 3, 1, 1, dtype=torch.float16)
    write(tensors)
    with pytest.raises(ValueError, match=re.escape(name)):
        checkpoint.load(path)
    del tensors[name]
    write(tensors)
    with pytest.raises(ValueError, match="missing tensors"):
        checkpoint.load(path)


def test_no_pickle_loading_anywhere_in_the_project():
    root = Path(__file__).resolve().parent.parent
    pattern = re.compile(r"torch\.load\(|pickle\.loads?\(|joblib\.load\(")
    offenders = [str(p.relative_to(root)) for p in list(root.glob("diffedu/**/*.py")) + list(root.glob("lessons/*.ipynb"))
                 + list(root.glob("benchmarks/*.py")) if pattern.search(p.read_text())]
    assert offenders == []
