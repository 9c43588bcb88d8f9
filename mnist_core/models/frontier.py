"""Our frontier: the smallest net we could make that reaches 99.4% test accuracy at
the final epoch (mean of 3 seeds) in at most 15 epochs, chosen on the validation split."""
import torch.nn as nn

from .layers import PoolOnceNet
from .registry import register_model


@register_model(source="own", params=3_962, max_params=4_000, recipe="frontier",
                description="Ours, the frontier: 6 unpadded BN convs (8-8-8 | pool | 10-10-10), GAP, linear",
                reported_accuracy=None, reported_on="(our own: see the Performance section)")
def frontier(**kwargs) -> nn.Module:
    """Six unpadded 3x3 conv-BN-ReLU layers, 8-8-8 | max-pool | 10-10-10 channels, global average
    pooling and Linear(10->10): 3,962 parameters (frontier_v1 with 10 instead of 12 channels
    after the pool).

    Chosen on the validation split (seed 1, the frontier recipe, 15 epochs; README, Performance):
    99.22% validation accuracy against 99.20% for frontier_v1 (4,930) and 99.10% for a deeper
    8-8-8-8 | 10-10 variant (3,634). The 20 px receptive field before the 5x5 map is kept: it
    is what the digit's 20x20 box needs (a 24 px crop in front cost 0.2 points)."""
    return PoolOnceNet(before=(8, 8, 8), after=(10, 10, 10))
