"""Why a model read a digit the way it did: input-gradient saliency, Grad-CAM and feature maps.

Plain torch with forward hooks (about 30 lines) rather than Captum: Captum would add a dependency
(and matplotlib) for three methods this small. Everything is found generically from the module
tree and one forward pass, so every registered model works without per-model code:
- the conv layers, in the order the forward pass uses them;
- Grad-CAM's layer: the last conv layer whose output still has a spatial extent (> 1×1), since a
  1×1 map cannot say *where*; for every registered model this is also the last conv layer or the
  one just before a 1×1 head.
Maps are 28×28, non-negative and scaled to [0, 1] (all zeros when the gradient is zero).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class FeatureMaps:
    layer: str  # module name, e.g. "features.0.0"
    maps: torch.Tensor  # (channels, height, width) activations for the input

    @property
    def channels(self) -> int:
        return self.maps.shape[0]


@dataclass
class Explanation:
    prediction: int
    probabilities: list[float]
    saliency: torch.Tensor  # (28, 28) in [0, 1]
    gradcam: torch.Tensor  # (28, 28) in [0, 1]
    gradcam_layer: str
    feature_maps: list[FeatureMaps] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"prediction": self.prediction, "probabilities": self.probabilities,
                "saliency": self.saliency.tolist(), "gradcam": self.gradcam.tolist(),
                "gradcam_layer": self.gradcam_layer,
                "feature_maps": [{"layer": f.layer, "channels": f.channels,
                                  "size": list(f.maps.shape[1:])} for f in self.feature_maps]}


def conv_activations(model: nn.Module, image: torch.Tensor) -> tuple[torch.Tensor, list[tuple[str, torch.Tensor]]]:
    """(output, [(conv layer name, its output)] in forward order) for one (1, 1, 28, 28) image.
    Outputs keep their graph, so gradients can flow back to them."""
    captured: list[tuple[str, torch.Tensor]] = []
    handles = [module.register_forward_hook(lambda _m, _i, output, name=name: captured.append((name, output)))
               for name, module in model.named_modules() if isinstance(module, nn.Conv2d)]
    try:
        output = model(image)
    finally:
        for handle in handles:
            handle.remove()
    return output, captured


def conv_layers(model: nn.Module) -> list[str]:
    """Names of the conv layers in forward order."""
    was_training = model.training
    with torch.no_grad():
        _, captured = conv_activations(model.eval(), torch.zeros(1, 1, 28, 28))
    model.train(was_training)
    return [name for name, _ in captured]


def normalized(map_2d: torch.Tensor) -> torch.Tensor:
    map_2d = map_2d.clamp(min=0)
    peak = map_2d.max()
    return map_2d / peak if peak > 0 else torch.zeros_like(map_2d)


def explain(model: nn.Module, image: torch.Tensor, target: int | None = None) -> Explanation:
    """Saliency, Grad-CAM (for `target`, default the prediction) and every conv layer's maps."""
    was_training = model.training
    model.eval()
    image = image.detach().clone().float().reshape(1, 1, 28, 28).requires_grad_(True)
    try:
        output, captured = conv_activations(model, image)
        probabilities = torch.softmax(output.float(), dim=1)[0]
        prediction = int(probabilities.argmax())
        target = prediction if target is None else int(target)
        spatial = [(name, act) for name, act in captured if act.shape[-1] > 1 and act.shape[-2] > 1]
        layer_name, activation = spatial[-1] if spatial else captured[-1]
        gradient_input, gradient_layer = torch.autograd.grad(output[0, target], [image, activation])
        saliency = normalized(gradient_input[0].abs().amax(0))  # (28, 28)
        weights = gradient_layer[0].mean(dim=(1, 2))  # (C,): how much each channel matters
        cam = F.relu((weights[:, None, None] * activation[0]).sum(0))  # (H, W)
        cam = F.interpolate(cam[None, None], size=(28, 28), mode="bilinear", align_corners=False)[0, 0]
        maps = [FeatureMaps(name, act[0].detach()) for name, act in captured]
    finally:
        model.train(was_training)
    return Explanation(prediction, probabilities.detach().tolist(), saliency.detach(), normalized(cam.detach()),
                       layer_name, maps)


def kernels(model: nn.Module, layer: str, channel: int) -> torch.Tensor:
    """(in_channels, k, k) weights of output channel `channel` of conv layer `layer`."""
    module = dict(model.named_modules()).get(layer)
    if not isinstance(module, nn.Conv2d):
        raise ValueError(f"{layer!r} is not a conv layer; conv layers: {conv_layers(model)}")
    if not 0 <= channel < module.out_channels:
        raise ValueError(f"channel must be in 0..{module.out_channels - 1}, got {channel}")
    return module.weight[channel].detach().clone()
