"""Sweeps as tables: the studies in a runs folder or in a storage URL (a database or journal that
workers on other machines share), a study's trials as rows with their per-epoch curves, its
best-so-far series, the varied settings on 0-1 axes (for parallel coordinates) and which settings
mattered most.

Read-only: studies are opened from their journal files (`lab.sweep` writes them) or through
`lab.storage_check.readable_storage` (which creates nothing), and nothing here trains or draws;
the Compare and Train pages turn these rows into Altair charts. Optuna is imported inside
functions, so `import mnist_core` stays fast.
"""
from __future__ import annotations

import math
import warnings
from pathlib import Path

from ..lab.storage_check import readable_storage, safe_url
from ..lab.sweep import study_summary, trial_row
from ..lab.sweep_results import ARCHIVE_ATTR
from ..lab.sweep_storage import SWEEPS_FOLDER
from ..store.runs import runs_dir

JOURNAL = ".journal"
MIN_COMPLETE = 2  # Optuna's importances need this many complete trials


class StudyNotFoundError(FileNotFoundError):
    """No journal of that study in the runs folder; the message lists the studies there."""


def _sweeps_folder(directory: Path | None) -> Path:
    return (Path(directory) if directory is not None else runs_dir()) / SWEEPS_FOLDER


def list_studies(directory: Path | None = None, storage: str | None = None) -> list[str]:
    """The studies swept into this runs folder (its default journal files), newest first; or, given
    a storage URL, every study in it (StorageError, one line, when it cannot be read)."""
    if storage is not None:
        import optuna

        return sorted(optuna.get_all_study_names(storage=readable_storage(storage)))
    folder = _sweeps_folder(directory)
    journals = [path for path in folder.glob(f"*{JOURNAL}") if path.is_file()] if folder.is_dir() else []
    return [path.name.removesuffix(JOURNAL) for path in sorted(journals, key=lambda p: -p.stat().st_mtime)]


def study_stamp(study: str, directory: Path | None = None) -> tuple:
    """(size, modification time) of the study's journal: changes whenever a worker writes to it
    (what a cache of `sweep_report` is keyed on); () when there is none."""
    try:
        info = (_sweeps_folder(directory) / f"{study}{JOURNAL}").stat()
    except OSError:
        return ()
    return info.st_size, info.st_mtime_ns


def load_study(study: str, directory: Path | None = None, storage: str | None = None):
    """The Optuna study from <runs>/.sweeps/<study>.journal, or from the storage URL `storage`
    (reading only)."""
    import optuna
    from optuna.storages.journal import JournalFileBackend

    if storage is not None:
        try:
            return optuna.load_study(study_name=study, storage=readable_storage(storage))
        except KeyError:
            raise StudyNotFoundError(f"no study {study!r} in {safe_url(storage)}") from None
    path = _sweeps_folder(directory) / f"{study}{JOURNAL}"
    if not path.is_file():
        known = ", ".join(list_studies(directory)) or "none"
        raise StudyNotFoundError(f"no study {study!r} in {path.parent} (studies: {known})")
    storage = optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    return optuna.load_study(study_name=study, storage=storage)


def best_so_far(rows: list[dict]) -> list[dict]:
    """Trials with a validation accuracy, in trial order, each with the best complete trial's
    accuracy up to it (what the study would hand back if it stopped there; None before any)."""
    series, best = [], None
    for row in sorted(rows, key=lambda row: row["number"]):
        if row["val_acc"] is None or not math.isfinite(row["val_acc"]):
            continue
        if row["state"] == "complete":
            best = row["val_acc"] if best is None else max(best, row["val_acc"])
        series.append({"trial": row["number"], "state": row["state"], "val_acc": row["val_acc"], "best": best})
    return series


def axis_position(value, bounds: dict | None, seen: list) -> float:
    """`value` on its axis, 0..1: a range from its low to its high end (log-scaled when the search
    was), choices by their order; without the space's bounds, between the values seen."""
    if bounds is not None and "choices" in bounds:
        choices = list(bounds["choices"])
        return choices.index(value) / (len(choices) - 1) if len(choices) > 1 and value in choices else 0.5
    if bounds is not None:
        low, high, log = bounds["low"], bounds["high"], bounds.get("log", False)
    else:
        numbers = [item for item in seen if isinstance(item, (int, float)) and not isinstance(item, bool)]
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not numbers:
            ordered = sorted(set(map(str, seen)))
            return ordered.index(str(value)) / (len(ordered) - 1) if len(ordered) > 1 else 0.5
        low, high, log = min(numbers), max(numbers), False
    if high == low:
        return 0.5
    if log and low > 0 and value > 0:
        return (math.log(value) - math.log(low)) / (math.log(high) - math.log(low))
    return (value - low) / (high - low)


def parallel_coordinates(rows: list[dict], space: dict | None) -> list[dict]:
    """One row per (trial, setting): the value, its 0..1 position on the setting's axis, and the
    trial's validation accuracy. The axes are the study's space (what it varied), in its order."""
    scored = [row for row in rows if row["val_acc"] is not None and math.isfinite(row["val_acc"]) and row["params"]]
    names = list(space) if space else list(dict.fromkeys(name for row in scored for name in row["params"]))
    points = []
    for name in names:
        seen = [row["params"][name] for row in scored if name in row["params"]]
        for row in scored:
            if name in row["params"]:
                value = row["params"][name]
                points.append({"trial": row["number"], "state": row["state"], "setting": name, "value": value,
                               "position": axis_position(value, (space or {}).get(name), seen),
                               "val_acc": row["val_acc"]})
    return points


def _label(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def axis_ends(rows: list[dict], space: dict | None) -> list[dict]:
    """Each axis of `parallel_coordinates` with what its 0 and its 1 stand for (labels)."""
    names = list(space) if space else list(dict.fromkeys(name for row in rows for name in row["params"]))
    ends = []
    for name in names:
        bounds = (space or {}).get(name)
        if bounds is not None and "choices" in bounds:
            low, high = bounds["choices"][0], bounds["choices"][-1]
        elif bounds is not None:
            low, high = bounds["low"], bounds["high"]
        else:
            seen = sorted((row["params"][name] for row in rows if name in row["params"]), key=str)
            low, high = (seen[0], seen[-1]) if seen else ("", "")
        log = bool(bounds and bounds.get("log"))
        ends.append({"setting": name, "low": _label(low) + (" (log)" if log else ""), "high": _label(high)})
    return ends


def importances(study) -> tuple[dict[str, float], str]:
    """(setting -> importance summing to 1, most important first; a note). Optuna's default
    evaluator (PED-ANOVA in 5.1: no scikit-learn needed) on the complete trials. With fewer than
    two complete trials, all of them equal, or too few to tell the best apart: {} and why."""
    import optuna
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < MIN_COMPLETE:
        return {}, (f"Importances need at least {MIN_COMPLETE} complete trials; this study has {len(complete)} "
                    "so far.")
    if len({trial.value for trial in complete}) == 1:
        return {}, (f"All {len(complete)} complete trials reached the same validation accuracy "
                    f"({complete[0].value:.2f}%): no setting made a difference to rank.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ranked = optuna.importance.get_param_importances(study)
    if any("same set of trials" in str(warning.message) for warning in caught):
        return {}, (f"{len(complete)} complete trials are too few to tell which settings matter "
                    "(every setting comes out equal); run more trials.")
    return dict(ranked), (
        f"Optuna's importances (PED-ANOVA) over {len(complete)} complete trials: how much "
        "each setting's values among the best trials differ from its values over all, as shares of 1."
    )


def trial_curves(study) -> list[dict]:
    """Every trial's accuracy per epoch: [{trial, state, epoch, split, accuracy}], train and
    validation from the curves the trial kept (`history`, lab.sweep_results), or the validation
    accuracies it reported to the pruner for trials that kept none."""
    rows = []
    for trial in study.get_trials(deepcopy=False):
        state = trial_row(trial)["state"]
        history = trial.user_attrs.get("history")
        if isinstance(history, list) and history:
            for row in history:
                if not isinstance(row, dict) or row.get("partial") or "epoch" not in row:
                    continue
                for split, key in (("train", "train_acc"), ("validation", "val_acc")):
                    value = row.get(key)
                    if isinstance(value, (int, float)) and math.isfinite(value):
                        rows.append({"trial": trial.number, "state": state, "epoch": row["epoch"], "split": split,
                                     "accuracy": value})
            continue
        for epoch, value in sorted(trial.intermediate_values.items()):
            if math.isfinite(value):
                rows.append({"trial": trial.number, "state": state, "epoch": epoch, "split": "validation",
                             "accuracy": value})
    return rows


def sweep_report(study: str, directory: Path | None = None, storage: str | None = None) -> dict:
    """Everything the Compare page shows of a study, from one read of its storage: `study_summary`
    (trials, best, settings) plus each trial's curves, best_so_far, parallel (coordinates) and its
    axes, importances and their note, and which trials kept a run that can be imported."""
    loaded = load_study(study, directory, storage)
    summary = study_summary(loaded, storage or str(_sweeps_folder(directory) / f"{study}{JOURNAL}"))
    space = (summary["settings"] or {}).get("space")
    ranked, note = importances(loaded)
    importable = [trial.number for trial in loaded.get_trials(deepcopy=False) if ARCHIVE_ATTR in trial.user_attrs]
    return {**summary, "curves": trial_curves(loaded), "importable": importable,
            "best_so_far": best_so_far(summary["trials"]),
            "parallel": parallel_coordinates(summary["trials"], space), "axes": axis_ends(summary["trials"], space),
            "importances": ranked,
            "importance_note": note}


def sweep_progress(study: str, trials: int, directory: Path | None = None) -> dict:
    """How far a sweep of `trials` trials is: trials ended (complete, pruned or failed), running,
    and the best complete trial so far (None before one); zeros before its journal exists."""
    try:
        rows = study_summary(load_study(study, directory))["trials"]
    except (StudyNotFoundError, KeyError):  # the child has not written its journal yet
        rows = []
    ended = [row for row in rows if row["state"] in ("complete", "pruned", "failed")]
    complete = [row for row in rows if row["state"] == "complete" and row["val_acc"] is not None]
    best = max(complete, key=lambda row: row["val_acc"]) if complete else None
    return {"study": study, "trials": trials, "ended": len(ended),
            "running": sum(row["state"] == "running" for row in rows),
            "best_val_acc": None if best is None else best["val_acc"],
            "best_trial": None if best is None else best["number"], "best_run": None if best is None else best["run"]}
