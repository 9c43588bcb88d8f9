"""Small building blocks shared by the write-up models."""
from __future__ import annotations

import torch.nn as nn
import torch.nn.functional as F


def conv_block(cin: int, cout: int, kernel: int = 3, padding: int = 0, batchnorm: bool = False,
               dropout: float = 0.0, bias: bool = False, relu_first: bool = True) -> nn.Sequential:
    """Conv -> ReLU -> [BN] -> [Dropout] (the order write-up 001's family uses)."""
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel, padding=padding, bias=bias)]
    norm = [nn.BatchNorm2d(cout)] if batchnorm else []
    layers += ([nn.ReLU()] + norm) if relu_first else (norm + [nn.ReLU()])
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def conv_bn(cin: int, cout: int, padding: int = 0) -> list[nn.Module]:
    """A 3x3 conv, unpadded by default (each one grows the receptive field and shrinks the map by
    2 px), bias-free because BatchNorm supplies the shift, then BN and ReLU (our own models)."""
    return [nn.Conv2d(cin, cout, 3, padding=padding, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class PoolOnceNet(nn.Module):
    """Our own models' shape: [a centre crop], 3x3 conv-BN-ReLU layers of `before` channels
    (unpadded, or padded by 1 with `pad_before`: the same parameters on larger maps), one 2x2
    max-pool, unpadded layers of `after` channels, global average pooling, and a linear layer to
    the 10 classes (logits)."""

    def __init__(self, before: tuple[int, ...], after: tuple[int, ...], crop: int | None = None,
                 pad_before: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = [CenterCrop(crop)] if crop else []
        channels = 1
        for index, width in enumerate((*before, *after)):
            if index == len(before):
                layers.append(nn.MaxPool2d(2))
            layers += conv_bn(channels, width, padding=int(pad_before and index < len(before)))
            channels = width
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(channels, 10)

    def forward(self, x):
        return self.classifier(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


class CenterCrop(nn.Module):
    """Keep the central `size` x `size` pixels. MNIST centres each digit's 20x20 box in the 28x28
    field, so a 24 px crop drops only empty border, and with it ~30% of the FLOPs before the pool."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def forward(self, x):
        top = (x.shape[-2] - self.size) // 2
        left = (x.shape[-1] - self.size) // 2
        return x[..., top:top + self.size, left:left + self.size]

    def extra_repr(self) -> str:
        return f"size={self.size}"
