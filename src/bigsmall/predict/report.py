"""``report.png`` and a self-contained ``report.html`` (figures embedded as base64 PNG).

Four panels: the pulse waveform, the breathing waveform, heart and breathing rates over time,
and the AU timeline (probability per frame as an image), plus a summary; a still image's report
has one panel, its AU probabilities as bars. Matplotlib is imported
only here (Agg backend, no display); the HTML loads nothing from the network.
"""

from __future__ import annotations

import base64
import html
import io
import warnings
from pathlib import Path

import numpy as np

from bigsmall.constants import AU_FULL_NAMES, AU_NAMES
from bigsmall.predict.result import AU_PRESENT_PROBABILITY, PredictionResult

#: Longest waveform plotted (points); longer ones are decimated by striding.
MAX_PLOT_POINTS: int = 20_000
#: Widest AU timeline image (columns); longer videos are averaged into this many bins.
MAX_AU_COLUMNS: int = 2_000
FIGURE_SIZE_IN: tuple[float, float] = (11.0, 10.0)
FIGURE_DPI: int = 100


def _stride(n: int, limit: int) -> int:
    return max(int(np.ceil(n / limit)), 1)


def _fmt(value: object, unit: str = "") -> str:
    if value is None:
        return "not reported"
    if isinstance(value, float):
        return f"{value:.1f}{unit}"
    return f"{value}{unit}"


def _title(result: PredictionResult) -> str:
    if result.still_image:
        return f"{Path(result.source).name}: still image, action units only ({result.method})"
    return (
        f"{Path(result.source).name}: heart rate {_fmt(result.heart_rate_bpm, ' bpm')}, "
        f"breathing {_fmt(result.breathing_rate_bpm, ' /min')} ({result.method})"
    )


def _still_figure(result: PredictionResult) -> object:
    """A photo's AU probabilities as named horizontal bars, the presence threshold marked."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(FIGURE_SIZE_IN[0], 5.0), dpi=FIGURE_DPI, layout="constrained")
    ax = fig.subplots()
    probs = result.frames[list(AU_NAMES)].to_numpy(np.float64)[0]
    labels = [f"{au} {AU_FULL_NAMES[au]}" for au in AU_NAMES]
    if np.isfinite(probs).any():
        ax.barh(range(len(AU_NAMES)), np.nan_to_num(probs), color="tab:green", label="probability")
        ax.axvline(AU_PRESENT_PROBABILITY, color="grey", ls="--", lw=1, label="present from here")
        ax.legend(loc="lower right", fontsize=8)
    else:
        note = "no face found" if result.au_occurrence is None else "no AUs"
        ax.text(0.5, len(AU_NAMES) / 2, note, ha="center")
    ax.set_yticks(range(len(AU_NAMES)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel("probability")
    ax.set_title("Action units of the photo")
    fig.suptitle(_title(result))
    return fig


def make_figure(result: PredictionResult) -> object:
    """A matplotlib Figure with the four panels (a still image's: its AU bars)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    if result.still_image:
        return _still_figure(result)
    fig = Figure(figsize=FIGURE_SIZE_IN, dpi=FIGURE_DPI, layout="constrained")
    axes = fig.subplots(4, 1)
    frames = result.frames
    step = _stride(len(frames), MAX_PLOT_POINTS)
    t = frames["time_s"].to_numpy()[::step]
    axes[0].plot(t, frames["ppg"].to_numpy()[::step], lw=0.7, color="tab:red", label="pulse")
    axes[0].set_title("Pulse (blood-volume) waveform")
    axes[0].legend(loc="upper right", fontsize=8)
    axes[1].plot(t, frames["resp"].to_numpy()[::step], lw=0.9, color="tab:blue", label="breathing")
    axes[1].legend(loc="upper right", fontsize=8)
    source = str(result.signal_quality.get("breathing_source", ""))
    axes[1].set_title(f"Breathing waveform — {source}")
    rates = result.rates
    ax = axes[2]
    (hr_line,) = ax.plot(
        rates["time_s"], rates["heart_rate_bpm"], "o-", ms=2, color="tab:red", label="heart rate"
    )
    ax.set_ylabel("heart rate (bpm)", color="tab:red")
    twin = ax.twinx()
    (br_line,) = twin.plot(
        rates["time_s"], rates["breathing_rate_bpm"], "s-", ms=2, color="tab:blue",
        label="breathing rate",
    )  # fmt: skip
    twin.set_ylabel("breathing rate (/min)", color="tab:blue")
    ax.legend(handles=[hr_line, br_line], loc="upper right", fontsize=8)
    ax.set_title("Rates over time (sliding window; gaps = signal too weak or too short)")
    ax.set_xlim(axes[0].get_xlim())
    au_ax = axes[3]
    au = frames[list(AU_NAMES)].to_numpy(np.float64)
    if np.isfinite(au).any():
        cols = _stride(au.shape[0], MAX_AU_COLUMNS)
        usable = au.shape[0] // cols * cols
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a bin with no face: NaN, fine
            binned = au[:usable].reshape(-1, cols, au.shape[1]) if usable else au[None]
            binned = np.nanmean(binned, axis=1) if usable else au
        duration = float(frames["time_s"].iloc[-1]) if len(frames) else 0.0
        import matplotlib as mpl

        cmap = mpl.colormaps["viridis"].with_extremes(bad="lightgrey")
        image = au_ax.imshow(
            np.ma.masked_invalid(binned.T),  # frames without a face: grey, not "absent"
            aspect="auto",
            interpolation="nearest",
            vmin=0.0,
            vmax=1.0,
            cmap=cmap,
            extent=(0.0, max(duration, 1e-6), len(AU_NAMES) - 0.5, -0.5),
        )
        labels = [f"{au_name} {AU_FULL_NAMES[au_name]}" for au_name in AU_NAMES]
        au_ax.set_yticks(range(len(AU_NAMES)), labels, fontsize=7)
        fig.colorbar(image, ax=au_ax, label="probability", pad=0.01)
        au_ax.set_title("Action units over time (grey: no face)")
    else:
        au_ax.text(0.5, 0.5, f"no AUs: {result.method} measures pulse only", ha="center")
        au_ax.set_axis_off()
    for a in axes[:3]:
        a.set_xlabel("time (s)")
    au_ax.set_xlabel("time (s)")
    fig.suptitle(_title(result))
    return fig


def figure_png(result: PredictionResult) -> bytes:
    """The report figure as PNG bytes."""
    buffer = io.BytesIO()
    make_figure(result).savefig(buffer, format="png")
    return buffer.getvalue()


#: Units shown after the values of the summary's nested entries.
_UNITS: dict[str, str] = {
    "pulse_snr_db": " dB",
    "breathing_snr_db": " dB",
    "pulse_snr_threshold_db": " dB",
    "breathing_snr_threshold_db": " dB",
    "mean_ibi_ms": " ms",
    "sdnn_ms": " ms",
    "rmssd_ms": " ms",
    "jitter_ms": " ms",
}
#: Labels of the summary's keys in the report.
_LABELS: dict[str, str] = {
    "video": "video",
    "heart_rate_bpm": "heart rate (bpm)",
    "breathing_rate_bpm": "breathing rate (/min)",
    "hrv": "heart-rate variability",
    "au_occurrence": "action units (share of frames with a face)",
    "face_found_fraction": "face found in",
    "fps": "frame rate (fps)",
    "duration_sec": "duration (s)",
    "frames": "frames",
    "signal_quality": "signal quality",
    "model": "model",
    "method": "method",
}


def _cell(key: str, value: object) -> str:
    """A summary value as readable HTML (nested entries as a small table of their own)."""
    if value is None:
        return "not reported"
    if key == "au_occurrence" and isinstance(value, dict):
        rows = "".join(
            f"<tr><td>{html.escape(au)}</td><td>{html.escape(AU_FULL_NAMES.get(au, ''))}</td>"
            f"<td>{100 * float(share):.0f}%</td></tr>"
            for au, share in value.items()
        )
        return f'<table class="inner">{rows}</table>'
    if isinstance(value, dict):
        rows = "".join(
            f"<tr><td>{html.escape(k.replace('_', ' '))}</td>"
            f"<td>{html.escape(_fmt(v, _UNITS.get(k, '')))}</td></tr>"
            for k, v in value.items()
        )
        return f'<table class="inner">{rows}</table>'
    if key == "face_found_fraction":
        return f"{100 * float(value):.0f}% of frames"
    return html.escape(_fmt(value))


def _rows(summary: dict) -> str:
    out = []
    for key, value in summary.items():
        if key == "warnings":
            continue
        label = html.escape(_LABELS.get(key, key))
        out.append(f"<tr><th>{label}</th><td>{_cell(key, value)}</td></tr>")
    return "\n".join(out)


def render_html(result: PredictionResult, png: bytes) -> str:
    """A self-contained HTML page: summary table, warnings and the embedded figure."""
    summary = result.summary()
    warnings = "".join(f"<li>{html.escape(w)}</li>" for w in summary["warnings"]) or "<li>none</li>"
    data = base64.b64encode(png).decode("ascii")
    title = html.escape(_title(result))
    alt = "AU probabilities" if result.still_image else "waveforms, rates and AU timeline"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>bigsmall report: {html.escape(Path(result.source).name)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1150px}}
table{{border-collapse:collapse}}th,td{{border:1px solid #ccc;padding:3px 8px;text-align:left;
font-size:0.9em;vertical-align:top}}table.inner td{{border:none;padding:1px 8px 1px 0}}
img{{max-width:100%}}</style></head>
<body><h1>{title}</h1>
<h2>Warnings</h2><ul id="warnings">{warnings}</ul>
<h2>Summary</h2><table id="summary">{_rows(summary)}</table>
<h2>Signals</h2>
<img id="figure" alt="{alt}" src="data:image/png;base64,{data}">
<p>Made by bigsmall {html.escape(str(result.model.get("version", "")))}; per-frame values are in
signals.csv, rates over time in rates.csv.</p>
</body></html>
"""


def write_reports(result: PredictionResult, png_path: Path, html_path: Path) -> None:
    """Write ``report.png`` and ``report.html``."""
    png = figure_png(result)
    Path(png_path).write_bytes(png)
    Path(html_path).write_text(render_html(result, png), encoding="utf-8")
