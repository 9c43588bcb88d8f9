"""The lab's mode: "full" (a local `make run`, the default) or "demo" (a public deployment).

Set `MNIST_LAB_MODE=demo` in the environment (the app also reads the same key from
`.streamlit/secrets.toml` and exports it before anything runs). In demo mode:

- Draw, Compare and Evaluate work fully; training is capped: at most `DEMO.max_image_epochs`
  images × epochs per run (one short run, about a minute on 2 cores), networks of at most
  `DEMO.max_parameters` parameters, and at most `DEMO.max_queue` runs waiting in the queue;
- deleting runs, promoting and un-promoting checkpoints, exporting weights and anything else that
  writes outside the runs folder are refused.

The refusals live here, in mnist_core, so a page that forgets to hide a button still cannot do
what the mode forbids; the pages only hide the controls and show a banner.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from ..data.mnist import images_per_epoch
from ..training.config import ConfigError, TrainConfig

MODE_ENV = "MNIST_LAB_MODE"
MODES = ("full", "demo")


@dataclass(frozen=True)
class DemoLimits:
    max_image_epochs: int = 60_000  # e.g. 1 epoch of all 55,000 images, or 3 epochs of 20,000
    max_parameters: int = 100_000
    max_queue: int = 2


DEMO = DemoLimits()


class DemoModeError(PermissionError):
    """An action this deployment does not allow (demo mode)."""


class DemoLimitError(ConfigError):
    """A run too large for demo mode; the message says the cap and how to fit under it."""


def lab_mode() -> str:
    mode = os.environ.get(MODE_ENV, "full").strip().lower() or "full"
    if mode not in MODES:
        raise ConfigError(f"{MODE_ENV} must be one of {', '.join(MODES)}, got {mode!r}")
    return mode


def is_demo() -> bool:
    return lab_mode() == "demo"


def refuse_in_demo(action: str) -> None:
    """DemoModeError naming `action` when the lab runs in demo mode; nothing otherwise."""
    if is_demo():
        raise DemoModeError(f"{action} is off in this demo ({MODE_ENV}=demo): the lab is shared with other "
                            "visitors; run it locally (make run) to do this")


def check_demo_run(config: TrainConfig, queued: int = 0) -> None:
    """DemoLimitError when `config` exceeds the demo's caps (nothing in full mode). `queued`: runs
    already waiting, so the queue never holds more than DEMO.max_queue."""
    if not is_demo():
        return
    images = images_per_epoch(config.limit, config.validation_size)
    if config.epochs * images > DEMO.max_image_epochs:
        fit = max(1, DEMO.max_image_epochs // images)
        raise DemoLimitError(f"this demo trains at most {DEMO.max_image_epochs:,} images × epochs per run "
                             f"({config.epochs} × {images:,} asked): use at most {fit} epoch(s) at this size, "
                             "or fewer training images")
    from ..models import count_parameters  # torch: only when a run is checked, not when a page imports this
    from ..models.spec import network

    parameters = count_parameters(network(config.model, config.spec))
    if parameters > DEMO.max_parameters:
        raise DemoLimitError(f"this demo trains networks of at most {DEMO.max_parameters:,} parameters "
                             f"({parameters:,} asked)")
    if queued >= DEMO.max_queue:
        raise DemoLimitError(f"this demo queues at most {DEMO.max_queue} runs; wait for one to finish")


def fit_demo(config: TrainConfig) -> TrainConfig:
    """`config` shrunk to the demo's size cap (fewer images, then fewer epochs); unchanged in full
    mode or when it already fits. What the Train page offers a demo visitor by default."""
    if not is_demo():
        return config
    images = images_per_epoch(config.limit, config.validation_size)
    if config.epochs * images <= DEMO.max_image_epochs:
        return config
    images = min(images, DEMO.max_image_epochs // 3)
    return config.replace(limit=images, epochs=max(1, min(config.epochs, DEMO.max_image_epochs // images)))
