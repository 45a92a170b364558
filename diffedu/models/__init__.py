from .embedding import TimeEmbedding, timestep_embedding
from .mlp import MLPDenoiser
from .unet import UNet, UNetConfig
from .classifier import DigitClassifier, NoisyClassifier
from .registry import MODELS, build, register

__all__ = ["timestep_embedding", "TimeEmbedding", "MLPDenoiser", "UNet", "UNetConfig", "DigitClassifier", "NoisyClassifier", "MODELS", "build", "register"]
