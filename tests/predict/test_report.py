"""The report figure: a legend per panel with two curves, AU names, missing faces as missing;
a photo's AU bars."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bigsmall.constants import AU_NAMES
from bigsmall.predict.report import _rows, make_figure
from bigsmall.predict.result import FRAME_COLUMNS, RATE_COLUMNS, PredictionResult


def _result(face: np.ndarray) -> PredictionResult:
    n = face.size
    frames = pd.DataFrame({c: np.zeros(n) for c in FRAME_COLUMNS})
    frames["time_s"] = np.arange(n) / 30.0
    for au in AU_NAMES:
        frames[au] = np.where(face, 0.2, np.nan)  # no face: NaN, as predict writes it
    rates = pd.DataFrame({c: np.full(3, 60.0) for c in RATE_COLUMNS})
    return PredictionResult(
        heart_rate_bpm=60.0,
        breathing_rate_bpm=None,
        au_occurrence=dict.fromkeys(AU_NAMES, 0.0),
        face_found_fraction=float(face.mean()),
        fps=30.0,
        duration_sec=n / 30.0,
        frame_count=n,
        signal_quality={"pulse_snr_db": 4.0, "pulse_quality": "good"},
        warnings=[],
        model={"name": "bigsmall", "weights": "w", "version": "0", "backend": "onnx"},
        method="bigsmall",
        frames=frames,
        rates=rates,
        source="clip.mp4",
    )


def test_figure_names_aus_keeps_missing_faces_missing_and_has_legends() -> None:
    import warnings

    face = np.ones(300, bool)
    face[100:200] = False
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no "Mean of empty slice" leaks (#7)
        fig = make_figure(_result(face))
    rates_ax = fig.axes[2]
    assert all(fig.axes[i].get_legend() is not None for i in (0, 1, 2))  # a legend per panel
    labels = [t.get_text() for t in rates_ax.get_legend().get_texts()]
    assert labels == ["heart rate", "breathing rate"]
    image = next(a for a in fig.axes if a.get_images()).get_images()[0]
    data = image.get_array()
    assert np.ma.is_masked(data) and data.mask[:, 100:200].all() and not data.mask[:, :100].any()
    ticks = [t.get_text() for t in next(a for a in fig.axes if a.get_images()).get_yticklabels()]
    assert "AU12 lip corner puller" in ticks


def test_summary_rows_are_readable() -> None:
    rows = _rows(_result(np.ones(90, bool)).summary())
    assert "{" not in rows and "AU12</td><td>lip corner puller</td><td>0%" in rows
    assert "pulse snr db</td><td>4.0 dB" in rows and "breathing rate (/min)" in rows


def test_still_image_figure_is_its_au_bars() -> None:
    """A photo's report shows one bar per AU at its probability (named), not empty time axes."""
    import dataclasses

    row = _result(np.ones(1, bool))
    frames = row.frames.assign(**{au: 0.1 * i / len(AU_NAMES) for i, au in enumerate(AU_NAMES)})
    photo = dataclasses.replace(row, fps=None, duration_sec=None, frame_count=1, frames=frames)
    fig = make_figure(photo)
    (ax,) = fig.axes
    widths = [bar.get_width() for bar in ax.patches]
    assert np.allclose(widths, frames[list(AU_NAMES)].to_numpy()[0])
    assert "AU12 lip corner puller" in [t.get_text() for t in ax.get_yticklabels()]
    assert "still image" in fig._suptitle.get_text()
