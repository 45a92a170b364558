"""diffedu — small, readable PyTorch reference implementations for the diffusion-model lessons.

Notation follows the lecture "Introduction to diffusion models": β_t, α_t = 1 − β_t, ᾱ_t = ∏_{s≤t} α_s,
timesteps t = 1..T with t = 0 the data.
"""
from . import checkpoint, forward, losses, metrics, schedules, toy
from .config import FAST, pick
from .forward import q_posterior, q_sample, q_step
from .losses import as_eps_fn, diffusion_loss
from .models import MLPDenoiser, timestep_embedding
from .samplers import ddim_sample, ddim_timesteps, ddpm_sample
from .train import pick_device, tensor_batches, train

__version__ = "0.1.0"
__all__ = ["checkpoint", "forward", "losses", "metrics", "schedules", "toy", "FAST", "pick",
           "q_posterior", "q_sample", "q_step", "as_eps_fn", "diffusion_loss", "MLPDenoiser",
           "timestep_embedding", "ddim_sample", "ddim_timesteps", "ddpm_sample", "pick_device",
           "tensor_batches", "train"]
