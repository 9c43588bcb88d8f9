"""Small building blocks shared by the write-up models."""
from __future__ import annotations

import torch.nn as nn


def conv_block(cin: int, cout: int, kernel: int = 3, padding: int = 0, batchnorm: bool = False,
               dropout: float = 0.0, bias: bool = False, relu_first: bool = True) -> nn.Sequential:
    """Conv -> ReLU -> [BN] -> [Dropout] (the order write-up 001's family uses)."""
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel, padding=padding, bias=bias)]
    norm = [nn.BatchNorm2d(cout)] if batchnorm else []
    layers += ([nn.ReLU()] + norm) if relu_first else (norm + [nn.ReLU()])
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)
