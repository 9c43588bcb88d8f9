"""Stable model colours (a model keeps its colour whatever is selected) and the iteration order."""
from __future__ import annotations

from mnist_core.store.records import Record

PALETTE = ["#4c78a8", "#e45756", "#f58518", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6",
           "#9d755d", "#ffbb78", "#1f77b4", "#9467bd", "#c49c94", "#e377c2", "#aec7e8", "#8c564b",
           "#98df8a", "#bcbd22", "#17becf", "#c5b0d5"]  # vivid, no greys: greys read as "disabled"


def model_colour(name: str) -> str:
    """A colour that depends on the name only (a hash into the 20-colour palette), so a model keeps
    it on every chart whatever else is selected. The salt was picked so that the twelve shipped
    models get twelve different colours, none of them pale, and the iterations of one write-up
    (and our own four models) get different hues; runs may share one."""
    import hashlib

    return PALETTE[int(hashlib.sha1(f"lab158598{name}".encode()).hexdigest(), 16) % len(PALETTE)]


def colour_scale(names):
    """One alt.Scale of every model's colour (Altair imported here: the Draw page never needs it)."""
    import altair as alt

    names = sorted(set(names))
    return alt.Scale(domain=names, range=[model_colour(name) for name in names])


def iteration_order(record: Record) -> tuple:
    """Write-up 000 -> 004, then our own models, then runs; within a write-up by name."""
    kinds = {"shipped": 0, "promoted": 1, "run": 2}
    return (kinds.get(record.kind, 3), record.source == "own", record.source, record.name)
