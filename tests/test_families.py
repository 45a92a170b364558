"""Lesson 00's families: the flow (RealNVP) is invertible with the right log-determinant, the VAE's KL is the
closed form, the GAN's losses point the right way, every sampler follows its seed, and the checkers know the
mistakes."""
import math

import pytest
import torch
import torch.nn.functional as F

import diffedu as de
from diffedu import toy
from diffedu.families import (GAN, VAE, AffineCoupling, RealNVP, diffusion, discriminator_loss, generator_loss,
                              kl_standard_normal, realnvp_loss, reparameterize, train_gan, vae_loss)
from diffedu.models import build


def _perturbed(model, seed=0, scale=0.3):
    """A model whose zero-initialised output layers are no longer the identity."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return model


@pytest.mark.parametrize("rotate", [False, True])
def test_realnvp_is_invertible(rotate):
    flow = _perturbed(RealNVP(layers=6, hidden=16, rotate=rotate)).double()
    x = torch.randn(200, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 2
    z, _ = flow(x)
    assert not torch.allclose(z, x)  # not the identity
    assert torch.allclose(flow.inverse(z), x, atol=1e-5)
    layer = _perturbed(AffineCoupling(torch.tensor([1.0, 0.0]), hidden=8)).double()
    y, _ = layer(x)
    assert torch.allclose(y[:, 0], x[:, 0]) and torch.allclose(layer.inverse(y), x, atol=1e-5)


@pytest.mark.parametrize("rotate", [False, True])
def test_realnvp_log_determinant_matches_autograd(rotate):
    torch.manual_seed(0)  # the couplings' initial weights: the grid's mass must not depend on the tests run before
    flow = _perturbed(RealNVP(layers=4, hidden=16, rotate=rotate), seed=2).double()
    x = torch.randn(5, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    _, logdet = flow(x)
    for i in range(len(x)):
        J = torch.autograd.functional.jacobian(lambda v: flow(v[None])[0][0], x[i])
        assert torch.allclose(logdet[i], torch.linalg.slogdet(J).logabsdet, atol=1e-10)
    # and the density integrates to one over a grid (the change of variables is complete)
    xs = torch.linspace(-12, 12, 401, dtype=torch.float64)
    grid = torch.cartesian_prod(xs, xs)
    with torch.no_grad():
        mass = flow.log_prob(grid).exp().sum() * (xs[1] - xs[0]) ** 2
    assert abs(float(mass) - 1) < 0.02


def test_vae_kl_is_the_closed_form_for_diagonal_gaussians():
    g = torch.Generator().manual_seed(4)
    m, logvar = torch.randn(10, 3, generator=g, dtype=torch.float64), torch.randn(10, 3, generator=g, dtype=torch.float64)
    q = torch.distributions.Normal(m, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros_like(m), torch.ones_like(m))
    want = torch.distributions.kl_divergence(q, p).sum(-1)
    assert torch.allclose(kl_standard_normal(m, logvar), want, atol=1e-12)
    assert torch.allclose(kl_standard_normal(torch.zeros(2, 3), torch.zeros(2, 3)), torch.zeros(2))
    # the reparametrised draws have the encoder's mean and standard deviation
    eps = torch.randn(200_000, 1, 3, generator=g, dtype=torch.float64)
    z = reparameterize(m[:1], logvar[:1], eps)[:, 0]
    assert torch.allclose(z.mean(0), m[0], atol=0.02) and torch.allclose(z.std(0), (0.5 * logvar[0]).exp(), rtol=0.02)


def test_vae_elbo_is_below_its_importance_weighted_bound():
    vae = _perturbed(VAE(hidden=16, depth=2), scale=0.1).double()
    x = toy.ring().sample(300, torch.Generator().manual_seed(5), dtype=torch.float64)
    with torch.no_grad():
        elbo = vae.elbo(x, torch.Generator().manual_seed(6)).mean()
        iw = vae.log_prob_bound(x, k=256, generator=torch.Generator().manual_seed(6)).mean()
    assert elbo < iw


def test_gan_losses_have_the_right_sign():
    real, fake = torch.full((64, 1), 8.0), torch.full((64, 1), -8.0)   # a discriminator that is right, confidently
    assert discriminator_loss(real, fake) < 0.01 and generator_loss(fake) > 7.9
    assert discriminator_loss(fake, real) > 15.9 and generator_loss(real) < 0.01   # one that is fooled
    assert math.isclose(float(discriminator_loss(torch.zeros(4, 1), torch.zeros(4, 1))), 2 * math.log(2), rel_tol=1e-6)
    # non-saturating: where D rejects the fakes, L_G's gradient is strong (≈ −1), the minimax one's vanishes
    d = torch.full((1, 1), -8.0, requires_grad=True)
    (grad_ns,) = torch.autograd.grad(generator_loss(d), d)
    (grad_mm,) = torch.autograd.grad(-F.softplus(d).mean(), d)  # E log(1 − σ(D)) = −E softplus(D)
    assert grad_ns.item() < -0.99 and abs(grad_mm.item()) < 1e-3


def _tiny_diffusion():
    torch.manual_seed(0)
    return de.DiffusionModel(de.MLPDenoiser(hidden=16, depth=1, emb_dim=8), de.DiscreteVP("linear", 20))


@pytest.mark.parametrize("make", [lambda: GAN(hidden=16, depth=2), lambda: VAE(hidden=16, depth=2),
                                  lambda: _perturbed(RealNVP(layers=4, hidden=16)), None],
                         ids=["gan", "vae", "flow", "diffusion"])
def test_samplers_follow_the_generator_seed(make):
    torch.manual_seed(0)
    if make is None:
        model = _tiny_diffusion()
        draw = lambda g: diffusion.sample(model, 50, g)  # noqa: E731  (DDPM: fresh noise at every step)
    else:
        model = make()
        draw = lambda g: model.sample(50, g)  # noqa: E731
    a, b, c = (draw(torch.Generator().manual_seed(s)) for s in (7, 7, 8))
    assert a.shape == (50, 2) and torch.equal(a, b) and not torch.allclose(a, c)


def test_families_train_with_the_course_loop_and_survive_a_checkpoint(tmp_path):
    data = toy.ring().sample(2000, torch.Generator().manual_seed(0))
    batches = de.tensor_batches(data, 128)
    for model, loss in ((VAE(hidden=32, depth=2), vae_loss), (RealNVP(layers=4, hidden=32), realnvp_loss)):
        r = de.train(model, loss, batches, steps=60, warmup=5, progress=False)
        assert r.losses[-1] < r.losses[0]
        clone = build(type(model).__name__, model.config)
        clone.load_state_dict(r.ema.state_dict())
        loaded = de.checkpoint.load(de.checkpoint.save(tmp_path / type(model).__name__, r.ema))
        for other in (clone, loaded):
            assert type(other) is type(model)
            assert torch.equal(other.sample(10, torch.Generator().manual_seed(1)),
                               r.ema.sample(10, torch.Generator().manual_seed(1)))
    seen = []
    r = train_gan(GAN(hidden=32, depth=2), batches, steps=30, progress=False, on_step=lambda s, res: seen.append(s),
                  on_step_every=10)
    assert seen == [10, 20, 30] and len(r.losses) == len(r.d_losses) == 30
    runs = []
    for _ in range(2):  # a run is a function of the initial weights and the seed
        torch.manual_seed(3)
        runs.append(train_gan(GAN(hidden=32, depth=2), batches, steps=20, progress=False, seed=4).losses)
    assert runs[0] == runs[1]


def test_diffusion_elbo_of_the_exact_model_bounds_the_true_likelihood():
    ring = toy.ring()
    x = ring.sample(200, torch.Generator().manual_seed(9), dtype=torch.float64)
    exact = ring.model(de.DiscreteVP("linear", 1000))
    bound = diffusion.elbo(exact, x, torch.Generator().manual_seed(10))
    true = ring.log_prob(x)
    assert bound.shape == (200,) and bound.dtype == torch.float64
    assert float(bound.mean()) < float(true.mean()) < float(bound.mean()) + 0.2  # measured: 0.08


def test_checkers_pass_the_references_and_name_planted_mistakes():
    from diffedu.exercises import check_coupling, check_generator_loss, check_reparameterize, check_vae_kl
    from diffedu.exercises.families import coupling_forward

    assert check_reparameterize(lambda m, lv, e: m + (0.5 * lv).exp() * e)
    r = check_reparameterize(lambda m, lv, e: m + lv.exp() * e)
    assert not r and "variance" in r.message
    assert check_vae_kl(lambda m, lv: 0.5 * (m**2 + lv.exp() - 1 - lv).sum(-1))
    r = check_vae_kl(lambda m, lv: 0.5 * (m**2 + lv.exp() - lv).sum(-1))
    assert not r and "−1" in r.message
    r = check_vae_kl(lambda m, lv: 0.5 * (m**2 + lv.exp() - 1 - lv).mean(-1))
    assert not r and "sum" in r.message
    assert check_coupling(coupling_forward)

    def all_coordinates(x, mask, s_fn, t_fn):  # the planted mistake: log-det over the kept coordinates too
        y, _ = coupling_forward(x, mask, s_fn, t_fn)
        return y, s_fn(x * mask).sum(-1)

    r = check_coupling(all_coordinates)
    assert not r and "kept coordinates" in r.message
    r = check_coupling(lambda x, m, s, t: (coupling_forward(x, m, s, t)[0], -coupling_forward(x, m, s, t)[1]))
    assert not r and "inverse" in r.message
    assert check_generator_loss(lambda d: F.softplus(-d).mean())
    r = check_generator_loss(lambda d: -F.softplus(d).mean())
    assert not r and "saturating" in r.message
    with pytest.raises(AssertionError, match="coupling"):
        check_coupling(all_coordinates, strict=True)
