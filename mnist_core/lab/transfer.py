"""Runs between machines, with the lab's rules: `runs export` / `runs import` and the All runs
table's Download / Upload (store/run_archive.py does the packing and every check). A demo
deployment refuses both: an export writes outside the runs folder, an upload brings a stranger's
files in.
"""
from __future__ import annotations

from pathlib import Path

from ..store.run_archive import export_bytes, export_run, import_run
from ..store.runs import Run
from .mode import refuse_in_demo


def export_to_file(name: str, out: Path | str, directory: Path | None = None) -> Path:
    refuse_in_demo("Exporting runs")
    return export_run(name, out, directory)


def download(name: str, directory: Path | None = None) -> bytes:
    refuse_in_demo("Downloading runs")
    return export_bytes(name, directory)


def import_archive(source: Path | str | bytes, directory: Path | None = None, name: str | None = None) -> Run:
    refuse_in_demo("Importing runs")
    return import_run(source, directory, name)
