"""Latent diffusion (lesson 09): the autoencoder's shapes, its KL and loss against their definitions, the scale
factor, and a latent model that travels with its autoencoder and samples images."""
import math

import pytest
import torch

from diffedu import checkpoint, latent
from diffedu.images import sample_images
from diffedu.forward import kl_standard_normal as kl_divergence
from diffedu.latent import LatentDiffusionModel, autoencoder_loss, psnr, scale_factor
from diffedu.models import DiT, Autoencoder
from diffedu.processes import DiscreteVP
from diffedu.pretrained import pretrained


@pytest.mark.parametrize("size,channels,latent", [(32, 3, 4), (28, 1, 3)])
def test_encoder_decoder_shapes_cifar_and_mnist(size, channels, latent):
    ae = Autoencoder(image_size=size, in_channels=channels, latent_channels=latent)
    x = torch.randn(5, channels, size, size)
    mean, logvar = ae.encode(x)
    assert mean.shape == logvar.shape == (5, latent, size // 4, size // 4) == (5, *ae.latent_shape)
    assert ae.decode(mean).shape == x.shape and ae(x).shape == x.shape


def test_autoencoder_rejects_wrong_shapes_naming_the_argument():
    ae = Autoencoder()
    with pytest.raises(ValueError, match="x must have shape"):
        ae.encode(torch.randn(2, 3, 28, 28))
    with pytest.raises(ValueError, match="z must have shape"):
        ae.decode(torch.randn(2, 4, 16, 16))
    with pytest.raises(ValueError, match="image_size"):
        Autoencoder(image_size=30)


def test_kl_term_equals_its_closed_form():
    g = torch.Generator().manual_seed(0)
    mean = torch.randn(4, 4, 8, 8, generator=g, dtype=torch.float64)
    logvar = torch.randn(4, 4, 8, 8, generator=g, dtype=torch.float64)
    q = torch.distributions.Normal(mean, (0.5 * logvar).exp())
    expected = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).flatten(1).sum(1)
    torch.testing.assert_close(kl_divergence(mean, logvar), expected)
    assert torch.all(kl_divergence(torch.zeros(2, 3), torch.zeros(2, 3)) == 0)  # q = prior: no divergence
    with pytest.raises(ValueError, match="same shape"):
        kl_divergence(mean, logvar[:, :2])


def test_autoencoder_loss_equals_its_definition():
    torch.manual_seed(0)
    ae = Autoencoder(base_channels=8, channel_mults=(1, 2, 2)).double()
    x = torch.rand(3, 3, 32, 32, dtype=torch.float64) * 2 - 1
    beta = 0.3
    loss = autoencoder_loss(ae, x, beta, generator=torch.Generator().manual_seed(5))
    mean, logvar = ae.encode(x)
    eps = torch.randn(mean.shape, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    rec = ((ae.decode(mean + (0.5 * logvar).exp() * eps) - x) ** 2).flatten(1).sum(1)
    expected = ((rec + beta * kl_divergence(mean, logvar)) / 3072).mean()
    torch.testing.assert_close(loss, expected)
    with pytest.raises(ValueError, match="kl_weight"):
        autoencoder_loss(ae, x, -1.0)


def test_psnr_against_a_known_error():
    x = torch.zeros(2, 3, 4, 4)
    assert torch.allclose(psnr(x, x + 0.2), torch.full((2,), 10 * math.log10(1 / 0.01), dtype=torch.float64))


def test_scale_factor_makes_latents_unit_std():
    z = 3.7 * torch.randn(2000, 4, 8, 8, generator=torch.Generator().manual_seed(1)) + 0.1
    assert abs(scale_factor(z) * z.std() - 1) < 1e-4
    with pytest.raises(ValueError, match="vary"):
        scale_factor(torch.ones(10, 4))


def _tiny_latent_model():
    torch.manual_seed(0)
    ae = Autoencoder(base_channels=8).eval()
    net = DiT(image_size=8, in_channels=4, patch_size=2, hidden_size=32, depth=1, heads=2, num_classes=10)
    return LatentDiffusionModel(net, DiscreteVP("cosine", 1000), "v", 10, {"note": "t"}, autoencoder=ae, scale=0.5)


def test_latent_checkpoint_carries_autoencoder_and_scale(tmp_path):
    m = _tiny_latent_model()
    path = checkpoint.save(tmp_path / "lat", m)
    back = checkpoint.load(path)
    assert isinstance(back, LatentDiffusionModel) and back.scale == 0.5 and back.num_classes == 10
    z = torch.randn(2, 4, 8, 8)
    torch.testing.assert_close(back.decode(z), m.decode(z))
    torch.testing.assert_close(back.encode(torch.zeros(1, 3, 32, 32)), 0.5 * m.autoencoder.encode(
        torch.zeros(1, 3, 32, 32))[0])
    assert isinstance(back.with_process(DiscreteVP("cosine", 1000)), LatentDiffusionModel)
    # the autoencoder's weights are covered by the checkpoint's hash: an altered decoder is refused
    header, tensors = checkpoint.read(path)
    key = next(k for k in tensors if k.startswith("autoencoder."))
    tensors[key] = tensors[key] + 1
    from safetensors.torch import save_file
    import json
    save_file(tensors, str(path), metadata={"diffedu": json.dumps(header)})
    with pytest.raises(ValueError, match="sha256"):
        checkpoint.load(path)


def test_latent_model_samples_images_not_latents():
    m = _tiny_latent_model()
    out = sample_images(m, torch.tensor([0, 3, 9]), w=2.0, steps=2)
    assert out.shape == (3, 3, 32, 32) and out.min() >= -1 and out.max() <= 1


def test_latent_map_has_one_trace_per_class_and_interpolation_ends_at_the_reconstructions():
    from diffedu.widgets import latent_map
    from diffedu.widgets.latent import interpolations

    fig = latent_map(torch.randn(50, 2), torch.arange(50) % 10)
    assert len(fig.data) == 10 and sum(len(tr.x) for tr in fig.data) == 50
    m = _tiny_latent_model()
    xa, xb = torch.rand(3, 32, 32) * 2 - 1, torch.rand(3, 32, 32) * 2 - 1
    pixel, lat = interpolations(m, xa, xb, n=5)
    assert pixel.shape == lat.shape == (5, 3, 32, 32)
    torch.testing.assert_close(pixel[0], xa)
    torch.testing.assert_close(pixel[-1], xb)
    with torch.no_grad():
        torch.testing.assert_close(lat[-1], m.autoencoder(xb[None])[0].clamp(-1, 1), atol=1e-5, rtol=1e-4)


def test_guidance_through_a_decoder_equals_its_closed_form_on_a_linear_decoder_and_classifier():
    """x̂_0 = a·z, D(z) = W z + b, logits = V x + c: ∇_z log p(y | D(x̂_0)) = a Wᵀ Vᵀ (e_y − softmax(logits))."""
    from diffedu.guidance import DecodedClassifierGuided, classifier_guided
    from diffedu.model import FunctionModel

    torch.manual_seed(0)
    a, s = 0.7, 2.5
    model = FunctionModel(lambda z, t: a * z, DiscreteVP("cosine", 1000), "x0")   # predicts x̂_0 = a z
    dec, clf = torch.nn.Linear(4, 6).double(), torch.nn.Linear(6, 3).double()
    z, t, y = torch.randn(5, 4, dtype=torch.float64), torch.tensor([10, 200, 500, 800, 990]), torch.tensor([0, 2, 1, 1, 0])
    guided = classifier_guided(model, clf, y, s, decode=dec)
    assert isinstance(guided, DecodedClassifierGuided)
    with torch.no_grad():
        p = torch.softmax(clf(dec(a * z)), -1)
        expected = a * (torch.nn.functional.one_hot(y, 3).double() - p) @ clf.weight @ dec.weight
        torch.testing.assert_close(guided.score(z, t) - model.score(z, t), s * expected)
        torch.testing.assert_close(classifier_guided(model, clf, y, 0.0, decode=dec).score(z, t), model.score(z, t))
        # a guidance interval: the term only where t ≤ t_max (rows at t = 800, 990 unguided)
        on = (t <= 500).double()[:, None]
        torch.testing.assert_close(classifier_guided(model, clf, y, s, decode=dec, t_max=500).score(z, t)
                                   - model.score(z, t), s * expected * on)


def test_guidance_through_a_latent_model_matches_a_finite_difference():
    """Through a real (tiny, random) DiT's x̂_0, its decoder and a CIFAR classifier, in float64: the guidance term
    s ∇_z log p(y | D(ẑ_0(z_t))) against a central difference along a random direction."""
    from diffedu.guidance import classifier_guided
    from diffedu.models import CifarClassifier

    m = _tiny_latent_model()
    for p in m.net.parameters():   # adaLN-Zero starts at zero: random weights make ẑ_0 depend on the network
        torch.nn.init.normal_(p, std=0.05)
    m.to(dtype=torch.float64)
    clf = CifarClassifier(width=4).double().eval()
    base, y, s = m.given(torch.tensor([1, 7]), 0.0), torch.tensor([3, 5]), 1.5
    g = torch.Generator().manual_seed(3)
    z, v = torch.randn(2, 4, 8, 8, generator=g, dtype=torch.float64), torch.randn(2, 4, 8, 8, generator=g,
                                                                                  dtype=torch.float64)
    t = torch.tensor([300, 600])
    with torch.no_grad():
        term = classifier_guided(base, clf, y, s, decode=m.decode).score(z, t) - base.score(z, t)

        def f(zz):
            return torch.log_softmax(clf(m.decode(base.x0(zz, t))), -1).gather(1, y[:, None]).sum()
        h = 1e-5
        fd = (f(z + h * v) - f(z - h * v)) / (2 * h)
    assert term.abs().max() > 0
    torch.testing.assert_close((term * v).sum(), s * fd, rtol=1e-6, atol=1e-9)


def test_guidance_through_a_decoder_names_bad_inputs():
    from diffedu.guidance import classifier_guided
    from diffedu.model import FunctionModel

    model = FunctionModel(lambda z, t: z, DiscreteVP("cosine", 1000), "x0")
    clf = torch.nn.Linear(4, 3)
    with pytest.raises(TypeError, match="decode must be callable"):
        classifier_guided(model, clf, 1, 1.0, decode="decoder")
    noisy = torch.nn.Linear(4, 3)
    noisy.process = DiscreteVP("cosine", 1000)   # as a loaded noisy classifier carries it
    with pytest.raises(ValueError, match="classifier must judge clean images"):
        classifier_guided(model, noisy, 1, 1.0, decode=torch.nn.Identity())
    with pytest.raises(ValueError, match="scale"):
        classifier_guided(model, clf, 1, -1.0, decode=torch.nn.Identity())
    with pytest.raises(ValueError, match="t_max"):
        classifier_guided(model, clf, 1, 1.0, decode=torch.nn.Identity(), t_max=float("nan"))
    with pytest.raises(TypeError, match="classifier must be a network"):
        classifier_guided(model, lambda x: x, 1, 1.0, decode=torch.nn.Identity())
    with pytest.raises(ValueError, match="y"):
        classifier_guided(model, clf, 5, 1.0, decode=torch.nn.Identity()).score(torch.randn(2, 4), torch.tensor([5, 9]))
