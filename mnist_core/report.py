"""Tables generated from checkpoints/*.json (never typed by hand), and the README block they fill."""
from __future__ import annotations

import re
from pathlib import Path

from .pretrained import CHECKPOINT_DIR, read_records

START, END = "<!-- reproduction-table:start -->", "<!-- reproduction-table:end -->"


def fmt_percent(value) -> str:
    return "–" if value is None else f"{value:.2f}%"


def reproduction_table(records: list[dict]) -> str:
    """Markdown: reported (and on what) vs our final-epoch and best-epoch test accuracy."""
    lines = ["| model | write-up | params | size | reported | reported on | our final test | our best test (epoch) "
             "| our train-set acc | epochs | wall time |",
             "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    for record in sorted(records, key=lambda r: (r["source"], r["stem"])):
        summary = record["summary"]
        lines.append(
            f"| `{record['stem']}` | {record['source']} | {record['params']:,} | "
            f"{record['size_bytes'] / 1024:.0f} KiB | {fmt_percent(record['reported_accuracy'])} | "
            f"{record['reported_on']} | **{summary['final_test_acc']:.2f}%** | "
            f"{summary['best_test_acc']:.2f}% ({summary['best_test_epoch']}) | "
            f"{summary['final_train_set_acc']:.2f}% | {summary['epochs']} | {summary['wall_seconds']:.0f} s |")
    return "\n".join(lines)


def update_readme(readme: Path, directory: Path = CHECKPOINT_DIR) -> bool:
    """Replace the block between the markers; True when the file changed."""
    text = readme.read_text()
    if START not in text or END not in text:
        raise ValueError(f"{readme} has no {START} ... {END} block")
    table = reproduction_table(read_records(directory))
    updated = re.sub(re.escape(START) + ".*?" + re.escape(END), f"{START}\n{table}\n{END}", text, flags=re.S)
    if updated != text:
        readme.write_text(updated)
    return updated != text
