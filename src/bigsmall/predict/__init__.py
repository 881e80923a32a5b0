"""The product interface: measure AUs, pulse and breathing from face videos.

``Predictor(...).predict(video_or_frames)`` returns a :class:`PredictionResult`;
:func:`write_outputs` writes ``summary.json``, ``signals.csv``, ``rates.csv`` and the reports.
"""

from bigsmall.predict.predictor import BREATHING_SOURCES, METHODS, Predictor
from bigsmall.predict.result import FRAME_COLUMNS, RATE_COLUMNS, SUMMARY_KEYS, PredictionResult

__all__ = [
    "BREATHING_SOURCES",
    "FRAME_COLUMNS",
    "METHODS",
    "RATE_COLUMNS",
    "SUMMARY_KEYS",
    "PredictionResult",
    "Predictor",
]
