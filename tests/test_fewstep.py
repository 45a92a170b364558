"""Few-step sampling (the lecture's "Faster sampling"): progressive distillation, consistency models, flow
matching / rectified flow. Exact toy models stand in for trained networks, so each test checks the
mathematics of one piece, not a training run."""
import math

import pytest
import torch

import diffedu as de
from diffedu import FunctionModel, toy
from diffedu import processes as P
from diffedu.fewstep import ConsistencyModel, consistency_distillation_loss, ema_update, ode_step
from diffedu.samplers import consistency_sample
from diffedu.fewstep import distill_loss, distill_round, distill_target, guided_target
from diffedu.fewstep import flow_matching_loss, reflow_loss, reflow_pairs, straightness
from diffedu.samplers import euler_sample, heun_sample
from diffedu.losses import diffusion_loss, targets
from diffedu.model import DiffusionModel
from diffedu.models import MLPDenoiser
from diffedu.samplers import ddim_sample, probability_flow_ode

CALLBACK_KEYS = {"i", "t", "t_next", "x", "x0_hat", "nfe", "last"}
F64 = torch.float64


def _randn(*shape, seed=0):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def _smooth(process, prediction):
    """A teacher that is no diffusion model at all: any smooth function of (x, t) will do for the algebra."""
    def fn(x, t):
        c = P.column(t.to(F64) / float(process.t_max), x)
        return torch.sin(x) * (1 + c) + 0.3 * x - 0.2 * c
    return FunctionModel(fn, process, prediction)


def exact_x0(mix, process):
    """E[x_0 | x_t] of a Gaussian mixture: the ideal x_0-network, finite at α = 0 (t = 1 of Linear), where the
    mixture's own score model (``mix.model``) divides by α."""
    def fn(x, t):
        a, b = (v.reshape(-1, 1, 1) for v in process.alpha_sigma(t))
        r = mix.posterior_labels(x, a.reshape(-1, 1), b.reshape(-1, 1))                   # (B, K)
        mu, s2 = mix.means[None], mix.stds[None, :, None] ** 2
        comp = mu + a * s2 / (a**2 * s2 + b**2) * (x[:, None, :] - a * mu)                # E[x_0 | x_t, k]
        return (r[:, :, None] * comp).sum(1)
    return FunctionModel(fn, process, "x0")


# --- progressive distillation ------------------------------------------------------------------------
@pytest.mark.parametrize("process, prediction, times", [
    (P.CosineVP(t_max=0.999), "v", (0.9, 0.55, 0.2)),
    (P.CosineVP(t_max=0.999), "eps", (0.5, 0.25, 0.0)),      # the last student step lands on the data
    (P.Linear(), "velocity", (1.0, 0.6, 0.3)),
    (P.VPSDE(), "eps", (0.8, 0.5, 0.1)),
    (P.DiscreteVP("cosine", 1000), "eps", (800, 500, 200)),
], ids=lambda v: str(v) if not isinstance(v, P.Process) else v.spec()["kind"])
def test_distill_target_makes_one_student_ddim_step_land_on_two_teacher_steps(process, prediction, times):
    teacher = _smooth(process, prediction)
    t, t_mid, t_next = times
    z = _randn(16, 3)
    x_tilde = distill_target(teacher, z, t, t_mid, t_next)
    student = FunctionModel(lambda x, tt: x_tilde, process, "x0")    # predicts exactly x̃
    one = ddim_sample(student, z, [t, t_next])
    two = ddim_sample(teacher, z, [t, t_mid, t_next])
    assert torch.allclose(one, two, atol=1e-10, rtol=0)
    # not a trivial identity: the teacher's own x̂_0 does not land there
    assert not torch.allclose(ddim_sample(FunctionModel(lambda x, tt: teacher.x0(x, tt), process, "x0"), z,
                                          [t, t_next]), two, atol=1e-3)
    # per-sample times (the loss draws one step per sample) give each sample its own scalar answer
    if not process.discrete:
        tt = torch.tensor([t, times[1]] * 8, dtype=F64)
        mid = torch.tensor([t_mid, (times[1] + t_next) / 2] * 8, dtype=F64)
        per = distill_target(teacher, z, tt, mid, t_next)
        assert torch.allclose(per[::2], x_tilde[::2], atol=1e-12)
        assert torch.allclose(per[1::2], distill_target(teacher, z, times[1], mid[1].item(), t_next)[1::2], atol=1e-12)


def test_distill_loss_is_zero_for_the_student_that_predicts_the_target():
    process = P.CosineVP(t_max=0.999)
    teacher, grid = _smooth(process, "v"), process.grid(8)
    pairs = {round(float(grid[2 * i]), 12): (grid[2 * i + 1], grid[2 * i + 2]) for i in range(4)}

    def perfect(x, t):  # each sample at its own student step
        rows = [distill_target(teacher, x[j:j + 1], t[j], *pairs[round(float(t[j]), 12)]) for j in range(len(t))]
        return torch.cat(rows)

    x0 = _randn(64, 2)
    loss = distill_loss(FunctionModel(perfect, process, "x0"), teacher, x0, grid,
                        generator=torch.Generator().manual_seed(0))
    assert float(loss) < 1e-20
    assert float(distill_loss(teacher, teacher, x0, grid, generator=torch.Generator().manual_seed(0))) > 1e-4


@pytest.mark.parametrize("times, weight", [((0.3, 0.2, 0.1), 1 / math.tan(0.15 * math.pi) ** 2),   # SNR 3.85
                                           ((0.9, 0.6, 0.3), 1.0)])                           # SNR 0.02 → 1
def test_distill_loss_weights_the_x0_error_by_truncated_snr(times, weight):
    """One student step (a 3-time grid): every sample sits at t = grid[0]; a student off by δ everywhere
    costs max(SNR_t, 1) δ²."""
    process = P.CosineVP(t_max=0.999)
    teacher = _smooth(process, "v")
    student = FunctionModel(lambda x, t: distill_target(teacher, x, *times) + 0.1, process, "x0")
    loss = distill_loss(student, teacher, _randn(32, 2), list(times), generator=torch.Generator().manual_seed(0))
    assert float(loss) == pytest.approx(weight * 0.01, rel=1e-9)


def test_distillation_loss_decreases_in_a_short_training_run():
    """A fresh v-network learns the 8-step exact teacher's 4-step targets on the ring: 150 steps, ~5 s."""
    torch.manual_seed(0)
    process, mix = P.CosineVP(t_max=0.999), toy.ring()
    teacher = mix.model(process)
    student = DiffusionModel(MLPDenoiser(hidden=64, depth=2), process, "v")
    data = mix.sample(4096, torch.Generator().manual_seed(0))
    out, grid, result = distill_round(teacher, de.tensor_batches(data, 256), process.grid(8), steps=150,
                                      student=student, lr=3e-3, warmup=10, progress=False, device="cpu")
    first, last = sum(result.losses[:15]) / 15, sum(result.losses[-15:]) / 15
    assert last < 0.5 * first, (first, last)
    assert torch.allclose(grid, process.grid(4)) and out.meta["distilled_steps"] == 4
    assert out.net is not student.net                          # the caller's student is left untouched
    # the default student is a copy of a DiffusionModel teacher, which is not changed
    before = [p.clone() for p in student.net.parameters()]
    out2, grid2, _ = distill_round(student, de.tensor_batches(data, 64), process.grid(4), steps=3, progress=False,
                                   device="cpu")
    assert len(grid2) == 3 and all(torch.equal(a, b) for a, b in zip(before, student.net.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(before, out2.net.parameters()))
    # rounds chain: a returned student (frozen EMA weights) is the next round's student and teacher
    out3, grid3, _ = distill_round(out, de.tensor_batches(data, 64), grid, steps=3, student=out, progress=False,
                                   device="cpu")
    assert len(grid3) == 3 and any(not torch.equal(a, b) for a, b in zip(out.net.parameters(), out3.net.parameters()))


class _CondNet(torch.nn.Module):
    def __init__(self, classes=3):
        super().__init__()
        self.emb = torch.nn.Embedding(classes + 1, 2)
        self.lin = torch.nn.Linear(2, 2)

    def forward(self, x, t, y=None):
        y = torch.full((x.shape[0],), 3) if y is None else y
        return self.lin(x) * (1 + t[:, None] / 1000) + self.emb(y)


def test_guided_target_at_w0_and_w1_is_the_unconditional_and_conditional_teacher():
    torch.manual_seed(0)
    teacher = DiffusionModel(_CondNet().double(), P.CosineVP(t_max=0.999), "eps", num_classes=3)
    x, y, t = _randn(6, 2), torch.tensor([0, 1, 2, 0, 1, 2]), 0.4
    uncond, cond = teacher.x0(x, t), teacher.given(y).x0(x, t)
    assert not torch.allclose(uncond, cond)
    assert torch.equal(guided_target(teacher, x, t, y, 0.0), uncond)
    assert torch.equal(guided_target(teacher, x, t, y, 1.0), cond)
    assert torch.allclose(guided_target(teacher, x, t, y, 3.0), uncond + 3 * (cond - uncond), atol=1e-12)
    w = torch.tensor([0.0, 1.0, 3.0, 0.0, 1.0, 3.0], dtype=F64)         # a w per sample
    got = guided_target(teacher, x, t, y, w)
    assert torch.equal(got[0], uncond[0]) and torch.equal(got[1], cond[1])
    assert torch.allclose(got[2], guided_target(teacher, x, t, y, 3.0)[2], atol=1e-12)


# --- consistency models ------------------------------------------------------------------------------
@pytest.mark.parametrize("process, t_min, t", [(P.VE(0.002, 80.0), 0.002, 5.0), (P.CosineVP(), 0.01, 0.7),
                                               (P.Linear(), 0.001, 0.5)], ids=lambda v: str(v)[:12])
@pytest.mark.parametrize("seed", [0, 1])
def test_consistency_function_is_the_identity_at_t_min_for_any_network(process, t_min, t, seed):
    torch.manual_seed(seed)
    f = ConsistencyModel(MLPDenoiser(hidden=32, depth=1), process, t_min)
    torch.manual_seed(seed + 10)
    g = ConsistencyModel(MLPDenoiser(hidden=32, depth=1), process, t_min)
    x = torch.randn(32, 2) * 3
    with torch.no_grad():
        assert torch.equal(f(x, t_min), x) and torch.equal(g(x, t_min), x)
        assert not torch.allclose(f(x, t), g(x, t), atol=1e-3)              # away from t_min: the network counts
        assert torch.equal(f.x0(x, t), f(x, t))                            # a diffedu Model predicting x_0
        assert ddim_sample(f, x, [t, t_min]).shape == x.shape
        assert torch.isfinite(f(x, process.t_max)).all()                    # also where α = 0 (t = 1)


def test_consistency_coefficients_are_the_papers_for_ve():
    f = ConsistencyModel(MLPDenoiser(), P.VE(0.002, 80.0), 0.002, sigma_data=0.5)
    t = torch.tensor([0.002, 0.1, 1.0, 80.0], dtype=F64)
    c_skip, c_out, c_in = f.coefficients(t)
    assert torch.allclose(c_skip, 0.25 / ((t - 0.002) ** 2 + 0.25))
    assert torch.allclose(c_out, 0.5 * (t - 0.002) / torch.sqrt(0.25 + t**2))
    assert torch.allclose(c_in, 1 / torch.sqrt(0.25 + t**2))


def _gaussian_ve(s=0.7, t_min=0.002):
    """Data N(0, s² I) on VE: the score −x/(s² + σ²) and the exact consistency function along the PF-ODE,
    x(σ) ∝ √(s² + σ²): f(x, σ) = x √(s² + t_min²)/√(s² + σ²)."""
    process = P.VE(t_min, 80.0)
    teacher = FunctionModel(lambda x, t: -x / P.column(s**2 + t**2, x), process, "score")
    f = FunctionModel(lambda x, t: x * P.column(math.sqrt(s**2 + t_min**2) / torch.sqrt(s**2 + t**2), x),
                      process, "x0")
    f.t_min = t_min
    return process, teacher, f


def test_consistency_distillation_loss_vanishes_for_the_exact_consistency_function():
    process, teacher, f = _gaussian_ve()
    x0 = _randn(512, 2) * 0.7
    ident = FunctionModel(lambda x, t: x, process, "x0")
    ident.t_min = f.t_min

    def loss(student, steps, solver):
        return float(consistency_distillation_loss(student, student, teacher, x0, process.ladder(steps),
                                                   solver=solver, generator=torch.Generator().manual_seed(0)))

    assert loss(f, 40, "heun") < 0.1 * loss(f, 40, "euler") < 1e-4 * loss(ident, 40, "euler")
    assert loss(f, 80, "euler") < 0.1 * loss(f, 20, "euler")      # Φ's error O(h²) per step: the loss O(h⁴)
    assert loss(f, 40, "ddim") == pytest.approx(loss(f, 40, "euler"), rel=1e-9)   # VE (α = 1): DDIM is Euler in σ
    for d in ("l1", "pseudo-huber"):
        assert float(consistency_distillation_loss(ident, ident, teacher, x0, process.ladder(10), distance=d)) > 0


def test_ode_step_solvers_agree_with_the_library_pf_ode_and_ddim():
    process, teacher, _ = _gaussian_ve()
    x = _randn(8, 2) * 3
    t, s = torch.full((8,), 3.0, dtype=F64), torch.full((8,), 2.0, dtype=F64)
    for solver, ref in (("euler", probability_flow_ode(teacher, x, [3.0, 2.0], method="euler")),
                        ("heun", probability_flow_ode(teacher, x, [3.0, 2.0], method="heun")),
                        ("ddim", ddim_sample(teacher, x, [3.0, 2.0]))):
        assert torch.allclose(ode_step(teacher, x, t, s, solver), ref, atol=1e-12), solver


def test_the_slides_cd_step_is_eq_6_for_every_one_step_solver():
    """Lesson 12 says the slide's x̂ = x_{t_{n+1}} + (t_n − t_{n+1}) Φ(x_{t_{n+1}}, t_{n+1}; φ) is right as printed:
    Song et al.'s eq. (6) with Φ the update function of ANY one-step solver. Each solver's step has that form, with
    Φ its average slope: Euler's the ODE's right-hand side −t ∇log p (VE), Heun's the mean of both ends' slopes."""
    process, teacher, _ = _gaussian_ve()
    x = _randn(8, 2) * 3
    t, s = torch.full((8,), 3.0, dtype=F64), torch.full((8,), 2.0, dtype=F64)
    h = (s - t)[:, None]
    phi_euler = -t[:, None] * teacher.score(x, t)                               # the paper's Euler example
    assert torch.allclose(ode_step(teacher, x, t, s, "euler"), x + h * phi_euler, atol=1e-12)
    phi_heun = 0.5 * (phi_euler + (-s[:, None]) * teacher.score(x + h * phi_euler, s))
    assert torch.allclose(ode_step(teacher, x, t, s, "heun"), x + h * phi_heun, atol=1e-12)
    assert not torch.allclose(phi_heun, phi_euler)                              # two different Φ, one formula


def test_ema_update_is_the_weighted_average_and_needs_mu_in_0_1():
    torch.manual_seed(0)
    a, b = MLPDenoiser(hidden=8, depth=1), MLPDenoiser(hidden=8, depth=1)
    old = [p.clone() for p in a.parameters()]
    ema_update(a, b, 0.9)
    assert all(torch.allclose(p, 0.9 * o + 0.1 * q) for p, o, q in zip(a.parameters(), old, b.parameters()))
    ema_update(ConsistencyModel(a, P.VE(), 0.01), ConsistencyModel(b, P.VE(), 0.01), 0.0)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_multistep_consistency_sampling_keeps_the_marginal_of_the_exact_consistency_function():
    process, _, f = _gaussian_ve(s=0.7)
    x = 80.0 * _randn(20000, 2)
    for times in ([80.0], [80.0, 2.0, 0.5]):
        seen = []
        out = consistency_sample(f, x, times, generator=torch.Generator().manual_seed(1), callback=seen.append)
        assert abs(float(out.std()) - math.sqrt(0.49 + 0.002**2)) < 0.015
        assert [d["nfe"] for d in seen] == list(range(1, len(times) + 1)) and seen[-1]["last"]
        assert all(set(d) == CALLBACK_KEYS for d in seen) and seen[-1]["t_next"] == f.t_min
    one = consistency_sample(f, x[:4], [80.0])
    assert torch.allclose(one, f.x0(x[:4], 80.0))  # one step: f(x_T, T)


# --- flow matching / rectified flow ---------------------------------------------------------------------
def test_the_flow_matching_target_is_x1_minus_x0():
    x0, eps, t = _randn(5, 3), _randn(5, 3, seed=1), torch.rand(5, dtype=F64)
    assert torch.allclose(targets(P.Linear(), x0, eps, t)["velocity"], eps - x0, atol=1e-15)
    # one data point c: x_t = (1 − t) c + t x1, so the exact velocity network is u(x, t) = (x − c)/t
    c = torch.tensor([[1.5, -0.5]], dtype=F64).expand(256, 2)
    exact = lambda x, tn: (x - c) / (tn / 1000)[:, None]  # noqa: E731  (Linear's net time is 1000 t)
    g = torch.Generator().manual_seed(0)
    assert float(diffusion_loss(exact, c, P.Linear(), prediction="velocity", generator=g)) < 1e-16
    assert float(flow_matching_loss(exact, c, generator=g)) < 1e-16
    assert float(flow_matching_loss(lambda x, tn: -exact(x, tn), c, generator=g)) > 1.0   # x0 − x1: wrong sign


def test_reflow_loss_trains_on_the_given_coupling():
    """A hand-made coupling x_0 = 2 x_1 + 3: on its straight lines x_1 = (x_t − 3(1 − t))/(2 − t), so the
    velocity x_1 − x_0 = −x_1 − 3 is a function of (x_t, t), and that network has zero reflow loss."""
    x1 = _randn(256, 2)
    x0 = 2 * x1 + 3

    def net(x, tn):
        t = (tn / 1000)[:, None]
        return -(x - 3 * (1 - t)) / (2 - t) - 3

    g = torch.Generator().manual_seed(0)
    assert float(reflow_loss(net, x0, x1, generator=g)) < 1e-20
    assert float(reflow_loss(net, x0, x1.flip(0), generator=g)) > 1.0          # another coupling: not zero


def test_reflow_pairs_couple_each_noise_with_its_ode_sample():
    mix = toy.ring(std=0.3)
    model = exact_x0(mix, P.Linear())
    x0, x1 = reflow_pairs(model, 300, (2,), 8, generator=torch.Generator().manual_seed(0), batch_size=128,
                          dtype=F64)
    assert x0.shape == x1.shape == (300, 2)
    assert torch.allclose(x0, heun_sample(model, x1, 8), atol=1e-12)
    assert torch.allclose(x1, torch.randn(300, 2, generator=torch.Generator().manual_seed(0), dtype=F64))


def _endpoint_errors(sampler, model, x, ref, steps):
    return [float((sampler(model, x, n) - ref).norm(dim=1).mean()) for n in steps]


def test_flow_samplers_converge_to_the_exact_ode_solution_euler_first_and_heun_second_order():
    mix = toy.ring(std=0.3)
    model = exact_x0(mix, P.Linear())          # t_max = 1: starts from pure noise
    x = _randn(200, 2, seed=3)
    ref = heun_sample(model, x, 400)
    steps = [2, 4, 8, 16, 32]
    e, h = _endpoint_errors(euler_sample, model, x, ref, steps), _endpoint_errors(heun_sample, model, x, ref, steps)
    assert all(a > b for a, b in zip(e, e[1:])) and all(a > b for a, b in zip(h, h[1:])), (e, h)
    assert 0.4 < e[-1] / e[-2] < 0.6          # first order: halving the step halves the error
    assert h[-1] / h[-2] < 0.3                # second order: about a quarter
    assert h[2] < e[2] / 4                    # 8 Heun steps beat 8 Euler steps by far
    floor, spread = de.metrics.noise_floor(lambda n, g: mix.sample(n, g, F64), 2000, repeats=8)
    assert _sw(heun_sample(model, _randn(2000, 2, seed=4), 32), mix) < floor + 3 * spread   # the mixture itself
    assert _sw(euler_sample(model, _randn(2000, 2, seed=4), 2), mix) > 3 * floor            # 2 Euler steps: blurred


def _sw(x, mix):
    return de.metrics.sliced_wasserstein(x, mix.sample(2000, torch.Generator().manual_seed(9), F64))


def test_ddim_converges_to_the_exact_pf_ode_solution():
    process = P.CosineVP(t_max=0.999)
    model = toy.ring(std=0.3).model(process)
    x = process.prior((200, 2), torch.Generator().manual_seed(3), F64)
    ref = probability_flow_ode(model, x, process.grid(400))
    d = _endpoint_errors(ddim_sample, model, x, ref, [2, 4, 8, 16, 32])
    assert all(a > b for a, b in zip(d, d[1:])) and d[-1] < 0.05, d


@pytest.mark.parametrize("kind", ["mixture", "smooth"])
def test_euler_on_the_velocity_ode_is_ddim_eta0_for_linear(kind):
    model = toy.ring().model(P.Linear(t_max=0.999)) if kind == "mixture" else _smooth(P.Linear(), "velocity")
    x = _randn(64, 2)
    grid = model.process.grid(7)
    euler_path, ddim_path = [], []
    a = euler_sample(model, x, grid, callback=lambda d: euler_path.append(d["x"]))
    b = ddim_sample(model, x, grid, callback=lambda d: ddim_path.append(d["x"]))
    assert torch.allclose(a, b, atol=1e-10, rtol=0)
    assert all(torch.allclose(u, v, atol=1e-10, rtol=0) for u, v in zip(euler_path, ddim_path))
    assert not torch.allclose(a, heun_sample(model, x, grid), atol=1e-4)   # a different solver does differ


def test_straightness_is_one_on_a_segment_pi_over_2_on_a_half_circle_and_reads_frames_or_a_tensor():
    u = torch.tensor([0.0, 0.1, 0.15, 0.6, 1.0], dtype=F64)[:, None, None]      # uneven steps along a line
    a, b = torch.tensor([[1.0, -2.0]], dtype=F64), torch.tensor([[-3.0, 0.5]], dtype=F64)
    assert torch.allclose(straightness(a + u * (b - a)), torch.ones(1, dtype=F64), atol=1e-14)
    ang = torch.linspace(0, math.pi, 4001, dtype=F64)
    half = torch.stack([torch.cos(ang), torch.sin(ang)], -1)[:, None, :] * torch.tensor([1.0, 3.0], dtype=F64)[:, None]
    assert torch.allclose(straightness(half), torch.full((2,), math.pi / 2, dtype=F64), rtol=1e-6)  # any radius
    frames = list(half.reshape(4001, 2, 1, 1, 2))                                   # a Recorder's list, as images
    assert torch.allclose(straightness(frames), straightness(half), atol=1e-14)
    still, back = torch.zeros(3, 1, 2, dtype=F64), torch.tensor([[[0.0, 0]], [[1, 0]], [[0, 0]]], dtype=F64)
    assert straightness(still).item() == 1.0 and straightness(back).item() == math.inf


def test_the_linear_ode_paths_are_straight_for_one_point_and_curved_for_the_ring():
    """With all the data at one point c the marginal velocity is the conditional one, (x − c)/t: every ODE path
    is the straight line to c. The ring's paths bend (section 1 of lesson 13); after Euler-1 "paths" are straight."""
    x = _randn(200, 2, seed=5)
    for mix, low, high in ((toy.GaussianMixture([[1.5, -0.5]], [1e-3], [1.0]), 1.0, 1.0 + 1e-6),
                           (toy.ring(), 1.2, 3.0)):
        model = mix.x0_model(P.Linear())
        rec = de.samplers.Recorder(every=1, start=x)
        heun_sample(model, x, 64, callback=rec)
        s = straightness(rec.frames)
        assert low - 1e-12 <= float(s.median()) <= high, (mix.name, float(s.median()))
        assert (s >= 1 - 1e-12).all()
    rec = de.samplers.Recorder(every=1, start=x)
    euler_sample(toy.ring().x0_model(P.Linear()), x, 1, callback=rec)
    assert torch.allclose(straightness(rec.frames), torch.ones(200, dtype=F64))


def test_the_mixtures_x0_model_is_exact_everywhere_and_its_velocity_is_the_pf_ode():
    mix = toy.ring(std=0.3)
    x = _randn(64, 2, seed=6) * 2
    for process, t in ((P.Linear(), 0.3), (P.Linear(), 0.999), (P.CosineVP(), 0.6), (P.VPSDE(), 0.5),
                       (P.DiscreteVP(), 400)):
        assert torch.allclose(mix.x0_model(process).x0(x, t), mix.model(process).x0(x, t), atol=1e-10)
    lin = P.Linear()
    model = mix.x0_model(lin)
    assert torch.allclose(model.x0(x, 1.0), torch.zeros_like(x), atol=1e-12)        # α = 0: the mixture's mean
    assert torch.allclose(model.velocity(x, 1.0), x, atol=1e-12)                     # u(x, 1) = x − E[x_0]
    t = torch.rand(64, generator=torch.Generator().manual_seed(1), dtype=F64) * 0.98 + 0.01
    assert torch.allclose(model.x0(x, t), exact_x0(mix, lin).x0(x, t), atol=1e-12)  # per-sample times
    f, g2 = lin.drift_diffusion(t)
    pf = f[:, None] * x - 0.5 * g2[:, None] * mix.score(x, 1 - t, t)
    assert torch.allclose(model.velocity(x, t), pf, atol=1e-9)                       # lesson 05's PF-ODE


def test_few_step_samplers_share_one_code_path_for_points_and_images():
    process = P.Linear()
    model = _smooth(process, "velocity")                     # elementwise: a (B, 1, 2, 2) image is 4 numbers
    cm = ConsistencyModel(lambda x, t: torch.tanh(x) + P.column(t, x), P.VE(0.01, 10.0), 0.01)
    pts = _randn(5, 4)
    imgs = pts.reshape(5, 1, 2, 2)
    for name, run in {"euler": lambda x: euler_sample(model, x, 4), "heun": lambda x: heun_sample(model, x, 4),
                      "ddim": lambda x: ddim_sample(model, x, 4),
                      "consistency": lambda x: consistency_sample(cm, x, [10.0, 1.0],
                                                                  generator=torch.Generator().manual_seed(0))}.items():
        a, b = run(pts), run(imgs)
        assert b.shape == imgs.shape and b.dtype == imgs.dtype, name
        assert torch.allclose(a, b.reshape(5, 4), atol=1e-12), name


def test_heun_reports_the_callback_keys_and_its_evaluations():
    seen = []
    heun_sample(_smooth(P.Linear(), "velocity"), _randn(3, 2), 4, callback=seen.append)
    assert all(set(d) == CALLBACK_KEYS for d in seen)
    assert [d["nfe"] for d in seen] == [2, 4, 6, 7] and seen[-1]["t_next"] == 0.0   # last step onto t = 0: Euler


# --- bad inputs: every error names its argument ---------------------------------------------------------
_LIN = _smooth(P.Linear(), "velocity")
_COS = _smooth(P.CosineVP(t_max=0.999), "v")
_VE = FunctionModel(lambda x, t: -x, P.VE(0.01, 10.0), "score")
_CM = ConsistencyModel(lambda x, t: x, P.VE(0.01, 10.0), 0.01)
_Z = torch.zeros(4, 2, dtype=F64)


@pytest.mark.parametrize("call, word", [
    (lambda: euler_sample(_LIN, _Z, [0.2, 0.5]), "grid must be strictly decreasing"),
    (lambda: heun_sample(_LIN, _Z, [1.0, 1.0, 0.0]), "grid must be strictly decreasing"),
    (lambda: euler_sample(_LIN, _Z, 0), "steps"),
    (lambda: ema_update(MLPDenoiser(), MLPDenoiser(), 1.0), r"mu must be in \[0, 1\)"),
    (lambda: ema_update(MLPDenoiser(), MLPDenoiser(), -0.1), "mu must be"),
    (lambda: ema_update(MLPDenoiser(), MLPDenoiser(hidden=8), 0.5), "same architecture"),
    (lambda: ConsistencyModel(MLPDenoiser(), P.VE(), 0.0), "t_min must be in"),
    (lambda: ConsistencyModel(MLPDenoiser(), P.Linear(), 1.0), "t_min must be in"),
    (lambda: ConsistencyModel(MLPDenoiser(), P.VE(), 0.01, sigma_data=0), "sigma_data"),
    (lambda: ConsistencyModel(MLPDenoiser(), P.DiscreteVP(), 1), "process must be a continuous"),
    (lambda: consistency_sample(_CM, _Z, [5.0, 0.01]), "grid times must all be > t_min"),
    (lambda: consistency_sample(_CM, _Z, [1.0, 5.0]), "decreasing"),
    (lambda: consistency_sample(_CM, _Z, 0), "grid"),
    (lambda: consistency_distillation_loss(_CM, _CM, _VE, _Z, [5.0, 1.0], solver="rk4"), "solver"),
    (lambda: consistency_distillation_loss(_CM, _CM, _VE, _Z, [5.0, 1.0], distance="l3"), "distance"),
    (lambda: consistency_distillation_loss(_CM, _CM, _VE, _Z, [5.0, 0.001]), "t_min"),
    (lambda: consistency_distillation_loss(_CM, _CM, _LIN, _Z, [0.5, 0.1]), "student must be a model on"),
    (lambda: distill_loss(_COS, _COS, _Z, _COS.process.grid(3)), "odd number"),
    (lambda: distill_loss(_LIN, _COS, _Z, _COS.process.grid(4)), "process"),
    (lambda: distill_loss(_COS, _COS, _Z.long(), _COS.process.grid(4)), "x0"),
    (lambda: distill_target(_COS, _Z, 0.3, 0.5, 0.1), "t_mid"),
    (lambda: distill_round(_COS, None, _COS.process.grid(4), steps=1), "student is required"),
    (lambda: guided_target(_COS, _Z, 0.5, 1, torch.ones(3)), "w must be"),
    (lambda: reflow_pairs(_LIN, 0, (2,)), "n must be"),
    (lambda: reflow_pairs(_LIN, 4, (2,), method="rk4"), "method"),
    (lambda: reflow_loss(lambda x, t: x, _Z, None), "x1 is required"),
    (lambda: flow_matching_loss(lambda x, t: x, _Z, torch.zeros(3, 2, dtype=F64)), "x0 and x1"),
    (lambda: flow_matching_loss(lambda x, t: x, _Z, process=P.DiscreteVP()), "process"),
    (lambda: straightness(_Z[None]), "K >= 1 steps"),
    (lambda: straightness([]), "trajectories must be"),
    (lambda: straightness([_Z, _Z[:2]]), "same shape"),
    (lambda: straightness(torch.full((2, 3, 2), math.nan)), "NaN"),
])
def test_bad_input(call, word):
    with pytest.raises(ValueError, match=word):
        call()
