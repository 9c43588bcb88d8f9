"""Architecture and recipe diff of two models (the `diff` verb and the Compare page's
"Architecture diff"): their layer tables (output shape, parameters and multiply-adds per layer),
the totals, and the training settings that differ.

A name is a trained model (a checkpoint's stem, a finished run, as reports.comparison finds it:
its network and the settings it was trained with) or a registered architecture (the registry's
network and its write-up's recipe). Layer tables are models.trace's; no weights are loaded.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..models import UnknownModelError, list_models
from ..models.spec import network
from ..models.trace import trace_layers
from ..store.records import Record
from ..store.runs import RunNotFoundError
from ..training.config import TrainConfig
from ..training.recipes import default_config
from .comparison import find_trained

NOT_SETTINGS = ("extra",)  # free-text notes, not something a run was trained with


@dataclass
class Described:
    """What the diff shows of one name: where it came from, its layer rows and its settings."""
    name: str
    source: str  # "shipped", "promoted", "run" (a trained model) or "registry"
    layers: list[dict]
    config: dict


def describe(name: str, records: list[Record] | None = None) -> Described:
    """A trained model's network and settings, else a registered architecture with its recipe;
    UnknownModelError (one line) when the name is neither."""
    try:
        record = find_trained(name, records)
    except RunNotFoundError:
        record = None
    if record is not None:
        model = network(record.model, record.config.get("spec"))
        return Described(record.key, record.kind, rows_of(model), record.config)
    if name not in list_models():
        raise UnknownModelError(f"{name!r} is neither a checkpoint, a finished run nor a registered model "
                                f"({', '.join(list_models())})")
    return Described(name, "registry", rows_of(network(name)), default_config(name).to_dict())


def rows_of(model) -> list[dict]:
    """Layer rows as plain JSON values (output shapes as lists)."""
    return [{**row, "output": list(row["output"])} for row in trace_layers(model)]


def settings(config: dict) -> dict:
    """Every TrainConfig field (a field an older record lacks has its default, as it trained
    with), then any field the record has that TrainConfig no longer knows."""
    defaults = {field.name: field.default for field in dataclasses.fields(TrainConfig)
                if field.default is not dataclasses.MISSING}
    values = {**defaults, **{key: config[key] for key in defaults if key in config},
              **{key: value for key, value in config.items() if key not in defaults}}
    return {key: value for key, value in values.items() if key not in NOT_SETTINGS}


def config_diff(config_a: dict, config_b: dict, everything: bool = False) -> list[dict]:
    """[{setting, a, b, differs}] for the settings that differ (every setting with everything)."""
    a, b = settings(config_a), settings(config_b)
    rows = [{"setting": key, "a": a.get(key), "b": b.get(key), "differs": a.get(key) != b.get(key)}
            for key in dict.fromkeys([*a, *b])]
    return rows if everything else [row for row in rows if row["differs"]]


def architecture_diff(name_a: str, name_b: str, everything: bool = False,
                      records: list[Record] | None = None) -> dict:
    """The two layer tables, their totals and the differing settings (JSON-ready): keys a, b,
    source_a, source_b, layers_a, layers_b, params_a, params_b, macs_a, macs_b, config_diff."""
    a, b = describe(name_a, records), describe(name_b, records)
    return {"a": a.name, "b": b.name, "source_a": a.source, "source_b": b.source,
            "layers_a": a.layers, "layers_b": b.layers,
            "params_a": sum(row["params"] for row in a.layers), "params_b": sum(row["params"] for row in b.layers),
            "macs_a": sum(row["macs"] for row in a.layers), "macs_b": sum(row["macs"] for row in b.layers),
            "config_diff": config_diff(a.config, b.config, everything)}


def change(old: int, new: int) -> str:
    """'10,970 -> 7,904 (-3,066, -27.9%)'."""
    percent = f", {100 * (new - old) / old:+.1f}%" if old else ""
    return f"{old:,} -> {new:,} ({new - old:+,}{percent})"


def format_diff(diff: dict) -> str:
    """The diff as text: the two layer tables side by side, the totals, the differing settings."""
    def cells(row: dict | None) -> str:
        if row is None:
            return " " * 64
        shape = "x".join(map(str, row["output"]))
        return f"{row['layer'][:16]:<16} {row['type'][:17]:<17} {shape:>10} {row['params']:>7,} {row['macs']:>9,}"

    header = f"{'layer':<16} {'type':<17} {'output':>10} {'params':>7} {'mult-adds':>9}"
    lines = [f"{diff['a'] + ' (' + diff['source_a'] + ')':<64}   {diff['b']} ({diff['source_b']})",
             f"{header}   {header}"]
    count = max(len(diff["layers_a"]), len(diff["layers_b"]))
    padded = [rows + [None] * (count - len(rows)) for rows in (diff["layers_a"], diff["layers_b"])]
    lines += [f"{cells(left)}   {cells(right)}".rstrip() for left, right in zip(*padded, strict=True)]
    lines += ["", f"parameters:    {change(diff['params_a'], diff['params_b'])}",
              f"multiply-adds: {change(diff['macs_a'], diff['macs_b'])} per image", ""]
    if not diff["config_diff"]:
        lines.append("training settings: the same")
    else:
        width = max(len(row["setting"]) for row in diff["config_diff"])
        lines.append(f"training settings ({diff['a']} -> {diff['b']}):")
        lines += [f"  {row['setting']:<{width}}  {short(row['a'])} -> {short(row['b'])}"
                  + ("" if row["differs"] else "  (same)") for row in diff["config_diff"]]
    return "\n".join(lines)


def short(value, limit: int = 40) -> str:
    """A setting's value in at most `limit` characters (a spec is a long dict)."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
