"""Altair charts shared by the pages: probabilities, confusion, curves, live-view charts."""
from __future__ import annotations

import altair as alt
import pandas as pd

from mnist_core.data.mnist import images_per_epoch

DIGITS = list(range(10))


def probability_chart(probabilities: list[float], predicted: int) -> alt.Chart:
    frame = pd.DataFrame({"digit": DIGITS, "probability": probabilities})
    frame["predicted"] = frame["digit"] == predicted
    return alt.Chart(frame, height=220).mark_bar().encode(
        x=alt.X("digit:O", title="digit", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("probability:Q", scale=alt.Scale(domain=[0, 1]), title="probability"),
        color=alt.condition("datum.predicted", alt.value("#e4572e"), alt.value("#4c78a8")),
        tooltip=["digit", alt.Tooltip("probability:Q", format=".3f")],
    )


def confusion_chart(matrix: list[list[int]], normalized: bool = False) -> alt.Chart:
    """Counts (or, normalized, the share of each true digit) with clickable cells."""
    totals = [max(sum(row), 1) for row in matrix]
    frame = pd.DataFrame([{"true": t, "predicted": p, "count": matrix[t][p],
                           "share": matrix[t][p] / totals[t]} for t in DIGITS for p in DIGITS])
    value = "share" if normalized else "count"
    cell = alt.selection_point(name="cell", fields=["true", "predicted"], on="click")
    base = alt.Chart(frame, height=420, width=420).encode(
        x=alt.X("predicted:O", title="predicted", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("true:O", title="true label"))
    heat = base.mark_rect().encode(
        color=alt.Color(f"{value}:Q", scale=alt.Scale(type="symlog" if not normalized else "sqrt", scheme="blues"),
                        legend=None),
        opacity=alt.condition(cell, alt.value(1.0), alt.value(0.5)),
        tooltip=["true", "predicted", "count", alt.Tooltip("share:Q", format=".2%")]).add_params(cell)
    text = base.mark_text(fontSize=10 if normalized else 11).encode(
        text=alt.Text(f"{value}:Q", format=".1%" if normalized else "d"),
        color=alt.condition(f"datum.{value} > {0.5 if normalized else 300}", alt.value("white"), alt.value("black")))
    return heat + text


def history_frame(histories: dict[str, list[dict]], include_partial: bool = False,
                  train_sizes: dict[str, int] | None = None) -> pd.DataFrame:
    """Long table: one row per (run, epoch, split) for curves, from key -> history rows, with the
    cumulative wall time and images seen. A partial (stopped) epoch sits at its fraction, e.g. 2.4,
    and is marked `partial`; it is left out unless asked for."""
    rows = []
    for key, history in histories.items():
        seconds = 0.0
        size = (train_sizes or {}).get(key, images_per_epoch())
        for row in history:
            seconds += row.get("seconds") or 0.0
            if row.get("partial") and not include_partial:
                continue
            fraction = row.get("batches", 1) / max(row.get("batches_per_epoch") or row.get("batches") or 1, 1)
            epoch = row["epoch"] - 1 + fraction if row.get("partial") else row["epoch"]
            for split in ("train", "val", "test"):
                rows.append({"run": key, "epoch": epoch, "split": SPLIT_NAMES[split],
                             "accuracy": row.get(f"{split}_acc"), "loss": row.get(f"{split}_loss"),
                             "wall time (s)": seconds, "images seen": epoch * size,
                             "partial": bool(row.get("partial"))})
    return pd.DataFrame(rows, columns=["run", "epoch", "split", "accuracy", "loss", "wall time (s)",
                                       "images seen", "partial"])


SPLIT_NAMES = {"train": "train", "val": "validation", "test": "test"}


SPLIT_COLOURS = alt.Scale(domain=["train", "validation", "test"], range=["#4c78a8", "#f58518", "#54a24b"])


def curves_chart(frame: pd.DataFrame, metric: str, color: str = "run", dash: str = "split",
                 height: int = 300) -> alt.Chart:
    """Per-epoch curves with a clickable legend (click a name to highlight it)."""
    legend = alt.selection_point(fields=[color], bind="legend")
    scale = alt.Scale(zero=False) if metric == "accuracy" else alt.Scale(type="log")
    return alt.Chart(frame, height=height).mark_line(point=True).encode(
        x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1, format=".2~f")),
        y=alt.Y(f"{metric}:Q", scale=scale, title=metric + (" (%)" if metric == "accuracy" else "")),
        color=alt.Color(f"{color}:N"), strokeDash=alt.StrokeDash(f"{dash}:N"),
        opacity=alt.condition(legend, alt.value(1.0), alt.value(0.15)),
        tooltip=[color, dash, "epoch", alt.Tooltip(f"{metric}:Q", format=".4f")],
    ).add_params(legend)


def metric_scale(frame: pd.DataFrame, metric: str) -> alt.Scale:
    """Loss on a log scale; accuracy zoomed to the epochs after the first (which starts far lower
    and is clamped to the bottom edge), so the part that matters is readable."""
    if metric != "accuracy":
        return alt.Scale(type="log")
    later = frame.loc[frame["epoch"] > 1, "accuracy"].dropna()
    low = max(0.0, float(later.min()) - 0.5) if len(later) else 0.0
    return alt.Scale(domain=[low, 100.0], clamp=True)


def live_curves_chart(frame: pd.DataFrame, metric: str, epochs: int, height: int = 260) -> alt.Chart:
    """One run's train / validation / test curves in stable colours, x fixed to the planned epochs."""
    scale = metric_scale(frame, metric)
    return alt.Chart(frame, height=height, title=f"{metric} per epoch").mark_line(point=True).encode(
        x=alt.X("epoch:Q", scale=alt.Scale(domain=[0, max(epochs, 1)]), axis=alt.Axis(tickMinStep=1, format="~f")),
        y=alt.Y(f"{metric}:Q", scale=scale, title=metric + (" (%)" if metric == "accuracy" else "")),
        color=alt.Color("split:N", scale=SPLIT_COLOURS, legend=alt.Legend(orient="right", title=None)),
        tooltip=["split", alt.Tooltip("epoch:Q", format=".2f"), alt.Tooltip(f"{metric}:Q", format=".4f")],
    )


MAX_CHART_POINTS = 400  # the live view redraws every 2 s: keep its payload small


def batch_loss_chart(batches: list[dict], total_steps: int, height: int = 260) -> alt.Chart:
    """Raw batch loss (faint) with an exponential moving average over it, log scale."""
    frame = pd.DataFrame(batches)[["step", "loss"]].dropna()
    frame = frame[frame["loss"] > 0]
    frame["smoothed"] = frame["loss"].ewm(alpha=0.1).mean()
    if len(frame) > MAX_CHART_POINTS:  # a long run: every k-th point draws the same picture for less
        frame = frame.iloc[:: -(-len(frame) // MAX_CHART_POINTS)]
    x = alt.X("step:Q", title="batch", scale=alt.Scale(domain=[0, max(total_steps, 1)]))
    base = alt.Chart(frame, height=height, title="batch loss (faint) and its moving average")
    raw = base.mark_line(opacity=0.3, color="#999999").encode(x=x, y=alt.Y("loss:Q", scale=alt.Scale(type="log")))
    smooth = base.mark_line(color="#e45756", strokeWidth=2).encode(
        x=x, y="smoothed:Q", tooltip=["step", alt.Tooltip("smoothed:Q", format=".4f")]
    )
    return raw + smooth


def lr_chart(schedule: list[dict], current_step: int | None, height: int = 260) -> alt.Chart:
    """The planned learning-rate schedule; a rule marks where the run is now."""
    frame = pd.DataFrame(schedule)
    line = alt.Chart(frame, height=height, title="learning rate (planned)").mark_line(color="#4c78a8").encode(
        x=alt.X("step:Q", title="batch"), y=alt.Y("lr:Q", title="learning rate", axis=alt.Axis(format="~g")),
        tooltip=["step", alt.Tooltip("lr:Q", format=".2e")])
    if not current_step:
        return line
    rule = alt.Chart(pd.DataFrame({"step": [current_step]})).mark_rule(color="#e45756").encode(x="step:Q")
    return line + rule
