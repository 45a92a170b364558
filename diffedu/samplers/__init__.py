"""Samplers: plain functions ``sample(model, x, grid, ..., generator=, callback=)`` over tensors of any shape
(2-D points and images share one code path). See ``_common`` for the grid and the callback's keys."""
from ._common import Recorder
from .ddim import ddim_sample, ddim_step
from .ddpm import ddpm_sample
from .langevin import annealed_langevin, langevin
from .sde import probability_flow_ode, reverse_sde_sample

__all__ = ["ddpm_sample", "ddim_sample", "ddim_step", "Recorder", "langevin", "annealed_langevin",
           "reverse_sde_sample", "probability_flow_ode"]
