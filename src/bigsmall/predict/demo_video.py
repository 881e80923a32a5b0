"""A short synthetic face video with a known pulse and breathing, for ``bigsmall demo``.

Built with the project's synthetic generator (:mod:`bigsmall.data.synthetic`): a procedural
face whose skin carries an injected blood-volume pulse and whose head rises and falls with an
injected breathing waveform. The trial's conditions are drawn as usual, then set to a calm,
well-lit recording (still head, no flicker, no talking, light compression) so that the demo
shows what the measurement does when the video is good; everything needed is generated
locally (no data, no network).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from bigsmall.data.synthetic.compositor import render_frames, trial_signals
from bigsmall.data.synthetic.renderer import render_procedural, sample_look
from bigsmall.data.synthetic.scene import sample_trial
from bigsmall.video.writer import VideoWriter

DEMO_SECONDS: float = 30.0
DEMO_FPS: float = 30.0
DEMO_SIZE_WH: tuple[int, int] = (320, 240)
DEMO_SEED: int = 11
#: Calm-recording overrides applied to the drawn trial conditions.
_CALM = {
    "motion": "still",
    "motion_bursts": False,
    "flicker": False,
    "talk_fraction": 0.0,
    "light_drift": 0.0,
    "auto_exposure": 0.0,
    "noise_std": 1.0,
    "crf": 20,
    "pulse_amplitude": 0.008,
    "breathing_motion_px": 2.0,
    "hrv_sdnn_ms": 20.0,
    "breathing_variability": 0.02,
}


@dataclass(frozen=True)
class DemoTruth:
    """The injected rates of the demo video (per minute) and the per-frame waveforms (T,)."""

    heart_rate_bpm: float
    breathing_rate_bpm: float
    ppg: np.ndarray
    resp: np.ndarray
    fps: float


def make_demo_video(
    path: str | Path,
    seconds: float = DEMO_SECONDS,
    fps: float = DEMO_FPS,
    size_wh: tuple[int, int] = DEMO_SIZE_WH,
    seed: int = DEMO_SEED,
    conditions: Mapping[str, object] | None = None,
) -> DemoTruth:
    """Render and encode the demo video (H.264 MP4) at ``path``; returns the truth.
    ``conditions``: trial conditions (:class:`~bigsmall.data.synthetic.scene.TrialParams`
    fields, e.g. ``pulse_amplitude``, ``crf``) set over the calm ones."""
    import cv2

    cv2.setNumThreads(1)
    width, height = size_wh
    rng = np.random.default_rng(seed)
    asset = render_procedural(sample_look(rng), height, width, rng)
    params = replace(sample_trial(rng, asset.skin_tone), **{**_CALM, **(conditions or {})})
    n_frames = max(round(seconds * fps), 1)
    signals = trial_signals(params, n_frames, fps, height, rng)
    with VideoWriter(path, fps, width, height, crf=params.crf, preset="veryfast") as writer:
        for batch in render_frames(asset, params, signals, rng):
            writer.write(batch)
    return DemoTruth(
        heart_rate_bpm=float(params.heart_rate_bpm),
        breathing_rate_bpm=float(params.breathing_rate_bpm),
        ppg=np.asarray(signals.ppg, np.float64),
        resp=np.asarray(signals.resp, np.float64),
        fps=fps,
    )
