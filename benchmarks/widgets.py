"""Widget update time: the computation behind one slider move (median of many), and the drawing beside it.

    .venv/bin/python benchmarks/widgets.py

Targets on the 2-core course machine: ≤ 50 ms of computation per update for the lesson 01 widgets,
≤ ~100 ms for the score-based ones (30×30 grid, a few hundred particles); the CFG slider regenerates a grid
of digits with a network and is reported on its own. Drawing with matplotlib (what the student waits for in
total) is reported separately.
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from _timing import median_ms, report  # noqa: E402

import diffedu as de  # noqa: E402
import diffedu.plotting as plotting  # noqa: E402
from diffedu import images, schedules, toy  # noqa: E402
from diffedu.pretrained import shipped  # noqa: E402
from diffedu.widgets import digits as dw  # noqa: E402
from diffedu.widgets import forward as fw  # noqa: E402
from diffedu.widgets import guidance2d as gw  # noqa: E402
from diffedu.widgets import langevin as lw  # noqa: E402
from diffedu.widgets import schedule as sw  # noqa: E402
from diffedu.widgets import score as scw  # noqa: E402
from diffedu.widgets import sde as sdw  # noqa: E402

render = lambda fig: (fig.canvas.draw(), matplotlib.pyplot.close(fig))  # noqa: E731  render, don't display
for mod in (plotting, sw, fw, scw, lw, dw, gw, sdw, images):
    mod.show = render

x0 = toy.ring().sample(2000, torch.Generator().manual_seed(0)).double()
eps = torch.randn_like(x0)
s = schedules.linear(1000)
ring, unb = toy.ring(), toy.unbalanced()
ncsn = de.pretrained("ring8-ncsn")  # a score model on VE(0.03, 3)
sigmas = ncsn.process.ladder(10)    # the 10 levels it was trained on
field = scw.score_field_data(ring, sigmas, ncsn)

print("lesson 01 — computation per update (target 50 ms)")
report([("schedule explorer: curves (linear, T=1000)", median_ms(lambda: sw.schedule_curves("linear", 1000, 1e-4, 0.02), 100)),
        ("schedule explorer: curves (cosine, T=2000)", median_ms(lambda: sw.schedule_curves("cosine", 2000, 1e-4, 0.02), 100)),
        ("forward animation: one frame (2000 points)", median_ms(lambda: fw.forward_frame(x0, eps, s, 500), 100))],
       target_ms=50)

print("\nlessons 03–05 — computation per update (target ~100 ms)")
report([("score field: exact + learned, 10 σ levels, 30×30 (once, at build)",
         median_ms(lambda: scw.score_field_data(ring, sigmas, ncsn), 3, 1)),
        ("score field: σ slider (cached: draw only)", 0.0),
        ("Langevin: 400 particles × 400 steps (defaults)", median_ms(lambda: lw.run_langevin(unb, 0.01, 400), 5, 1)),
        ("Langevin: 400 particles × 1000 steps (slider max)", median_ms(lambda: lw.run_langevin(unb, 0.01, 1000), 3, 1)),
        ("annealed Langevin: 400 particles, 10 levels × 50 steps", median_ms(lambda: lw.run_annealed(unb, 10, 10.0, 0.01, 50), 5, 1)),
        ("2-D guidance: DDIM-50 with exact guided score, 300 particles",
         median_ms(lambda: gw.guidance_vectors(ring, {0: [0, 2, 4, 6], 1: [1, 3, 5, 7]}) and None, 1, 0)),
        ("SDE vs ODE paths: 300 particles × 200 steps (once, at build)",
         median_ms(lambda: sdw.sde_ode_paths(ring.model(de.VPSDE())), 1, 0))], target_ms=100)

print("\ncomputation + matplotlib rendering per update")
rows = [("schedule explorer: full redraw", median_ms(lambda: sw.draw_schedules("cosine", 1000, 1e-4, 0.02), 10)),
        ("forward animation: full redraw", median_ms(lambda: fw.draw_forward(x0.numpy(), 500, 0.5), 10)),
        ("score field: full redraw", median_ms(lambda: scw.draw_score_field(field, 5), 5)),
        ("Langevin frame: full redraw", median_ms(lambda: lw.draw_particles(unb, x0.numpy()[:400], "x"), 5))]
report(rows)

print("\nthe same widgets in plotly: computation + the in-place update of the figure (kernel side; what the browser")
print("then does is measured by benchmarks/browser.py)")
sched_box, fwd_box = sw.schedule_explorer(), fw.forward_animation(x0, frames=100)
score_box = scw.score_field(ring, sigmas, ncsn)
lang_box = lw.annealed_explorer(unb)
gw_box = gw.guidance_vectors(ring, {0: [0, 2, 4, 6], 1: [1, 3, 5, 7]})
gw_box.controls["gamma"].max = 20.0
moves, gammas = iter(range(10**6)), iter(range(10**6))
report([("schedule explorer: T slider", median_ms(lambda: setattr(sched_box.controls["T"], "value", 10 + 10 * (next(moves) % 150)), 20)),
        ("forward animation: frame slider", median_ms(lambda: setattr(fwd_box.controls["frame"], "value", next(moves) % 100), 20)),
        ("score field: σ slider", median_ms(lambda: setattr(score_box.controls["level"], "value", next(moves) % 10), 20)),
        ("annealed Langevin: frame slider (run cached)", median_ms(lambda: setattr(lang_box.controls["frame"], "value", next(moves) % 40), 20)),
        ("2-D guidance: a new (class, γ), DDIM-50 + arrows (never cached: γ = 8.5, 9, …)",
         median_ms(lambda: setattr(gw_box.controls["gamma"], "value", 8.5 + 0.5 * next(gammas)), 5, 0))],
       target_ms=150)

if "mnist-unet" in shipped():
    torch.manual_seed(0)
    unet = de.pretrained("mnist-unet")
    print("\nlesson 07 — CFG slider: one update regenerates the digit grid (DDIM, batched CFG), CPU")
    report([(f"10 classes × {k} digits, DDIM-{steps}, {'bf16' if bf16 else 'fp32'}",
             median_ms(lambda k=k, steps=steps, bf16=bf16: images.sample_grid(unet, 3.0, k, steps, bf16=bf16), 3, 1))
            for k, steps in ((1, 8), (2, 25), (2, 50)) for bf16 in (False, True)])
