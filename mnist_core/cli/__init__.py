"""Command line: python -m mnist_core VERB ... (`--help` lists the verbs; each verb's `--help` its flags).

Verbs live in four modules: run_verbs (train, runs, stop, promote, unpromote, delete, pretrain,
study), model_verbs (models, evaluate, predict, explain, robustness, derive, report, bench, changes,
diff), sweep_verbs (sweep), export_verbs (export). Errors a user can fix (missing data, bad settings or checkpoints)
print one line and exit 2. Before any verb runs: the lab's mode must be one it knows, the runs
folder must not be a file, and demo mode's rule (`lab.mode.check_verb`) must allow what it writes.
"""
from __future__ import annotations

import argparse
import sys

from ..analysis.predict import ImageError
from ..data.mnist import DatasetError
from ..lab.mode import DemoModeError, check_verb, lab_mode
from ..models import UnknownModelError, current_name, rename_notice
from ..store.checkpoint import CheckpointError
from ..store.runs import RunError, check_runs_folder
from ..training.config import ConfigError
from . import export_verbs, model_verbs, run_verbs, sweep_verbs
from .common import OneLineParser

EXPECTED_ERRORS = (DatasetError, ConfigError, CheckpointError, UnknownModelError, FileNotFoundError, RunError,
                   ImageError, DemoModeError)
NAMED_ARGUMENTS = ("model", "recipe", "old", "new", "a", "b", "models")  # where a person types a model's name


def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    """(the parser, {verb: handler})."""
    parser = OneLineParser(prog="python -m mnist_core", description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    handlers = {}
    for module in (model_verbs, run_verbs, sweep_verbs, export_verbs):
        handlers.update(module.add_verbs(verbs))
    return parser, handlers


def renamed(args: argparse.Namespace) -> None:
    """Old write-up model names (seed004) typed on the command line: one notice each, then the new name."""
    for key in NAMED_ARGUMENTS:
        value = getattr(args, key, None)
        names = value if isinstance(value, list) else [value]
        for name in names:
            if isinstance(name, str) and (notice := rename_notice(name)):
                print(notice, file=sys.stderr)
        if isinstance(value, list):
            setattr(args, key, [current_name(name) for name in value])
        elif isinstance(value, str):
            setattr(args, key, current_name(value))


def main(argv: list[str] | None = None) -> int:
    parser, handlers = build_parser()
    args = parser.parse_args(argv)
    renamed(args)
    try:
        lab_mode()  # a misspelt mode is refused here; elsewhere it reads as demo
        check_runs_folder()
        check_verb(args.verb, vars(args))
        return handlers[args.verb](args)
    except EXPECTED_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
