"""Sampling in a few steps (lessons 12–13): progressive and guided distillation, consistency models, flow matching
and rectified flow. Each trains a model that the ordinary samplers (``diffedu.samplers``) then run in fewer steps.

    distill          Salimans & Ho 2022 (progressive distillation), Meng et al. 2023 (guided distillation, stage 1)
    consistency      Song et al. 2023: ConsistencyModel (c_skip, c_out), consistency distillation, ema_update
    flow_matching    Lipman et al. 2023, Liu et al. 2023: the flow-matching loss, reflow pairs, straightness
"""
from .consistency import ConsistencyModel, consistency_distillation_loss, ema_update, ode_step
from .distill import distill_loss, distill_round, distill_target, guided_distill_loss, guided_target
from .flow_matching import flow_matching_loss, reflow_loss, reflow_pairs, straightness

__all__ = ["ConsistencyModel", "consistency_distillation_loss", "ema_update", "ode_step", "distill_loss",
           "distill_round", "distill_target", "guided_distill_loss", "guided_target", "flow_matching_loss",
           "reflow_loss", "reflow_pairs", "straightness"]
