"""Lesson 14 — audio: hear and see a generated note (pitch, timbre, duration, w → a player, the waveform and the
spectrogram side by side), and the forward process on a spectrogram (a t slider).

The player is an ``ipywidgets.Audio`` whose WAV bytes (encoded by ``IPython.display.Audio``) are replaced when a
control moves, so it updates in place in JupyterLab, Notebook 7 and on Binder.
"""
from __future__ import annotations

from functools import lru_cache

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Audio

from .. import audio
from ..datasets import notes
from ..plotting import DATA, show, use_style
from ..samplers import ddim_sample
from ._base import live


def wav_bytes(x: torch.Tensor, rate: int = notes.SAMPLE_RATE) -> bytes:
    """A clip (N,) as WAV bytes, unnormalised (clipped to [−1, 1]): loud samples sound loud, silence is silence."""
    data = x.detach().reshape(-1).clamp(-1, 1).to("cpu", torch.float64).numpy()
    return Audio(data, rate=rate, normalize=False).data


def player(x: torch.Tensor | None = None, rate: int = notes.SAMPLE_RATE) -> W.Audio:
    """An audio player widget, holding ``x`` if given."""
    p = W.Audio(format="wav", autoplay=False, loop=False, controls=True)
    if x is not None:
        p.value = wav_bytes(x, rate)
    return p


def draw_clip(x: torch.Tensor, title: str, t_max: float = notes.CLIP_SECONDS, vmin: float = -80.0):
    """The waveform and its spectrogram (``audio.spectrogram``, dB) side by side."""
    use_style()
    x = x.detach().reshape(-1).float().cpu()
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.0))
    t = np.arange(len(x)) / notes.SAMPLE_RATE
    a.plot(t, x.numpy(), color=DATA, lw=0.4)
    a.set(xlim=(0, t_max), ylim=(-1.6, 1.6), xlabel="seconds", title="waveform")
    spec = audio.spectrogram(x)[0].numpy()
    b.imshow(spec, origin="lower", aspect="auto", cmap="magma", vmin=vmin, vmax=0,
             extent=(0, len(x) / notes.SAMPLE_RATE, 0, notes.SAMPLE_RATE / 2))
    b.set(ylim=(0, 4000), xlabel="seconds", ylabel="Hz", title="spectrogram (dB)")
    fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.17, top=0.82, wspace=0.22)
    show(fig)


def generate(model, pitch, timbre, seconds, w: float = 3.0, steps: int = 25, seed: int = 0, n: int = 1):
    """``n`` clips (n, 1, 8000) of one label by DDIM-``steps`` on ``model.given(label, w)`` from fixed noise."""
    y = notes.labels(pitch, timbre, seconds).expand(n)
    x = torch.randn(n, 1, notes.CLIP_SAMPLES, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return ddim_sample(model.given(y, w), x.to(model.device), steps, clip_x0=1.0).cpu()


def note_sampler(model, steps: int = 25, seed: int = 0, w_max: float = 6.0):
    """Pick a pitch, a timbre, a duration (seconds_total) and w: one sample, heard and seen, with its measured
    f0 and duration. Samples are cached, so a control moved back answers at once."""
    @lru_cache(maxsize=64)
    def compute(pitch, timbre, seconds, w):
        x = generate(model, pitch, timbre, seconds, w, steps, seed)[0]
        r = audio.judge(x[None], notes.PITCH_NAMES.index(pitch), seconds)
        return x, r

    c = dict(pitch=W.Dropdown(options=list(notes.PITCH_NAMES), value="A4", description="pitch"),
             timbre=W.Dropdown(options=list(notes.TIMBRE_NAMES), value="clarinet", description="timbre"),
             seconds=W.SelectionSlider(options=list(notes.DURATIONS), value=0.5, description="seconds_total",
                                       continuous_update=False),
             w=W.FloatSlider(value=3.0, min=0.0, max=w_max, step=0.5, description="w", continuous_update=False))
    out_player = player()

    def draw(pitch, timbre, seconds, w):
        x, r = compute(pitch, timbre, seconds, float(w))
        out_player.value = wav_bytes(x)
        f, d = float(r["f0"][0]), float(r["seconds"][0])
        heard = notes.PITCH_NAMES[int(audio.nearest_pitch(f))]
        draw_clip(x, f"asked {pitch} ({notes.PITCHES[notes.PITCH_NAMES.index(pitch)]:.1f} Hz), {timbre}, "
                     f"{seconds:g} s, w = {w:g}   ·   measured f0 {f:.1f} Hz ({heard}"
                     f"{'' if r['pitch_ok'][0] else ', off'}), duration {d:.3f} s"
                     f"{'' if r['duration_ok'][0] else ' (off)'}")

    header = W.VBox([W.HBox([c["pitch"], c["timbre"]]), W.HBox([c["seconds"], c["w"]]), out_player])
    box = live(draw, c, header=header, busy_text="sampling…", site="w")
    box.controls, box.compute, box.player = c, compute, out_player
    return box


def spectrogram_forward(x0: torch.Tensor, process, seed: int = 0, title: str = ""):
    """x_t = α_t x₀ + σ_t ε for one clip as t slides (``process.q_sample``, the same ε throughout): the waveform
    and the spectrogram drown in white noise, whose spectrum is flat, high frequencies and silence first."""
    x0 = x0.detach().reshape(1, 1, -1).double()
    eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    T = int(getattr(process, "T", 1000))
    out_player = player(x0)

    def draw(t):
        xt = x0 if t == 0 else process.q_sample(x0, torch.tensor([t]), eps)
        a, s = (float(v) for v in process.alpha_sigma(torch.tensor([t]))) if t else (1.0, 0.0)
        out_player.value = wav_bytes(xt[0, 0] / max(1.0, float(xt.abs().max())))
        draw_clip(xt[0, 0], f"{title}  x_t at t = {t}:  α_t = {a:.3f}, σ_t = {s:.3f}, "
                            f"SNR = {a * a / max(s * s, 1e-12):.3g}", vmin=-60.0)

    slider = W.IntSlider(value=T // 4, min=0, max=T, step=T // 50, description="t", continuous_update=False)
    box = live(draw, {"t": slider}, header=W.VBox([slider, out_player]))
    box.controls, box.player = {"t": slider}, out_player
    return box
