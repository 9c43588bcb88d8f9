"""The only code that reads or writes .pt files.

A checkpoint is a plain dict {format, state_dict, model, config, history, metrics, versions,
created_at}: saved atomically (temp file + rename) and loaded with `weights_only=True`, so a
pickled object is refused. Unknown model names and mismatched shapes are refused too.
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn as nn

from ..models import UnknownModelError, count_parameters
from .records import library_versions

FORMAT = "mnist_core.checkpoint/1"


class CheckpointError(RuntimeError):
    """A checkpoint cannot be used; the message says which file and why."""


@dataclass
class Checkpoint:
    model_name: str
    state_dict: dict
    config: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    created_at: str = ""
    path: Path | None = None

    def build_model(self) -> nn.Module:
        """The registered architecture with these weights, in eval mode."""
        from ..models.spec import SpecError, network
        try:
            model = network(self.model_name, self.config.get("spec"))
        except (UnknownModelError, SpecError) as error:
            raise CheckpointError(f"{self.path}: {error}") from None
        problem = state_dict_mismatch(model.state_dict(), self.state_dict)
        if problem:
            raise CheckpointError(f"{self.path}: weights do not fit model {self.model_name!r}: {problem}")
        model.load_state_dict(self.state_dict, strict=True)
        return model.eval()


def state_dict_mismatch(expected: dict, given: dict) -> str | None:
    """A one-line description of the first way `given` does not fit `expected`, or None."""
    missing = [key for key in expected if key not in given]
    unexpected = [key for key in given if key not in expected]
    if missing:
        return f"missing {_names(missing)}"
    if unexpected:
        return f"unexpected {_names(unexpected)}"
    for key, tensor in expected.items():
        value = given[key]
        if not isinstance(value, torch.Tensor):
            return f"{key} is a {type(value).__name__}, not a tensor"
        if tuple(value.shape) != tuple(tensor.shape):
            return f"{key} has shape {tuple(value.shape)}, the model expects {tuple(tensor.shape)}"
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            return f"{key} contains NaN or infinite values (a diverged run)"
    return None


def _names(keys: list[str]) -> str:
    shown = ", ".join(keys[:3])
    return f"{shown} (+{len(keys) - 3} more)" if len(keys) > 3 else shown


def save_checkpoint(path: Path | str, model: nn.Module, model_name: str, config: dict | None = None,
                    history: list | None = None, metrics: dict | None = None) -> Path:
    path = Path(path)
    state_dict = {key: value.detach().cpu().contiguous() for key, value in model.state_dict().items()}
    diverged = [key for key, value in state_dict.items()
                if value.is_floating_point() and not bool(torch.isfinite(value).all())]
    if diverged:
        raise CheckpointError(f"not saving {path}: {_names(diverged)} contain NaN or infinite values (a diverged run)")
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT, "model": model_name, "state_dict": state_dict,
        "config": config or {}, "history": history or [],
        "metrics": {"params": count_parameters(model), **(metrics or {})},
        "versions": library_versions(),
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(descriptor)
    try:
        torch.save(payload, temporary)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; checkpoints are shared files
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path


def load_checkpoint(path: Path | str) -> Checkpoint:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch raises many types for bad files
        if "weights_only" in str(error):
            reason = "it contains pickled Python objects, which are refused"
        else:
            first_line = (str(error).strip().splitlines() or [""])[0][:160]
            reason = f"the file is truncated or not a PyTorch checkpoint ({type(error).__name__}: {first_line})"
        raise CheckpointError(f"cannot load {path}: {reason}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"cannot load {path}: not an mnist_core checkpoint (format {FORMAT} expected)")
    for key, kind in (("model", str), ("state_dict", dict)):
        if not isinstance(payload.get(key), kind):
            found = "missing" if key not in payload else f"a {type(payload[key]).__name__}"
            raise CheckpointError(f"cannot load {path}: {key!r} must be a {kind.__name__}, found {found}")
    extras = {}
    for key, kind in (("config", dict), ("history", list), ("metrics", dict), ("versions", dict), ("created_at", str)):
        extras[key] = payload.get(key, kind())
        if not isinstance(extras[key], kind):
            raise CheckpointError(f"cannot load {path}: {key!r} must be a {kind.__name__}")
    checkpoint = Checkpoint(model_name=payload["model"], state_dict=payload["state_dict"], path=path, **extras)
    checkpoint.build_model()  # refuse unknown names, mismatched shapes and NaN weights now, not later
    return checkpoint


def load_model(path: Path | str) -> tuple[nn.Module, Checkpoint]:
    checkpoint = load_checkpoint(path)
    return checkpoint.build_model(), checkpoint


def check_output_path(path: Path | str) -> Path:
    """Refuse, before any training, a checkpoint path that cannot be written: an existing
    directory, a parent that is a file, a read-only or forbidden folder. Creates the parent
    folders and writes (then removes) a probe file there, which is what the real save will do."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"cannot write {path}: it is a directory (give a file name, e.g. {path / 'model.pt'})")
    for ancestor in path.parents:
        if ancestor.exists() and not ancestor.is_dir():
            raise CheckpointError(f"cannot write {path}: {ancestor} is a file, not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, probe = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(descriptor)
        os.unlink(probe)
    except OSError as error:
        raise CheckpointError(f"cannot write {path}: {error.strerror or error}") from None
    return path


def copy_checkpoint(source: Path | str, target: Path | str, overwrite: bool = True) -> Path:
    """Copy a checkpoint file atomically (temp file + rename). With overwrite=False an existing
    target is never replaced (FileExistsError), even if it appears during the copy."""
    source, target = Path(source), Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(descriptor)
    try:
        with open(source, "rb") as reader, open(temporary, "wb") as writer:
            while chunk := reader.read(1 << 20):
                writer.write(chunk)
        os.chmod(temporary, 0o644)
        if overwrite:
            os.replace(temporary, target)
        else:
            os.link(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return target
