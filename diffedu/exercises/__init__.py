"""Exercise checkers: ``check_xxx(my_function)`` says whether it matches the reference and, if not, why."""
from ._check import CheckResult, run_check
from .forward import check_ddpm_step_mean, check_posterior, check_q_sample, check_timestep_embedding

__all__ = ["CheckResult", "run_check", "check_q_sample", "check_posterior", "check_ddpm_step_mean",
           "check_timestep_embedding"]
