"""One trained model as a self-contained HTML page (what write-up 000 generated): summary, config,
curves, epoch table, confusion matrix and per-class table, with the metrics CSV embedded.

No CDN and no external URL: the curves are inline SVG drawn here, the data ride along as JSON in
the page (`<script type="application/json" id="curve-data">`) and the CSV as a data: link, so the
file opens offline and can be mailed around.
"""
from __future__ import annotations

import base64
import html
import json

from ..store.records import Record, json_safe, metrics_csv

SPLITS = (("train", "#4c78a8"), ("val", "#f58518"), ("test", "#54a24b"))
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1000px; color: #222; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: .85rem; }
td, th { padding: .25rem .5rem; border: 1px solid #ddd; text-align: right; }
th { background: #f4f4f4; } td.key { text-align: left; } .muted { color: #777; }
.charts { display: flex; gap: 1rem; flex-wrap: wrap; }
"""


def svg_curves(history: list[dict], metric: str, width: int = 470, height: int = 260) -> str:
    """Train / validation / test `metric` per epoch as an inline SVG line chart."""
    rows = [row for row in history if not row.get("partial")] or history
    series = {split: [(row["epoch"], row.get(f"{split}_{metric}")) for row in rows
                      if isinstance(row.get(f"{split}_{metric}"), (int, float))] for split, _ in SPLITS}
    values = [value for points in series.values() for _, value in points]
    if not values:
        return "<p class='muted'>No epochs recorded.</p>"
    low, high = min(values), max(values)
    if metric == "acc":
        later = [value for points in series.values() for epoch, value in points if epoch > 1]
        low = min(later) - 0.5 if later else low
    high = high if high > low else low + 1
    epochs = max(row["epoch"] for row in rows)
    left, right, top, bottom = 48, 10, 24, 30

    def x(epoch):
        return left + (width - left - right) * (epoch - 0.5) / max(epochs, 1)

    def y(value):
        value = min(max(value, low), high)
        return top + (height - top - bottom) * (1 - (value - low) / (high - low))

    parts = [
        f"<svg width='{width}' height='{height}' role='img' aria-label='{metric} per epoch'>",
        f"<text x='{left}' y='14' font-size='13' font-weight='bold'>"
        f"{'accuracy (%)' if metric == 'acc' else 'loss'} per epoch</text>",
    ]
    for fraction in (0, 0.5, 1):
        value = low + fraction * (high - low)
        parts.append(f"<line x1='{left}' x2='{width - right}' y1='{y(value):.1f}' y2='{y(value):.1f}' stroke='#eee'/>"
                     f"<text x='{left - 4}' y='{y(value) + 4:.1f}' font-size='10' text-anchor='end'>{value:.3g}</text>")
    for epoch in sorted({1, epochs, (epochs + 1) // 2}):
        parts.append(f"<text x='{x(epoch):.1f}' y='{height - 10}' font-size='10' text-anchor='middle'>{epoch}</text>")
    for index, (split, colour) in enumerate(SPLITS):
        points = " ".join(f"{x(epoch):.1f},{y(value):.1f}" for epoch, value in series[split])
        if points:
            parts.append(f"<polyline fill='none' stroke='{colour}' stroke-width='2' points='{points}'/>")
        parts.append(
            f"<text x='{width - right - 150 + 50 * index}' y='14' font-size='11' fill='{colour}'>{split}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def table(rows: list[dict], columns: list[str], formats: dict | None = None) -> str:
    formats = formats or {}
    head = "".join(f"<th>{html.escape(column)}</th>" for column in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_format(row.get(column), formats.get(column)))}</td>"
                                    for column in columns) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _format(value, pattern) -> str:
    if value is None:
        return "–"
    if pattern and isinstance(value, (int, float)):
        return pattern.format(value)
    return str(value)


def confusion_table(matrix: list[list[int]]) -> str:
    peak = max(max(row) for row in matrix) or 1
    head = "<tr><th>true \\ predicted</th>" + "".join(f"<th>{p}</th>" for p in range(len(matrix))) + "</tr>"
    rows = []
    for true, row in enumerate(matrix):
        cells = []
        for predicted, count in enumerate(row):
            shade = 0.08 + 0.85 * (count / peak) ** 0.35 if count else 0.0
            colour = "white" if shade > 0.5 else "#222"
            cells.append(f"<td style='background: rgba(49,130,189,{shade:.2f}); color: {colour}'>{count}</td>")
        rows.append(f"<tr><th>{true}</th>{''.join(cells)}</tr>")
    return f"<table id='confusion-matrix'>{head}{''.join(rows)}</table>"


def html_report(record: Record, evaluation: dict) -> str:
    """The page for one record and its test-set evaluation (evaluate(...).to_dict())."""
    summary = record.summary
    csv_text = metrics_csv(record.history)
    csv_link = "data:text/csv;base64," + base64.b64encode(csv_text.encode()).decode()
    data = json.dumps(json_safe({"history": record.history, "confusion_matrix": evaluation["confusion_matrix"]}))
    figures = (
        []
        if summary is None
        else [
            {"figure": "final test accuracy (%)", "value": f"{summary.final_test_acc:.2f}"},
            {
                "figure": "best test accuracy (%), epoch",
                "value": f"{summary.best_test_acc:.2f} ({summary.best_test_epoch})",
            },
            {"figure": "final validation accuracy (%)", "value": f"{summary.final_val_acc:.2f}"},
            {"figure": "epochs (complete)", "value": str(summary.epochs)},
            {"figure": "wall time (s)", "value": f"{summary.wall_seconds:.0f}"},
        ]
    )
    figures += [{"figure": "test accuracy of these weights (%)", "value": f"{100 * evaluation['accuracy']:.2f}"},
                {"figure": "parameters", "value": f"{record.params:,}" if record.params else "?"},
                {"figure": "status", "value": f"{record.status} {record.reason}".strip()},
                {"figure": "created", "value": record.created_at},
                {"figure": "versions", "value": ", ".join(f"{k} {v}" for k, v in record.versions.items())}]
    config_rows = [{"setting": key, "value": json.dumps(value)} for key, value in record.config.items()]
    history_columns = ["epoch", "partial", "train_loss", "train_acc", "val_loss", "val_acc", "test_loss",
                       "test_acc", "lr", "seconds"]
    number = "{:.4f}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(record.name)}: MNIST iteration lab report</title>
<style>{STYLE}</style></head><body>
<h1>{html.escape(record.name)}</h1>
<p class="muted">model {html.escape(record.model)} (write-up {html.escape(record.source)}), {html.escape(record.kind)}
· made by the MNIST iteration lab · opens offline</p>
<h2>Summary</h2>{table(figures, ["figure", "value"])}
<h2>Curves</h2><div class="charts">{svg_curves(record.history, "acc")}{svg_curves(record.history, "loss")}</div>
<h2>Per epoch</h2>{
        table(record.history, history_columns, {c: number for c in history_columns if c not in ("epoch", "partial")})
    }
<p><a download="{html.escape(record.name)}-metrics.csv" href="{csv_link}">Download the metrics as CSV</a></p>
<h2>Confusion matrix (test set)</h2>{confusion_table(evaluation["confusion_matrix"])}
<h2>Per class (test set)</h2>{
        table(
            evaluation["per_class"],
            ["digit", "precision", "recall", "f1", "support"],
            {"precision": number, "recall": number, "f1": number},
        )
    }
<h2>Config</h2>{table(config_rows, ["setting", "value"])}
<script type="application/json" id="curve-data">{html.escape(data, quote=False)}</script>
</body></html>
"""
