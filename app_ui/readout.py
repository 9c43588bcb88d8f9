"""The Draw page's table of every iteration's probabilities: plain HTML, no chart library, so it
is ready as soon as the models are (and draws at once on every pen-up)."""
from __future__ import annotations

import html

DIGITS = list(range(10))


def probabilities_table(rows: list[dict], order: list[str], titles: dict[str, str] | None = None) -> str:
    """Each model's ten probabilities as one row of shaded cells (darker = more likely) and its
    answer, models in `order` (shown by their `titles`), as a small HTML table: drawn at once on
    every pen-up, where a chart library would cost the browser a layout pass per rerun."""
    titles = titles or {}
    by_model = {row["model"]: row for row in rows}
    head = "".join(f"<th>{digit}</th>" for digit in DIGITS)
    lines = []
    for model in order:
        row = by_model[model]
        cells = []
        for digit, probability in enumerate(row["probabilities"]):
            ink = "#fff" if probability > 0.5 else "#333"
            text = f"{100 * probability:.0f}%" if probability >= 0.05 else ""
            cells.append(
                f'<td style="background:rgba(33,102,172,{probability:.3f});color:{ink}" '
                f'title="{html.escape(titles.get(model, model))}: {digit} at {100 * probability:.1f}%">{text}</td>'
            )
        lines.append(f'<tr><th class="model">{html.escape(titles.get(model, model))}</th>{"".join(cells)}'
                     f'<td class="answer">{row["prediction"]} · {100 * row["confidence"]:.0f}%</td></tr>')
    columns = '<colgroup><col class="model">' + '<col>' * 10 + '<col class="answer"></colgroup>'
    return (f'<table class="probabilities" data-testid="probabilities-table">{columns}'
            f'<thead><tr><th></th>{head}<th>answer</th></tr></thead><tbody>{"".join(lines)}</tbody></table>'
            + PROBABILITIES_STYLE)


PROBABILITIES_STYLE = """<style>
table.probabilities { border-collapse: collapse; font-size: 0.8rem; width: 100%; table-layout: fixed; }
table.probabilities th, table.probabilities td { border: 1px solid #e6e6e6; padding: 2px 3px; text-align: center; }
table.probabilities col.model { width: 8.5rem; }
table.probabilities col.answer { width: 4.8rem; }
table.probabilities th.model { text-align: left; font-weight: 500; overflow: hidden; white-space: nowrap; }
table.probabilities td.answer { font-weight: 600; white-space: nowrap; }
</style>"""
