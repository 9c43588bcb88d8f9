"""Tables generated from checkpoints/*.json (never typed by hand), and the README block they fill."""
from __future__ import annotations

import re
from pathlib import Path

from ..models import UnknownModelError, model_info
from ..store.records import Record
from ..store.shipped import CHECKPOINT_DIR, list_checkpoints
from .studies import shipped_study_groups

START, END = "<!-- reproduction-table:start -->", "<!-- reproduction-table:end -->"


def fmt_percent(value) -> str:
    return "–" if value is None else f"{value:.2f}%"


def seeds_cell(record: Record) -> str:
    """Mean ± sample sd of the final test accuracy over the checkpoint's seeds file, or "–"."""
    groups = shipped_study_groups([record])
    if not groups:
        return "–"
    mean, sd = groups[0].stat("final_test_acc")
    count = "" if len(groups[0].seeds) == 3 else f" ({len(groups[0].seeds)} seeds)"
    return f"{mean:.2f} ± {sd:.2f}%{count}"


def reproduction_table(records: list[Record]) -> str:
    """Markdown: reported (and on what) vs our final-epoch and best-epoch test accuracy."""
    lines = ["| model | write-up | params | size | reported | reported on | our final test | mean ± sd (3 seeds) "
             "| our best test (epoch) | our train-set acc | epochs | wall time |",
             "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    for record in sorted(records, key=lambda r: (r.source, r.name)):
        summary = record.summary
        if summary is None or record.kind != "shipped":
            continue  # the table compares the write-ups' claims with our shipped reproductions
        try:
            info = model_info(record.model)
            reported, reported_on = info.reported_accuracy, info.reported_on
        except UnknownModelError:
            reported, reported_on = None, "(model no longer registered)"
        lines.append(
            f"| `{record.name}` | {record.source} | {record.params or 0:,} | "
            f"{(record.size_bytes or 0) / 1024:.0f} KiB | {fmt_percent(reported)} | "
            f"{reported_on} | **{summary.final_test_acc:.2f}%** | {seeds_cell(record)} | "
            f"{summary.best_test_acc:.2f}% ({summary.best_test_epoch}) | "
            f"{fmt_percent(summary.final_train_set_acc)} | {summary.epochs} | {summary.wall_seconds:.0f} s |")
    return "\n".join(lines)


def update_readme(readme: Path, directory: Path = CHECKPOINT_DIR) -> bool:
    """Replace the block between the markers; True when the file changed."""
    text = readme.read_text()
    if START not in text or END not in text:
        raise ValueError(f"{readme} has no {START} ... {END} block")
    table = reproduction_table(list_checkpoints(directory)[0])
    updated = re.sub(re.escape(START) + ".*?" + re.escape(END), f"{START}\n{table}\n{END}", text, flags=re.S)
    if updated != text:
        readme.write_text(updated)
    return updated != text
