"""What a sweep may vary: the searchable settings of a TrainConfig, a space's JSON form
(`{"lr": {"low": 0.01, "high": 0.3, "log": true}, "batch_size": {"choices": [64, 128]}}`), its
parsing with one-line errors, and the default space of a recipe family. Every end and choice of a
space is checked trainable before a sweep starts.

A sweep of a network built from blocks (`sweep --spec FILE`) can also vary the architecture: a
dimension named `layers.N.FIELD` sets field FIELD of the spec's block N (0-based), e.g.
`{"layers.0.out": {"low": 6, "high": 12}}` for the first convolution's width; `apply` turns a
trial's values into its config (the spec changed, named as the base's).
"""
from __future__ import annotations

import copy
import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path

from ..data.mnist import MNIST
from ..training.config import ConfigError, TrainConfig
from .launch import check_trainable

STUDY_NAME_LENGTH = 48  # run names are "<study>-trial<number>", and run names stop at 64 characters

# What a sweep holds fixed: what is trained, for how long, on which images, and how it is recorded.
FIXED = ("model", "recipe", "epochs", "seed", "limit", "eval_limit", "validation_size", "evaluate_test",
         "eval_batch_size", "device", "channels_last", "precision", "log_every_batches", "extra", "spec",
         "target_accuracy", "max_lr")

DEFAULTS = {f.name: f.default for f in dataclasses.fields(TrainConfig)}

SEARCHABLE = tuple(name for name in DEFAULTS if name not in FIXED)
LAYER_PREFIX = "layers."  # a spec block's field: layers.N.FIELD


@dataclass(frozen=True)
class Dimension:
    """One setting the search varies: a range (low..high, optionally log-uniform) or choices."""
    name: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple | None = None
    whole: bool = False  # integers (suggest_int)

    def suggest(self, trial):
        if self.choices is not None:
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.whole:
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.name, self.low, self.high, log=self.log)

    def values(self) -> list:
        """The values whose validity stands for the whole dimension: its ends or its choices."""
        return list(self.choices) if self.choices is not None else [self.low, self.high]

    def to_dict(self) -> dict:
        if self.choices is not None:
            return {"choices": list(self.choices)}
        return {"low": self.low, "high": self.high, "log": self.log}


SPACE_EXAMPLE = '{"lr": {"low": 0.01, "high": 0.3, "log": true}, "batch_size": {"choices": [64, 128]}}'


def parse_space(values, base: TrainConfig, data: MNIST | None = None) -> list[Dimension]:
    """Dimensions from a space's JSON object; ConfigError naming the setting when one is unknown,
    held fixed, malformed, or has an end (or a choice) that `base` cannot train with."""
    if not isinstance(values, dict) or not values:
        raise ConfigError(f"space: a JSON object of settings to vary, e.g. {SPACE_EXAMPLE}")
    space = [_layer_dimension(name, bounds, base) if name.startswith(LAYER_PREFIX) else _dimension(name, bounds)
             for name, bounds in values.items()]
    for dimension in space:
        for value in dimension.values():
            try:
                check_trainable(apply(base, {dimension.name: value}), data)
            except ConfigError as error:
                raise ConfigError(f"space: {dimension.name} = {value!r} cannot train: {error}") from None
    return space


def _dimension(name: str, bounds) -> Dimension:
    if name not in SEARCHABLE:
        held = " (a sweep holds it fixed)" if name in FIXED else ""
        raise ConfigError(f"space: {name!r} cannot be searched{held}; searchable settings: {', '.join(SEARCHABLE)}"
                          f", and layers.N.FIELD for a spec's blocks")
    default = DEFAULTS[name]
    numeric = isinstance(default, (int, float)) and not isinstance(default, bool)
    return _dimension_of(name, bounds, type(default) if numeric else None)


def _dimension_of(name: str, bounds, kind) -> Dimension:
    """A dimension of a setting whose values are `kind` (int, float, or None: choices only)."""
    if isinstance(bounds, dict) and set(bounds) == {"choices"}:
        choices = bounds["choices"]
        scalars = isinstance(choices, list) and all(isinstance(c, (bool, int, float, str)) for c in choices)
        if not choices or not scalars:
            raise ConfigError(f"space: {name}.choices must be a non-empty list of numbers, strings or booleans")
        return Dimension(name, choices=tuple(choices))
    if not isinstance(bounds, dict) or not {"low", "high"} <= set(bounds) <= {"low", "high", "log"}:
        raise ConfigError(f"space: {name} must be {{\"low\": L, \"high\": H}} (optionally \"log\": true) or "
                          f"{{\"choices\": [...]}}, got {bounds!r}")
    if kind is None:
        raise ConfigError(f"space: {name} is not a number; give {{\"choices\": [...]}}")
    low, high, log = bounds["low"], bounds["high"], bounds.get("log", False)
    whole = kind is int
    for end in (low, high):
        if isinstance(end, bool) or not isinstance(end, int if whole else (int, float)) or not math.isfinite(end):
            raise ConfigError(f"space: {name}'s low and high must be {'integers' if whole else 'numbers'}, got {end!r}")
    if not low < high:
        raise ConfigError(f"space: {name} needs low < high, got {low!r} and {high!r}")
    if not isinstance(log, bool) or (log and low <= 0):
        raise ConfigError(f"space: {name}.log must be true or false, and a log range needs low > 0")
    return Dimension(name, low if whole else float(low), high if whole else float(high), log, whole=whole)


def apply(base: TrainConfig, values: dict) -> TrainConfig:
    """`base` with a trial's values: settings by name, a spec's block fields by `layers.N.FIELD`
    (ConfigError when the changed network does not work, naming the layer)."""
    layers = {name: value for name, value in values.items() if name.startswith(LAYER_PREFIX)}
    settings = {name: value for name, value in values.items() if name not in layers}
    if not layers:
        return base.replace(**settings)
    spec = copy.deepcopy(base.spec)
    for name, value in layers.items():
        index, field = name.removeprefix(LAYER_PREFIX).split(".", 1)
        spec["layers"][int(index)][field] = value
    return base.replace(spec=spec, **settings)


def _layer_dimension(name: str, bounds, base: TrainConfig) -> Dimension:
    """`layers.N.FIELD`: a numeric field of block N of the base's spec."""
    from ..models.spec import BLOCKS

    parts = name.removeprefix(LAYER_PREFIX).split(".")
    if base.spec is None:
        raise ConfigError(f"space: {name!r} varies a network's blocks: sweep a spec (--spec FILE), not a registered "
                          f"model")
    layers = base.spec.get("layers", [])
    if len(parts) != 2 or not parts[0].isascii() or not parts[0].isdigit() or int(parts[0]) >= len(layers):
        raise ConfigError(f"space: {name!r}: name a block as layers.N.FIELD with N in 0..{len(layers) - 1}")
    block = layers[int(parts[0])].get("block")
    fields = BLOCKS.get(block, {})
    kind = fields.get(parts[1], (None,))[0]
    if kind not in (int, float):
        numeric = [field for field, (kind, *_) in fields.items() if kind in (int, float)]
        raise ConfigError(f"space: {name!r}: block {int(parts[0])} is a {block!r}, whose numeric fields are "
                          f"{', '.join(numeric) or 'none'}")
    return _dimension_of(name, bounds, kind)


def default_space(base: TrainConfig, data: MNIST | None = None) -> list[Dimension]:
    """The usual knobs of `base`'s recipe family, around its own values: learning rate (x/4..x4,
    log), batch size (those the schedule can run on these images), rotation / shift / zoom; SGD
    adds momentum and light weight decay, Adam(W) a wider weight decay; cross-entropy adds label
    smoothing."""
    space: dict = {"lr": {"low": base.lr / 4, "high": min(base.lr * 4, 10.0), "log": True}}
    if base.optimizer == "sgd":
        space["momentum"] = {"low": 0.8, "high": 0.97}
        space["weight_decay"] = {"low": 1e-6, "high": 1e-3, "log": True}
    else:
        space["weight_decay"] = {"low": 1e-5, "high": 0.1, "log": True}
    if base.loss == "cross_entropy":
        space["label_smoothing"] = {"low": 0.0, "high": 0.15}
    sizes = [size for size in sorted({64, 128, 256, base.batch_size})
             if _trainable(base.replace(batch_size=size), data)]
    if not sizes:
        raise ConfigError(f"batch_size: no batch size of 64..256 can run {base.recipe}'s schedule on these images "
                          f"in {base.epochs} epoch(s); use a larger --limit or more --epochs")
    space["batch_size"] = {"choices": sizes}
    space.update(rotation={"low": 0.0, "high": 15.0}, translate={"low": 0.0, "high": 0.15},
                 scale={"low": 0.0, "high": 0.15})
    return parse_space(space, base, data)


def _trainable(config: TrainConfig, data) -> bool:
    try:
        check_trainable(config, data)
    except ConfigError:
        return False
    return True


def read_space(path: Path, base: TrainConfig, data: MNIST | None = None) -> list[Dimension]:
    try:
        values = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"space not found: {path}") from None
    except (OSError, ValueError) as error:
        raise ConfigError(f"space {path}: not readable JSON ({error})") from None
    return parse_space(values, base, data)
