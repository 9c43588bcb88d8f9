"""Write-up 003 (../shared/reference/003_*.txt): compact CNN, BN + Dropout(0.05), 1x1 convs, GAP."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .layers import conv_block
from .registry import register_model


class CompactNet(nn.Module):
    """The write-up gives features, not layers: conv blocks with ReLU + BN + Dropout(0.05), 1x1
    convs to control width, a final conv then GAP producing the logits. We choose the common plan
    of that style: 3x3 convs 1-16-32, 1x1 to 10, pool, 3x3 convs 10-16-16-16 (the last padded),
    GAP, 1x1 to 10. 13,808 parameters (the write-up gives none; the family is "< 20k")."""

    def __init__(self, dropout: float = 0.05) -> None:
        super().__init__()
        def block(cin, cout, kernel=3, padding=0):
            return conv_block(cin, cout, kernel, padding, batchnorm=True, dropout=dropout)
        self.features = nn.Sequential(
            block(1, 16),  # 26
            block(16, 32),  # 24
            conv_block(32, 10, kernel=1),  # 24: 1x1 transition, no BN/dropout
            nn.MaxPool2d(2),  # 12
            block(10, 16),  # 10
            block(16, 16),  # 8
            block(16, 16),  # 6
            block(16, 16, padding=1),  # 6
            nn.AdaptiveAvgPool2d(1),  # 1
            nn.Conv2d(16, 10, 1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(self.features(x).flatten(1), dim=1)


@register_model(source="003", reported_measure="best_test", params=13_808, max_params=20_000, recipe="writeup003",
                description="Compact CNN: BN + Dropout(0.05), 1x1 transition, GAP head",
                reported_accuracy=99.55, reported_on="test, best epoch (14 of 20); final 99.54%")
def writeup003(**kwargs) -> nn.Module:
    return CompactNet()
