"""Two MNIST classifiers: a clean one for *measuring* samples, a noisy one for *guiding* them.

* ``DigitClassifier`` — an independent CNN on clean images (≥ 99 % test accuracy). Its penultimate layer
  is the feature space of the Fréchet distance in ``metrics``; it never sees a diffusion model.
* ``NoisyClassifier`` — f_φ(y | x_t, t) for classifier guidance: trained on x_t at random t, with the
  timestep embedding added in each block, as Dhariwal & Nichol's noisy classifiers are.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .embedding import TimeEmbedding
from .registry import register
from .unet import ResBlock


@register
class DigitClassifier(nn.Module):
    def __init__(self, width: int = 32, features: int = 128, num_classes: int = 10):
        super().__init__()
        self.config = dict(width=width, features=features, num_classes=num_classes)
        w = width
        self.conv = nn.Sequential(
            nn.Conv2d(1, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(),
            nn.Conv2d(w, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2),           # 14×14
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.BatchNorm2d(2 * w), nn.ReLU(),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.BatchNorm2d(2 * w), nn.ReLU(), nn.MaxPool2d(2),  # 7×7
        )
        self.fc = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(2 * w * 49, features), nn.ReLU())
        self.head = nn.Linear(features, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:  # (B, 1, 28, 28) in [−1, 1] → (B, features)
        return self.fc(self.conv(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@register
class NoisyClassifier(nn.Module):
    def __init__(self, base_channels: int = 32, num_classes: int = 10, groups: int = 8):
        super().__init__()
        self.config = dict(base_channels=base_channels, num_classes=num_classes, groups=groups)
        c = base_channels
        self.time = TimeEmbedding(c)
        e = self.time.out_dim
        self.inp = nn.Conv2d(1, c, 3, padding=1)
        self.b1, self.b2, self.b3 = ResBlock(c, c, e, 0.0, groups), ResBlock(c, 2 * c, e, 0.0, groups), \
            ResBlock(2 * c, 2 * c, e, 0.0, groups)
        self.out = nn.Sequential(nn.GroupNorm(groups, 2 * c), nn.SiLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                 nn.Linear(2 * c, num_classes))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:  # x_t: (B, 1, 28, 28), t: (B,)
        emb = self.time(t)
        h = self.b1(self.inp(x), emb)
        h = self.b2(F.avg_pool2d(h, 2), emb)          # 14×14
        h = self.b3(F.avg_pool2d(h, 2), emb)          # 7×7
        return self.out(h)


@register
class CifarClassifier(nn.Module):
    """An independent CNN for CIFAR-10, used only to *measure* samples (conditional accuracy, a Fréchet
    distance in its 4·width-dimensional pooled features — a course metric, not Inception FID). Three stages
    of two 3×3 conv–BatchNorm–ReLU layers (32 → 16 → 8 pixels), global average pooling, a linear head."""

    def __init__(self, width: int = 48, num_classes: int = 10):
        super().__init__()
        self.config = dict(width=width, num_classes=num_classes)
        w = width

        def stage(cin, cout, pool=True):
            layers = [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                      nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
            return layers + ([nn.MaxPool2d(2)] if pool else [])

        self.conv = nn.Sequential(*stage(3, w), *stage(w, 2 * w), *stage(2 * w, 4 * w, pool=False))
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(4 * w, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:  # (B, 3, 32, 32) in [−1, 1] → (B, 4·width)
        return self.pool(self.conv(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
