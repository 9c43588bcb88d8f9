"""One optimisation step, shared by the loop, the bench and the precision probe (so all three
time the same work)."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import TrainConfig


def compute_loss(output: torch.Tensor, labels: torch.Tensor, config: TrainConfig) -> torch.Tensor:
    if config.loss == "nll":
        return F.nll_loss(F.log_softmax(output, dim=1), labels)
    return F.cross_entropy(output, labels, label_smoothing=config.label_smoothing)


def train_step(model: nn.Module, optimizer, images: torch.Tensor, labels: torch.Tensor,
               config: TrainConfig) -> tuple[torch.Tensor | None, torch.Tensor | float]:
    """One optimisation step (forward under the config's precision, loss, backward, update).

    Returns (loss, output), or (None, the loss value) when the loss is not finite: the weights are
    then left as they were. fit() and the bench both call this, so they time the same step."""
    with torch.autocast(images.device.type, dtype=torch.bfloat16, enabled=config.precision == "bf16"):
        output = model(images)
    output = output.float()
    loss = compute_loss(output, labels, config)
    if not torch.isfinite(loss):
        return None, loss.item()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss, output
