"""Interactive figures for the lessons (ipywidgets + matplotlib)."""
from .forward import forward_animation, trajectory_player
from .schedule import schedule_explorer

__all__ = ["schedule_explorer", "forward_animation", "trajectory_player"]
