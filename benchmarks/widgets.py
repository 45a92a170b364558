"""Widget update time: the computation behind one slider move (median of many), and the drawing beside it.

    .venv/bin/python benchmarks/widgets.py

Target: ≤ 50 ms of computation per update on the 2-core course machine (drawing with matplotlib's inline
backend is reported separately; it is what the student waits for in total).
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from _timing import median_ms, report  # noqa: E402

from diffedu import schedules, toy  # noqa: E402
from diffedu.widgets import forward as fw  # noqa: E402
from diffedu.widgets import schedule as sw  # noqa: E402

import diffedu.plotting as plotting  # noqa: E402

plotting.show = lambda fig: (fig.canvas.draw(), matplotlib.pyplot.close(fig))  # render, don't display
sw.show = fw.show = plotting.show

x0 = toy.ring().sample(2000, torch.Generator().manual_seed(0)).double()
eps = torch.randn_like(x0)
s = schedules.linear(1000)
compute = [
    ("schedule explorer: curves (linear, T=1000)", lambda: sw.schedule_curves("linear", 1000, 1e-4, 0.02)),
    ("schedule explorer: curves (cosine, T=2000)", lambda: sw.schedule_curves("cosine", 2000, 1e-4, 0.02)),
    ("forward animation: one frame (2000 points)", lambda: fw.forward_frame(x0, eps, s, 500)),
]
print("computation per update (target 50 ms)")
report([(n, median_ms(f, 100)) for n, f in compute], target_ms=50)

print("\ncomputation + matplotlib rendering per update")
report([("schedule explorer: full redraw", median_ms(lambda: sw.draw_schedules("cosine", 1000, 1e-4, 0.02), 10)),
        ("forward animation: full redraw", median_ms(lambda: fw.draw_forward(x0.numpy(), 500, 0.5), 10))])
