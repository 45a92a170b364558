"""What each lesson figure HOLDS, checked in the kernel (the browser test only checks that a figure changes).

Every plotly widget, built as its lesson builds it (small sizes): it fits JupyterLab's output area; every scatter
says how it draws (plotly.js draws a trace without a mode as LINES once it has 20 points: lesson 00's GAN, VAE
and flow samples came out as tangles); what the front end will draw first is what the kernel holds; the points
shown are the samples drawn, inside the axes. The image grids: the digits' grey range, every label whole and
inside its image's width, no blank band under a widget's figure.
"""
import numpy as np
import pytest
import torch

import diffedu as de
from diffedu import processes, schedules, toy
from diffedu.widgets import _plotly
from diffedu.widgets._plotly import MAX_WIDTH


def _families():
    from diffedu.families.compare import Snapshots
    from diffedu.widgets.families import families_training

    rng = np.random.default_rng(0)

    def snaps(n_frames, spread):
        s = Snapshots(sample=lambda model, n, generator: None)   # frames filled by hand
        s.steps = list(range(0, 10 * n_frames, 10))
        s.frames = [rng.standard_normal((1000, 2)) * spread for _ in range(n_frames)]
        s.losses = list(np.linspace(2, 1, s.steps[-1]))
        return s

    families = {"GAN": 0.5, "VAE": 1.0, "flow": 1.0, "diffusion": 1.5}          # diffusion: a few points out of view
    runs = {d: {f: snaps(6, spread) for f, spread in families.items()} for d in ("ring", "moons")}
    return families_training(runs, mixtures={"ring": toy.ring()}, data={"moons": toy.sample("moons", 2000, seed=0)})


def _forward_animation():
    from diffedu.widgets import forward_animation

    return forward_animation(toy.ring().sample(600, torch.Generator().manual_seed(0)), frames=20)


def _trajectory_player():
    from diffedu.widgets import trajectory_player

    g = torch.Generator().manual_seed(0)
    frames = [torch.randn(500, 2, generator=g) * (1 - k / 10) for k in range(6)]
    return trajectory_player(frames, [f"t = {t}" for t in range(6)], background=toy.ring(), title="DDPM")


def _score_field():
    from diffedu.widgets import score_field

    ncsn = de.pretrained("ring8-ncsn")
    return score_field(toy.ring(), ncsn.process.ladder(3), learned=ncsn, grid_n=8)


def _langevin():
    from diffedu.widgets import langevin_explorer

    return langevin_explorer(toy.unbalanced(weight=0.8), n=200)


def _annealed():
    from diffedu.widgets import annealed_explorer

    return annealed_explorer(toy.unbalanced(weight=0.8), n=200)


def _sde_vs_ode():
    from diffedu.widgets import sde_vs_ode

    ring = toy.ring()
    return sde_vs_ode(ring.model(processes.VPSDE()), background=ring, n=150, steps=30)


def _guidance():
    from diffedu.widgets import guidance_vectors

    return guidance_vectors(toy.ring(), {0: [0, 2, 4, 6], 1: [1, 3, 5, 7]}, n=150, steps=10)


def _flow_paths():
    from diffedu.widgets.flow import flow_paths

    ring = toy.ring()
    exact = ring.x0_model(processes.Linear())
    return flow_paths({"flow matching (1-RF)": exact, "after one reflow (2-RF)": exact}, background=ring, n=200,
                      trails=40)


def _schedule():
    from diffedu.widgets import schedule_explorer

    return schedule_explorer()


class _Box:                     # the static figures: the same checks
    def __init__(self, figure):
        self.figure = figure


def _density_surface():
    from diffedu.widgets import density_surface

    return _Box(density_surface(toy.ring(), schedules.linear(1000)))


def _latent_map():
    from diffedu.widgets import latent_map

    g = torch.Generator().manual_seed(0)
    return _Box(latent_map(torch.randn(300, 2, generator=g), torch.randint(10, (300,), generator=g), "a map"))


WIDGETS = {"00 families": _families, "01 schedules": _schedule, "01 forward": _forward_animation,
           "01 surface": _density_surface, "02 trajectories": _trajectory_player, "03 score": _score_field,
           "04 langevin": _langevin, "04 annealed": _annealed, "05 sde-ode": _sde_vs_ode, "07 guidance": _guidance,
           "09 latent map": _latent_map, "13 flow": _flow_paths}


@pytest.fixture(scope="module", params=list(WIDGETS))
def widget(request):
    return request.param, WIDGETS[request.param]()


def _axis(fig, trace, letter):
    ref = getattr(trace, f"{letter}axis") or letter
    return fig.layout[f"{letter}axis{ref[1:]}"]


def _scatters(fig):
    return [t for t in fig.data if t.type in ("scatter", "scattergl")]


def test_every_figure_fits_the_notebooks_output_area(widget):
    name, box = widget
    width = box.figure.layout.width
    assert width is not None and width <= MAX_WIDTH, f"{name}: {width} px wide (the output area is ~970 px)"


def test_every_scatter_says_how_it_draws(widget):
    """plotly.js draws a scatter without a mode as lines once it holds 20 points, markers below that."""
    name, box = widget
    for i, t in enumerate(_scatters(box.figure)):
        assert t.mode is not None, f"{name}: trace {i} has no mode: plotly.js would guess it"


def _same(a, b) -> bool:
    try:
        return np.array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float), equal_nan=True)
    except (TypeError, ValueError):                   # categories (a bar chart's names)
        return list(a) == list(b)


def test_what_the_front_end_draws_first_is_what_the_kernel_holds(widget):
    """A FigureWidget's synced state is what a new view draws: once built, it holds every trace as the kernel does
    (live_plotly draws the first frame before making the widget: update messages sent before the front end's
    model exists are lost or half-applied — lesson 00's sample clouds lost their marker mode)."""
    name, box = widget
    fig = box.figure
    if not isinstance(fig, _plotly.go.FigureWidget):
        pytest.skip("a static figure")
    front, kernel = fig._widget_data, fig._data
    assert len(front) == len(kernel), f"{name}: {len(front)} traces in the front end's state, {len(kernel)} in the kernel"
    for i, (f, k) in enumerate(zip(front, kernel)):
        for key in ("mode", "opacity", "visible", "type"):
            assert f.get(key) == k.get(key), f"{name}: trace {i}'s {key}: front end {f.get(key)}, kernel {k.get(key)}"
        for key in ("x", "y"):
            if k.get(key) is not None:
                assert _same(f.get(key), k[key]), f"{name}: trace {i}'s {key} differ"
    for key in ("width", "height", "title"):
        assert fig._widget_layout.get(key) == fig._layout.get(key), f"{name}: layout {key} differs"

    def arrays(v):
        if isinstance(v, dict):
            return any(arrays(x) for x in v.values())
        if isinstance(v, (list, tuple)):
            return any(arrays(x) for x in v)
        return isinstance(v, np.ndarray) or (isinstance(v, float) and v != v)
    # opened with plain lists (binary buffers in the opening message left first figures empty now and then)
    assert not arrays(fig._widget_data) and not arrays(fig._widget_layout), f"{name}: arrays or NaN in the opening state"


def test_points_lie_inside_their_axes(widget):
    """Samples drawn as markers fall inside their panel's fixed range (no silently clipped cloud): at most
    1 % outside, and a widget that drops points outside its view says how many in the panel's title."""
    name, box = widget
    fig = box.figure
    for i, t in enumerate(_scatters(fig)):
        if "markers" not in (t.mode or "") or t.x is None or len(t.x) == 0:
            continue
        x, y = np.asarray(t.x, dtype=float), np.asarray(t.y, dtype=float)
        ok = np.isfinite(x) & np.isfinite(y)
        for v, letter in ((x[ok], "x"), (y[ok], "y")):
            rng = _axis(fig, t, letter).range
            if rng is None:       # autoscaled: plotly fits the data
                continue
            lo, hi = sorted(float(r) for r in rng)
            outside = ((v < lo) | (v > hi)).mean()
            assert outside <= 0.01, f"{name}: trace {i}: {outside:.1%} of its points outside the {letter} range {rng}"


def test_the_families_panels_draw_every_snapshot_as_points_and_count_those_out_of_view():
    from diffedu.widgets.families import SHOWN

    box = _families()
    fig, c = box.figure, box.controls
    samples = [t for t in fig.data if t.mode == "markers" and t.marker.color == de.plotting.MODEL]
    assert len(samples) == 4 and all(t.marker.size >= 2 for t in samples)
    for frame in (0, 5):
        c["frame"].value = frame
        for k, t in enumerate(samples):
            title = fig.layout.annotations[k].text
            shown = len(t.x)
            if shown < SHOWN:            # what is missing is out of view, and the title says how many
                assert f"{SHOWN - shown} of {SHOWN} outside" in title, title
            else:
                assert shown == SHOWN and "outside" not in title
    background = fig.data[0]
    c["dataset"].value = "moons"
    assert background.mode == "markers" and len(background.x) == SHOWN


# ---- image grids (matplotlib)

@pytest.fixture
def shown(monkeypatch):
    """The matplotlib figures the widgets display, kept for inspection instead of shown."""
    import diffedu.widgets.text as text_widgets

    figures = []
    monkeypatch.setattr(text_widgets, "show", figures.append)
    return figures


def _labels_fit(fig):
    """Every digit's note inside its tile's width (plus the gap to the next tile), and below the figure's top."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    (ax,) = fig.axes
    h = ax.images[0].get_array().shape[0]                                  # a tile is h × h data pixels, 2 apart
    x0, x1 = ax.transData.transform([(-0.5, 0), (h + 1.5, 0)])[:, 0]
    tile = x1 - x0                                                         # a tile and its gap, in screen pixels
    for i, t in enumerate(ax.texts):
        box = t.get_window_extent(renderer)
        centre = ax.transData.transform((i * (h + 2) + (h - 1) / 2, 0))[0]     # digit i's tile, worked out here
        assert box.width <= tile, f"label {t.get_text()!r} is {box.width:.0f} px wide over a {tile:.0f} px image"
        assert abs((box.x0 + box.x1) / 2 - centre) < 1, f"label {t.get_text()!r} is not centred on its digit"
        assert box.y1 <= fig.bbox.y1, f"label {t.get_text()!r} runs off the top"


def test_digit_labels_are_whole_and_fit_their_images(shown):
    from diffedu.widgets.text import draw_digits

    x = torch.rand(10, 1, 28, 28) * 2 - 1
    notes = ["7 ✓ thick upright", "1 ✗ thin right", "3 ✓", "2 ✓ thick left", "0.8 px, +0.12", "–",
             "box dot", "9 ✗ thick right", "4 ✓ thin upright", "a label of many more words than fit"]
    draw_digits(x, "“a thick slanted seven”, w = 3", notes)
    fig = shown[-1]
    (ax,) = fig.axes
    assert [t.get_text().replace("\n", " ") for t in ax.texts] == notes      # whole, only wrapped
    _labels_fit(fig)
    im = ax.images[0]                                                     # the digits' grey range, black to white
    assert im.get_clim() == (0, 1)
    a = im.get_array()
    assert a.min() >= 0 and a.max() <= 1
    np.testing.assert_allclose(a[:, 30 * 3: 30 * 3 + 28], (x[3, 0].numpy() + 1) / 2, atol=1e-6)   # digit 3, tile 3


def test_lesson_10s_prompt_box_labels_each_digit_whole(shown):
    """Lesson 10's judge notes ("7 ✓ thick upright") under the prompt box's digits: whole and inside each image."""
    from diffedu import text
    from diffedu.widgets import prompt_box

    model, clf = de.pretrained("mnist-text-unet"), de.pretrained("mnist-classifier")

    def judge(images, prompt):
        agree = text.prompt_agreement(images, [prompt] * len(images), clf)
        return [" ".join([f"{int(p)} {'✓' if ok else '✗'}"] + [v for v in (a["stroke"], a["slant"]) if v])
                for p, ok, a in zip(agree["pred"], agree["digit"], text.attributes(images))]

    box = prompt_box(model, "a thick slanted seven", n=4, steps=2, judge=judge)
    fig = shown[-1]
    assert len(fig.axes[0].texts) == 4 and all(t.get_text() for t in fig.axes[0].texts)
    _labels_fit(fig)
    assert box.output.layout.min_height is None                        # no band reserved under the figure


def test_matplotlib_widgets_reserve_no_blank_band():
    """``live`` keeps the last figure while the next is drawn (clear_output(wait=True)), so its Output needs no
    fixed height — a fixed one left a band under every short figure (a row of digits is ~140 px)."""
    import ipywidgets as W

    from diffedu.widgets._base import live

    box = live(lambda v: None, {"v": W.IntSlider()})
    assert box.output.layout.min_height is None and box.output.layout.height is None


def test_mosaic_places_each_image_in_its_tile_and_names_a_wrong_count():
    from diffedu.plotting import mosaic

    imgs = np.arange(6 * 2 * 3, dtype=float).reshape(6, 2, 3)
    m = mosaic(imgs, 2, 3, gap=1, fill=-1.0)
    assert m.shape == (2 * 2 + 1, 3 * 3 + 2)
    for k in range(6):
        r, c = divmod(k, 3)
        np.testing.assert_array_equal(m[r * 3: r * 3 + 2, c * 4: c * 4 + 3], imgs[k])
    assert (m[2] == -1).all() and (m[:, 3] == -1).all()                # the gaps
    with pytest.raises(ValueError, match="images must be 2·2 = 4 images"):
        mosaic(imgs, 2, 2)


@pytest.mark.parametrize("kind", ["cifar rows", "digit grid"])
def test_image_grids_show_every_image_with_its_labels_inside_the_figure(kind, monkeypatch):
    """Lessons 07–09's CFG grids: one mosaic with every image's pixels unchanged, a label over each column (and
    a name at each row), none cut off at the figure's edge."""
    import diffedu.images as images_mod
    import diffedu.widgets.cifar as cifar_widgets

    figs = []
    if kind == "cifar rows":
        monkeypatch.setattr(cifar_widgets, "show", figs.append)
        x = torch.rand(2, 10, 3, 8, 8) * 2 - 1
        cifar_widgets.draw_rows([("pixel DiT", x[0], "7/10 recognised"), ("latent DiT", x[1], "")],
                                torch.arange(10), "w = 3")
        expected = np.concatenate([cifar_widgets.to_image(x[0]), cifar_widgets.to_image(x[1])])
        rows, cols, names = 2, 10, ["pixel DiT\n7/10 recognised", "latent DiT"]
        heads = list(cifar_widgets.CLASSES)
    else:
        monkeypatch.setattr(images_mod, "show", figs.append)
        x = torch.rand(20, 1, 8, 8) * 2 - 1
        labels = torch.arange(10).repeat_interleave(2)            # class by class, two of each
        images_mod.draw_grid(x, labels, 2, "w = 3")
        per = images_mod.to_image(x)
        expected = np.stack([per[c * 2 + r] for r in range(2) for c in range(10)])
        rows, cols, names, heads = 2, 10, [], [str(c) for c in range(10)]
    fig = figs[-1]
    (ax,) = fig.axes
    shown = ax.images[0].get_array()
    for k in range(rows * cols):
        r, c = divmod(k, cols)
        np.testing.assert_allclose(shown[r * 10: r * 10 + 8, c * 10: c * 10 + 8], expected[k])
    assert [t.get_text() for t in ax.get_xticklabels()] == heads
    assert [t.get_text() for t in ax.get_yticklabels()] == names
    np.testing.assert_allclose(ax.get_xticks(), 10 * np.arange(cols) + 3.5)          # over each column's centre
    if names:
        np.testing.assert_allclose(ax.get_yticks(), 10 * np.arange(rows) + 3.5)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    for t in ax.get_xticklabels() + ax.get_yticklabels() + [fig._suptitle]:
        box = t.get_window_extent(r)
        assert box.x0 >= fig.bbox.x0 and box.x1 <= fig.bbox.x1 and box.y1 <= fig.bbox.y1, f"{t.get_text()!r} cut off"
