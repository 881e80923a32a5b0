"""Paper-style result tables (markdown, CSV, JSON), per-recording CSV and Bland–Altman plots.

Matplotlib is imported only when a plot is drawn (Agg backend, no display needed).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bigsmall.evaluation.bland_altman import bland_altman

#: Columns of the summary table, with their headers, in the paper's Table 2 order.
TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("method", "Method"),
    ("recordings", "Videos"),
    ("hr_mae", "HR MAE"),
    ("hr_rmse", "HR RMSE"),
    ("hr_mape", "HR MAPE %"),
    ("hr_pearson", "HR ρ"),
    ("hr_snr_db", "HR SNR dB"),
    ("br_mae", "BR MAE"),
    ("br_rmse", "BR RMSE"),
    ("br_mape", "BR MAPE %"),
    ("br_pearson", "BR ρ"),
    ("au_f1", "AU F1"),
    ("au_accuracy", "AU Acc"),
)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.2f}"
    return str(value)


def markdown_table(rows: Sequence[Mapping[str, Any]], title: str | None = None) -> str:
    """A markdown table of summary rows (NaN shown as –)."""
    lines = [f"### {title}", ""] if title else []
    lines.append("| " + " | ".join(h for _, h in TABLE_COLUMNS) + " |")
    lines.append("|" + "---|" * len(TABLE_COLUMNS))
    for row in rows:
        lines.append(
            "| " + " | ".join(_fmt(row.get(k, float("nan"))) for k, _ in TABLE_COLUMNS) + " |"
        )
    return "\n".join(lines) + "\n"


def csv_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """CSV with the union of the rows' keys as columns, in first-seen order."""
    fields: list[str] = []
    for row in rows:
        fields += [k for k in row if k not in fields]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, restval="")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def json_text(obj: Any) -> str:
    def clean(x: Any) -> Any:
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, Mapping):
            return {str(k): clean(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [clean(v) for v in x]
        return x

    return json.dumps(clean(obj), indent=2, sort_keys=True) + "\n"


def bland_altman_plot(
    estimated: Sequence[float], reference: Sequence[float], path: Path, title: str, unit: str
) -> Path | None:
    """Save a Bland–Altman plot (PNG); None when fewer than 2 recordings."""
    if len(estimated) < 2:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ba = bland_altman(estimated, reference)
    fig, ax = plt.subplots(figsize=(5, 4), dpi=100)
    ax.scatter(ba.means, ba.differences, s=14, alpha=0.8)
    for y, style in ((ba.bias, "-"), (ba.lower, "--"), (ba.upper, "--")):
        ax.axhline(y, color="k", linestyle=style, linewidth=1)
    ax.set_xlabel(f"mean of estimate and reference ({unit})")
    ax.set_ylabel(f"estimate − reference ({unit})")
    ax.set_title(f"{title}: bias {ba.bias:.2f}, LoA [{ba.lower:.2f}, {ba.upper:.2f}]")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)
    return path
