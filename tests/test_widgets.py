"""The plotly widgets in the kernel: the numbers they show, what a control move changes, and their fallbacks."""
import numpy as np
import pytest
import torch

import diffedu as de
from diffedu import processes, schedules, toy
from diffedu.widgets import _plotly, schedule_explorer, score_field
from diffedu.widgets.forward import density_surface
from diffedu.widgets.schedule import _thin, schedule_curves


def test_schedule_explorer_shows_the_chosen_schedule_and_follows_its_sliders():
    box = schedule_explorer()
    fig, c = box.figure, box.controls
    lin = schedule_curves("linear", 1000, 1e-4, 0.02)
    alpha_bar = fig.data[1]                                  # linear, ᾱ_t panel
    assert np.allclose(np.interp(lin["t"], alpha_bar.x, alpha_bar.y), lin["alpha_bar"], atol=2e-3)
    assert alpha_bar.line.width > fig.data[4].line.width      # linear bold, cosine faded
    c["beta_end"].value = 0.005                               # less noise: x_T keeps signal, the title says so
    new = schedule_curves("linear", 1000, 1e-4, 0.005)["alpha_bar"][-1]
    assert new > 1e-2 and f"{new:.1e}" in fig.layout.title.text and "still holds signal" in fig.layout.title.text
    c["kind"].value = "cosine"
    assert fig.data[4].line.width > fig.data[1].line.width and c["beta_end"].disabled
    c["T"].value = 2000
    cos = schedule_curves("cosine", 2000, 1e-4, 0.02)
    assert fig.data[4].y[-1] == pytest.approx(cos["alpha_bar"][-1]) and len(fig.data[4].x) == 400


def test_thinning_keeps_the_ends_and_at_most_n_points():
    c = schedule_curves("linear", 2000, 1e-4, 0.02)
    t = _thin(c, 400)
    assert len(t["t"]) == 400 and t["t"][0] == c["t"][0] and t["t"][-1] == c["t"][-1]
    assert len(_thin(schedule_curves("linear", 50, 1e-4, 0.02), 400)["t"]) == 50


def test_density_surface_is_the_exact_diffused_marginal():
    ring, sched = toy.ring(), schedules.linear(1000)
    surf = density_surface(ring, sched, coord=0, n_x=401, lim=5.0).data[0]
    x, t, z = np.asarray(surf.x), np.asarray(surf.y), np.asarray(surf.z)
    assert np.allclose(z.sum(1) * (x[1] - x[0]), 1.0, atol=2e-3)          # a density at every t
    mu, s, w = ring.means[:, 0].numpy(), ring.stds.numpy(), ring.weights.numpy()
    p0 = (w * np.exp(-(x[:, None] - mu) ** 2 / (2 * s**2)) / np.sqrt(2 * np.pi * s**2)).sum(1)
    assert t[0] == 0 and np.allclose(z[0], p0, rtol=1e-9)                  # t = 0: the data's first coordinate
    a = float(sched.alpha_bars[500])
    var = a * s**2 + 1 - a
    p500 = (w * np.exp(-(x[:, None] - np.sqrt(a) * mu) ** 2 / (2 * var)) / np.sqrt(2 * np.pi * var)).sum(1)
    assert np.allclose(z[list(t).index(500)], p500, rtol=1e-9)
    assert np.allclose(z[-1], np.exp(-x**2 / 2) / np.sqrt(2 * np.pi), atol=1e-3)  # t = T: N(0, 1)


def test_plotly_box_offers_a_static_copy_and_works_without_anywidget(monkeypatch):
    bundle = schedule_explorer()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and "plotly" in bundle["text/html"]
    monkeypatch.setattr(_plotly, "figure_widget", lambda fig: None)      # no anywidget: redrawn into an Output
    box = schedule_explorer()
    box.controls["T"].value = 500
    assert "T = 500" in box.figure.layout.title.text and box.children[-1].__class__.__name__ == "Output"


def test_density_surface_names_a_bad_coordinate():
    with pytest.raises(ValueError, match="coord"):
        density_surface(toy.ring(), schedules.linear(100), coord=2)


def test_forward_animation_moves_the_points_with_their_own_noise():
    from diffedu import forward
    from diffedu.widgets import forward_animation

    x0 = toy.ring().sample(500, torch.Generator().manual_seed(0))
    box = forward_animation(x0, T=1000, frames=10, seed=3)
    fig, c = box.figure, box.controls
    assert np.allclose(fig.data[0].x, x0[:, 0].numpy(), atol=1e-6)        # frame 0: the data itself
    c["frame"].value = 5
    eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    xt = forward.q_sample(x0.double(), 500, schedules.linear(1000), noise=eps).numpy()
    assert np.allclose(fig.data[0].x, xt[:, 0], atol=1e-5) and np.allclose(fig.data[0].y, xt[:, 1], atol=1e-5)
    assert (np.asarray(fig.data[1].y) * 8 / 60).sum() == pytest.approx(1.0)              # a density histogram
    assert "t = 500" in fig.layout.annotations[0].text
    c["kind"].value = "cosine"
    assert f"{float(schedules.make('cosine', 1000).alpha_bars[500]):.3f}" in fig.layout.annotations[0].text


def test_trajectory_player_shows_each_recorded_frame_and_its_trails():
    from diffedu.widgets import trajectory_player

    frames = [torch.full((50, 2), float(k)) + torch.arange(50.0)[:, None] / 100 for k in range(6)]
    box = trajectory_player(frames, list(range(6)), background=toy.ring(), paths=3, title="walk")
    fig = box.figure
    pts, trail = fig.data[-1], fig.data[-2]
    assert np.allclose(pts.x, frames[0][:, 0].numpy()) and "walk: 0" in fig.layout.annotations[0].text
    box.controls["frame"].value = 4
    assert np.allclose(pts.y, frames[4][:, 1].numpy()) and "walk: 4" in fig.layout.annotations[0].text
    x = np.asarray(trail.x, dtype=float)
    assert len(x) == 3 * (5 + 1) and np.isnan(x[5]) and np.allclose(x[:5], np.arange(5) + 0.0)  # particle 0's path
    assert fig.data[0].mode == "lines" and len(fig.data[0].x) > 100       # the ring's density under the points


def test_flow_paths_move_particles_along_their_euler_paths():
    from diffedu.samplers import euler_sample
    from diffedu.widgets.flow import N_TIMES, flow_paths

    ring = toy.ring()
    model = ring.x0_model(processes.Linear())                           # the exact flow of the ring
    box = flow_paths({"exact": model}, n=60, trails=5, reference=8)
    fig, c = box.figure, box.controls
    x1 = torch.randn(60, 2, generator=torch.Generator().manual_seed(0))
    c["steps"].value, c["frame"].value = 4, N_TIMES - 1                  # t = 0: the Euler-4 samples
    x0 = euler_sample(model, x1, 4).numpy()
    assert np.allclose(fig.data[-1].x, x0[:, 0], atol=1e-5) and fig.data[-2].mode == "lines+markers"
    c["frame"].value = 0                                                  # t = 1: the noise itself
    assert np.allclose(fig.data[-1].y, x1[:, 1].numpy(), atol=1e-6) and "t = 1.00" in fig.layout.annotations[0].text


def test_families_widget_scrubs_every_family_at_the_same_fraction_of_its_run():
    from diffedu.families.compare import Snapshots
    from diffedu.widgets.families import families_training

    def snaps(k, steps):
        s = Snapshots(sample=lambda model, n, generator: None)   # frames filled by hand
        s.steps = list(steps)
        s.frames = [np.full((20, 2), float(i)) / 10 + (0.0 if k == 0 else 0.05) for i in range(len(steps))]
        s.losses = list(np.linspace(2, 1, steps[-1]))
        return s

    runs = {"ring": {"diffusion": snaps(0, [0, 10, 20, 30, 40]), "GAN": snaps(1, [0, 50, 100])},
            "moons": {"diffusion": snaps(0, [0, 10, 20, 30, 40]), "GAN": snaps(1, [0, 50, 100])}}
    box = families_training(runs, mixtures={"ring": toy.ring()}, data={"moons": np.zeros((10, 2))})
    fig, c = box.figure, box.controls
    pts = [t for t in fig.data if t.type == "scatter" and t.mode == "markers" and t.marker.color == "#d62728"]
    c["frame"].value = 4                                                  # the last of 5 = the last of 3
    assert np.allclose(pts[0].x, 0.4) and np.allclose(pts[1].x, 0.25)
    assert "step 100 / 100" in fig.layout.annotations[1].text
    c["frame"].value = 2                                                  # half-way: snapshot 2 of 5, 1 of 3
    assert np.allclose(pts[0].x, 0.2) and np.allclose(pts[1].x, 0.15) and "step 50 / 100" in fig.layout.annotations[1].text
    background = fig.data[0]                                              # panel 1: the ring's density contours
    assert background.mode == "lines" and np.isnan(np.asarray(background.x, dtype=float)).any()
    c["dataset"].value = "moons"                                          # the exact density gives way to the points
    assert background.mode == "markers" and len(background.x) == 10 and "moons" in fig.layout.title.text
    from diffedu.widgets.families import CURVE

    runs["moons"]["GAN"].losses = list(np.linspace(5, 3, 2000))          # a longer run, whose curve is thinned
    box = families_training(runs, mixtures={"ring": toy.ring()}, data={"moons": np.zeros((10, 2))})
    fig, c = box.figure, box.controls
    curves = [t for t in fig.data if t.type == "scatter" and t.mode == "lines" and t.line.color == "#7f7f7f"]
    assert max(curves[1].y) < 2.1                                          # the ring's GAN losses, 2 → 1
    c["dataset"].value = "moons"
    assert len(curves[1].x) <= CURVE and curves[1].x[-1] == 2000 and min(curves[1].y) > 2.9
    curves[1].y = [99.0]                                                   # a frame move does not resend them
    c["frame"].value = 1
    assert list(curves[1].y) == [99.0]
    c["dataset"].value = "ring"                                            # a switch does
    assert max(curves[1].y) < 2.1


def test_arrow_lines_draw_each_vector_from_its_point_with_a_symmetric_head():
    x, y = _plotly.arrow_lines(np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([[1.0, 0.0], [0.0, -2.0]]), length=0.5)
    assert len(x) == 12 and np.isnan(x[5]) and np.isnan(x[11]) and np.isnan(x).sum() == 2   # one piece an arrow
    assert (x[1], y[1]) == (0.5, 0.0) and (x[7], y[7]) == (1.0, 0.0)             # the tips
    assert (x[3], y[3]) == (x[1], y[1])                                          # back to the tip for the right stroke
    assert x[2] == pytest.approx(x[4]) and y[2] == pytest.approx(-y[4]) and x[2] < 0.5  # head: mirrored, behind


def test_score_field_shows_the_chosen_level_and_hides_what_is_unticked():
    from diffedu.widgets.score import arrows

    ring = toy.ring()
    ncsn = de.pretrained("ring8-ncsn")
    sigmas = ncsn.process.ladder(3)
    box = score_field(ring, sigmas, learned=ncsn, grid_n=8)
    fig, c, data = box.figure, box.controls, box.data
    c["level"].value = 2
    L = data["levels"][2]
    tips = data["pts"] + arrows(L["exact"]) * data["arrow_length"]
    assert np.allclose(np.asarray(fig.data[1].x[1::6], dtype=float), tips[:, 0])
    assert f"σ = {L['sigma']:.3f}" in fig.layout.annotations[0].text and "Fisher" in fig.layout.annotations[1].text
    c["show_learned"].value = False
    assert fig.data[1].visible and not fig.data[2].visible
    c["weighted"].value = False
    assert np.allclose(fig.data[3].z, np.log10(L["error"] + 1e-8)) and fig.data[3].zmax == 3


def test_annealed_explorer_draws_the_density_at_each_frames_noise_level():
    from diffedu.widgets.langevin import annealed_explorer

    mix = toy.unbalanced()
    box = annealed_explorer(mix, n=50)
    fig, c = box.figure, box.controls
    c["levels"].value, c["steps_per_level"].value = 3, 5
    frames, labels, sigmas = box.compute(3, c["sigma_max"].value, c["sigma_min"].value, 5)
    c["frame"].value = 40
    i = len(frames) - 1
    assert np.allclose(fig.data[1].x, frames[i][:, 0]) and fig.layout.annotations[0].text == labels[i]
    assert np.allclose(fig.data[3].y, mix.mode_fractions(torch.as_tensor(frames[i])))
    xs = np.asarray(fig.data[0].x)
    p = mix.log_prob(torch.tensor([[xs[10], xs[20]]]), 1.0, sigmas[i]).exp().item()
    assert np.asarray(fig.data[0].z)[20, 10] == pytest.approx(p)       # z[row = y, column = x]


def test_guidance_widget_samples_with_the_guided_score_and_draws_its_arrows():
    from diffedu.widgets.guidance2d import guidance_vectors, within_mode_spread

    ring = toy.ring()
    classes = {0: [0, 2, 4, 6], 1: [1, 3, 5, 7]}
    box = guidance_vectors(ring, classes, n=100, steps=10)
    fig, c = box.figure, box.controls
    c["gamma"].value = 4.0
    pts = np.stack([fig.data[-1].x, fig.data[-1].y], 1)
    assert "γ = 4" in fig.layout.annotations[2].text
    spread = within_mode_spread(ring, pts, classes[0])
    assert f"{spread:.3f}" in fig.layout.annotations[3].text
    near = np.argmin(((pts[:, None] - ring.means.numpy()[None]) ** 2).sum(-1), 1)
    assert np.isin(near, classes[0]).mean() > 0.9                        # γ = 4: class 0's modes (unguided: half)
    c["y"].value = 1
    near = np.argmin(((np.stack([fig.data[-1].x, fig.data[-1].y], 1)[:, None] - ring.means.numpy()[None]) ** 2).sum(-1), 1)
    assert np.isin(near, classes[1]).mean() > 0.9
    x, y = _plotly.circles(np.array([[1.0, 2.0]]), [0.5])
    assert np.allclose(np.hypot(x[:-1] - 1, y[:-1] - 2), 0.5) and np.isnan(x[-1])


def test_langevin_explorer_shows_where_each_run_ends():
    """The slider's end is the run's last frame whatever the step count (410 steps records 42 frames, not 41)."""
    from diffedu.widgets.langevin import langevin_explorer

    box = langevin_explorer(toy.unbalanced(), n=30)
    fig, c = box.figure, box.controls
    at_400 = np.asarray(fig.data[1].x, dtype=float).copy()
    c["n_steps"].value = 410
    frames, labels, _ = box.compute(c["step_size"].value, 410)
    assert labels[-1] == "step 410" and fig.layout.annotations[0].text == "step 410"
    assert np.allclose(fig.data[1].x, frames[-1][:, 0]) and not np.allclose(fig.data[1].x, at_400)


def test_contour_lines_of_a_gaussian_are_circles_at_the_right_radii():
    xs = np.linspace(-3, 3, 121)
    z = np.exp(-(xs[None, :] ** 2 + xs[:, None] ** 2) / 2)              # heights e^{-r²/2}
    x, y = _plotly.contour_lines(xs, xs, z, levels=3)
    r = np.hypot(x, y)[~np.isnan(x)]
    heights = np.linspace(z.min(), z.max(), 5)[1:-1]
    expected = np.sqrt(-2 * np.log(heights))
    nearest = np.abs(r[:, None] - expected[None]).min(1)
    assert nearest.max() < 0.01 and np.isnan(x).sum() == 3               # three closed lines, on the right circles


def test_cfg_explorer_precomputes_every_w_with_the_noise_each_would_get_alone(monkeypatch):
    """Lesson 12's slider: every position sampled at build in one batch; a move then never samples, and each w
    shows what sampling it alone gives (same noise, same labels)."""
    import diffedu.widgets.digits as digits

    model = de.pretrained("mnist-unet")
    box = digits.cfg_explorer(model, per_class=1, steps=2, w_max=1.0, precompute=True)
    alone, labels = digits.sample_grid(model, 1.0, 1, 2, 0)
    monkeypatch.setattr(digits, "sample_grid", lambda *a, **k: pytest.fail("a move sampled"))
    for w in (1.0, 0.5, 0.0):
        box.controls["w"].value = w
        images, got_labels, _ = box.compute(w)
        assert images.shape == (10, 1, 28, 28) and torch.equal(got_labels, labels)
    torch.testing.assert_close(box.compute(1.0)[0], alone, atol=0.05, rtol=0)
    assert (box.compute(0.0)[0] - box.compute(1.0)[0]).abs().max() > 0.1      # w matters


def test_cfg_compare_precomputes_every_w_and_a_move_then_samples_nothing(monkeypatch):
    """Lesson 09's slider (three CIFAR models): every position sampled once at build, each as sampling it alone
    would give; a move draws from the store."""
    import diffedu.widgets.cifar as cifar

    models = {"U-Net": de.pretrained("cifar-unet"), "latent DiT": de.pretrained("cifar-latent-dit")}
    calls = []
    real = cifar.sample_images
    monkeypatch.setattr(cifar, "sample_images",
                        lambda m, y, w, *a, **k: calls.append(float(w)) or real(m, y, w, *a, **k))
    box = cifar.cfg_compare(models, per_class=1, steps=2, classes=range(3), w_max=1.0, precompute=True)
    assert sorted(calls) == [0.0, 0.0, 0.5, 0.5, 1.0, 1.0]                 # 3 positions × 2 models, once each
    calls.clear()
    for w in (1.0, 0.5, 0.0, 1.0):
        box.controls["w"].value = w
    rows = box.compute(0.7 - 0.2)                        # 0.49999999999999994: the same position as the slider's 0.5
    assert [name for name, _, _ in rows] == ["U-Net", "latent DiT"] and rows[0][1].shape == (3, 3, 32, 32)
    noise = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    assert (box.compute(0.0)[0][1] - box.compute(1.0)[0][1]).abs().max() > 0.1      # w matters
    assert calls == []                                   # neither the moves nor the calls above sampled
    torch.testing.assert_close(rows[0][1], real(models["U-Net"], torch.arange(3), 0.5, 2, x_T=noise))


def test_score_field_names_a_grid_too_small_for_arrows():
    from diffedu.widgets.score import score_field_data

    with pytest.raises(ValueError, match="grid_n"):
        score_field_data(toy.ring(), [0.5], grid_n=1)


def test_per_position_computes_each_value_once_and_every_position_unless_the_site_is_built(monkeypatch):
    import ipywidgets as W

    from diffedu.widgets._base import per_position

    calls = []
    slider = W.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.5)
    compute = per_position(lambda v: calls.append(v) or v * 2, slider)
    assert sorted(calls) == [0.0, 0.5, 1.0] and compute(0.7 - 0.2) == 1.0 and len(calls) == 3
    monkeypatch.setenv("DIFFEDU_SITE", "1")           # the site's copy computes only what it shows
    calls.clear()
    compute = per_position(lambda v: calls.append(v) or v, slider)
    assert calls == [] and compute(1.0) == 1.0 and calls == [1.0]
