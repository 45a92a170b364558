"""Interactive figures for the lessons.

The 2-D widgets (lessons 00–05, 07's guidance vectors, 13) are plotly figures updated in place
(``_plotly.live_plotly``: a move sends only the numbers that changed; hover, zoom, rotate); the image grids are
matplotlib redrawn into an Output (``_base.live``). Both patterns: controls → a computation (cached where it is
expensive) → the figure.
"""
from .cifar import attention_explorer, cfg_compare
from .digits import cfg_explorer, digit_forward
from .families import families_training
from .flow import flow_paths
from .forward import density_surface, forward_animation, trajectory_player
from .guidance2d import guidance_vectors
from .langevin import annealed_explorer, langevin_explorer
from .latent import augmentation_explorer, latent_map
from .schedule import schedule_explorer
from .score import score_field
from .sde import sde_vs_ode
from .text import prompt_box
from .adapt import lora_mixer
from .audio import note_sampler, spectrogram_forward
from .video import clip_forward, clip_player

__all__ = ["schedule_explorer", "forward_animation", "density_surface", "trajectory_player", "score_field", "langevin_explorer",
           "annealed_explorer", "sde_vs_ode", "digit_forward", "cfg_explorer", "guidance_vectors",
           "cfg_compare", "attention_explorer", "flow_paths", "augmentation_explorer", "latent_map", "prompt_box", "lora_mixer",
           "note_sampler", "spectrogram_forward", "clip_player", "clip_forward"]
