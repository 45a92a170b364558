"""Lesson 12's students: the guidance input of a U-Net, the guided-distillation loss, a consistency model built
around a diffusion model, and their checkpoints."""
import pytest
import torch

import diffedu as de
from diffedu import checkpoint
from diffedu.fewstep import ConsistencyModel, ema_update
from diffedu.samplers import consistency_sample
from diffedu.fewstep import guided_distill_loss, guided_target
from diffedu.model import DiffusionModel, takes_guidance
from diffedu.models import UNet

SMALL = dict(image_size=8, base_channels=8, channel_mults=(1, 2), attn_resolutions=(), num_classes=3, dropout=0.0)


def _pair(seed=0):
    """A small random 'teacher' (output layer perturbed so it is not zero) and its w-student copy."""
    torch.manual_seed(seed)
    teacher = UNet(**SMALL)
    with torch.no_grad():
        for p in teacher.parameters():
            p.add_(0.05 * torch.randn_like(p))
    student = UNet(**SMALL, guidance=True)
    missing, unexpected = student.load_state_dict(teacher.state_dict(), strict=False)
    assert not unexpected and all(k.startswith("guide.") for k in missing)
    wrap = lambda n: DiffusionModel(n.eval(), de.Linear(), "velocity", 3)  # noqa: E731
    return wrap(teacher), wrap(student)


def test_a_fresh_w_student_is_the_conditional_teacher_at_every_w_and_w_matters_once_trained():
    teacher, student = _pair()
    x, y = torch.randn(4, 1, 8, 8), torch.tensor([0, 1, 2, 0])
    with torch.no_grad():
        cond = teacher.given(y, 1.0).velocity(x, 0.6)
        for w in (0.0, 1.0, 4.5):
            assert torch.equal(student.given(y, w).velocity(x, 0.6), cond)
        torch.nn.init.normal_(student.net.guide.mlp[-1].weight, std=0.1)
        a, b = student.given(y, 0.0).velocity(x, 0.6), student.given(y, 4.0).velocity(x, 0.6)
    assert (a - b).abs().max() > 1e-3
    assert takes_guidance(student) and not takes_guidance(teacher)


def test_guidance_on_a_w_student_is_one_network_pass_with_w_as_input():
    _, student = _pair()
    calls = []
    student.net.register_forward_hook(lambda m, args, kw, out: calls.append((args[0].shape[0], kw)), with_kwargs=True)
    x = torch.randn(5, 1, 8, 8)
    with torch.no_grad():
        student.given(1, 3.0).x0(x, 0.5)
    assert len(calls) == 1 and calls[0][0] == 5          # not the [x, x] batch of classifier-free guidance
    assert torch.equal(calls[0][1]["w"], torch.full((5,), 3.0, dtype=torch.float64))


def test_the_w_input_is_checked_by_name():
    teacher, student = _pair()
    x, t, y = torch.randn(2, 1, 8, 8), torch.tensor([500.0, 500.0]), torch.tensor([0, 1])
    with pytest.raises(ValueError, match="w: a guidance-distilled UNet"):
        student.net(x, t, y)
    with pytest.raises(ValueError, match="w: a guidance-distilled UNet"):
        student.net(x, t, y, w=torch.ones(3))
    with pytest.raises(ValueError, match="no guidance input"):
        teacher.net(x, t, y, w=torch.ones(2))
    with pytest.raises(ValueError, match="w_max"):
        guided_distill_loss(student, teacher, x, y, w_max=0.0)
    with pytest.raises(ValueError, match="guidance=True"):
        guided_distill_loss(teacher, teacher, x, y)


def test_the_guided_distillation_loss_is_its_definition_written_out():
    teacher, student = _pair()
    torch.nn.init.normal_(student.net.guide.mlp[-1].weight, std=0.1)
    x0, y = torch.randn(6, 1, 8, 8), torch.tensor([0, 1, 2, 0, 1, 2])
    with torch.no_grad():
        loss = guided_distill_loss(student, teacher, x0, y, w_max=5.0, generator=torch.Generator().manual_seed(3))
        g = torch.Generator().manual_seed(3)
        u = torch.rand((2, 6), generator=g, dtype=torch.float64)
        t, w = 1.0 - u[0], 5.0 * u[1]
        z = (1 - t).reshape(-1, 1, 1, 1).float() * x0 + t.reshape(-1, 1, 1, 1).float() * torch.randn(
            x0.shape, generator=g)
        target = guided_target(teacher, z, t, y, w)
        rows = []
        for i in range(6):  # the student one sample at a time, each at its own w
            rows.append(student.given(y[i:i + 1], float(w[i])).x0(z[i:i + 1], t[i:i + 1]))
        snr = ((1 - t) / t) ** 2
        expected = (snr.clamp(min=1).float() * ((target - torch.cat(rows)) ** 2).flatten(1).mean(1)).mean()
    assert torch.allclose(loss, expected, rtol=1e-4, atol=1e-7)


def test_a_consistency_model_around_a_diffusion_model_keeps_the_boundary_and_starts_as_its_x0():
    teacher, _ = _pair()
    cm = ConsistencyModel(teacher, de.Linear(), t_min=0.002, sigma_data=0.1, num_classes=3)
    x, y = torch.randn(4, 1, 8, 8), torch.tensor([0, 1, 2, 1])
    with torch.no_grad():
        assert torch.equal(cm.given(y).x0(x, 0.002), x)                       # f(x, t_min) = x exactly
        c_skip = float(cm.coefficients(torch.tensor([0.9]))[0])
        f, x0 = cm.given(y).x0(x, 0.9), teacher.given(y).x0(x, 0.9)
    assert c_skip < 0.01 and torch.allclose(f, c_skip * x + (1 - c_skip) * x0, atol=1e-6)
    with pytest.raises(ValueError, match="not on the consistency model"):
        ConsistencyModel(teacher, de.CosineVP(), t_min=0.002)


def test_a_consistency_model_checkpoint_round_trips_and_its_target_ema_reaches_the_inner_network(tmp_path):
    teacher, _ = _pair()
    cm = ConsistencyModel(teacher, de.Linear(), t_min=0.002, sigma_data=0.1, num_classes=3, meta={"recipe": "x"})
    path = checkpoint.save(tmp_path / "cm.safetensors", cm)
    back = checkpoint.load(path)
    assert isinstance(back, ConsistencyModel) and (back.t_min, back.sigma_data) == (0.002, 0.1)
    assert back.meta["recipe"] == "x" and isinstance(back.net, DiffusionModel)
    x = torch.randn(3, 1, 8, 8)
    with torch.no_grad():
        a = consistency_sample(cm.given(1), x, 2, generator=torch.Generator().manual_seed(0))
        b = consistency_sample(back.given(1), x, 2, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(a, b, atol=1e-5)
    other = ConsistencyModel(_pair(seed=1)[0], de.Linear(), t_min=0.002)
    ema_update(other, cm, 0.0)                                                 # μ = 0: a copy
    assert all(torch.equal(p, q) for p, q in zip(other.net.net.parameters(), cm.net.net.parameters()))


def test_the_lesson_12_checkers_agree_with_the_library_and_name_each_mistake():
    from diffedu.samplers import ddim_step
    from diffedu.fewstep import distill_target as library_target
    from diffedu.exercises import check_consistency_boundary, check_distill_target
    from diffedu.exercises.distill import consistency_function, distill_target

    # the checker's reference is the library's target: one student DDIM step from it lands on two teacher steps
    teacher, _ = _pair()
    p, z = de.CosineVP(), torch.randn(3, 1, 8, 8, dtype=torch.float64)
    teacher = DiffusionModel(teacher.net.double(), p, "v", 3).given(1)
    t, tm, tn = torch.full((3,), 0.8, dtype=torch.float64), torch.full((3,), 0.6, dtype=torch.float64), \
        torch.full((3,), 0.4, dtype=torch.float64)
    with torch.no_grad():
        def ddim_to(z, t, s):  # one DDIM step (η = 0), each sample at its own time
            return ddim_step(*teacher.x0_eps(z, t), *p.alpha_sigma(t), *p.alpha_sigma(s))

        z2 = ddim_to(ddim_to(z, t, tm), tm, tn)
        ours = distill_target(z, z2, *p.alpha_sigma(t), *p.alpha_sigma(tn))
        assert torch.allclose(ours, library_target(teacher, z, t, tm, tn), atol=1e-10)
    assert check_distill_target(distill_target)
    col = lambda v, x: v.reshape(-1, *[1] * (x.ndim - 1))  # noqa: E731
    r = check_distill_target(lambda z, z2, a, s, a2, s2: (z2 - col(s2 / s, z) * z) / col(a2, z))
    assert not r and "denominator" in r.message
    r = check_distill_target(lambda z, z2, a, s, a2, s2: (z2 - col(s / s2, z) * z) / col(a - s / s2 * a, z))
    assert not r
    r = check_distill_target(lambda z, z2, a, s, a2, s2: (z2 + col(s2 / s, z) * z) / col(a2 + s2 / s * a, z))
    assert not r and "sign" in r.message

    # the boundary checker's reference is ConsistencyModel's VE coefficients
    cm = ConsistencyModel(lambda x, t: _net_stand_in(x, t), de.VE(0.002, 80.0), t_min=0.002, sigma_data=0.5)
    x, tt = torch.randn(4, 2, dtype=torch.float64), torch.tensor([0.002, 0.1, 1.0, 30.0], dtype=torch.float64)
    c_in = cm.coefficients(tt)[2][:, None]       # the library feeds F the scaled input c_in x, at the net's time
    as_fed = lambda x, t: _net_stand_in(c_in * x, cm.process.net_time(t))  # noqa: E731
    assert torch.allclose(cm.x0(x, tt), consistency_function(as_fed, x, tt), atol=1e-12)
    assert check_consistency_boundary(consistency_function)
    r = check_consistency_boundary(lambda F, x, t, t_min=0.002, sigma_data=0.5: F(x, t))
    assert not r and "no skip" in r.message


def _net_stand_in(x, t):
    return torch.sin(x) + 0.1 * t.reshape(-1, *[1] * (x.ndim - 1))
