"""Exercise checkers: ``check_xxx(my_function)`` says whether it matches the reference and, if not, why."""
from ._check import CheckResult, run_check
from .forward import check_ddpm_step_mean, check_posterior, check_q_sample, check_timestep_embedding
from .distill import check_consistency_boundary, check_distill_target, check_guided_target
from .dit import check_adaln, check_patchify, check_unpatchify
from .families import check_coupling, check_generator_loss, check_reparameterize, check_vae_kl
from .flow import check_euler_step, check_flow_target, check_reflow_pairs
from .guidance import check_cfg
from .latent import check_augment, check_scale_factor
from .text import check_clip_guidance_grad, check_cross_attention, check_info_nce
from .adapt import check_inversion_loss, check_lora_forward, check_prior_preservation
from .unet import check_level_shapes, check_resblock
from .score import check_dsm_target, check_langevin_step, check_pf_ode_drift, check_score_from_eps
from .audio import check_padding_mask, check_timing_features
from .video import check_patchify3d, check_unpatchify3d

__all__ = ["CheckResult", "run_check", "check_q_sample", "check_posterior", "check_ddpm_step_mean",
           "check_timestep_embedding", "check_dsm_target", "check_langevin_step", "check_score_from_eps",
           "check_pf_ode_drift", "check_cfg", "check_resblock", "check_level_shapes", "check_patchify", "check_unpatchify",
           "check_adaln", "check_reparameterize", "check_vae_kl", "check_coupling", "check_generator_loss",
           "check_flow_target", "check_euler_step", "check_scale_factor", "check_augment",
           "check_cross_attention", "check_info_nce", "check_lora_forward", "check_prior_preservation",
           "check_distill_target", "check_consistency_boundary", "check_clip_guidance_grad", "check_inversion_loss",
           "check_guided_target", "check_reflow_pairs", "check_padding_mask", "check_timing_features",
           "check_patchify3d", "check_unpatchify3d"]
