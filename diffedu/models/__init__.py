from .embedding import TimeEmbedding, timestep_embedding
from .mlp import MLPDenoiser
from .score_mlp import ScoreMLP
from .unet import UNet
from .dit import DiT, patchify, unpatchify
from .video_dit import VideoDiT, patchify3d, unpatchify3d
from .autoencoder import Autoencoder
from .clip import CLIP
from .text_unet import TextUNet
from .tokenizer import Tokenizer
from .superres import SuperResUNet
from .classifier import CifarClassifier, DigitClassifier, NoisyClassifier
from .audio_dit import AudioDiT, timing_features
from .registry import MODELS, build, register

__all__ = ["timestep_embedding", "TimeEmbedding", "MLPDenoiser", "ScoreMLP", "UNet", "DigitClassifier", "NoisyClassifier", "CifarClassifier", "DiT", "patchify", "unpatchify", "VideoDiT", "patchify3d", "unpatchify3d", "Autoencoder", "SuperResUNet", "CLIP", "TextUNet", "Tokenizer", "MODELS", "build", "register"]
__all__ += ["AudioDiT", "timing_features"]
