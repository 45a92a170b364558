"""Every bad input that a sweep of careless calls found gets a ValueError/TypeError naming the argument
(the call, the exception type, a pattern the message must contain)."""
import json

import pytest
import torch

import diffedu as de
from diffedu import checkpoint, forward, metrics, schedules, toy
from diffedu.datasets import mnist
from diffedu.guidance import classifier_guided
from diffedu.models import UNet
from diffedu.samplers import ddim_sample, reverse_sde_sample

S = schedules.linear(10)
X2 = torch.zeros(3, 2)
IMG = torch.zeros(2, 1, 28, 28)
T2 = torch.tensor([5, 9])


def _unet():
    return de.pretrained("mnist-unet")


def _ring_model():
    return toy.ring().model(de.VPSDE())


CASES = [
    ("from_betas('abc')", lambda: schedules.from_betas("abc"), ValueError, "betas"),
    ("q_sample with a schedule name", lambda: forward.q_sample(X2, 1, "linear"), ValueError, "sched must be"),
    ("q_sample NaN noise", lambda: forward.q_sample(X2, 1, S, noise=torch.full((3, 2), float("nan"))), ValueError,
     "noise contains NaN"),
    ("score_from_eps at t = 0", lambda: forward.score_from_eps(X2, 0, X2, S), ValueError, "t must be >= 1"),
    ("3 features to the 2-D MLP", lambda: de.MLPDenoiser()(torch.zeros(3, 3), torch.zeros(3)), ValueError,
     r"x must have shape \(batch, 2\)"),
    ("3 features to diffusion_loss", lambda: de.diffusion_loss(de.MLPDenoiser(), torch.zeros(4, 3), S), ValueError,
     r"x must have shape \(batch, 2\)"),
    ("clip_x0='1'", lambda: ddim_sample(de.pretrained("ring8-mlp"), X2, 5, clip_x0="1"), ValueError, "clip_x0"),
    ("corrector_steps=1.5", lambda: reverse_sde_sample(_ring_model(), X2.double(), 5, corrector_steps=1.5), ValueError,
     "corrector_steps"),
    ("label 11 to the U-Net", lambda: _unet().net(IMG, T2, torch.tensor([11, 1])), ValueError, "y must hold"),
    ("label -1 to the U-Net", lambda: _unet().net(IMG, T2, torch.tensor([-1, 1])), ValueError, "y must hold"),
    ("label 2.7 to the U-Net", lambda: _unet().net(IMG, T2, torch.tensor([2.7, 1.0])), ValueError, "integer tensor"),
    ("label 11 to CFG", lambda: _unet().given(11, 2.0).eps(IMG, T2), ValueError, "cond must be class labels"),
    ("label 10 (∅) to CFG as a class", lambda: _unet().given(10, 2.0).eps(IMG, T2), ValueError, "null label"),
    ("label 2.7 to CFG", lambda: _unet().given(2.7, 2.0).eps(IMG, T2), ValueError, "integer class labels"),
    ("label -1 to classifier guidance",
     lambda: classifier_guided(_unet(), de.pretrained("mnist-noisy-classifier"), -1, 1.0).eps(IMG, T2),
     ValueError, "y must be class labels"),
    ("27×27 image to the 28×28 U-Net", lambda: _unet().net(torch.zeros(2, 1, 27, 27), T2), ValueError,
     r"x must have shape \(batch, 1, 28, 28\)"),
    ("t with another batch size", lambda: _unet().net(IMG, torch.tensor([1, 2, 3])), ValueError, "t must have shape"),
    ("float64 image to the U-Net", lambda: _unet().net(IMG.double(), T2), ValueError, "dtype torch.float64"),
    ("int image to the U-Net", lambda: _unet().net(IMG.long(), T2), ValueError, "dtype torch.int64"),
    ("float16 image to the U-Net", lambda: _unet().net(IMG.half(), T2), ValueError, "dtype torch.float16"),
    ("NaN image through the U-Net", lambda: _unet().net(IMG * float("nan"), T2), ValueError, "x contains NaN"),
    ("UNet(image_size='28')", lambda: UNet(image_size="28"), ValueError, "image_size"),
    ("UNet(num_classes=-1)", lambda: UNet(num_classes=-1), ValueError, "num_classes"),
    ("UNet(base_channels=0)", lambda: UNet(base_channels=0), ValueError, "base_channels"),
    ("UNet(dropout=1.5)", lambda: UNet(dropout=1.5), ValueError, "dropout"),
    ("device 'gpu0'", lambda: de.pick_device("gpu0"), ValueError, "device must be"),
    ("device 'tpu'", lambda: de.pick_device("tpu"), ValueError, "device must be"),
    ("Fréchet of NaN features", lambda: metrics.frechet_distance(torch.full((5, 3), float("nan")), torch.zeros(5, 3)),
     ValueError, "feats_a contains NaN"),
    ("feature_diversity of empty sets", lambda: metrics.feature_diversity(torch.zeros(0, 3), torch.zeros(0)),
     ValueError, "feats must be"),
    ("pretrained(123)", lambda: de.pretrained(123), TypeError, "name must be a string"),
    ("pretrained('mnist')", lambda: de.pretrained("mnist"), ValueError, "no shipped checkpoint 'mnist'"),
    ("pretrained('/abs/path')", lambda: de.pretrained("/etc/hostname"), ValueError, "checkpoint.load"),
    ("train(warmup='100')", lambda: de.train(de.MLPDenoiser(), lambda *a: 0, lambda g: X2, steps=1, warmup="100"),
     ValueError, "warmup"),
    ("train(ema_decay=1.0)", lambda: de.train(de.MLPDenoiser(), lambda *a: 0, lambda g: X2, steps=1, ema_decay=1.0),
     ValueError, "ema_decay"),
    ("train(grad_clip=-1)", lambda: de.train(de.MLPDenoiser(), lambda *a: 0, lambda g: X2, steps=1, grad_clip=-1),
     ValueError, "grad_clip"),
    ("tensor_batches of an empty tensor", lambda: de.tensor_batches(torch.zeros(0, 2), 4), ValueError, "data must"),
    ("ddim timesteps 50.9, 20.7", lambda: ddim_sample(de.pretrained("ring8-mlp"), X2, [50.9, 20.7, 0]), ValueError,
     "integer steps"),
    ("σ = NaN to ScoreMLP", lambda: de.ScoreMLP()(X2, float("nan")), ValueError, "sigma must be finite"),
    ("NaN x0 to Process.simulate", lambda: de.VPSDE().simulate(X2 * float("nan"), 5), ValueError,
     "x0 contains NaN"),
    ("NaN means in GaussianMixture", lambda: toy.GaussianMixture(torch.tensor([[float("nan"), 0.0]]), [1.0], [1.0]),
     ValueError, "finite"),
    ("mirrors as a number", lambda: mnist.load("test", mirrors=3), ValueError, "mirrors must be"),
]


@pytest.mark.parametrize("call, exc, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gets_a_clear_error_naming_the_argument(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


@pytest.mark.parametrize("change, pattern", [
    (lambda h: [h], "format"),
    (lambda h: {k: v for k, v in h.items() if k != "model"}, "'model'"),
    (lambda h: {**h, "config": {**h["config"], "hidden": "128"}}, "cannot build"),
])
def test_checkpoint_metadata_that_is_a_list_lacks_model_or_has_a_string_size(tmp_path, change, pattern):
    from safetensors.torch import save_file

    path = checkpoint.save(tmp_path / "m", de.MLPDenoiser(hidden=8, depth=1, emb_dim=4))
    header, tensors = checkpoint.read(path)
    new = change(header)
    new = checkpoint.signed(new, tensors) if isinstance(new, dict) else new  # signed: the check after the digest
    save_file(tensors, str(path), metadata={"diffedu": json.dumps(new)})
    with pytest.raises(ValueError, match=pattern):
        checkpoint.load(path)


def test_the_null_label_is_accepted_by_the_network_itself_documented():
    """The U-Net's raw forward takes label num_classes as the null label ∅ (how CFG asks for p(x));
    as a class to generate, it is refused (above)."""
    out = _unet().net(IMG, T2, torch.tensor([10, 10]))
    assert torch.equal(out, _unet().net(IMG, T2))
