"""Ours (issue 14): the fastest way we found to 99.4% test accuracy on 2 CPU cores."""
import torch.nn as nn

from .layers import CenterCrop, conv_bn
from .registry import register_model


class Sprint(nn.Module):
    """Centre crop to 24x24, three unpadded 3x3 conv-BN-ReLU layers of 16 channels, max-pool,
    three of 32, global average pooling, Linear(32->10): 28,410 parameters.

    Why this shape (a throughput probe, then a search on the validation split; README,
    Performance): on this CPU a conv's cost is set by how well its channels fill the AVX-512
    lanes, not by its FLOPs alone: 16 and 32 channels in channels_last under bf16 run ~1.6x more
    images/s than the frontier's 8 and 12 while holding 6x the parameters. The 24 px crop drops
    empty border (MNIST centres each digit's 20x20 box), ~27% of the early layers' work. Six
    epochs at batch 256 reach 99.32% validation accuracy (seed 1) against 99.20% for three 16
    and two 32 channel layers (26,074) and 99.18% for 16-16-16 | 16-16-16 (12,026)."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            CenterCrop(24),  # (B, 1, 24, 24)
            *conv_bn(1, 16), *conv_bn(16, 16), *conv_bn(16, 16),  # (B, 16, 18, 18)
            nn.MaxPool2d(2),  # (B, 16, 9, 9)
            *conv_bn(16, 32), *conv_bn(32, 32), *conv_bn(32, 32),  # (B, 32, 3, 3)
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.classifier = nn.Linear(32, 10)

    def forward(self, x):
        return self.classifier(self.features(x))  # logits


@register_model(source="own", params=28_410, recipe="sprint",
                description="Ours, for speed: crop 24, 16-16-16 | pool | 32-32-32 BN convs, GAP; 6 epochs, bf16",
                reported_accuracy=None, reported_on="(our own: time to 99.4%, see the Performance section)")
def sprint(**kwargs) -> nn.Module:
    return Sprint()
