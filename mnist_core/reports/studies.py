"""Seed studies on Compare: the runs that share a `study` tag (`python -m mnist_core study`, the
Train page's seeds), grouped: mean ± sd of the final test and validation accuracy with every seed,
and the mean curve with its min–max band. Sweep trials share a tag too but are not seeds of one
recipe: they are left to reports.sweeps.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from ..store.records import Record


@dataclass
class StudyGroup:
    study: str
    model: str
    seeds: list[dict]  # {"run", "seed", "final_test_acc", "final_val_acc"} per finished run

    def stat(self, key: str) -> tuple[float, float]:
        """(mean, sample sd) of `key` over the seeds that have it (sd 0 for one seed)."""
        values = [row[key] for row in self.seeds if isinstance(row[key], float) and math.isfinite(row[key])]
        if not values:
            return math.nan, math.nan
        return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def study_of(record: Record) -> str | None:
    extra = (record.config or {}).get("extra") or {}
    if "trial" in extra:  # a sweep's trial
        return None
    return extra.get("study")


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
                            "final_val_acc": record.summary.final_val_acc})
    for group in groups.values():
        group.seeds.sort(key=lambda row: (row["seed"] is None, row["seed"]))
    return sorted(groups.values(), key=lambda group: group.study)


def mean_band(records: list[Record], metric: str = "test_acc") -> list[dict]:
    """Per epoch: the mean of `metric` over the records that reached it, and its min and max."""
    by_epoch: dict[int, list[float]] = {}
    for record in records:
        for row in record.history:
            value = row.get(metric)
            if not row.get("partial") and isinstance(value, float) and math.isfinite(value):
                by_epoch.setdefault(row["epoch"], []).append(value)
    return [{"epoch": epoch, "mean": statistics.mean(values), "low": min(values), "high": max(values),
             "runs": len(values)} for epoch, values in sorted(by_epoch.items())]
