"""One model session: weights and their record → network, input sizes, crop, alignment, backend.

Shared by :class:`bigsmall.predict.Predictor` and ``bigsmall live`` so that both feed a network
exactly the inputs its weights were trained on (Narayanswamy et al., BigSmall, WACV 2024: the
Big branch's framing and, for the † models, landmark alignment matter to its AUs). Nothing
here checks a model's name: the weights' record says what they need.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bigsmall.errors import CheckpointError, ConfigError
from bigsmall.predict.runner import (
    LoadedModel,
    WindowFn,
    load_model,
    make_runner,
    resolve_backend,
)
from bigsmall.video.boxes import DEFAULT_ENLARGE_COEF
from bigsmall.video.framing import CROP_MODES

#: The crop of weights that record none: the toolbox's face box enlarged 1.5×.
DEFAULT_CROP: str = "face"


class ModelSession:
    """A network loaded on first use and kept, with what its inputs must be.

    Args:
        checkpoint: weights file or the authors' weights folder; ``None``: the shipped weights.
        fold: fold of a weights folder.
        backend: "auto", "torch" or "onnx".
        device: torch device.
        align: landmark-align the Big frames even if the weights do not record it.
        log: one-line notes (e.g. a one-off ONNX export).
        threads: CPU threads of the model (``None``: the library's default).
    """

    def __init__(
        self,
        checkpoint: str | Path | None = None,
        fold: int = 1,
        backend: str = "auto",
        device: str = "cpu",
        align: bool = False,
        log: Callable[[str], None] | None = None,
        threads: int | None = None,
    ) -> None:
        self.checkpoint, self.fold = checkpoint, fold
        self.backend, self.device, self.threads = backend, device, threads
        self.force_align = align
        self.log = log or (lambda _message: None)
        self._loaded: LoadedModel | None = None
        self._runners: dict[str, WindowFn] = {}

    @property
    def loaded(self) -> LoadedModel:
        """The network (loaded on first use)."""
        if self._loaded is None:
            for_onnx = self.backend in ("auto", "onnx") and self.device == "cpu"
            self._loaded = load_model(self.checkpoint, self.fold, for_onnx=for_onnx)
        return self._loaded

    @property
    def is_loaded(self) -> bool:
        return self._loaded is not None

    @property
    def n_segment(self) -> int:
        return self.loaded.shape.n_segment

    @property
    def big_hw(self) -> tuple[int, int]:
        side = self.loaded.shape.big_size
        return side, side

    @property
    def small_hw(self) -> tuple[int, int]:
        side = self.loaded.shape.small_size
        return side, side

    @property
    def crop(self) -> str:
        """The crop the weights were trained with (their record), else :data:`DEFAULT_CROP`."""
        crop = self.loaded.crop
        return crop if crop in CROP_MODES else DEFAULT_CROP

    @property
    def aligned(self) -> bool:
        """Whether the Big frames are landmark-aligned (the weights' record or ``align``)."""
        return self.loaded.align is not None or self.force_align

    @property
    def big_scale(self) -> float | None:
        """The Big frames' side in face-box widths when the weights' Big branch learned another
        framing than the ``face`` crop's (their record), else ``None``."""
        if self.aligned or self.crop != "face":
            return None
        return self.loaded.big_scale

    def align_kwargs(self) -> dict[str, Any]:
        """:func:`bigsmall.video.build_bigsmall_inputs` arguments that give the network the Big
        frames the weights need: landmark-aligned, or cut at their recorded ``big_scale``
        (:mod:`bigsmall.video.reframe`); none when the crop's own Big frames are right."""
        side = self.big_hw[0]
        stride = self.n_segment if self.loaded.shape.big_downsample else 1
        if not self.aligned:
            if self.big_scale is None:
                return {}
            from bigsmall.video.reframe import BoxReframer

            # the record's reader has checked big_scale's range
            reframer = BoxReframer(self.big_scale, side, crop_enlarge=DEFAULT_ENLARGE_COEF)
            return {"align": reframer, "align_side": side, "align_stride": stride}
        from bigsmall.video.align import AlignSpec, FaceAligner

        try:
            spec = AlignSpec.from_dict({**(self.loaded.align or {}), "out": side})
        except (TypeError, ValueError, ConfigError) as exc:
            raise CheckpointError(
                f"{self.loaded.weights}: its align record is not valid ({exc})"
            ) from None
        # the face crop's box is the tracked face enlarged by the default coefficient
        aligner = FaceAligner(spec, box_enlarge=DEFAULT_ENLARGE_COEF)
        return {"align": aligner, "align_side": side, "align_stride": stride}

    def input_kwargs(self) -> dict[str, Any]:
        """Sizes, crop and alignment for :func:`bigsmall.video.build_bigsmall_inputs`."""
        return {
            "size_hw": self.big_hw,
            "small_hw": self.small_hw,
            "crop": self.crop,
            **self.align_kwargs(),
        }

    def runner(self) -> tuple[WindowFn, str]:
        """The window function of the chosen backend (built once) and the backend's name."""
        backend = resolve_backend(self.backend, self.loaded, self.device)
        if backend not in self._runners:
            self._runners[backend] = make_runner(
                self.loaded, backend, self.device, self.log, threads=self.threads
            )
        return self._runners[backend], backend
