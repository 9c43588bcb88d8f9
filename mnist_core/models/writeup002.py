"""Write-up 002 (../shared/reference/002_*.txt): two dual-conv blocks, GAP, a small MLP head."""
import torch
import torch.nn as nn

from .registry import register_model


class DualBlockNet(nn.Module):
    """19,578 parameters exactly as the write-up's table: Conv5x5(1->16)+BN, Conv3x3(16->16)+BN,
    pool, Conv3x3(16->32)+BN, Conv3x3(32->32)+BN, pool, GAP, Linear(32->64), ReLU, Dropout(0.25),
    Linear(64->10). 'Same' padding (the text's 28 -> 14 -> 7 shapes); convs keep their bias."""

    def __init__(self) -> None:
        super().__init__()
        def conv(cin, cout, kernel):
            return [nn.Conv2d(cin, cout, kernel, padding=kernel // 2), nn.BatchNorm2d(cout), nn.ReLU()]
        self.features = nn.Sequential(
            *conv(1, 16, 5), *conv(16, 16, 3), nn.MaxPool2d(2),  # (B, 16, 14, 14)
            *conv(16, 32, 3), *conv(32, 32, 3), nn.MaxPool2d(2),  # (B, 32, 7, 7)
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),  # (B, 32)
        )
        self.classifier = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Dropout(0.25), nn.Linear(64, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))  # logits (B, 10)


@register_model(source="002", params=19_578, recipe="writeup002",
                description="2 dual-conv blocks with BN, GAP, Linear 32-64-10 with Dropout(0.25)",
                reported_accuracy=99.20, reported_on="test, final epoch (19 of 19)")
def writeup002(**kwargs) -> nn.Module:
    return DualBlockNet()
