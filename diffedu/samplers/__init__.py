"""Samplers: plain functions over tensors of any shape (2-D points and images share one code path)."""
from .ddim import ddim_sample, ddim_timesteps
from .ddpm import ddpm_sample
from ._common import Recorder

__all__ = ["ddpm_sample", "ddim_sample", "ddim_timesteps", "Recorder"]
