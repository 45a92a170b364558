"""Samplers: plain functions ``sample(model, x, grid, ..., generator=, callback=)`` over tensors of any shape
(2-D points and images share one code path). See ``common`` for the grid and the callback's keys.

    ddpm_sample             ancestral sampling (Ho et al. 2020)                           ddpm.py
    ddim_sample, ddim_step  DDIM, any η, any grid (Song et al. 2021)                       ddim.py
      ddim_model_step       one η = 0 step of a model, each sample at its own times        ddim.py
    reverse_sde_sample      the reverse SDE, optionally predictor–corrector                continuous.py
    probability_flow_ode    the PF-ODE, Euler or Heun, either direction; euler_sample and  continuous.py
      heun_sample           heun_sample are its two methods (flow matching's names)
    consistency_sample      multistep consistency sampling (Song et al. 2023)              consistency.py
    langevin, annealed_langevin   Langevin dynamics on a score (Song & Ermon 2019)         langevin.py
"""
from .common import Recorder, check_model, grid_of
from .consistency import consistency_sample
from .continuous import euler_sample, heun_sample, heun_step, probability_flow_ode, reverse_sde_sample
from .ddim import ddim_model_step, ddim_sample, ddim_step
from .ddpm import ddpm_sample
from .langevin import annealed_langevin, langevin

__all__ = ["ddpm_sample", "ddim_sample", "ddim_step", "ddim_model_step", "Recorder", "langevin", "annealed_langevin",
           "reverse_sde_sample", "probability_flow_ode", "euler_sample", "heun_sample", "heun_step",
           "consistency_sample", "check_model", "grid_of"]
