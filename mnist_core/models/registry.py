"""The one list of architectures: every page, test and CLI reads it.

Adding an architecture is one new file in this package with one `@register_model(...)` function;
the package imports every module in it, so nothing else is edited.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch.nn as nn


@dataclass(frozen=True)
class ModelInfo:
    name: str
    source: str  # write-up id ("000".."004") or "own"
    description: str  # one line
    params: int | None  # declared parameter count (tests assert it); None = bound only
    max_params: int | None  # upper bound where the write-up gives only "< N"
    reported_accuracy: float | None  # percent, as the write-up states it
    reported_on: str  # what that figure was measured on (test final / best epoch / train set ...)
    recipe: str  # default recipe name (recipes.py)
    factory: Callable[..., nn.Module]
    # how our figure is read to compare with reported_accuracy: the final epoch's test accuracy,
    # the best epoch's ("best_test"), or the final model on the 60k training images ("train_set")
    reported_measure: str = "final_test"

    def to_dict(self) -> dict:
        return {"name": self.name, "source": self.source, "description": self.description,
                "params": self.params, "max_params": self.max_params,
                "reported_accuracy": self.reported_accuracy, "reported_on": self.reported_on,
                "recipe": self.recipe, "reported_measure": self.reported_measure}


_REGISTRY: dict[str, ModelInfo] = {}
MEASURES = ("final_test", "best_test", "train_set")


class UnknownModelError(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; this one reads as a sentence
        return str(self.args[0])


def register_model(*, source: str, description: str, recipe: str, params: int | None = None,
                   max_params: int | None = None, reported_accuracy: float | None = None,
                   reported_on: str = "", reported_measure: str = "final_test") -> Callable:
    """Decorator: `@register_model(source="001", params=7904, ...) def seed001_iter4(): ...`."""
    if params is None and max_params is None:
        raise ValueError("register_model needs params (exact) or max_params (bound)")
    if reported_measure not in MEASURES:
        raise ValueError(f"reported_measure must be one of {MEASURES}, got {reported_measure!r}")

    def decorate(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        name = factory.__name__
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is registered twice")
        _REGISTRY[name] = ModelInfo(name, source, description, params, max_params,
                                    reported_accuracy, reported_on, recipe, factory, reported_measure)
        return factory

    return decorate


def list_models() -> list[str]:
    return sorted(_REGISTRY)


def model_info(name: str) -> ModelInfo:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownModelError(f"unknown model {name!r}; known models: {', '.join(list_models())}") from None


def create_model(name: str, **kwargs) -> nn.Module:
    return model_info(name).factory(**kwargs)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
