"""Measuring audio without a learned judge (lesson 14): a clip's fundamental frequency from its spectrum, its
duration from its envelope, its spectrogram, and the two shares that grade a conditional audio model.

    f0(x)        the frequency of the highest peak of |FFT(Hann · x)| over the part that sounds (zero-padded,
                 refined by a parabola through the peak's three bins). Exact for ``datasets.notes``' clips,
                 whose fundamental is always the strongest partial; within ~0.5 Hz of the true f₀.
    duration(x)  the end of the last 5 ms frame whose RMS exceeds 10 % of the loudest frame's: the 20 ms
                 release ends the note, so this lands within a frame of seconds_total.
    spectrogram  |STFT| in dB (256-sample Hann window = 32 ms, hop 64 = 8 ms): (…, 129 frequencies, frames).

A sample is *at the asked pitch* when f0 is within 50 cents (a quarter tone) of it; it *respects the asked
duration* when |duration − seconds_total| ≤ 50 ms. ``judge`` returns both shares with their standard errors.
"""
from __future__ import annotations

import math

import torch

from .datasets.notes import PITCHES, SAMPLE_RATE

FRAME = 40                       # samples: 5 ms frames for the envelope
PITCH_CENTS = 50.0               # tolerance of "at the asked pitch"
DURATION_TOLERANCE = 0.05        # s, tolerance of "respects the asked duration"


def _clips(x) -> torch.Tensor:
    """(B, N) float64 from (N,), (B, N) or (B, 1, N)."""
    if not torch.is_tensor(x) or not x.is_floating_point() or x.ndim not in (1, 2, 3) or \
            (x.ndim == 3 and x.shape[1] != 1) or x.shape[-1] < 2 * FRAME:
        got = f"shape {tuple(x.shape)} ({x.dtype})" if torch.is_tensor(x) else type(x).__name__
        raise ValueError(f"x must be a float tensor of clips (N,), (B, N) or (B, 1, N) with N ≥ {2 * FRAME}, got {got}")
    if not torch.isfinite(x).all():
        raise ValueError("x contains NaN or infinite values")
    return x.detach().to("cpu", torch.float64).reshape(-1, x.shape[-1])


def frame_rms(x) -> torch.Tensor:
    """RMS of consecutive 5 ms frames: (B, N // 40)."""
    x = _clips(x)
    n = x.shape[-1] // FRAME * FRAME
    return x[:, :n].reshape(x.shape[0], -1, FRAME).pow(2).mean(-1).sqrt()


def duration(x, threshold: float = 0.1) -> torch.Tensor:
    """Seconds until the envelope last exceeds ``threshold`` × its maximum: (B,). A silent clip gets 0."""
    rms = frame_rms(x)
    loud = rms > threshold * rms.amax(-1, keepdim=True).clamp(min=1e-12)
    loud &= rms > 1e-6
    idx = torch.arange(1, rms.shape[-1] + 1, dtype=torch.float64)
    return (loud * idx).amax(-1) * FRAME / SAMPLE_RATE


def f0(x, seconds=None, sample_rate: int = SAMPLE_RATE, fmin: float = 100.0, fmax: float = 1000.0) -> torch.Tensor:
    """The fundamental frequency in Hz (B,): the highest spectral peak in [fmin, fmax] of the part that sounds
    (the first ``seconds`` of each clip, default its measured ``duration``)."""
    x = _clips(x)
    B, N = x.shape
    secs = duration(x) if seconds is None else torch.as_tensor(seconds, dtype=torch.float64).expand(B)
    nfft = 1 << 15
    out = torch.empty(B, dtype=torch.float64)
    for i in range(B):
        n = max(2 * FRAME, min(N, int(round(float(secs[i]) * sample_rate))))
        seg = x[i, :n] * torch.hann_window(n, periodic=False, dtype=torch.float64)
        mag = torch.fft.rfft(seg, nfft).abs()
        lo, hi = int(fmin * nfft / sample_rate), int(fmax * nfft / sample_rate)
        k = lo + int(mag[lo:hi].argmax())
        a, b, c = (math.log(float(mag[j]) + 1e-30) for j in (k - 1, k, k + 1))
        shift = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) != 0 else 0.0
        out[i] = (k + shift) * sample_rate / nfft
    return out


def cents(f, ref) -> torch.Tensor:
    """1200 log₂(f / ref): the distance between two frequencies in cents (100 cents = one semitone)."""
    return 1200 * torch.log2(torch.as_tensor(f, dtype=torch.float64) / torch.as_tensor(ref, dtype=torch.float64))


def nearest_pitch(f) -> torch.Tensor:
    """The index of the scale's pitch nearest to f in cents."""
    ref = torch.tensor(PITCHES, dtype=torch.float64)
    return cents(torch.as_tensor(f, dtype=torch.float64)[..., None], ref).abs().argmin(-1)


def spectrogram(x, n_fft: int = 256, hop: int = 64, floor_db: float = -80.0) -> torch.Tensor:
    """|STFT(x)| in dB relative to 1, floored at ``floor_db``: (B, n_fft/2 + 1, frames)."""
    x = _clips(x)
    s = torch.stft(x, n_fft, hop, window=torch.hann_window(n_fft, dtype=torch.float64), return_complex=True,
                   center=True).abs()
    return (20 * torch.log10(s.clamp(min=1e-12))).clamp(min=floor_db).float()


def share(ok: torch.Tensor) -> tuple[float, float]:
    """(p, its standard error √(p(1 − p)/n)) of a boolean tensor."""
    n = ok.numel()
    p = float(ok.double().mean())
    return p, math.sqrt(max(p * (1 - p), 0.0) / n)


def judge(x, pitch, seconds_total) -> dict:
    """Both measurements for samples x (B, 1, N) asked for ``pitch`` (indices, (B,)) and ``seconds_total`` (B,):
    the shares at the asked pitch and at the asked duration, with standard errors, and the raw f0 and durations."""
    x = _clips(x)
    pitch = torch.as_tensor(pitch).reshape(-1).expand(x.shape[0])
    asked = torch.as_tensor(seconds_total, dtype=torch.float64).reshape(-1).expand(x.shape[0])
    d = duration(x)
    f = f0(x, torch.where(d > 0, d, asked))
    target = torch.tensor(PITCHES, dtype=torch.float64)[pitch]
    pitch_ok = cents(f, target).abs() < PITCH_CENTS
    dur_ok = (d - asked).abs() <= DURATION_TOLERANCE
    (p, p_se), (q, q_se) = share(pitch_ok), share(dur_ok)
    return dict(n=x.shape[0], pitch=p, pitch_se=p_se, duration=q, duration_se=q_se, f0=f, seconds=d,
                pitch_ok=pitch_ok, duration_ok=dur_ok)


def padding_mask(seconds_total, n_samples: int, sample_rate: int = SAMPLE_RATE) -> torch.Tensor:
    """(B, n_samples) bool: True at the samples that sound, n < seconds_total · sample_rate (rounded to a sample),
    False at the padding — the silence after seconds_total that Stable Audio's model learns to produce."""
    from ._checks import check_int

    n_samples = check_int("n_samples", n_samples, low=1)
    sample_rate = check_int("sample_rate", sample_rate, low=1)
    s = torch.as_tensor(seconds_total, dtype=torch.float64).reshape(-1)
    if not torch.isfinite(s).all() or (s < 0).any():
        raise ValueError(f"seconds_total must hold finite seconds ≥ 0, got {s.tolist()}")
    return torch.arange(n_samples, device=s.device)[None] < torch.round(s * sample_rate)[:, None]
