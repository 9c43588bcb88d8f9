"""Ours: the fastest way we found to 99.4% test accuracy on 2 CPU cores."""
import torch.nn as nn

from .layers import PoolOnceNet
from .registry import register_model


@register_model(source="own", params=28_410, recipe="sprint",
                description="Ours, for speed: crop 24, 16-16-16 | pool | 32-32-32 BN convs, GAP; 6 epochs, bf16",
                reported_accuracy=None, reported_on="(our own: time to 99.4%, see the Performance section)")
def sprint(**kwargs) -> nn.Module:
    """Centre crop to 24x24, three unpadded 3x3 conv-BN-ReLU layers of 16 channels, max-pool,
    three of 32, global average pooling, Linear(32->10): 28,410 parameters.

    Why this shape (a throughput probe, then a search on the validation split; README,
    Performance): on this CPU a conv's cost is set by how well its channels fill the AVX-512
    lanes, not by its FLOPs alone: this net trains at 10,200 images/s (bf16, channels_last, batch
    256) against 7,100 (fp32) and 8,300 (bf16) for frontier_v1's 8 and 12 channels, with 6x the
    parameters. The 24 px crop drops empty border (MNIST centres each digit's 20x20 box) and
    ~30% of the FLOPs before the pool. Six
    epochs at batch 256 reach 99.32% validation accuracy (seed 1) against 99.20% for three 16
    and two 32 channel layers (26,074) and 99.18% for 16-16-16 | 16-16-16 (12,026)."""
    return PoolOnceNet(before=(16, 16, 16), after=(32, 32, 32), crop=24)
