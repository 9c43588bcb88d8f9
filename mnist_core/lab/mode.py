"""The lab's mode: "full" (a local `make run`, the default) or "demo" (a public deployment).

Set `MNIST_LAB_MODE=demo` in the environment (the app also reads the same key from
`.streamlit/secrets.toml` and exports it before anything runs). In demo mode:

- Draw, Compare and Evaluate work fully; training is capped: at most `DEMO.max_image_epochs`
  images × epochs per run (one short run, about a minute on 2 cores), networks of at most
  `DEMO.max_parameters` parameters, and at most `DEMO.max_queue` runs waiting in the queue;
- deleting runs, promoting and un-promoting checkpoints, exporting weights and anything else that
  writes outside the runs folder are refused.

A value that is neither mode is refused by the command line (one line, exit 2) and read as demo
everywhere else (the pages show the error above the demo's banner): a typo on a public server
must not open the full lab.

The refusals live here, in mnist_core, so a page that forgets to hide a button still cannot do
what the mode forbids; the pages only hide the controls and show a banner. Every CLI verb is
classified in `VERB_WRITES` (what it writes, and so what demo mode refuses of it) and checked by
`check_verb` before it runs; a verb missing from the table is refused in demo mode.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

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
    """The mode set in the environment; ConfigError when it is neither mode (what the CLI says)."""
    mode = os.environ.get(MODE_ENV, "full").strip().lower() or "full"
    if mode not in MODES:
        raise ConfigError(f"{MODE_ENV} must be one of {', '.join(MODES)}, got {mode!r}")
    return mode


def mode_in_effect() -> tuple[str, str | None]:
    """(the mode the lab runs in, the problem with the setting or None): an unknown value runs as
    demo, the safe mode, with the error for a banner."""
    try:
        return lab_mode(), None
    except ConfigError as error:
        return "demo", f"{error}; running as the demo until it is fixed"


def is_demo() -> bool:
    """True in demo mode, and when the mode is misspelt (the safe reading; never raises)."""
    return mode_in_effect()[0] == "demo"


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


@dataclass(frozen=True)
class Writes:
    """What one CLI verb writes, for demo mode's rule: nothing outside the runs folder.

    `refused`: the verb always writes outside it (or brings in files a public demo must not take):
    the whole verb is off. `flags`: {argument: what it does} for arguments that, when given, make it
    write outside. `outputs`: arguments naming a file it writes: in demo mode only a new file inside
    the runs folder. `reads`: path arguments it only reads. Writes into the runs folder (runs, their
    stop requests, the derived-results cache under it) are what the demo is for: capped, not refused."""
    refused: str | None = None
    flags: dict = field(default_factory=dict)
    outputs: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()


VERB_WRITES = {
    "models": Writes(reads=("spec",)),
    "evaluate": Writes(reads=("checkpoint",)),
    "predict": Writes(reads=("checkpoint", "image")),
    "explain": Writes(reads=("checkpoint", "image")),
    "bench": Writes(),
    "robustness": Writes(reads=("checkpoint",)),
    "changes": Writes(),
    "diff": Writes(),
    "stop": Writes(),
    "study": Writes(),  # ordinary runs, each under the demo's caps
    "report": Writes(flags={"write_readme": "Rewriting README.md (--write-readme)"}, outputs=("html",),
                     reads=("checkpoint",)),
    "derive": Writes(flags={"ship": "Writing into checkpoints/ (--ship)"}, reads=("checkpoint",)),
    "train": Writes(flags={"out": "Exporting weights outside the runs folder (--out)"}, reads=("spec",)),
    "runs": Writes(flags={"action": "Moving runs between labs (runs export / runs import)"}, outputs=("out",)),
    "export": Writes(outputs=("out",), reads=("checkpoint",)),
    "promote": Writes(refused="Promoting runs to checkpoints"),
    "unpromote": Writes(refused="Un-promoting checkpoints"),
    "delete": Writes(refused="Deleting runs"),
    "pretrain": Writes(refused="Rebuilding the shipped checkpoints"),
    "sweep": Writes(refused="Sweeps (and sweep import)"),
}


def check_verb(verb: str, arguments: dict) -> None:
    """Demo mode's one rule for the command line, before a verb runs: DemoModeError when `verb`
    (with its parsed `arguments`) would write outside the runs folder; nothing in full mode."""
    if not is_demo():
        return
    writes = VERB_WRITES.get(verb)
    if writes is None:
        refuse_in_demo(f"The {verb} verb (not classified in mnist_core.lab.mode.VERB_WRITES)")
    if writes.refused:
        refuse_in_demo(writes.refused)
    for argument, action in writes.flags.items():
        if arguments.get(argument) not in (None, False, "", []):
            refuse_in_demo(action)
    for argument in writes.outputs:
        if arguments.get(argument) is not None:
            refuse_outside_runs(arguments[argument], f"--{argument.replace('_', '-')}")


def refuse_outside_runs(path: Path | str, what: str) -> None:
    """In demo mode, DemoModeError unless `path` is a new file inside the runs folder (never the
    folder itself, never over an existing file: a visitor's run or another export)."""
    if not is_demo():
        return
    from ..store.runs import runs_dir  # torch: only when a path is checked

    runs, target = runs_dir().resolve(), Path(path).expanduser().resolve()
    if target == runs or not target.is_relative_to(runs):
        refuse_in_demo(f"Writing {what} {path} outside the runs folder ({runs})")
    if target.exists():
        refuse_in_demo(f"Writing {what} {path} over an existing file")
