"""Runs that travel: a run folder as one zip file (`export_run`), and back into a runs folder
(`import_run`), checked as strictly as a checkpoint load.

The archive holds the run's record files (config.json, status.json, metrics.jsonl, batches.jsonl,
samples.jsonl), its weights (model.pt) when it has any, and manifest.json: the format, the run's
name and every file's size and SHA-256. Import refuses, in one line and before anything is
written: a file that is not a zip or is cut short, a member outside that list (absolute paths,
`..`, folders, symlinks), a member larger than the manifest says or than MAX_MEMBER_BYTES, a
compression ratio no real run has (a zip bomb), a hash that does not match, JSON that does not
parse, settings that do not validate, a run that still says "running", and weights that are
pickled, for another model or of the wrong shapes. The run is unpacked under a hidden name in the
runs folder and renamed into place, so a reader never sees half of it; a name that is taken is
refused unless the import is given a new one.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import tempfile
import time
import zipfile
from pathlib import Path

from ..training.config import ConfigError, TrainConfig
from .checkpoint import CheckpointError, load_checkpoint
from .runs import (
    BATCHES,
    CONFIG,
    EPOCHS,
    SAMPLES,
    STATUS,
    WEIGHTS,
    Run,
    RunError,
    get_run,
    read_run,
    runs_dir,
    sanitize_name,
)

FORMAT = "mnist_core.run/1"
MANIFEST = "manifest.json"
MEMBERS = (CONFIG, STATUS, EPOCHS, BATCHES, SAMPLES, WEIGHTS)  # what a run is; logs stay behind
REQUIRED = (CONFIG, STATUS)
MAX_MEMBER_BYTES = 64 * 2**20  # our largest weights are ~0.8 MiB; a run's JSON lines a few MiB
MAX_RATIO = 200  # uncompressed / compressed: JSON lines compress ~10x, weights barely; a bomb ~1000x
IMPORTABLE = ("finished", "stopped", "failed", "interrupted")


class ArchiveError(RunError):
    """A run archive cannot be written or read; the message says which file and why, in one line."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def export_run(name: str, out: Path | str, directory: Path | None = None) -> Path:
    """Write run `name` as one zip file at `out` (atomically: a temporary file, then a rename).
    A run still training is refused: its files are changing."""
    run = get_run(name, directory)
    if run.status == "running":
        raise ArchiveError(f"run {name!r} is training; export it once it has finished or been stopped")
    if run.status == "damaged":
        raise ArchiveError(f"run {name!r} is damaged ({run.reason}); there is nothing sound to export")
    files = {member: (run.folder / member).read_bytes() for member in MEMBERS if (run.folder / member).is_file()}
    manifest = {"format": FORMAT, "name": run.name, "exported_at": time.time(),
                "files": {member: {"bytes": len(data), "sha256": _sha256(data)} for member, data in files.items()}}
    out = Path(out)
    if out.is_dir():
        raise ArchiveError(f"cannot write {out}: it is a folder (give a file name, e.g. {out / (name + '.zip')})")
    out.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(descriptor)
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST, json.dumps(manifest, indent=1))
            for member, data in files.items():
                archive.writestr(member, data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, out)
    except OSError as error:
        raise ArchiveError(f"cannot write {out}: {error.strerror or error}") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return out


def export_bytes(name: str, directory: Path | None = None) -> bytes:
    """The archive of run `name` as bytes (what a Download button serves)."""
    with tempfile.TemporaryDirectory() as scratch:
        return export_run(name, Path(scratch) / f"{name}.zip", directory).read_bytes()


def read_archive(source: Path | str | bytes) -> tuple[dict, dict[str, bytes]]:
    """(manifest, {member: bytes}) of a run archive, every check above done; ArchiveError otherwise.
    Nothing is written anywhere."""
    label = "the upload" if isinstance(source, bytes) else str(source)
    try:
        archive = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except FileNotFoundError:
        raise ArchiveError(f"{label}: no such file") from None
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ArchiveError(f"{label}: not a run archive (not a readable zip file: {error})") from None
    with archive:
        infos = archive.infolist()
        _check_members(infos, label)
        try:
            manifest = json.loads(archive.read(MANIFEST))
        except KeyError:
            raise ArchiveError(f"{label}: not a run archive (no {MANIFEST}; export one with `runs export`)") from None
        except (ValueError, zipfile.BadZipFile, OSError, EOFError) as error:
            raise ArchiveError(f"{label}: {MANIFEST} is damaged ({type(error).__name__})") from None
        listed = _check_manifest(manifest, infos, label)
        files = {}
        for info in infos:
            if info.filename == MANIFEST:
                continue
            try:
                data = _read_limited(archive, info, listed[info.filename]["bytes"])
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:  # cut short, bad CRC
                raise ArchiveError(f"{label}: {info.filename} is damaged or cut short "
                                   f"({type(error).__name__})") from None
            if _sha256(data) != listed[info.filename]["sha256"]:
                raise ArchiveError(f"{label}: {info.filename} does not match its hash in {MANIFEST} "
                                   f"(changed or damaged)")
            files[info.filename] = data
    missing = [member for member in listed if member not in files]
    if missing:
        raise ArchiveError(f"{label}: {', '.join(missing)} listed in {MANIFEST} but not in the archive")
    return manifest, files


def _check_members(infos: list[zipfile.ZipInfo], label: str) -> None:
    seen = set()
    for info in infos:
        name = info.filename
        if name.startswith(("/", "\\")) or ":" in name or "\\" in name or ".." in name.split("/"):
            raise ArchiveError(f"{label}: refused: member {name!r} points outside the run folder")
        mode = info.external_attr >> 16
        if info.is_dir() or "/" in name or (stat.S_IFMT(mode) and not stat.S_ISREG(mode)):  # links, devices
            raise ArchiveError(f"{label}: refused: member {name!r} is not a plain file of a run")
        if name != MANIFEST and name not in MEMBERS:
            raise ArchiveError(f"{label}: refused: unexpected member {name!r} (a run archive holds "
                               f"{', '.join((MANIFEST, *MEMBERS))})")
        if name in seen:
            raise ArchiveError(f"{label}: refused: member {name!r} appears twice")
        seen.add(name)
        if info.file_size > MAX_MEMBER_BYTES:
            raise ArchiveError(f"{label}: refused: {name} would unpack to {info.file_size:,} bytes "
                               f"(at most {MAX_MEMBER_BYTES:,})")
        if info.file_size > 2**20 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ArchiveError(f"{label}: refused: {name} is compressed {info.file_size // max(info.compress_size, 1)}"
                               f" to 1 (a zip bomb?)")


def _check_manifest(manifest, infos: list[zipfile.ZipInfo], label: str) -> dict:
    listed = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(listed, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError(f"{label}: {MANIFEST} is not a {FORMAT} manifest")
    for member, entry in listed.items():
        if member not in MEMBERS or not isinstance(entry, dict) or not isinstance(entry.get("bytes"), int) \
                or not isinstance(entry.get("sha256"), str):
            raise ArchiveError(f"{label}: {MANIFEST} lists {member!r} malformed")
    for info in infos:
        if info.filename != MANIFEST and info.filename not in listed:
            raise ArchiveError(f"{label}: {info.filename} is not listed in {MANIFEST}")
        if info.filename in listed and info.file_size != listed[info.filename]["bytes"]:
            raise ArchiveError(f"{label}: {info.filename} is {info.file_size:,} bytes, its manifest says "
                               f"{listed[info.filename]['bytes']:,}")
    for member in REQUIRED:
        if member not in listed:
            raise ArchiveError(f"{label}: the archive has no {member}: not a run")
    return listed


def _read_limited(archive: zipfile.ZipFile, info: zipfile.ZipInfo, expected: int) -> bytes:
    """The member's bytes, never more than it declared (a lying header cannot inflate past it)."""
    with archive.open(info) as member:
        data = member.read(expected + 1)
    if len(data) != expected:
        raise ValueError(f"{len(data)} bytes, {expected} expected")
    return data


def check_run_files(files: dict[str, bytes], label: str) -> dict:
    """The run's config, status and weights checked as the lab would use them; returns the config."""
    values = {}
    for member in (CONFIG, STATUS):
        try:
            values[member] = json.loads(files[member])
        except ValueError:
            raise ArchiveError(f"{label}: {member} is not valid JSON") from None
        if not isinstance(values[member], dict):
            raise ArchiveError(f"{label}: {member} is not a JSON object")
    try:
        config = TrainConfig.from_dict(values[CONFIG])
    except (ConfigError, TypeError) as error:
        raise ArchiveError(f"{label}: its settings do not validate: {error}") from None
    status = values[STATUS].get("status")
    if status not in IMPORTABLE:
        raise ArchiveError(f"{label}: a run whose status is {status!r} cannot be imported "
                           f"(only {', '.join(IMPORTABLE)} runs travel)")
    for member in (EPOCHS, BATCHES, SAMPLES):
        for number, line in enumerate(files.get(member, b"").decode("utf-8", "replace").splitlines(), 1):
            try:
                row = json.loads(line)
            except ValueError:
                raise ArchiveError(f"{label}: {member} line {number} is not valid JSON") from None
            if not isinstance(row, dict):
                raise ArchiveError(f"{label}: {member} line {number} is not a JSON object")
    if WEIGHTS in files:
        _check_weights(files[WEIGHTS], config, label)
    return values[CONFIG]


def _check_weights(data: bytes, config: TrainConfig, label: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / WEIGHTS
        path.write_bytes(data)
        try:
            checkpoint = load_checkpoint(path)  # weights_only; names, shapes and finite values checked
        except CheckpointError as error:
            raise ArchiveError(f"{label}: its weights are refused: {str(error).replace(str(path), WEIGHTS)}") from None
    if checkpoint.model_name != config.model:
        raise ArchiveError(f"{label}: its weights are for {checkpoint.model_name!r}, its settings say {config.model!r}")


def import_run(source: Path | str | bytes, directory: Path | None = None, name: str | None = None) -> Run:
    """Unpack a run archive into the runs folder as run `name` (default: the name it was exported
    under). Every check is made before anything is written; a taken name is refused."""
    label = "the upload" if isinstance(source, bytes) else str(source)
    manifest, files = read_archive(source)
    check_run_files(files, label)
    try:
        wanted = sanitize_name(name or str(manifest.get("name") or ""))
    except ValueError as error:
        raise ArchiveError(f"{label}: {error}") from None
    directory = Path(directory) if directory is not None else runs_dir()
    if (directory / wanted).exists():
        raise ArchiveError(f"a run named {wanted!r} already exists in {directory}; import it under another name "
                           f"(runs import FILE --as NEW-NAME)")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".import-", dir=directory))
    except OSError as error:
        raise ArchiveError(f"cannot write into {directory}: {error.strerror or error}") from None
    try:
        for member, data in files.items():
            (staging / member).write_bytes(data)
        os.rename(staging, directory / wanted)  # atomic; refuses a name taken meanwhile
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        if (directory / wanted).exists():
            raise ArchiveError(f"a run named {wanted!r} appeared in {directory} meanwhile; "
                               f"nothing was imported") from None
        raise ArchiveError(f"cannot write into {directory}: {error.strerror or error}") from None
    return read_run(directory / wanted)
