"""Names and bands shared by every layer (standard library only).

Also the vocabularies of the library's options (the layer named beside each checks them; the
command line offers them as ``choices`` without importing that layer, so ``--help`` stays fast).
"""

from __future__ import annotations

#: The 12 BP4D+ action units BigSmall predicts, in the order of its AU head.
AU_NAMES: tuple[str, ...] = (
    "AU01", "AU02", "AU04", "AU06", "AU07", "AU10",
    "AU12", "AU14", "AU15", "AU17", "AU23", "AU24",
)  # fmt: skip
#: The FACS name of each of the 12 AUs (Ekman, Friesen & Hager, FACS Manual, 2002).
AU_FULL_NAMES: dict[str, str] = {
    "AU01": "inner brow raiser",
    "AU02": "outer brow raiser",
    "AU04": "brow lowerer",
    "AU06": "cheek raiser",
    "AU07": "lid tightener",
    "AU10": "upper lip raiser",
    "AU12": "lip corner puller",
    "AU14": "dimpler",
    "AU15": "lip corner depressor",
    "AU17": "chin raiser",
    "AU23": "lip tightener",
    "AU24": "lip pressor",
}

#: The 8 DISFA action units.
DISFA_AU_NAMES: tuple[str, ...] = ("AU01", "AU02", "AU04", "AU06", "AU09", "AU12", "AU25", "AU26")

#: The reference's fixed BP4D+ BCE ``pos_weight`` per AU, in :data:`AU_NAMES` order.
BP4D_AU_POS_WEIGHT: tuple[float, ...] = (
    9.64, 11.74, 16.77, 1.05, 0.53, 0.56, 0.75, 0.69, 8.51, 6.94, 5.03, 25.00,
)  # fmt: skip

#: Task names of the three heads, in output order.
TASKS: tuple[str, ...] = ("au", "bvp", "resp")

#: Heart-rate band used by the BigSmall paper's code for filtering and the FFT search.
HR_BAND_HZ: tuple[float, float] = (0.75, 2.5)
#: rPPG-Toolbox default heart-rate band (selectable; does not reproduce the paper).
HR_BAND_TOOLBOX_HZ: tuple[float, float] = (0.6, 3.3)
#: Breathing-rate band.
RR_BAND_HZ: tuple[float, float] = (0.13, 0.5)

#: BP4D+ frame rate.
BP4D_FS: float = 25.0

# -- facial landmarks (JAA-Net / JÂA-Net, Shao et al., ECCV 2018 / IJCV 2021) ---------------------
#: The 49 inner points of the 68-point (iBUG 300-W) scheme, 0-based, in the 49-point order of
#: JAA-Net's data: brows 17–26, nose 27–35, eyes 36–47, outer lips 48–59, inner lips 61–63
#: and 65–67 (no jaw 0–16, no inner mouth corners 60 and 64).
INNER_49: tuple[int, ...] = (*range(17, 60), 61, 62, 63, 65, 66, 67)
#: ``MIRROR_49[i]``: the index point i of the 49-point order becomes in a left-right mirrored
#: face (brow ends, eye corners, nostrils and mouth corners swap sides).
MIRROR_49: tuple[int, ...] = (
    9, 8, 7, 6, 5, 4, 3, 2, 1, 0,  # brows
    10, 11, 12, 13,  # nose bridge (on the axis)
    18, 17, 16, 15, 14,  # nose base
    28, 27, 26, 25, 30, 29,  # the eye on the image's left ↔ the one on its right
    22, 21, 20, 19, 24, 23,
    37, 36, 35, 34, 33, 32, 31, 42, 41, 40, 39, 38,  # outer mouth
    45, 44, 43, 48, 47, 46,  # inner mouth
)  # fmt: skip
#: The two eyes of the 49-point order (image left: 68-points 36–41; image right: 42–47); their
#: centres give the inter-ocular distance.
EYES_49: tuple[tuple[int, ...], tuple[int, ...]] = (tuple(range(19, 25)), tuple(range(25, 31)))

# -- option vocabularies (checked by the layer named, offered by the command line) ---------------
#: ``bigsmall.data.pipeline.PreprocessConfig.big_frames``: only the frame Big uses per window,
#: or every frame.
BIG_FRAME_MODES: tuple[str, ...] = ("first", "all")
#: ``bigsmall.data.pipeline.PreprocessConfig.bvp_label``: ``auto`` = POS pseudo-PPG where the
#: recorded pulse is a blood-pressure wave (BP4D+), else the recorded pulse.
BVP_LABEL_OPTIONS: tuple[str, ...] = ("auto", "recorded", "pseudo_pos")
#: Training devices (:func:`bigsmall.training.distributed.resolve_device`).
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")
#: Temporal shifts of a Small branch (:func:`bigsmall.models.layers.make_shift`).
SHIFTS: tuple[str, ...] = ("wtsm", "tsm", "none")
#: Subject folds of the authors' released weights (:mod:`bigsmall.models.official`).
OFFICIAL_FOLDS: tuple[int, ...] = (1, 2, 3)
#: Whose Small convolutions :func:`bigsmall.models.official.bigsmall_from_trio` keeps.
TRIO_SMALL_SOURCES: tuple[str, ...] = ("heart", "resp")
#: Multiply-accumulate counting conventions (:data:`bigsmall.models.profile.CONVENTIONS`).
MAC_CONVENTIONS: tuple[str, ...] = ("thop", "matmul")
#: ``bigsmall.predict`` methods: the network, then the classic rPPG methods of
#: :data:`bigsmall.signal.rppg.METHODS` (:data:`bigsmall.predict.METHODS`).
PREDICT_METHODS: tuple[str, ...] = (
    "bigsmall",
    "chrom",
    "green",
    "ica",
    "lgi",
    "omit",
    "pbv",
    "pos",
)
#: Backends that run the network (:func:`bigsmall.predict.runner.resolve_backend`).
BACKENDS: tuple[str, ...] = ("auto", "torch", "onnx")
#: How the predictor reads the heart rate (:class:`bigsmall.predict.Predictor`).
PULSE_SOURCES: tuple[str, ...] = ("fused", "model")
#: Where the predictor's breathing rate comes from (:class:`bigsmall.predict.Predictor`).
BREATHING_SOURCES: tuple[str, ...] = ("model", "motion", "fused")

#: Smallest and largest Big-frame side, in face-box widths, that a weights record may name as
#: its ``big_scale`` (:mod:`bigsmall.video.reframe`).
BIG_SCALE_RANGE: tuple[float, float] = (0.5, 4.0)
