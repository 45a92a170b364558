"""Lesson 01 — the schedule explorer: how β_t shapes ᾱ_t and the signal-to-noise ratio (plotly: the curves
update in place and can be hovered and zoomed; ``draw_schedules`` is the same figure in matplotlib)."""
from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import schedules
from ..plotting import SCHEDULE_COLORS, show, use_style
from ._plotly import MAX_WIDTH, live_plotly


def schedule_curves(kind: str, T: int, beta_start: float, beta_end: float) -> dict:
    """The numbers behind one slider move: t, β_t, ᾱ_t and log-SNR for t = 1..T (numpy, float64)."""
    if kind == "linear":
        s = schedules.linear(T, beta_start=beta_start, beta_end=beta_end)
    else:
        s = schedules.make(kind, T)
    t = np.arange(1, T + 1) / T
    return {"t": t, "beta": s.betas[1:].numpy(), "alpha_bar": s.alpha_bars[1:].numpy(),
            "log_snr": s.log_snr[1:].numpy(), "schedule": s}


def _reference(kind: str, T: int) -> dict:
    """The standard schedules other than ``kind`` at the same T (faded, for comparison)."""
    return {k: schedule_curves(k, T, 1e-4 * 1000 / T, min(0.02 * 1000 / T, 0.999))
            for k in ("linear", "cosine", "sigmoid") if k != kind}


def _thin(c: dict, n: int = 400) -> dict:
    """At most n points of each curve (a 300-pixel panel shows no more; a 2,000-step schedule sends 5× less)."""
    i = np.unique(np.linspace(0, len(c["t"]) - 1, min(n, len(c["t"]))).round().astype(int))
    return {k: (v[i] if isinstance(v, np.ndarray) else v) for k, v in c.items()}


def _title(kind: str, T: int, alpha_bar_T: float) -> str:
    return (f"{kind}, T = {T}: ᾱ_T = {alpha_bar_T:.1e}"
            + ("   ⚠ x_T still holds signal" if alpha_bar_T > 1e-2 else ""))


PANELS = ("β_t  (noise added at step t)", "ᾱ_t  (signal left in x_t)", "log SNR = log ᾱ_t/(1−ᾱ_t)")


def draw_schedules(kind: str, T: int, beta_start: float, beta_end: float, compare: bool = True):
    """The three curves as a static matplotlib figure (for print and for notebooks without widgets)."""
    use_style()
    cur = schedule_curves(kind, T, beta_start, beta_end)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.1))
    curves = [cur] + (list(_reference(kind, T).values()) if compare else [])
    for c in curves[::-1]:
        name = c["schedule"].name
        main = c is cur
        kw = dict(color=SCHEDULE_COLORS[name], lw=2.2 if main else 1.0, alpha=1 if main else 0.45,
                  label=name + ("" if main else " (default)"))
        axes[0].plot(c["t"], c["beta"], **kw)
        axes[1].plot(c["t"], c["alpha_bar"], **kw)
        axes[2].plot(c["t"], np.clip(c["log_snr"], -15, 15), **kw)
    for ax, title in zip(axes, PANELS):
        ax.set(title=title, xlabel="t / T")
    axes[0].set(yscale="log")
    axes[1].set(ylim=(-0.02, 1.02))
    axes[1].legend(loc="upper right")
    fig.suptitle(_title(kind, T, cur["alpha_bar"][-1]), fontsize=11)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.16, top=0.82, wspace=0.28)
    show(fig)


def schedule_figure() -> go.Figure:
    """An empty plotly figure with the three panels and one line per (schedule, panel), filled by ``update``."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=PANELS, horizontal_spacing=0.07)
    for name in ("linear", "cosine", "sigmoid"):
        for col in (1, 2, 3):
            fig.add_trace(go.Scatter(x=[], y=[], mode="lines", name=name, legendgroup=name, showlegend=col == 2,
                                     line=dict(color=SCHEDULE_COLORS[name])), row=1, col=col)
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_yaxes(range=[-0.02, 1.02], row=1, col=2)
    fig.update_xaxes(title_text="t / T")
    fig.update_layout(height=330, width=MAX_WIDTH, margin=dict(l=50, r=20, t=70, b=45), template="plotly_white",
                      legend=dict(orientation="h", x=0.5, xanchor="center", y=-0.25), hovermode="x unified")
    return fig


def update_schedules(fig, kind: str, T: int, beta_start: float, beta_end: float) -> None:
    """Put the chosen schedule (bold) and the other two at their defaults (faded) into ``schedule_figure``."""
    curves = {kind: schedule_curves(kind, T, beta_start, beta_end), **_reference(kind, T)}
    for i, name in enumerate(("linear", "cosine", "sigmoid")):
        c, main = _thin(curves[name]), name == kind
        for col, y in enumerate((c["beta"], c["alpha_bar"], np.clip(c["log_snr"], -15, 15))):
            tr = fig.data[3 * i + col]
            tr.x, tr.y = c["t"], y
            tr.line.width, tr.opacity = (2.6 if main else 1.2), (1.0 if main else 0.45)
            tr.name = name + ("" if main else " (default)")
    fig.layout.title.text = _title(kind, T, curves[kind]["alpha_bar"][-1])


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
    box = live_plotly(schedule_figure(), update_schedules, c, header=header, site="beta_end")
    box.controls = c
    return box
