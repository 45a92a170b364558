from .embedding import TimeEmbedding, timestep_embedding
from .mlp import MLPDenoiser
from .registry import MODELS, build, register

__all__ = ["timestep_embedding", "TimeEmbedding", "MLPDenoiser", "MODELS", "build", "register"]
