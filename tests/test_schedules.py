"""Schedules against their published definitions."""
import math

import pytest
import torch

from diffedu import schedules


def test_linear_matches_ho_et_al():
    s = schedules.linear(1000)
    assert s.T == 1000 and s.betas[0] == 0
    assert torch.allclose(s.betas[1:], torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64))
    assert s.alpha_bars[-1] < 1e-4  # q(x_T | x_0) ≈ N(0, I)


def test_linear_rescaled_for_other_T_keeps_the_end_noise():
    for T in (50, 100, 250):
        ab_T = float(schedules.linear(T).alpha_bars[-1])
        assert ab_T < 1e-3, (T, ab_T)


def test_cosine_matches_nichol_dhariwal():
    T, s_ = 1000, 0.008
    s = schedules.cosine(T)
    f = lambda t: math.cos((t / T + s_) / (1 + s_) * math.pi / 2) ** 2
    for t in (1, 10, 500, 900):
        assert math.isclose(float(s.alpha_bars[t]), f(t) / f(0), rel_tol=1e-9)
    assert float(s.betas.max()) <= 0.999 + 1e-12
    assert s.alpha_bars[-1] < 1e-4


def test_sigmoid_definition_and_end_points():
    s = schedules.sigmoid(1000, start=-3, end=3, tau=1)
    sg = lambda v: 1 / (1 + math.exp(-v))
    t = 400
    expected = (sg(3) - sg(-3 + 6 * t / 1000)) / (sg(3) - sg(-3))
    assert math.isclose(float(s.alpha_bars[t]), expected, rel_tol=1e-9)
    assert s.alpha_bars[-1] < 1e-3


@pytest.mark.parametrize("name", ["linear", "cosine", "sigmoid"])
def test_derived_quantities(name):
    s = schedules.make(name, T=200)
    ab = s.alpha_bars
    assert ab[0] == 1 and (ab[1:] < ab[:-1]).all()
    # ᾱ_t is the product up to t (the slide's bound T is a typo): check one entry by hand
    assert math.isclose(float(ab[37]), float(torch.prod(1 - s.betas[1:38])), rel_tol=1e-12)
    assert torch.allclose(s.snr[1:], ab[1:] / (1 - ab[1:]))
    assert torch.allclose(s.sigmas[1:] ** 2, (1 - ab[1:]) / ab[1:])
    assert torch.allclose(s.log_snr[1:], torch.log(s.snr[1:]))


def test_at_returns_callers_dtype_and_broadcast_shape():
    s = schedules.linear(100)
    x = torch.zeros(3, 1, 4, 4, dtype=torch.float16)
    v = s.at(s.alpha_bars, torch.tensor([1, 50, 100]), x)
    assert v.dtype == torch.float16 and v.shape == (3, 1, 1, 1)


@pytest.mark.parametrize("call, word", [
    (lambda: schedules.linear(0), "T"),
    (lambda: schedules.linear(10, beta_start=1.5), "beta_start"),
    (lambda: schedules.linear(10, beta_end=0.0), "beta_end"),
    (lambda: schedules.from_betas([0.1, float("nan")]), "β_t"),
    (lambda: schedules.from_betas([0.1, 1.0]), "β_t"),
    (lambda: schedules.from_alpha_bars([0.9, 0.95]), "decreasing"),
    (lambda: schedules.cosine(10, s=-1), "s"),
    (lambda: schedules.sigmoid(10, start=2, end=1), "start"),
    (lambda: schedules.make("quadratic"), "schedule name"),
    (lambda: schedules.linear(10).at(schedules.linear(10).betas, 11, torch.zeros(1)), "t"),
])
def test_bad_input_is_refused_with_a_named_argument(call, word):
    with pytest.raises(ValueError, match=word):
        call()
