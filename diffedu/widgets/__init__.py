"""Interactive figures for the lessons (ipywidgets + matplotlib)."""
from .forward import forward_animation, trajectory_player
from .langevin import annealed_explorer, langevin_explorer
from .schedule import schedule_explorer
from .score import score_field
from .sde import sde_vs_ode

__all__ = ["schedule_explorer", "forward_animation", "trajectory_player", "score_field", "langevin_explorer",
           "annealed_explorer", "sde_vs_ode"]
