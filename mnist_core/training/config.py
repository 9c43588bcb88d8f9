"""One dataclass holding every setting of a training run, validated on construction.

Pages, the CLI and recipes build a `TrainConfig` and nothing else; its `asdict()` is saved with
every run and checkpoint. Validation fails fast with an error naming the field.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULERS = ("none", "step", "onecycle", "cosine")
LOSSES = ("cross_entropy", "nll")
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16")


class ConfigError(ValueError):
    """A setting is invalid; the message names the field and the allowed values."""


@dataclass
class TrainConfig:
    model: str = "writeup004"
    recipe: str = "custom"  # name of the recipe this config came from (informational)
    epochs: int = 15
    batch_size: int = 128
    optimizer: str = "sgd"
    lr: float = 0.01  # with scheduler "onecycle", the peak learning rate
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 0.0
    scheduler: str = "none"
    step_size: int = 6  # StepLR: epochs between decays
    gamma: float = 0.1  # StepLR: decay factor
    max_lr: float = 0.0  # kept so older configs load: must be 0 or equal lr (OneCycle's peak is lr)
    pct_start: float = 0.25  # OneCycle warm-up fraction
    loss: str = "cross_entropy"
    label_smoothing: float = 0.0
    # Augmentation (per-sample, see augment.py). Zero strength = no augmentation.
    rotation: float = 0.0  # max |degrees|
    translate: float = 0.0  # max |shift| as a fraction of the image side
    scale: float = 0.0  # scale drawn from [1 - scale, 1 + scale]
    center_crop_prob: float = 0.0  # write-up 000: CenterCrop(22) then resize to 28, with prob p
    center_crop_size: int = 22
    target_accuracy: float | None = None  # early stop when *validation* accuracy >= this (%)
    seed: int = 1
    limit: int | None = None  # use only the first N training images (dry runs, tests)
    eval_limit: int | None = None  # evaluate on only the first N validation / test images
    validation_size: int = 5000  # held out from the 60k training images, fixed seed
    evaluate_test: bool = True  # False: the test split is never read (sweeps choose on validation alone)
    eval_batch_size: int = 256  # see evaluate.EVAL_BATCH
    device: str = "auto"
    channels_last: bool = False  # memory format; can speed up convs on CPU
    precision: str = "fp32"  # "bf16": forward under bfloat16 autocast (weights, loss, updates stay fp32);
    # "auto": bf16 only where measured faster on this machine (training/machine.py)
    log_every_batches: int = 20  # how often batch-level callbacks get a "log" flag
    extra: dict = field(default_factory=dict)  # free-form notes carried with the run
    spec: dict | None = None  # a network built from blocks (spec.py); then model is "spec:<name>"

    def __post_init__(self) -> None:
        from ..models import current_name

        # a run or checkpoint saved under a write-up model's old name (seed004) reads as its new one
        self.model, self.recipe = current_name(self.model), current_name(self.recipe)
        self.validate()

    def validate(self) -> None:
        _positive_int(self, "epochs")
        _positive_int(self, "batch_size")
        _positive_int(self, "eval_batch_size")
        _positive_int(self, "step_size")
        _positive_int(self, "log_every_batches")
        _one_of(self, "optimizer", OPTIMIZERS)
        _one_of(self, "scheduler", SCHEDULERS)
        _one_of(self, "loss", LOSSES)
        _one_of(self, "device", DEVICES)
        _one_of(self, "precision", PRECISIONS)
        _finite_range(self, "lr", 0.0, 10.0, include_low=False)
        _finite_range(self, "momentum", 0.0, 1.0, include_high=False)
        _finite_range(self, "weight_decay", 0.0, 1.0)
        _finite_range(self, "gamma", 0.0, 1.0, include_low=False)
        _finite_range(self, "max_lr", 0.0, 10.0)
        _finite_range(self, "pct_start", 0.0, 1.0, include_low=False, include_high=False)
        _finite_range(self, "label_smoothing", 0.0, 1.0, include_high=False)
        _finite_range(self, "rotation", 0.0, 180.0)
        _finite_range(self, "translate", 0.0, 0.5)
        _finite_range(self, "scale", 0.0, 0.9)
        _finite_range(self, "center_crop_prob", 0.0, 1.0)
        if not isinstance(self.center_crop_size, int) or not 1 <= self.center_crop_size <= 28:
            raise ConfigError(f"center_crop_size must be an integer in 1..28, got {self.center_crop_size!r}")
        if self.target_accuracy is not None:
            _finite_range(self, "target_accuracy", 0.0, 100.0, include_low=False)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ConfigError(f"seed must be an integer, got {self.seed!r}")
        if not isinstance(self.evaluate_test, bool):
            raise ConfigError(f"evaluate_test must be true or false, got {self.evaluate_test!r}")
        for name in ("limit", "eval_limit"):
            if getattr(self, name) is not None:
                _positive_int(self, name)
        if not isinstance(self.validation_size, int) or not 0 <= self.validation_size < 60000:
            raise ConfigError(f"validation_size must be an integer in 0..59999, got {self.validation_size!r}")
        if self.spec is not None:
            from ..models.spec import SpecError, model_name, spec_layers
            try:
                spec_layers(self.spec)
            except SpecError as error:
                raise ConfigError(f"spec: {error}") from None
            if self.model != model_name(self.spec):
                raise ConfigError(f"model must be {model_name(self.spec)!r} for this spec, got {self.model!r}")
        if self.max_lr not in (0, self.lr):
            raise ConfigError(f"max_lr must be 0 or equal lr ({self.lr}): OneCycle's peak learning rate "
                              f"is lr, so set lr instead; got max_lr {self.max_lr!r}")
        if self.loss == "nll" and self.label_smoothing:
            raise ConfigError("label_smoothing must be 0 when loss is 'nll' (smoothing needs cross_entropy)")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown config field(s) {unknown}; known fields: {sorted(known)}")
        return cls(**values)

    def replace(self, **changes) -> "TrainConfig":
        """A copy with some fields changed (validated again); None values are ignored."""
        changes = {k: v for k, v in changes.items() if v is not None}
        return self.from_dict({**self.to_dict(), **changes})


def _positive_int(config: TrainConfig, name: str) -> None:
    value = getattr(config, name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")


def _one_of(config: TrainConfig, name: str, allowed: tuple[str, ...]) -> None:
    value = getattr(config, name)
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {list(allowed)}, got {value!r}")


def _finite_range(config, name, low, high, include_low=True, include_high=True) -> None:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ConfigError(f"{name} must be a number, got {value!r}")
    too_low = value < low or (value == low and not include_low)
    too_high = value > high or (value == high and not include_high)
    if too_low or too_high:
        left, right = "[" if include_low else "(", "]" if include_high else ")"
        raise ConfigError(f"{name} must be in {left}{low}, {high}{right}, got {value!r}")
