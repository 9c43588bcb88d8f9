"""What every verb module shares: the one-line usage errors, strict JSON output, argument types,
and reading a network spec."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..store.records import json_safe
from ..training.config import ConfigError


class OneLineParser(argparse.ArgumentParser):
    """Usage mistakes exit 2 with one line on stderr, like every other expected error."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def print_json(value, indent: int | None = None) -> None:
    """Strict JSON on stdout: NaN / infinity become null, never bare NaN."""
    print(json.dumps(json_safe(value), indent=indent, allow_nan=False))


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def read_spec(path: Path) -> dict:
    from ..models.spec import SpecError, spec_layers

    try:
        spec = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"spec not found: {path}") from None
    except (OSError, ValueError) as error:
        raise ConfigError(f"spec {path}: not readable JSON ({error})") from None
    try:
        spec_layers(spec)
    except SpecError as error:
        raise ConfigError(f"spec {path}: {error}") from None
    return spec
