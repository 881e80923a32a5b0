"""GREEN: the green channel as the pulse.

Verkruysse, Svaasand & Nelson (2008), "Remote plethysmographic imaging using ambient light",
Optics Express 16(26):21434-21445. The green channel carries the strongest plethysmographic
signal; it is normalised by its temporal mean so the output is a relative (AC/DC) change.
"""

from __future__ import annotations

import numpy as np

from bigsmall.signal.rppg._common import check_rgb, temporal_normalize

#: Column of the green channel in an RGB trace.
GREEN_CHANNEL: int = 1


def green(rgb: np.ndarray, fs: float) -> np.ndarray:
    """Pulse (T,) = green / mean(green) − 1 of the mean-RGB trace ``rgb`` (T, 3)."""
    arr, _ = check_rgb(rgb, fs)
    return temporal_normalize(arr)[:, GREEN_CHANNEL] - 1.0
