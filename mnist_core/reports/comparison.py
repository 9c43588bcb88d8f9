"""Two trained models side by side: which trained model a name means, their seed studies, and how
sure "what changed" between them is (the `changes` verb and the Compare page's "What changed").

The arithmetic is analysis.significance's; what changed is analysis.changes'; the test-set
predictions come from store.derived. This module names things and reads the seed studies
(`checkpoints/<stem>_seeds.json`, written by perf.seeds' reports).
"""
from __future__ import annotations

from ..analysis.changes import Changes
from ..analysis.significance import (
    ALPHA,
    MCNEMAR_TEST,
    SEED_TEST,
    mcnemar_p_value,
    mcnemar_sentence,
    seed_sentence,
    welch_interval,
)
from ..store.records import Record
from ..store.runs import RunNotFoundError, get_run, trained_models, usable_record
from .studies import seeds_file


def find_trained(name: str, records: list[Record] | None = None) -> Record:
    """The trained model `name` means: a checkpoint's stem, a finished run's name, or Compare's key
    for a run ("run:<name>"); a checkpoint wins over a run of the same name. RunNotFoundError
    (one line: why the run of that name cannot be used, or the checkpoints' names) when none has it."""
    if records is None:
        records = trained_models(include_runs=True)[0]
    by_key = {record.key: record for record in records}
    for key in (name, f"run:{name}"):
        if key in by_key:
            return by_key[key]
    try:
        run = get_run(name.removeprefix("run:"))
    except RunNotFoundError:
        run = None
    if run is not None and (why_not := usable_record(run)[1]) is not None:
        raise RunNotFoundError(f"run {run.name!r} cannot be used: {why_not}")
    checkpoints = ", ".join(sorted(record.key for record in records if record.kind != "run"))
    raise RunNotFoundError(f"no checkpoint or finished run named {name!r} (checkpoints: {checkpoints}; "
                           f"runs: see `python -m mnist_core runs`)")


def seed_finals(record: Record) -> list[float] | None:
    """Final test accuracies (%) of the seed study beside a checkpoint (<stem>_seeds.json, for
    the same model), or None: runs have none, and an unreadable file counts as none."""
    study = seeds_file(record)
    return [float(seed["final_test_acc"]) for seed in study["seeds"]] if study is not None else None


def significance(changes: Changes, old: Record, new: Record) -> dict:
    """What changed from `old` to `new` and how sure it is: fixed, broke, old_acc, new_acc (%),
    the exact McNemar p_value and its sentence; with a seed study on both sides also seed_diff
    (points, new - old mean final test accuracy), seed_ci (95% Welch interval) and its sentence."""
    fixed, broke = len(changes.fixed), len(changes.broken)
    p_value = mcnemar_p_value(fixed, broke)
    result = {"old": old.key, "new": new.key, "fixed": fixed, "broke": broke,
              "old_acc": changes.old_accuracy, "new_acc": changes.new_accuracy, "test": MCNEMAR_TEST,
              "p_value": p_value, "significant": p_value < ALPHA,
              "sentence": mcnemar_sentence(fixed, broke, p_value, old.key, new.key)}
    old_seeds, new_seeds = seed_finals(old), seed_finals(new)
    interval = welch_interval(old_seeds, new_seeds) if old_seeds and new_seeds else None
    if interval is not None:
        result.update(seed_test=SEED_TEST, seed_diff=interval["difference"],
                      seed_ci=[interval["low"], interval["high"]], seed_df=interval["df"],
                      seed_counts=interval["counts"], seed_sentence=seed_sentence(interval, old.key, new.key))
    return result
