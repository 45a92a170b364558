"""Lesson 01 — the schedule explorer: how β_t shapes ᾱ_t and the signal-to-noise ratio."""
from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np

from .. import schedules
from ..plotting import SCHEDULE_COLORS, show, use_style
from ._base import live


def schedule_curves(kind: str, T: int, beta_start: float, beta_end: float) -> dict:
    """The numbers behind one slider move: t, β_t, ᾱ_t and log-SNR for t = 1..T (numpy, float64)."""
    if kind == "linear":
        s = schedules.linear(T, beta_start=beta_start, beta_end=beta_end)
    else:
        s = schedules.make(kind, T)
    t = np.arange(1, T + 1) / T
    return {"t": t, "beta": s.betas[1:].numpy(), "alpha_bar": s.alpha_bars[1:].numpy(),
            "log_snr": s.log_snr[1:].numpy(), "schedule": s}


def draw_schedules(kind: str, T: int, beta_start: float, beta_end: float, compare: bool = True):
    use_style()
    cur = schedule_curves(kind, T, beta_start, beta_end)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.1))
    curves = [cur]
    if compare:  # the other standard schedules at the same T, faded, for reference
        curves += [schedule_curves(k, T, 1e-4 * 1000 / T, min(0.02 * 1000 / T, 0.999))
                   for k in ("linear", "cosine", "sigmoid") if k != kind]
    for c in curves[::-1]:
        name = c["schedule"].name
        main = c is cur
        kw = dict(color=SCHEDULE_COLORS[name], lw=2.2 if main else 1.0, alpha=1 if main else 0.45,
                  label=name + ("" if main else " (default)"))
        axes[0].plot(c["t"], c["beta"], **kw)
        axes[1].plot(c["t"], c["alpha_bar"], **kw)
        axes[2].plot(c["t"], np.clip(c["log_snr"], -15, 15), **kw)
    axes[0].set(title="β_t  (noise added at step t)", xlabel="t / T", yscale="log")
    axes[1].set(title="ᾱ_t  (signal left in x_t)", xlabel="t / T", ylim=(-0.02, 1.02))
    axes[2].set(title="log SNR = log ᾱ_t/(1−ᾱ_t)", xlabel="t / T")
    axes[1].legend(loc="upper right")
    ab_T = cur["alpha_bar"][-1]
    fig.suptitle(f"{kind}, T = {T}: ᾱ_T = {ab_T:.1e}" + ("   ⚠ x_T still holds signal" if ab_T > 1e-2 else ""),
                 fontsize=11)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.16, top=0.82, wspace=0.28)
    show(fig)


def schedule_explorer(kind: str = "linear", T: int = 1000):
    """Sliders for the schedule type, T, β_1 and β_T (the last two shape the linear schedule)."""
    c = dict(
        kind=W.Dropdown(options=["linear", "cosine", "sigmoid"], value=kind, description="schedule"),
        T=W.IntSlider(value=T, min=10, max=2000, step=10, description="T", continuous_update=False),
        beta_start=W.FloatLogSlider(value=1e-4, base=10, min=-5, max=-1, step=0.1, description="β₁",
                                    continuous_update=False),
        beta_end=W.FloatSlider(value=0.02, min=0.001, max=0.2, step=0.001, description="β_T",
                               readout_format=".3f", continuous_update=False),
    )

    def toggle(change=None):
        linear = c["kind"].value == "linear"
        c["beta_start"].disabled = c["beta_end"].disabled = not linear

    c["kind"].observe(toggle, "value")
    toggle()
    header = W.HBox([W.VBox([c["kind"], c["T"]]), W.VBox([c["beta_start"], c["beta_end"]])])
    box = live(draw_schedules, c, header=header)
    box.controls = c
    return box
