"""The checkers pass the reference, fail each known mistake with its own diagnosis, and survive crashes."""
import pytest
import torch

from diffedu import forward
from diffedu.exercises import check_ddpm_step_mean, check_posterior, check_q_sample, check_timestep_embedding
from diffedu.models import timestep_embedding


def _each_mistake_named(check, cases):
    """Every (student, hint) of ``cases`` fails ``check`` with a message containing its hint, each its own message."""
    messages = set()
    for student, hint in cases:
        r = check(student)
        assert not r and hint in r.message, (hint, r.message)
        messages.add(r.message)
    assert len(messages) == len(cases)  # each mistake its own diagnosis


def test_reference_implementations_pass():
    assert check_q_sample(lambda x0, t, s, e: forward.q_sample(x0, t, s, noise=e))
    assert check_posterior(forward.q_posterior)
    assert check_ddpm_step_mean(forward.ddpm_mean)
    assert check_timestep_embedding(timestep_embedding)


def test_known_mistakes_get_their_own_diagnosis():
    r = check_q_sample(lambda x0, t, s, e: s.at(s.alphas, t, x0).sqrt() * x0 + (1 - s.at(s.alphas, t, x0)).sqrt() * e)
    assert not r and "α_t" in r.message

    def slide_posterior(x0, xt, t, s):
        a = s.at(s.alphas, t, x0)
        a_prev = s.at(torch.cat([s.alphas.new_ones(1), s.alphas[:-1]]), t, x0)
        ab = s.at(s.alpha_bars, t, x0)
        return (a.sqrt() * (1 - a_prev) * xt + a_prev.sqrt() * (1 - a) * x0) / (1 - ab), \
            (1 - a) * (1 - a_prev) / (1 - ab)

    r = check_posterior(slide_posterior)
    assert not r and "bars are missing" in r.message

    def in_practice(xt, t, eps, s):
        ab = s.at(s.alpha_bars, t, xt)
        return (xt - (1 - ab) / (1 - ab).sqrt() * eps) / ab.sqrt()

    r = check_ddpm_step_mean(in_practice)
    assert not r and "In practice" in r.message
    r = check_timestep_embedding(lambda t, d: torch.cat([timestep_embedding(t, d)[:, 0::2],
                                                         timestep_embedding(t, d)[:, 1::2]], 1))
    assert not r and "interleaves" in r.message


def test_unimplemented_and_crashing_functions_are_reported_not_raised():
    def todo(*a):
        raise NotImplementedError

    assert "not implemented" in check_q_sample(todo).message
    assert "ZeroDivisionError" in check_q_sample(lambda *a: 1 / 0).message
    with pytest.raises(AssertionError, match="q_sample"):
        check_q_sample(todo, strict=True)


def test_an_unknown_mistake_still_fails():
    r = check_q_sample(lambda x0, t, s, e: x0 + 0.01)
    assert not r and "differ" in r.message


def test_score_lesson_checkers_pass_references_and_name_mistakes():
    import math

    from diffedu.exercises import check_dsm_target, check_langevin_step, check_pf_ode_drift, check_score_from_eps

    assert check_dsm_target(lambda xn, x, s: -(xn - x) / s**2)
    r = check_dsm_target(lambda xn, x, s: -(xn - x) / s)
    assert not r and "σ²" in r.message
    assert check_langevin_step(lambda x, s, e, z: x + e * s + math.sqrt(2 * e) * z)
    r = check_langevin_step(lambda x, s, e, z: x + e * s + math.sqrt(e) * z)
    assert not r and "√(2ε)" in r.message
    assert check_score_from_eps(lambda eps, t, s, xt: forward.score_from_eps(xt, t, eps, s))
    r = check_score_from_eps(lambda eps, t, s, xt: -eps / s.at(s.sigmas, t, xt))
    assert not r and "VE" in r.message
    assert check_pf_ode_drift(lambda x, t, s, sde: sde.drift(x, t) - 0.5 * sde.diffusion(t)[:, None] ** 2 * s)
    r = check_pf_ode_drift(lambda x, t, s, sde: sde.drift(x, t) - sde.diffusion(t)[:, None] ** 2 * s)
    assert not r and "reverse SDE" in r.message


def test_cfg_checker():
    from diffedu.exercises import check_cfg

    assert check_cfg(lambda u, c, w: u + w * (c - u))
    r = check_cfg(lambda u, c, w: (1 + w) * c - w * u)
    assert not r and "Ho & Salimans" in r.message
    r = check_cfg(lambda u, c, w: c + w * (u - c))
    assert not r and "swapped" in r.message


def test_unet_checkers_pass_the_reference_and_name_each_mistake():
    from torch.nn import functional as F

    from diffedu.exercises import check_level_shapes, check_resblock

    def block(b, x, e, emb=True, skip=True):
        h = b.conv1(F.silu(b.norm1(x)))
        h = h + b.emb(F.silu(e))[:, :, None, None] if emb else h
        h = b.conv2(F.silu(b.norm2(h)))
        return b.skip(x) + h if skip else h

    assert check_resblock(block).passed
    assert "embedding is missing" in check_resblock(lambda b, x, e: block(b, x, e, emb=False)).message
    assert "residual connection" in check_resblock(lambda b, x, e: block(b, x, e, skip=False)).message
    assert "not implemented" in check_resblock(lambda b, x, e: (_ for _ in ()).throw(NotImplementedError)).message
    right = lambda s, c, m: [(c * k, s // 2**i) for i, k in enumerate(m)]  # noqa: E731
    assert check_level_shapes(right).passed
    assert "halved once too often" in check_level_shapes(
        lambda s, c, m: [(c * k, s // 2 ** (i + 1)) for i, k in enumerate(m)]).message
    with pytest.raises(AssertionError):
        check_level_shapes(lambda s, c, m: [(c, s)] * len(m), strict=True)


def test_flow_checkers_pass_the_reference_and_name_the_sign_and_the_time_direction():
    from diffedu.exercises import check_euler_step, check_flow_target

    def col(t, x):
        return t.reshape(-1, *[1] * (x.ndim - 1))

    assert check_flow_target(lambda x0, x1, t: ((1 - col(t, x0)) * x0 + col(t, x0) * x1, x1 - x0))
    r = check_flow_target(lambda x0, x1, t: ((1 - col(t, x0)) * x0 + col(t, x0) * x1, x0 - x1))
    assert not r and "sign of the target is flipped" in r.message
    r = check_flow_target(lambda x0, x1, t: (col(t, x0) * x0 + (1 - col(t, x0)) * x1, x1 - x0))
    assert not r and "data at t = 1" in r.message
    r = check_flow_target(lambda x0, x1, t: ((1 - col(t, x0)) * x0 + col(t, x0) * x1, x1))
    assert not r and "ε-prediction" in r.message
    assert check_euler_step(lambda x, t, s, u: x + (s - t) * u(x, t))
    r = check_euler_step(lambda x, t, s, u: x + (t - s) * u(x, t))
    assert not r and "wrong way in time" in r.message
    r = check_euler_step(lambda x, t, s, u: x + (s - t) * u(x, s))
    assert not r and "end time s" in r.message
    assert "not implemented" in check_euler_step(lambda *a: (_ for _ in ()).throw(NotImplementedError)).message


def test_latent_checkers_pass_the_reference_and_name_the_mistakes():
    import math

    from diffedu.exercises import check_augment, check_scale_factor

    assert check_scale_factor(lambda z: 1 / z.std())
    r = check_scale_factor(lambda z: z.std())
    assert not r and "inverse" in r.message
    r = check_scale_factor(lambda z: 1 / z.pow(2).mean().sqrt())
    assert not r and "root mean square" in r.message
    r = check_scale_factor(lambda z: 1 / z.transpose(0, 1).flatten(1).std(1).mean())
    assert not r and "per channel" in r.message
    assert check_augment(lambda x, s, e: math.cos(math.pi * s / 2) * x + math.sin(math.pi * s / 2) * e)
    r = check_augment(lambda x, s, e: math.sin(math.pi * s / 2) * x + math.cos(math.pi * s / 2) * e)
    assert not r and "swapped" in r.message
    r = check_augment(lambda x, s, e: (1 - s) * x + s * e)
    assert not r and "flow-matching" in r.message
    with pytest.raises(AssertionError):
        check_augment(lambda x, s, e: x, strict=True)


def test_text_checkers_pass_the_reference_and_name_the_mistakes():
    import math

    import torch.nn.functional as F

    from diffedu.exercises import check_cross_attention, check_info_nce

    def attn(q, k, v, m):
        s = (q @ k.transpose(1, 2) / math.sqrt(q.shape[-1])).masked_fill(~m[:, None, :], float("-inf"))
        return s.softmax(-1) @ v
    assert check_cross_attention(attn)
    r = check_cross_attention(lambda q, k, v, m: (q @ k.transpose(1, 2) / math.sqrt(q.shape[-1])).softmax(-1) @ v)
    assert not r and "padding" in r.message

    def nce(a, b, s):
        logits = math.exp(s) * F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T
        t = torch.arange(len(a))
        return (F.cross_entropy(logits, t) + F.cross_entropy(logits.T, t)) / 2
    assert check_info_nce(nce)
    r = check_info_nce(lambda a, b, s: F.cross_entropy(math.exp(s) * F.normalize(a, dim=-1)
                                                       @ F.normalize(b, dim=-1).T, torch.arange(len(a))))
    assert not r and "one direction" in r.message
    with pytest.raises(AssertionError):
        check_info_nce(lambda a, b, s: torch.tensor(0.0), strict=True)


def test_lesson11_checkers_accept_the_formulas_and_name_the_mistakes():
    from diffedu.exercises import check_lora_forward, check_prior_preservation

    def lora(x, w, b, a, bb, alpha, s):
        return x @ w.T + b + s * alpha / a.shape[0] * x @ a.T @ bb.T
    assert check_lora_forward(lora)
    r = check_lora_forward(lambda x, w, b, a, bb, alpha, s: x @ w.T + b + s * alpha * x @ a.T @ bb.T)
    assert not r and "α/r" in r.message
    r = check_lora_forward(lambda x, w, b, a, bb, alpha, s: s * alpha / a.shape[0] * x @ a.T @ bb.T)
    assert not r and "frozen layer" in r.message

    def pp(p, t, pp_, tp, lam):
        return ((p - t) ** 2).mean() + lam * ((pp_ - tp) ** 2).mean()
    assert check_prior_preservation(pp)
    r = check_prior_preservation(lambda p, t, pp_, tp, lam: ((torch.cat([p, pp_]) - torch.cat([t, tp])) ** 2).mean())
    assert not r and "own batch" in r.message
    r = check_prior_preservation(lambda p, t, pp_, tp, lam: lam * ((p - t) ** 2).mean() + ((pp_ - tp) ** 2).mean())
    assert not r and "weighs the *prior*" in r.message
    with pytest.raises(AssertionError):
        check_prior_preservation(lambda *a: torch.tensor(0.0), strict=True)


def test_clip_guidance_checker_passes_the_library_and_names_each_mistake():
    import math

    from diffedu import DiscreteVP, FunctionModel
    from diffedu.exercises import check_clip_guidance_grad
    from diffedu.exercises.text import clip_guidance_grad
    from diffedu.guidance import CLIPGuided
    from diffedu.models import CLIP
    from diffedu.text import caption_tokenizer

    def grad(objective):
        def student(x, t, f, g, tau):
            x = x.detach().requires_grad_(True)
            return torch.autograd.grad(objective(x, t, f, g, tau), x)[0]
        return student

    right = grad(lambda x, t, f, g, tau: math.exp(tau) * (f(x, t) * g).sum())
    assert check_clip_guidance_grad(right)
    cases = [
        (grad(lambda x, t, f, g, tau: (f(x, t) * g).sum()), "e^τ is missing"),
        (grad(lambda x, t, f, g, tau: tau * (f(x, t) * g).sum()), "*log* of the scale"),
        (grad(lambda x, t, f, g, tau: math.exp(tau) * (f(x, t) * g).sum(1).mean()), "divided by B"),
        (grad(lambda x, t, f, g, tau: math.exp(tau) * (f(x, t) @ g.T).sum()), "its own prompt only"),
        (grad(lambda x, t, f, g, tau: math.exp(tau) * (f(x) * g).sum()), "pass t"),
        (lambda x, t, f, g, tau: -right(x, t, f, g, tau), "sign is flipped"),
    ]
    _each_mistake_named(check_clip_guidance_grad, cases)

    # the reference is what the library's CLIP guidance adds to the score, over the guidance scale
    torch.manual_seed(0)
    tok = caption_tokenizer()
    clip = CLIP(vocab=tok.itos[2:], dim=16, layers=1, heads=2, width=16).eval()
    process = DiscreteVP("cosine", 1000)
    zero = FunctionModel(lambda x, t: torch.zeros_like(x), process, "score")
    x, t = torch.randn(3, 1, 28, 28), torch.tensor([200, 400, 600])
    prompts = ["a seven", "a thick two", "a thin zero"]
    added = CLIPGuided(zero, clip, prompts, 2.5).score(x, t) / 2.5
    with torch.no_grad():
        txt = clip.encode_text(tok.encode(prompts))
    want = clip_guidance_grad(x, process.net_time(t), clip.encode_image, txt, float(clip.logit_scale.detach()))
    torch.testing.assert_close(added, want, rtol=1e-4, atol=1e-5)


def test_textual_inversion_checker_names_each_mistake_and_wants_the_gradient_on_v():
    from torch import nn

    from diffedu.adapt import WordEmbedding
    from diffedu.exercises import check_inversion_loss

    def loss(v, table, c, eps_theta, ids, x0, t, eps, ab, *, target="eps", noised=True, sqrt=True, encode=True,
             new_row=True, reduce="mean", detach=False):
        v = v.detach() if detach else v
        rows = torch.cat([table, v[None]]) if new_row else table
        e = rows[ids.clamp(max=len(rows) - 1)]
        a = ab.reshape(-1, *[1] * (x0.ndim - 1))
        zt = (a.sqrt() * x0 + (1 - a).sqrt() * eps if sqrt else a * x0 + (1 - a) * eps) if noised else x0
        err = ((eps if target == "eps" else x0) - eps_theta(zt, t, c(e) if encode else e)) ** 2
        return {"mean": err.mean(), "norm": err.flatten(1).sum(1).mean(), "sum": err.sum()}[reduce]

    def student(**kw):
        return lambda *a: loss(*a, **kw)

    assert check_inversion_loss(student())
    cases = [
        (dict(target="x0"), "the target is the image"),
        (dict(noised=False), "given the clean x_0"),
        (dict(sqrt=False), "square roots are missing"),
        (dict(encode=False), "frozen text encoder c_θ"),
        (dict(new_row=False), "never reads v"),
        (dict(reduce="norm"), "squared norm per image"),
        (dict(reduce="sum"), "summed over the batch"),
        (dict(detach=True), "no gradient reaches v"),
    ]
    _each_mistake_named(check_inversion_loss, [(student(**kw), hint) for kw, hint in cases])
    def without_graph(*a):  # computed under no_grad: the value is right, the gradient is not
        with torch.no_grad():
            return loss(*a)
    assert "no gradient reaches v" in check_inversion_loss(without_graph).message
    with torch.no_grad():   # the checker itself may be called under no_grad
        assert check_inversion_loss(student())

    # the reference's lookup is the library's: ids ≥ V read the new row
    table, v = torch.randn(9, 6, dtype=torch.float64), torch.randn(6, dtype=torch.float64)
    ids = torch.tensor([[0, 9, 3], [9, 8, 1]])
    emb = WordEmbedding(nn.Embedding.from_pretrained(table), v[None])
    torch.testing.assert_close(emb(ids), torch.cat([table, v[None]])[ids])


def test_guided_target_checker_passes_the_library_and_names_each_mistake():
    import diffedu as de
    from diffedu.exercises import check_guided_target
    from diffedu.exercises.distill import guided_target
    from diffedu.fewstep import guided_target as library_target

    def col(w, z):
        return w.reshape(-1, *[1] * (z.ndim - 1))

    def combine(f):
        return lambda teacher, z, t, y, w: f(teacher(z, t, None), teacher(z, t, y), col(w, z))

    assert check_guided_target(combine(lambda u, c, w: u + w * (c - u)))
    cases = [
        (combine(lambda u, c, w: (1 + w) * c - w * u), "Meng et al.'s convention"),
        (combine(lambda u, c, w: c + w * (u - c)), "roles are swapped"),
        (lambda teacher, z, t, y, w: teacher(z, t, y) + col(w, z) * (teacher(z, t, y) - teacher(z, t, y)),
         "both passes asked the teacher for the label"),
        (combine(lambda u, c, w: u + w * c), "difference is missing"),
        (lambda teacher, z, t, y, w: teacher(z, t, None) + w * (teacher(z, t, y) - teacher(z, t, None)),
         "along the last axis"),
        (lambda teacher, z, t, y, w: teacher(z, t, None) + w[0] * (teacher(z, t, y) - teacher(z, t, None)),
         "use w[i] for sample i"),
        (lambda teacher, z, t, y, w: teacher(z, t, None) + w.mean() * (teacher(z, t, y) - teacher(z, t, None)),
         "(their mean)"),
    ]
    _each_mistake_named(check_guided_target, cases)

    # the reference is the library's target for a real class-conditional teacher (w = 0: ∅, w = 1: y)
    teacher = de.pretrained("mnist-flow")
    z, t = torch.randn(3, 1, 28, 28, generator=torch.Generator().manual_seed(1)), torch.tensor([0.3, 0.6, 0.9])
    y, w = torch.tensor([1, 4, 7]), torch.tensor([0.0, 1.5, 4.0])
    with torch.no_grad():
        want = library_target(teacher, z, t, y, w)
        x0 = lambda z_, t_, y_: teacher.given(y, 0.0 if y_ is None else 1.0).x0(z_, t_)  # noqa: E731
        torch.testing.assert_close(guided_target(x0, z, t, y, w), want, rtol=1e-4, atol=1e-4)


def test_reflow_pairs_checker_passes_the_library_and_names_each_mistake():
    import diffedu as de
    from diffedu.exercises import check_reflow_pairs
    from diffedu.exercises.flow import reflow_pairs
    from diffedu.fewstep import reflow_pairs as library_pairs

    def solve(u, x1, k, sign=1.0, end=False, grid=None, in_place=False):
        ts = (torch.linspace(1, 0, k + 1) if grid is None else grid(k)).tolist()
        x = x1 if in_place else x1.clone()
        for t, s in zip(ts[:-1], ts[1:]):
            x += sign * (s - t) * u(x, s if end else t)
        return x

    assert check_reflow_pairs(lambda u, x1, k: (solve(u, x1, k), x1))
    cases = [
        (lambda u, x1, k: (x1, solve(u, x1, k)), "wrong way round"),
        (lambda u, x1, k: (solve(u, x1, k, in_place=True), x1), "overwritten in place"),
        (lambda u, x1, k: (solve(u, x1, k, sign=-1.0), x1), "wrong way in time"),
        (lambda u, x1, k: (x1 - u(x1, 1.0), x1), "one step, whatever"),
        (lambda u, x1, k: (solve(u, x1, k, grid=lambda k: torch.linspace(1, 0, k)), x1), "steps − 1 intervals"),
        (lambda u, x1, k: (solve(u, x1, k, end=True), x1), "end of each step"),
    ]
    _each_mistake_named(check_reflow_pairs, cases)

    # the reference is the library's coupling: Euler from the same noise, paired with it
    def field(x, t):
        return torch.sin(x) * (1 + torch.as_tensor(t, dtype=x.dtype).reshape(-1, 1)) - 0.4 * x
    model = de.FunctionModel(field, de.Linear(), "velocity")
    x0, x1 = library_pairs(model, 16, (2,), grid=6, method="euler", generator=torch.Generator().manual_seed(3),
                           dtype=torch.float64)
    want0, want1 = reflow_pairs(lambda x, t: field(x, torch.full((len(x),), t, dtype=x.dtype)), x1, 6)
    torch.testing.assert_close(x0, want0)
    assert torch.equal(x1, want1)
