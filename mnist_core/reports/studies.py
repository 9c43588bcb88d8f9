"""Seed studies on Compare: the runs that share a `seed_study` tag (`python -m mnist_core study`,
the Train page's seeds), grouped: mean ± sd of the final test and validation accuracy with every
seed, and the mean curve with its min–max band. Sweep trials carry their own tag (`sweep`) and are
left to reports.sweeps. A shipped checkpoint's seeds file
(`checkpoints/<stem>_seeds.json`: seed 1 is the shipped run; written by `python -m scripts.seeds`)
is a study too.
"""
from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path

from ..store.records import Record
from ..store.runs import run_tags


@dataclass
class StudyGroup:
    study: str
    model: str
    seeds: list[dict]  # {"run", "seed", "final_test_acc", "final_val_acc", "history"} per seed
    source: str = "runs"  # or the seeds file a shipped checkpoint's study comes from

    def stat(self, key: str) -> tuple[float, float]:
        """(mean, sample sd) of `key` over the seeds that have it (sd 0 for one seed)."""
        values = [row[key] for row in self.seeds if isinstance(row[key], float) and math.isfinite(row[key])]
        if not values:
            return math.nan, math.nan
        return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def study_of(record: Record) -> str | None:
    """The seed study `record` belongs to, or None (a sweep's trial is none)."""
    return run_tags(record.config or {})[1]


def study_groups(records: dict[str, Record]) -> list[StudyGroup]:
    """Every seed study among `records` (finished runs with a summary), by study name."""
    groups: dict[str, StudyGroup] = {}
    for record in records.values():
        study = study_of(record)
        if study is None or record.summary is None or record.status != "finished":
            continue
        group = groups.setdefault(study, StudyGroup(study, record.model, []))
        group.seeds.append({"run": record.key, "seed": record.config.get("seed"),
                            "final_test_acc": record.summary.final_test_acc,
                            "final_val_acc": record.summary.final_val_acc, "history": record.history})
    for group in groups.values():
        group.seeds.sort(key=lambda row: (row["seed"] is None, row["seed"]))
    return sorted(groups.values(), key=lambda group: group.study)


def seeds_file(record: Record) -> dict | None:
    """The seeds report beside a checkpoint (<stem>_seeds.json, for the same model), or None: runs
    have none, and an unreadable or malformed file counts as none."""
    if record.kind == "run" or record.weights_path is None:
        return None
    path = Path(record.weights_path).with_name(f"{record.name}_seeds.json")
    try:
        study = json.loads(path.read_text())
        finals = [float(seed["final_test_acc"]) for seed in study["seeds"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if study.get("model") != record.model or not finals:
        return None
    return study


def shipped_study_groups(records: list[Record]) -> list[StudyGroup]:
    """The seeds files of these checkpoints as study groups (study: the checkpoint's key)."""
    groups = []
    for record in records:
        study = seeds_file(record)
        if study is None:
            continue
        seeds = [{"run": None, "seed": row.get("seed"), "final_test_acc": float(row["final_test_acc"]),
                  "final_val_acc": float(row["final_val_acc"]) if row.get("final_val_acc") is not None else math.nan,
                  "history": row.get("history") or []} for row in study["seeds"]]
        groups.append(StudyGroup(record.key, record.model, seeds, f"checkpoints/{record.name}_seeds.json"))
    return groups


def mean_band(histories: list[list[dict]], metric: str = "test_acc") -> list[dict]:
    """Per epoch: the mean of `metric` over the histories that reached it, and its min and max."""
    by_epoch: dict[int, list[float]] = {}
    for history in histories:
        for row in history:
            value = row.get(metric)
            if not row.get("partial") and isinstance(value, float) and math.isfinite(value):
                by_epoch.setdefault(row["epoch"], []).append(value)
    return [{"epoch": epoch, "mean": statistics.mean(values), "low": min(values), "high": max(values),
             "runs": len(values)} for epoch, values in sorted(by_epoch.items())]
