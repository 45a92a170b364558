"""The variational bound of lesson 02, term by term (issue 33): L_T + Σ_{t≥2} L_{t−1} + L_0 computed with the closed
forms of ``diffedu.forward`` adds up to ``families.diffusion.elbo``'s whole bound, L_T is its closed form, and each
term is a constant plus section 2's weighted noise error w_t ‖ε − ε_θ‖²."""
import math

import pytest
import torch

import diffedu as de
from diffedu import forward, losses, toy
from diffedu.families import diffusion


def vlb_terms(model, x0, seed):
    """(T + 1, B) terms L_0 … L_T and (T + 1, B) errors ‖ε − ε_θ‖², as lesson 02 computes them (σ_t² = β_t); the
    noise is drawn from ``seed`` in the order ``diffusion.elbo`` draws it (t = T down to 1)."""
    process = model.process
    sched, T = process.sched, process.T
    L = torch.zeros(T + 1, len(x0), dtype=torch.float64)
    err = torch.zeros_like(L)
    m, v = forward.q_mean_var(x0, T, sched)
    L[T] = forward.gaussian_kl(m, v, torch.zeros_like(m), 1.0).sum(-1)
    gen = torch.Generator().manual_seed(seed)
    dtype = next(model.net.parameters()).dtype if hasattr(model, "net") else torch.float64
    with torch.no_grad():
        for t in range(T, 0, -1):
            eps = torch.randn(x0.shape, generator=gen, dtype=torch.float64)
            xt = forward.q_sample(x0, t, sched, noise=eps)
            eps_hat = model.eps(xt.to(dtype), t).double()
            err[t] = ((eps - eps_hat) ** 2).sum(-1)
            mean = forward.ddpm_mean(xt, t, eps_hat, sched)
            if t > 1:
                qm, qv = forward.q_posterior(x0, xt, t, sched)
                L[t - 1] = forward.gaussian_kl(qm, qv, mean, sched.betas[t]).sum(-1)
            else:
                L[0] = forward.gaussian_nll(x0, mean, sched.betas[1]).sum(-1)
    return L, err


@pytest.mark.parametrize("which", ["shipped", "exact"])
def test_the_terms_add_up_to_the_whole_bound(which):
    ring = toy.ring()
    x0 = ring.sample(24, torch.Generator().manual_seed(7), dtype=torch.float64)
    if which == "shipped":
        model = de.pretrained("ring8-mlp")
    else:
        model = ring.model(de.DiscreteVP("linear", 200))
    L, err = vlb_terms(model, x0, seed=8)
    whole = -diffusion.elbo(model, x0, torch.Generator().manual_seed(8))
    assert torch.allclose(L.sum(0), whole, rtol=0, atol=1e-10)

    sched, T, d = model.process.sched, model.process.T, x0.shape[1]
    ab = sched.alpha_bars[T]
    closed = 0.5 * (ab * x0**2 - ab - torch.log(1 - ab)).sum(-1)  # KL(N(√ᾱ_T x_0, (1 − ᾱ_T) I) ‖ N(0, I))
    assert torch.allclose(L[T], closed, rtol=1e-12, atol=1e-15)
    assert float(L[T].max()) < 1e-3  # nothing to learn, and next to nothing left of the data

    # each term: the unequal variances' constant plus section 2's weighted error w_t ‖ε − ε_θ‖²
    w = losses.elbo_weight(sched)
    b, bt = sched.betas, sched.posterior_variances
    c = 0.5 * (torch.log(b[2:] / bt[2:]) + bt[2:] / b[2:] - 1)
    assert torch.allclose(L[1:T], d * c[:, None] + w[2:, None] * err[2:], rtol=1e-8, atol=1e-8)
    assert torch.allclose(L[0], d / 2 * torch.log(2 * math.pi * b[1]) + w[1] * err[1], rtol=1e-10, atol=1e-10)


def test_the_bound_of_the_exact_model_lies_above_the_data_entropy():
    ring = toy.ring()
    x0 = ring.sample(400, torch.Generator().manual_seed(11), dtype=torch.float64)
    L, _ = vlb_terms(ring.model(de.DiscreteVP("linear", 200)), x0, seed=12)
    gap = L.sum(0) + ring.log_prob(x0)
    assert float(gap.mean()) > -2 * float(gap.std()) / len(gap) ** 0.5


def test_gaussian_nll_is_minus_the_normal_log_density():
    g = torch.Generator().manual_seed(0)
    x, m = torch.randn(5, 3, generator=g, dtype=torch.float64), torch.randn(5, 3, generator=g, dtype=torch.float64)
    var = torch.tensor(0.3, dtype=torch.float64)
    want = -torch.distributions.Normal(m, var.sqrt()).log_prob(x)
    assert torch.allclose(forward.gaussian_nll(x, m, var), want, rtol=1e-12)
    with pytest.raises(ValueError, match="positive"):
        forward.gaussian_nll(x, m, 0.0)
