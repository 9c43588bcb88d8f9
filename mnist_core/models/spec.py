"""Networks as data: build your own iteration from blocks, saved with its run as a JSON spec.

A spec is `{"name": "my-net", "layers": [{"block": "conv", "out": 8, "kernel": 3, "padding": 0,
"bias": false}, {"block": "bn"}, {"block": "relu"}, {"block": "maxpool", "kernel": 2}, ...]}`.
Blocks: crop (size: keep the central size x size pixels), conv (out, kernel, padding, bias), bn,
relu, dropout (p), maxpool (kernel), transition (a 1x1 conv: out, bias), gap (global average pool),
linear (out, bias). Convolutions have stride 1; a linear block after a spatial block flattens
first. The network must end with 10 outputs (logits).

`spec_layers(spec)` gives every layer's output shape and parameter count, or a SpecError naming
the layer ("layer 5 (maxpool): ..."). A run trained from a spec has model "spec:<name>" and the
spec in its config (`TrainConfig.spec`), so every page rebuilds it with `network()`.
"""
from __future__ import annotations

import functools
import re

import torch
import torch.nn as nn

from .layers import CenterCrop

BLOCKS = {  # block -> {field: (type, default, low, high)}
    "crop": {"size": (int, 24, 4, 28)},
    "conv": {
        "out": (int, 8, 1, 512),
        "kernel": (int, 3, 1, 28),
        "padding": (int, 0, 0, 14),
        "bias": (bool, False, None, None),
    },
    "bn": {},
    "relu": {},
    "dropout": {"p": (float, 0.1, 0.0, 0.9)},
    "maxpool": {"kernel": (int, 2, 2, 28)},
    "transition": {"out": (int, 8, 1, 512), "bias": (bool, False, None, None)},
    "gap": {},
    "linear": {"out": (int, 10, 1, 4096), "bias": (bool, True, None, None)},
}
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
MAX_LAYERS = 64


class SpecError(ValueError):
    """A spec cannot be built; the message names the layer and what is wrong."""


def model_name(spec: dict) -> str:
    return f"spec:{spec['name']}"


def layer_label(index: int, layer: dict) -> str:
    return f"layer {index + 1} ({layer.get('block', '?')})"


def normalized_layer(index: int, layer) -> dict:
    """The layer with defaults filled in and every field checked (SpecError names the layer)."""
    if not isinstance(layer, dict) or layer.get("block") not in BLOCKS:
        block = layer.get("block") if isinstance(layer, dict) else layer
        raise SpecError(f"layer {index + 1}: block must be one of {list(BLOCKS)}, got {block!r}")
    fields = BLOCKS[layer["block"]]
    unknown = sorted(set(layer) - set(fields) - {"block"})
    if unknown:
        raise SpecError(f"{layer_label(index, layer)}: unknown field(s) {unknown}; it takes {sorted(fields) or 'none'}")
    result = {"block": layer["block"]}
    for field, (kind, default, low, high) in fields.items():
        value = layer.get(field, default)
        if kind is bool:
            if not isinstance(value, bool):
                raise SpecError(f"{layer_label(index, layer)}: {field} must be true or false, got {value!r}")
        elif kind is int:
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise SpecError(
                    f"{layer_label(index, layer)}: {field} must be an integer in {low}..{high}, got {value!r}"
                )
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise SpecError(
                    f"{layer_label(index, layer)}: {field} must be a number in [{low}, {high}], got {value!r}"
                )
            value = float(value)
        result[field] = value
    return result


def spec_layers(spec: dict, complete: bool = True) -> list[dict]:
    """[{layer, block, settings, output, params}] for a valid spec; SpecError otherwise. With
    complete=False a stack still being built is accepted whatever its last output."""
    if not isinstance(spec, dict) or not isinstance(spec.get("layers"), list):
        raise SpecError("a spec is an object with a 'layers' list")
    if not isinstance(spec.get("name"), str) or not NAME.match(spec["name"]):
        raise SpecError(f"name must be 1-40 letters, digits, '-', '_' or '.', got {spec.get('name')!r}")
    if not spec["layers"]:
        raise SpecError("the network has no layers")
    if len(spec["layers"]) > MAX_LAYERS:
        raise SpecError(f"at most {MAX_LAYERS} layers, got {len(spec['layers'])}")
    shape: tuple[int, ...] = (1, 28, 28)
    rows = []
    for index, raw in enumerate(spec["layers"]):
        layer = normalized_layer(index, raw)
        label, block = layer_label(index, layer), layer["block"]
        spatial = len(shape) == 3
        params = 0
        if block in ("crop", "conv", "transition", "bn", "maxpool", "gap") and not spatial:
            raise SpecError(f"{label}: needs a spatial input (channels × height × width), but the previous "
                            f"layer gives {shape[0]} features")
        if block == "crop":
            if layer["size"] > shape[1]:
                raise SpecError(
                    f"{label}: cannot keep {layer['size']}×{layer['size']} of a {shape[1]}×{shape[2]} input"
                )
            shape = (shape[0], layer["size"], layer["size"])
        elif block == "conv":
            channels, height, width = shape
            size = height + 2 * layer["padding"] - layer["kernel"] + 1
            if size < 1:
                raise SpecError(
                    f"{label}: a {layer['kernel']}×{layer['kernel']} kernel does not fit a "
                    f"{height}×{width} input with padding {layer['padding']}: the spatial size reaches {size}"
                )
            params = channels * layer["out"] * layer["kernel"] ** 2 + (layer["out"] if layer["bias"] else 0)
            shape = (layer["out"], size, size)
        elif block == "transition":
            params = shape[0] * layer["out"] + (layer["out"] if layer["bias"] else 0)
            shape = (layer["out"], shape[1], shape[2])
        elif block == "bn":
            params = 2 * shape[0]
        elif block == "maxpool":
            size = shape[1] // layer["kernel"]
            if size < 1:
                raise SpecError(f"{label}: a {shape[1]}×{shape[2]} input is smaller than the {layer['kernel']}×"
                                f"{layer['kernel']} pool: the spatial size reaches 0")
            shape = (shape[0], size, size)
        elif block == "gap":
            shape = (shape[0], 1, 1)
        elif block == "linear":
            features = 1
            for dimension in shape:
                features *= dimension
            params = features * layer["out"] + (layer["out"] if layer["bias"] else 0)
            shape = (layer["out"],)
        settings = ", ".join(f"{key} {value}" for key, value in layer.items() if key != "block")
        rows.append({"layer": index + 1, "block": block, "settings": settings,
                     "output": "×".join(map(str, shape)), "params": params})
    if complete and shape not in ((10,), (10, 1, 1)):
        raise SpecError(f"{layer_label(len(spec['layers']) - 1, spec['layers'][-1])}: the network must end with "
                        f"10 outputs (one per digit), it ends with {'×'.join(map(str, shape))}")
    return rows


def parameter_count(spec: dict) -> int:
    return sum(row["params"] for row in spec_layers(spec))


def build(spec: dict) -> nn.Module:
    """The spec as an nn.Sequential (SpecError when it is invalid)."""
    spec_layers(spec)  # validates, naming the layer
    modules: list[nn.Module] = []
    channels, spatial = 1, True
    for index, raw in enumerate(spec["layers"]):
        layer = normalized_layer(index, raw)
        block = layer["block"]
        if block == "crop":
            modules.append(CenterCrop(layer["size"]))
        elif block == "conv":
            modules.append(
                nn.Conv2d(channels, layer["out"], layer["kernel"], padding=layer["padding"], bias=layer["bias"])
            )
            channels = layer["out"]
        elif block == "transition":
            modules.append(nn.Conv2d(channels, layer["out"], 1, bias=layer["bias"]))
            channels = layer["out"]
        elif block == "bn":
            modules.append(nn.BatchNorm2d(channels))
        elif block == "relu":
            modules.append(nn.ReLU())
        elif block == "dropout":
            modules.append(nn.Dropout(layer["p"]))
        elif block == "maxpool":
            modules.append(nn.MaxPool2d(layer["kernel"]))
        elif block == "gap":
            modules.append(nn.AdaptiveAvgPool2d(1))
        elif block == "linear":
            if spatial:
                modules.append(nn.Flatten())
                spatial = False
            modules.append(nn.LazyLinear(layer["out"], bias=layer["bias"]))
    if spatial:
        modules.append(nn.Flatten())  # (B, 10, 1, 1) -> (B, 10)
    network = nn.Sequential(*modules)
    with torch.no_grad():
        network.eval()(torch.zeros(1, 1, 28, 28))  # materialize the lazy linear layers
    return network.train()


@functools.lru_cache(maxsize=None)
def _registered_parameter_count(model: str) -> int:
    from . import count_parameters, create_model
    return count_parameters(create_model(model))


def network_parameters(model: str, spec: dict | None = None) -> int:
    """Parameters of a run's network without building it each time: from the spec's layer table,
    or the registered model's count (built once per process)."""
    return parameter_count(spec) if spec is not None else _registered_parameter_count(model)


def network(model: str, spec: dict | None = None) -> nn.Module:
    """The network a run or checkpoint describes: its spec if it has one, else the registry's."""
    if spec is not None:
        return build(spec)
    from . import create_model
    return create_model(model)


def spec_from_model(name: str) -> dict | None:
    """A registered model as a spec, when its layers can be expressed as blocks and the spec
    computes exactly the same function (checked with copied weights); None otherwise."""
    from . import create_model

    model = create_model(name).eval()
    layers = []
    for module in model.modules():
        if list(module.children()):
            continue
        if isinstance(module, CenterCrop):
            layers.append({"block": "crop", "size": module.size})
        elif isinstance(module, nn.Conv2d):
            if module.stride != (1, 1) or module.dilation != (1, 1) or module.groups != 1 or \
                    module.kernel_size[0] != module.kernel_size[1] or module.padding[0] != module.padding[1]:
                return None
            if module.kernel_size == (1, 1) and module.padding == (0, 0):
                layers.append({"block": "transition", "out": module.out_channels, "bias": module.bias is not None})
            else:
                layers.append({"block": "conv", "out": module.out_channels, "kernel": module.kernel_size[0],
                               "padding": module.padding[0], "bias": module.bias is not None})
        elif isinstance(module, nn.BatchNorm2d):
            layers.append({"block": "bn"})
        elif isinstance(module, nn.ReLU):
            layers.append({"block": "relu"})
        elif isinstance(module, (nn.Dropout, nn.Dropout2d)):
            layers.append({"block": "dropout", "p": float(module.p)})
        elif isinstance(module, nn.MaxPool2d):
            if module.kernel_size not in (2, (2, 2), 3, (3, 3)) or module.stride != module.kernel_size:
                return None
            kernel = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
            layers.append({"block": "maxpool", "kernel": kernel})
        elif isinstance(module, (nn.AdaptiveAvgPool2d, nn.AvgPool2d)):
            layers.append({"block": "gap"})
        elif isinstance(module, nn.Linear):
            try:  # a GAP done in forward() (F.adaptive_avg_pool2d) leaves no module behind
                rows = spec_layers({"name": "probe", "layers": layers + [{"block": "linear", "out": 10}]})
            except SpecError:
                rows = []
            shape = rows[-2]["output"].split("×") if len(rows) >= 2 else []
            if len(shape) == 3 and int(shape[0]) == module.in_features and shape[1:] != ["1", "1"]:
                layers.append({"block": "gap"})
            layers.append({"block": "linear", "out": module.out_features, "bias": module.bias is not None})
        elif isinstance(module, (nn.Flatten, nn.Identity, nn.LogSoftmax, nn.Softmax)):
            continue
        elif any(True for _ in module.parameters()):
            return None
    spec = {"name": name, "layers": layers}
    try:
        built = build(spec).eval()
    except SpecError:
        return None
    ours = [p for p in built.state_dict().values()]
    theirs = [p for p in model.state_dict().values()]
    if len(ours) != len(theirs) or any(a.shape != b.shape for a, b in zip(ours, theirs)):
        return None
    built.load_state_dict(dict(zip(built.state_dict(), theirs)))
    probe = torch.randn(4, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        same = torch.allclose(built(probe).log_softmax(1), model(probe).log_softmax(1), atol=1e-4)
    return spec if same else None


def pool_once_spec(name: str, before: list[int], after: list[int], crop: int | None = None,
                   pad_before: bool = False) -> dict:
    """Our own models' shape (layers.PoolOnceNet) as a spec: [a centre crop], 3x3 conv-BN-ReLU layers
    of `before` channels (padded by 1 with `pad_before`), a 2x2 max-pool, unpadded conv-BN-ReLU
    layers of `after` channels, GAP and a linear head. What searches over widths vary."""
    layers = [{"block": "crop", "size": crop}] if crop else []
    for index, width in enumerate([*before, *after]):
        if index == len(before):
            layers.append({"block": "maxpool", "kernel": 2})
        padding = int(pad_before and index < len(before))
        layers += [{"block": "conv", "out": width, "kernel": 3, "padding": padding, "bias": False},
                   {"block": "bn"}, {"block": "relu"}]
    return {"name": name, "layers": layers + [{"block": "gap"}, {"block": "linear", "out": 10}]}


def partial_table(spec: dict) -> tuple[list[dict], str | None]:
    """(rows of the longest valid prefix, the first problem or None): for a builder that shows
    shapes and parameters live while the stack is incomplete or wrong."""
    layers = spec.get("layers", []) if isinstance(spec, dict) else []
    try:
        return spec_layers(spec), None
    except SpecError as error:
        problem = str(error)
    for end in range(len(layers), 0, -1):
        try:
            return spec_layers({**spec, "layers": layers[:end]}, complete=False), problem
        except SpecError:
            continue
    return [], problem
