"""The one list of architectures: every page, test and CLI reads it.

Adding an architecture is one new file in this package with one `@register_model(...)` function;
the package imports every module in it, so nothing else is edited.
"""
from __future__ import annotations

import re
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

    @property
    def label(self) -> str:
        """How the app shows it: "write-up 001 · iteration 1" for a write-up's model, else its name."""
        return display_name(self.name)

    def to_dict(self) -> dict:
        return {"name": self.name, "label": self.label, "source": self.source, "description": self.description,
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
    """Decorator: `@register_model(source="001", params=7904, ...) def writeup001_iter4(): ...`."""
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


# The write-up models were called seed000 ... seed004 until this release, beside random seeds; the
# old names (and recipe names built on them, e.g. seed001_iter4_fast) still resolve, for one release.
LEGACY_NAME = re.compile(r"seed(00[0-4](?:_iter[1-4])?(?:_fast)?)")
WRITEUP_NAME = re.compile(r"writeup(\d{3})(?:_iter(\d+))?")


def current_name(name: str) -> str:
    """`name`, or its new name when it is an old write-up name (seed004 -> writeup004)."""
    matched = LEGACY_NAME.fullmatch(name) if isinstance(name, str) else None
    return f"writeup{matched.group(1)}" if matched else name


def rename_notice(name: str) -> str | None:
    """One line for a person who typed an old name, or None when `name` is current."""
    renamed = current_name(name)
    if renamed == name:
        return None
    return f"note: {name!r} is now called {renamed!r}; the old name works until the next release"


def display_name(name: str) -> str:
    """"write-up 001 · iteration 1" for writeup001_iter1, "write-up 002" for writeup002; other
    names as they are."""
    matched = WRITEUP_NAME.fullmatch(current_name(name))
    if not matched:
        return name
    number, iteration = matched.groups()
    return f"write-up {number}" + (f" · iteration {iteration}" if iteration else "")


def model_info(name: str) -> ModelInfo:
    try:
        return _REGISTRY[current_name(name)]
    except KeyError:
        raise UnknownModelError(f"unknown model {name!r}; known models: {', '.join(list_models())}") from None


def create_model(name: str, **kwargs) -> nn.Module:
    return model_info(name).factory(**kwargs)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
