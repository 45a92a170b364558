"""Synthetic notes: lesson 14's audio data set, generated here and fully described (nothing to download).

A clip is ``CLIP_SECONDS`` = 1 s of mono audio at ``SAMPLE_RATE`` = 8 kHz: one note (or a phrase of 2–4
notes) that sounds for ``seconds_total`` seconds, then silence up to 1 s — the padding of Stable Audio
(Evans et al. 2024, "Fast Timing-Conditioned Latent Audio Diffusion"), whose model is told
``seconds_total`` and learns to fall silent after it. One note of pitch f₀, timbre k:

    x(n) = a · env_k(n / sr) · Σ_h  r_h c_{k,h} sin(2π h f₀ n / sr + h φ) / Σ_h c_{k,h}

    f₀      one of ``PITCHES``: the C-major scale C4 … C5 (8 pitches of one octave, equal temperament, A4 = 440 Hz)
    c_{k,h} the timbre's harmonic amplitudes (``TIMBRES``); the fundamental (h = 1) is always the strongest,
            so the spectrum's highest peak *is* f₀ (``diffedu.audio.f0``), and the highest harmonic stays
            below the Nyquist frequency 4 kHz
    env_k   the timbre's envelope: a linear attack, a decay to a sustain level, and a 20 ms linear release that
            ends exactly at the note's end (zero afterwards)
    random  per clip: the loudness a ~ U(0.6, 0.95) (the peak; clips stay in [−1, 1]), each harmonic's weight
            r_h ~ U(0.8, 1.2), and the phase φ ~ U(0, 2π) (harmonic h at phase hφ: the waveform's shape, shifted
            by less than one period)

Labels: the pitch index (or sequence), the timbre index and ``seconds_total`` ∈ ``DURATIONS``. The diffusion
model takes one integer per clip (``label``): pitch + P·(timbre + K·duration index), P = 8, K = 3, so the
library's class-label contract (``model.given(label, w)``) carries all three.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .._checks import check_int

SAMPLE_RATE = 8000
CLIP_SECONDS = 1.0
CLIP_SAMPLES = int(SAMPLE_RATE * CLIP_SECONDS)
PITCH_NAMES = ("C4", "D4", "E4", "F4", "G4", "A4", "B4", "C5")
MIDI = (60, 62, 64, 65, 67, 69, 71, 72)
PITCHES = tuple(440.0 * 2 ** ((m - 69) / 12) for m in MIDI)       # Hz: 261.6 … 523.3
DURATIONS = (0.25, 0.5, 0.75, 1.0)                                 # seconds_total, seconds
RELEASE = 0.02                                                    # s: the release ramp ending at the note's end
# timbre: harmonic amplitudes c_h (h = 1, 2, …), attack (s), decay time constant (s), sustain level
TIMBRES = {
    "flute": dict(harmonics=(1.0, 0.3, 0.08), attack=0.06, decay=0.1, sustain=0.9),
    "clarinet": dict(harmonics=(1.0, 0.0, 0.55, 0.0, 0.3, 0.0, 0.15), attack=0.015, decay=0.1, sustain=0.85),
    "string": dict(harmonics=(1.0, 0.5, 0.33, 0.25, 0.2, 0.16), attack=0.004, decay=0.06, sustain=0.55),
}
TIMBRE_NAMES = tuple(TIMBRES)
NUM_CLASSES = len(PITCHES) * len(TIMBRES) * len(DURATIONS)         # 96


def _duration_index(seconds) -> int:
    for i, d in enumerate(DURATIONS):
        if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and abs(seconds - d) < 1e-9:
            return i
    raise ValueError(f"seconds_total must be one of {DURATIONS}, got {seconds!r}")


def _pitch_index(pitch) -> int:
    if isinstance(pitch, str):
        if pitch not in PITCH_NAMES:
            raise ValueError(f"pitch must be one of {PITCH_NAMES} or an index in [0, {len(PITCHES) - 1}], got {pitch!r}")
        return PITCH_NAMES.index(pitch)
    return check_int("pitch", pitch, low=0, high=len(PITCHES) - 1)


def _timbre_index(timbre) -> int:
    if isinstance(timbre, str):
        if timbre not in TIMBRES:
            raise ValueError(f"timbre must be one of {TIMBRE_NAMES} or an index in [0, {len(TIMBRES) - 1}], got "
                             f"{timbre!r}")
        return TIMBRE_NAMES.index(timbre)
    return check_int("timbre", timbre, low=0, high=len(TIMBRES) - 1)


def label(pitch, timbre, seconds_total) -> int:
    """The one integer the model is conditioned on: pitch + P·(timbre + K·duration index), in [0, 96).
    pitch and timbre: an index or a name ("A4", "clarinet"); seconds_total one of ``DURATIONS``."""
    p, k, d = _pitch_index(pitch), _timbre_index(timbre), _duration_index(seconds_total)
    return p + len(PITCHES) * (k + len(TIMBRES) * d)


def labels(pitch, timbre, seconds_total) -> torch.Tensor:
    """``label`` for tensors / lists of equal length (or scalars broadcast): (B,) int64."""
    cols = [v if isinstance(v, (list, tuple)) else (v.tolist() if torch.is_tensor(v) and v.ndim else [v])
            for v in (pitch, timbre, seconds_total)]
    n = max(len(c) for c in cols)
    if any(len(c) not in (1, n) for c in cols):
        raise ValueError(f"pitch, timbre and seconds_total must have one value or {n} values each, got lengths "
                         f"{[len(c) for c in cols]}")
    cols = [c * n if len(c) == 1 else c for c in cols]
    return torch.tensor([label(p, k, float(d)) for p, k, d in zip(*cols)], dtype=torch.long)


def split_label(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(pitch index, timbre index, seconds_total) from labels ``y`` (B,): the inverse of ``labels``."""
    y = torch.as_tensor(y)
    if y.is_floating_point() or y.dtype == torch.bool or (y.numel() and (y.min() < 0 or y.max() >= NUM_CLASSES)):
        raise ValueError(f"y must hold integer labels in [0, {NUM_CLASSES - 1}]")
    P, K = len(PITCHES), len(TIMBRES)
    durations = torch.tensor(DURATIONS, dtype=torch.float32, device=y.device)
    return y % P, (y // P) % K, durations[y // (P * K)]


def _table(key: str) -> torch.Tensor:
    if key == "harmonics":
        H = max(len(v["harmonics"]) for v in TIMBRES.values())
        return torch.tensor([list(v["harmonics"]) + [0.0] * (H - len(v["harmonics"])) for v in TIMBRES.values()],
                            dtype=torch.float64)
    return torch.tensor([v[key] for v in TIMBRES.values()], dtype=torch.float64)


def envelope(timbre, seconds, n: int = CLIP_SAMPLES, sample_rate: int = SAMPLE_RATE) -> torch.Tensor:
    """env(n / sr) of one note lasting ``seconds`` (a number, or (B,) with ``timbre`` (B,) indices): a linear
    attack, a decay to the sustain level, a release ending at ``seconds``; 0 from then on. (n,) or (B, n) float64."""
    scalar = not torch.is_tensor(timbre)
    k = torch.tensor([_timbre_index(timbre)]) if scalar else timbre.long()
    secs = torch.as_tensor(seconds, dtype=torch.float64).reshape(-1, 1).expand(k.shape[0], 1)
    attack, decay, sustain = (_table(key)[k][:, None] for key in ("attack", "decay", "sustain"))
    t = torch.arange(n, dtype=torch.float64)[None] / sample_rate
    rise = torch.clamp(t / attack, max=1.0)
    fall = sustain + (1 - sustain) * torch.exp(-torch.clamp(t - attack, min=0) / decay)
    release = torch.clamp((secs - t) / RELEASE, min=0.0, max=1.0)
    env = rise * fall * release
    return env[0] if scalar else env


def synthesize(pitch: torch.Tensor, timbre: torch.Tensor, seconds_total: torch.Tensor,
               generator: torch.Generator | None = None, n: int = CLIP_SAMPLES) -> torch.Tensor:
    """Clips (B, n) float32 from pitch indices (B, L) (−1 pads a phrase shorter than L), timbre indices (B,) and
    seconds_total (B,): the notes share seconds_total equally. Random loudness, weights and phases."""
    g, B, L = generator, pitch.shape[0], pitch.shape[1]
    u = lambda *shape: torch.rand(shape, generator=g, dtype=torch.float64)  # noqa: E731
    c = _table("harmonics")[timbre]                                  # (B, H)
    h = torch.arange(1, c.shape[1] + 1, dtype=torch.float64)
    amp = 0.6 + 0.35 * u(B, 1)
    count = (pitch >= 0).sum(1).clamp(min=1)
    step = seconds_total.double() / count                            # (B,) seconds per note
    t = torch.arange(n, dtype=torch.float64)[None] / SAMPLE_RATE
    f = torch.tensor(PITCHES, dtype=torch.float64)
    out = torch.zeros(B, n, dtype=torch.float64)
    for j in range(L):
        weights = c * (0.8 + 0.4 * u(B, c.shape[1]))
        weights[:, 0] = c[:, 0]                                      # the fundamental keeps the strongest weight
        phase = 2 * math.pi * u(B, 1)
        on = pitch[:, j] >= 0
        start = torch.round(j * step * SAMPLE_RATE) / SAMPLE_RATE    # (B,) the note's onset, on a sample
        tt = (t - start[:, None]).clamp(min=0)
        f0 = f[pitch[:, j].clamp(min=0)][:, None]
        tone = sum(weights[:, i:i + 1] * torch.sin(2 * math.pi * h[i] * f0 * tt + h[i] * phase)
                   for i in range(c.shape[1]))
        env = envelope(timbre, step, n)                              # (B, n) of a note starting at 0 …
        shifted = torch.zeros_like(env)
        for b in torch.nonzero(on).flatten().tolist():               # … moved to its onset
            s = int(round(float(start[b]) * SAMPLE_RATE))
            shifted[b, s:] = env[b, :n - s]
        out += tone * shifted / c.sum(1, keepdim=True)
    return (amp * out).float()


def render(pitches, timbre, seconds_total, generator: torch.Generator | None = None,
           n: int = CLIP_SAMPLES) -> torch.Tensor:
    """One clip (n,) float32: the notes ``pitches`` (indices or names; 1–4 of them, each lasting
    seconds_total / len(pitches)) in ``timbre``, silent after ``seconds_total``. Random loudness, harmonic
    weights and phase from ``generator``."""
    pitches = [pitches] if isinstance(pitches, (int, str)) or torch.is_tensor(pitches) and pitches.ndim == 0 \
        else list(pitches)
    if not 1 <= len(pitches) <= 4:
        raise ValueError(f"pitches must hold 1 to 4 notes, got {len(pitches)}")
    idx = [_pitch_index(int(p) if torch.is_tensor(p) else p) for p in pitches]
    k = _timbre_index(timbre)
    if isinstance(seconds_total, bool) or not isinstance(seconds_total, (int, float)) or \
            not 0 < seconds_total <= n / SAMPLE_RATE:
        raise ValueError(f"seconds_total must be a number in (0, {n / SAMPLE_RATE}], got {seconds_total!r}")
    return synthesize(torch.tensor([idx]), torch.tensor([k]), torch.tensor([float(seconds_total)]), generator, n)[0]


@dataclass
class Notes:
    """A generated data set: ``x`` (N, 1, 8000) clips and their labels."""
    x: torch.Tensor
    pitch: torch.Tensor          # (N,) pitch index (single notes) or (N, L) sequences padded with −1
    timbre: torch.Tensor         # (N,)
    seconds_total: torch.Tensor  # (N,) float
    y: torch.Tensor | None       # (N,) the model's label (single notes only)


def dataset(n: int, seed: int = 0, notes_per_clip=(1,)) -> Notes:
    """``n`` clips with labels drawn uniformly (pitch, timbre, duration; the number of notes from
    ``notes_per_clip``), reproducible from ``seed``. The recipe trains on single notes (the default)."""
    n = check_int("n", n, low=1)
    choices = tuple(notes_per_clip) if isinstance(notes_per_clip, (list, tuple)) else (notes_per_clip,)
    if not choices or any(isinstance(c, bool) or not isinstance(c, int) or not 1 <= c <= 4 for c in choices):
        raise ValueError(f"notes_per_clip must list numbers of notes in [1, 4], got {notes_per_clip!r}")
    g = torch.Generator().manual_seed(check_int("seed", seed))
    P, K, D, L = len(PITCHES), len(TIMBRES), len(DURATIONS), max(choices)
    pitch = torch.full((n, L), -1, dtype=torch.long)
    timbre = torch.randint(0, K, (n,), generator=g)
    dur = torch.randint(0, D, (n,), generator=g)
    count = torch.tensor(choices)[torch.randint(0, len(choices), (n,), generator=g)]
    for i in range(n):
        pitch[i, :int(count[i])] = torch.randint(0, P, (int(count[i]),), generator=g)
    seconds = torch.tensor(DURATIONS)[dur]
    x = torch.cat([synthesize(pitch[i:i + 1000], timbre[i:i + 1000], seconds[i:i + 1000], g)
                   for i in range(0, n, 1000)])[:, None]
    if L == 1:
        pitch = pitch[:, 0]
        y = pitch + P * (timbre + K * dur)
    else:
        y = None
    return Notes(x, pitch, timbre, seconds, y)
