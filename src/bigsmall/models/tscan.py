"""TS-CAN and MTTS-CAN: temporal shift convolutional attention networks.

Liu, Fromm, Patel, McDuff. "Multi-Task Temporal Shift Attention Networks for On-Device
Contactless Vitals Measurement." NeurIPS 2020.

TS-CAN is DeepPhys (:mod:`.deepphys`) made temporal and cheaper: the motion branch sees windows
of ``n_segment`` normalized difference frames with a zero-padded temporal shift (TSM, Lin et al.
ICCV 2019; :class:`~bigsmall.models.layers.TemporalShift` with ``wrap=False``) before every
convolution, and the appearance branch runs once per window on the mean of its standardized
frames, its attention masks shared by the window's frames. MTTS-CAN is the multi-task variant:
the same shared body with one dense tanh layer and linear output for the pulse (PPG) and one
for respiration.
"""

from __future__ import annotations

from bigsmall.models.deepphys import TwoBranchAttentionNet
from bigsmall.models.registry import register_model

#: Frames per window in the paper's and rPPG-Toolbox's TS-CAN configs (FRAME_DEPTH).
PAPER_FRAME_DEPTH = 10


class TSCAN(TwoBranchAttentionNet):
    """TS-CAN: :class:`TwoBranchAttentionNet` with TSM and window-averaged appearance.

    Keyword arguments are those of :class:`TwoBranchAttentionNet`; defaults differ in
    ``n_segment`` (:data:`PAPER_FRAME_DEPTH`) and ``shift`` ("tsm").
    """

    def __init__(self, **kwargs: object) -> None:
        defaults = {"n_segment": PAPER_FRAME_DEPTH, "shift": "tsm"}
        super().__init__(**{**defaults, **kwargs})


@register_model
def tscan(**kwargs: object) -> TSCAN:
    """TS-CAN (Liu et al., NeurIPS 2020), single task: PPG."""
    return TSCAN(**{"tasks": ("bvp",), **kwargs})


@register_model
def mtts_can(**kwargs: object) -> TSCAN:
    """MTTS-CAN (Liu et al., NeurIPS 2020): TS-CAN body with PPG and respiration heads."""
    return TSCAN(**{"tasks": ("bvp", "resp"), **kwargs})
