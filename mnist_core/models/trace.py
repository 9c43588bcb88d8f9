"""Layer tables and memory estimates of registered models (for the Train and Compare pages, and
the `diff` verb)."""
from __future__ import annotations

import torch
import torch.nn as nn

from . import count_parameters, create_model


def multiply_adds(module: nn.Module, output: torch.Tensor) -> int:
    """Multiply-adds of one image through a layer: convolutions and linear layers only (they are
    nearly all of the work; BN, ReLU and pooling are counted as 0)."""
    if isinstance(module, nn.Conv2d):
        kernel = module.kernel_size[0] * module.kernel_size[1]
        return output[0].numel() * (module.in_channels // module.groups) * kernel
    if isinstance(module, nn.Linear):
        return output[0].numel() * module.in_features
    return 0


def trace_layers(model: nn.Module) -> list[dict]:
    """One row per leaf layer: name, type, output shape (batch of 1), parameters, multiply-adds."""
    rows, hooks = [], []
    for name, module in model.named_modules():
        if len(list(module.children())) == 0:
            def hook(module, inputs, output, name=name):
                rows.append({"layer": name, "type": type(module).__name__,
                             "output": tuple(output.shape[1:]), "params": sum(p.numel() for p in module.parameters()),
                             "macs": multiply_adds(module, output)})
            hooks.append(module.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, 28, 28))
    model.train(was_training)
    for handle in hooks:
        handle.remove()
    return rows


def memory_estimate(name: str) -> dict:
    """Bytes of float32 weights, and of activations for one image (forward pass)."""
    model = create_model(name)
    rows = trace_layers(model)
    activations = sum(int(torch.tensor(row["output"]).prod()) for row in rows) * 4
    return {"params": count_parameters(model), "weights_bytes": count_parameters(model) * 4,
            "activations_bytes_per_image": activations}
