"""diffedu — small, readable PyTorch reference implementations for the diffusion-model lessons.

Notation follows the lecture "Introduction to diffusion models": β_t, α_t = 1 − β_t, ᾱ_t = ∏_{s≤t} α_s,
timesteps t = 1..T with t = 0 the data. The layers, from the bottom:

    schedules, processes     the forward process x_t = α_t x_0 + σ_t ε (discrete DDPM steps, VP/VE SDEs, flows)
    model                    a network + its process + what it predicts → ε̂, x̂_0, score, v, velocity;
                             model.given(labels or prompts, w): conditioning and classifier-free guidance
    guidance, images         classifier and CLIP guidance; sample_images: images for given labels or prompts
    samplers                 plain functions sample(model, x, grid, generator=, callback=)
    checkpoint, pretrained   one safetensors file carries all of it; pretrained(NAME) is ready to sample
    losses, train, recipes   how the networks are trained (recipes: how every shipped one was)
    fewstep                  few-step sampling: progressive distillation, consistency models,
                             flow matching / rectified flow (their samplers live in ``samplers``)
    latent, cascade          scaling up resolution: latent diffusion (an autoencoder carried by the model) and
                             cascades (a base model, super-resolution with conditioning augmentation)
    text, adapt              prompts (captions, a tokenizer, a small CLIP, prompt agreement) and teaching a trained
                             text model a new concept (textual inversion, DreamBooth, LoRA)
"""
from . import checkpoint, forward, losses, metrics, processes, schedules, toy
from . import cascade, fewstep, latent
from .config import FAST, pick
from .fewstep import (ConsistencyModel, consistency_distillation_loss, distill_loss, distill_round, distill_target,
                      ema_update, flow_matching_loss, guided_target, reflow_loss, reflow_pairs, straightness)
from .forward import q_posterior, q_sample, q_step
from .images import sample_images
from .latent import LatentDiffusionModel
from .losses import diffusion_loss
from .model import DiffusionModel, FunctionModel, Model
from .models import MLPDenoiser, ScoreMLP, timestep_embedding
from .pretrained import pretrained, shipped
from .processes import VE, VESDE, VPSDE, CosineVP, DiscreteVP, Linear
from .samplers import (Recorder, annealed_langevin, consistency_sample, ddim_sample, ddpm_sample, euler_sample,
                       heun_sample, langevin, probability_flow_ode, reverse_sde_sample)
from .train import pick_device, tensor_batches, train
from ._version import __version__
from ._memory import release_after_cells

release_after_cells()   # in IPython (a lesson's kernel): freed memory back to the system after each cell; DIFFEDU_TRIM=0: off

__all__ = ["checkpoint", "forward", "losses", "metrics", "processes", "schedules", "toy", "FAST", "pick",
           "q_posterior", "q_sample", "q_step", "diffusion_loss", "DiffusionModel", "FunctionModel", "Model",
           "MLPDenoiser", "ScoreMLP", "timestep_embedding", "pretrained", "shipped", "DiscreteVP", "VPSDE", "CosineVP",
           "VESDE", "VE", "Linear", "Recorder", "ddpm_sample", "ddim_sample", "langevin", "annealed_langevin",
           "reverse_sde_sample", "probability_flow_ode", "pick_device", "tensor_batches", "train",
           "cascade", "fewstep", "latent", "ConsistencyModel", "consistency_distillation_loss", "consistency_sample",
           "ema_update", "distill_loss", "distill_round", "distill_target", "guided_target", "euler_sample",
           "flow_matching_loss", "heun_sample", "reflow_loss", "reflow_pairs", "straightness", "sample_images", "LatentDiffusionModel"]
