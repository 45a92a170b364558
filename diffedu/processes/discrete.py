"""The lecture's discrete-time DDPM process on steps t = 0..T of a noise schedule (Ho et al. 2020)."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .. import schedules
from .._checks import check_int
from .base import Process

@dataclass(frozen=True, eq=False)
class DiscreteVP(Process):
    """The lecture's DDPM process on steps t = 0..T of a ``schedules`` schedule: α_t = √ᾱ_t, σ_t = √(1 − ᾱ_t)."""

    schedule: str = "linear"
    T: int = 1000
    params: dict = field(default_factory=dict)
    discrete = True

    def __post_init__(self):
        check_int("T", self.T, low=1)
        object.__setattr__(self, "_sched", schedules.make(self.schedule, self.T, **self.params))

    @classmethod
    def of(cls, sched: schedules.Schedule) -> "DiscreteVP":
        """The process of an existing named schedule."""
        if sched.name not in schedules.SCHEDULES:
            raise ValueError(f"only named schedules {sorted(schedules.SCHEDULES)} can be stored, got {sched.name!r}")
        return cls(sched.name, sched.T, dict(sched.params))

    @property
    def sched(self) -> schedules.Schedule:
        return self._sched

    @property
    def t_max(self) -> int:
        return self.T

    @property
    def t_domain(self) -> int:
        return self.T

    t_clean = 0

    def alpha_sigma(self, t):
        t = torch.as_tensor(t)
        if t.is_floating_point() and not torch.equal(t, t.round()):
            raise ValueError(f"t must be an integer step in [0, {self.T}], got {t.tolist()}")
        t = t.long()
        if t.numel() and (t.min() < 0 or t.max() > self.T):
            raise ValueError(f"t must be in [0, {self.T}], got values in [{int(t.min())}, {int(t.max())}]")
        ab = self._sched.alpha_bars[t.cpu()]
        return torch.sqrt(ab).to(t.device), torch.sqrt(1 - ab).to(t.device)

    def grid(self, steps: int) -> torch.Tensor:
        """``steps`` evenly spaced steps from T down ("trailing": T, T − T/steps, …), then 0 (int64).

        Starting at T matters: a grid that never visits T starts from noise the network never saw
        (Lin et al. 2024)."""
        steps = check_int("steps", steps, low=1, high=self.T)
        return torch.linspace(self.T, 0, steps + 1, dtype=torch.float64).round().long()

    def spec(self) -> dict:
        return {"kind": "DiscreteVP", "schedule": self.schedule, "T": self.T, "params": dict(self.params)}
