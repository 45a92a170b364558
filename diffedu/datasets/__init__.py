"""Data sets for the image lessons, loaded from shipped files or downloaded and verified."""
from . import cifar10, mnist

__all__ = ["mnist"]
