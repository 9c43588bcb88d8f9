"""Helpers for the tests of hostile and unlucky input (imported by name: the tests folder is on
sys.path under `python -m pytest`, as for `from browser import ...`).

`make_run` writes a run folder by hand, as a run that trained would have left it (any per-epoch
rows, a shipped checkpoint's weights), in milliseconds. `verb_parsers` and `smallest_arguments` read
the CLI's own parser, so a test over every verb covers a new verb the day it is added.
"""
from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from mnist_core.cli import build_parser
from mnist_core.store import runs
from mnist_core.store.records import write_json
from mnist_core.store.shipped import CHECKPOINT_DIR
from mnist_core.training.recipes import default_config

FINITE_ROW = {"epoch": 1, "train_loss": 0.05, "val_loss": 0.03, "val_acc": 99.1, "test_loss": 0.02, "test_acc": 99.3,
              "lr": 0.1, "seconds": 1.0}
NAN_ROW = {**FINITE_ROW, "val_loss": None, "val_acc": None, "test_loss": None, "test_acc": None}  # NaN, as written


def make_run(directory: Path, name: str, rows: list[dict], status: str = "finished", weights: bool = True,
             model: str = "frontier") -> Path:
    folder = Path(directory) / name
    folder.mkdir(parents=True)
    write_json(folder / runs.CONFIG, default_config(model).to_dict())
    write_json(folder / runs.STATUS, {"status": status, "reason": "made by a test", "pid": None,
                                      "started_at": time.time(), "updated_at": time.time()})
    (folder / runs.EPOCHS).write_text("".join(json.dumps(row) + "\n" for row in rows))
    if weights:
        shutil.copy(CHECKPOINT_DIR / f"{model}.pt", folder / runs.WEIGHTS)
    return folder


def verb_parsers() -> dict[str, argparse.ArgumentParser]:
    """verb -> its parser, from the CLI's own parser."""
    parser, _ = build_parser()
    verbs = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    return dict(verbs.choices)


def smallest_arguments(parser: argparse.ArgumentParser) -> list[str]:
    """The fewest arguments `parser` accepts: its required positionals and options, and the first
    option of each required group, each with a value of its type."""
    positionals, options = [], []
    for action in parser._actions:
        if not action.option_strings and action.nargs not in ("?", "*", argparse.PARSER):
            positionals.append(sample(action))
        elif action.option_strings and action.required:
            options += [action.option_strings[0], sample(action)]
    for group in parser._mutually_exclusive_groups:
        if group.required:
            first = group._group_actions[0]
            options += [first.option_strings[0], sample(first)]
    return positionals + options


def sample(action: argparse.Action) -> str:
    if action.choices:
        return str(list(action.choices)[0])
    if action.type is float:
        return "0.5"
    if action.type is int or getattr(action.type, "__name__", "") == "positive_int":
        return "1"
    return "x"
