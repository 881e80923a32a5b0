"""The authors' released BP4D+ task-optimised models (Table 1 baselines) and the trio built on them.

Narayanswamy, Liu, Yang, Ma, Liu, McDuff, Patel. "BigSmall: Efficient Multi-Task Learning for
Disparate Spatial and Temporal Physiological Measurements." WACV 2024 (arXiv:2303.11573),
Table 1: a Big-only network with the AU head (``Big_AU``) and Small-only networks **without a
temporal shift** with a single PPG (``Small_Heart``) or respiration (``Small_Resp``) head, one
file per subject fold. Their state dicts carry a ``module.`` prefix and name the head
``out_fc1/out_fc2``; :data:`OFFICIAL_KEY_MAPS` maps those to this project's head names.

- ``big_au``, ``small_heart``, ``small_resp``: registered models whose state dicts take those
  files exactly (:func:`load_official`).
- :class:`BigSmallTrio` (``bigsmall_trio``): the three run side by side, returning the same
  :class:`~bigsmall.models.bigsmall.BigSmallOutput` as BigSmall (:func:`load_official_trio`).
- :func:`bigsmall_from_trio`: a ``bigsmall`` network initialised from the trio (Big branch + AU
  head from Big_AU, Small branch + PPG head from Small_Heart, respiration head from Small_Resp),
  the starting point for multi-task fine-tuning. Its heads then read the **sum** of Big and
  Small features (and a shifted Small branch), which none of the trio's heads were trained on:
  fine-tuning is needed before its outputs mean anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from bigsmall.constants import OFFICIAL_FOLDS, TRIO_SMALL_SOURCES
from bigsmall.errors import CheckpointError
from bigsmall.models.bigsmall import (
    BigSmall,
    BigSmallOutput,
    big_only,
    small_only_bvp,
    small_only_resp,
)
from bigsmall.models.registry import register_model
from bigsmall.models.weights import load_state_dict_strict, read_toolbox_state_dict

#: Released file name per official model, ``{fold}`` = 1, 2 or 3 (the paper's subject folds).
OFFICIAL_FILES: dict[str, str] = {
    "big_au": "BP4D_Big_AU_Clip3_Split{fold}_Epoch4.pth",
    "small_heart": "BP4D_Small_Heart_Clip3_Split{fold}_Epoch4.pth",
    "small_resp": "BP4D_Small_Resp_Clip3_Split{fold}_Epoch4.pth",
}

#: Released head names → this project's head names, per official model (applied after
#: stripping ``module.``; keys are prefixes, e.g. ``out_fc1.weight`` → ``au_fc1.weight``).
OFFICIAL_KEY_MAPS: dict[str, dict[str, str]] = {
    "big_au": {"out_fc1": "au_fc1", "out_fc2": "au_fc2"},
    "small_heart": {"out_fc1": "bvp_fc1", "out_fc2": "bvp_fc2"},
    "small_resp": {"out_fc1": "resp_fc1", "out_fc2": "resp_fc2"},
}

#: Which trio member each ``bigsmall`` parameter group is copied from, per choice of Small
#: source (the two Small models have different convolutions; only one set can be kept):
#: (BigSmall key prefix, trio member, member key prefix). Keys: the
#: :data:`~bigsmall.constants.TRIO_SMALL_SOURCES`.
TRIO_INIT_MAPS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "heart": (
        ("big_conv", "big_au", "big_conv"),
        ("au_fc", "big_au", "au_fc"),
        ("small_conv", "small_heart", "small_conv"),
        ("bvp_fc", "small_heart", "bvp_fc"),
        ("resp_fc", "small_resp", "resp_fc"),
    ),
    "resp": (
        ("big_conv", "big_au", "big_conv"),
        ("au_fc", "big_au", "au_fc"),
        ("small_conv", "small_resp", "small_conv"),
        ("bvp_fc", "small_heart", "bvp_fc"),
        ("resp_fc", "small_resp", "resp_fc"),
    ),
}

#: Default Small source for :func:`bigsmall_from_trio`: the PPG head (the task BigSmall's Small
#: branch mainly serves, and the weaker respiration head matters less) keeps its own features.
DEFAULT_SMALL_FROM = "heart"

#: Spelling in a released file name → official model (for auto-detection).
_FILE_NAME_HINTS: dict[str, str] = {
    "big_au": "big_au",
    "small_heart": "small_heart",
    "small_resp": "small_resp",
}


# -- registered models ----------------------------------------------------------------------------
@register_model
def big_au(**kwargs: Any) -> BigSmall:
    """Released ``Big_AU``: Big branch on every frame with the 12-AU head (no Small branch);
    the architecture of ``big_only`` under the release's name."""
    return big_only(**kwargs)


@register_model
def small_heart(**kwargs: Any) -> BigSmall:
    """Released ``Small_Heart``: Small branch **without** temporal shift, PPG head
    (``small_only_bvp``)."""
    return small_only_bvp(**kwargs)


@register_model
def small_resp(**kwargs: Any) -> BigSmall:
    """Released ``Small_Resp``: Small branch **without** temporal shift, respiration head
    (``small_only_resp``)."""
    return small_only_resp(**kwargs)


_MEMBER_BUILDERS = {"big_au": big_au, "small_heart": small_heart, "small_resp": small_resp}


class BigSmallTrio(nn.Module):
    """Big_AU + Small_Heart + Small_Resp run side by side, with BigSmall's interface.

    Attributes mirror :class:`BigSmall` (``n_segment``, ``in_channels``, ``big_size``,
    ``small_size``, ``use_big``, ``use_small``, ``tasks``, ``big_downsample``) so that the
    profiler and predictors treat it like one model. Big_AU runs on **every** frame in
    :meth:`forward` (as it was trained and as Table 1 counts it).
    """

    def __init__(self, n_segment: int = 3, **kwargs: Any) -> None:
        super().__init__()
        self.big_au = big_au(n_segment=n_segment, **kwargs)
        self.small_heart = small_heart(n_segment=n_segment, **kwargs)
        self.small_resp = small_resp(n_segment=n_segment, **kwargs)
        self.n_segment = n_segment
        self.in_channels = self.big_au.in_channels
        self.big_size = self.big_au.big_size
        self.small_size = self.small_heart.small_size
        self.use_big = True
        self.use_small = True
        self.big_downsample = False
        self.tasks = ("au", "bvp", "resp")

    def members(self) -> dict[str, BigSmall]:
        """``{"big_au": ..., "small_heart": ..., "small_resp": ...}``."""
        return {name: getattr(self, name) for name in _MEMBER_BUILDERS}

    def forward(self, big: torch.Tensor, small: torch.Tensor) -> BigSmallOutput:
        """(B·N, C, 144, 144) standardized and (B·N, C, 9, 9) difference frames → per-frame
        outputs (B·N, 12), (B·N, 1), (B·N, 1)."""
        if big.shape[0] != small.shape[0]:
            raise ValueError(f"Big has {big.shape[0]} frames but Small has {small.shape[0]}")
        return BigSmallOutput(
            au=self.big_au(big, None).au,
            bvp=self.small_heart(None, small).bvp,
            resp=self.small_resp(None, small).resp,
        )

    def forward_windows(self, big_first: torch.Tensor, small: torch.Tensor) -> BigSmallOutput:
        """BigSmall's deployed convention: Big_AU on frame 0 of each window (B, C, 144, 144),
        its AU logits repeated for the window's N frames (an approximation of :meth:`forward`,
        which runs Big_AU on every frame); Small models on all (B·N, C, 9, 9) frames."""
        au = self.big_au.heads(self.big_au.big_branch(big_first)).au
        return BigSmallOutput(
            au=au.repeat_interleave(self.n_segment, dim=0),
            bvp=self.small_heart(None, small).bvp,
            resp=self.small_resp(None, small).resp,
        )


@register_model
def bigsmall_trio(**kwargs: Any) -> BigSmallTrio:
    """Table 1's task-optimised trio (released Big_AU + Small_Heart + Small_Resp) as one model."""
    return BigSmallTrio(**kwargs)


# -- loading --------------------------------------------------------------------------------------
def _check_fold(fold: int) -> None:
    if fold not in OFFICIAL_FOLDS:
        raise CheckpointError(f"fold {fold} does not exist; choose one of {OFFICIAL_FOLDS}")


def official_path(weights_dir: str | Path, name: str, fold: int) -> Path:
    """Path of the released file of official model ``name`` for ``fold`` in ``weights_dir``."""
    if name not in OFFICIAL_FILES:
        raise CheckpointError(
            f"unknown official model {name!r}; choose one of {sorted(OFFICIAL_FILES)}"
        )
    _check_fold(fold)
    path = Path(weights_dir) / OFFICIAL_FILES[name].format(fold=fold)
    if not path.is_file():
        raise CheckpointError(
            f"{path}: released weights not found; pass the folder holding the authors' "
            "BP4D_*_Clip3_Split*_Epoch4.pth files"
        )
    return path


def read_official_state_dict(path: str | Path, name: str) -> dict[str, torch.Tensor]:
    """The released state dict at ``path`` renamed for official model ``name``."""
    if name not in OFFICIAL_KEY_MAPS:
        raise CheckpointError(
            f"unknown official model {name!r}; choose one of {sorted(OFFICIAL_KEY_MAPS)}"
        )
    return read_toolbox_state_dict(path, rename=OFFICIAL_KEY_MAPS[name])


def load_official(
    name: str,
    path_or_dir: str | Path,
    fold: int = 1,
    **kwargs: Any,
) -> BigSmall:
    """Official model ``name`` with its released weights, in eval mode.

    ``path_or_dir``: the ``.pth`` file itself, or the folder of the release (then ``fold``
    picks the file). ``kwargs`` go to the model builder (e.g. ``n_segment``).
    """
    path = Path(path_or_dir)
    if path.is_dir():
        path = official_path(path, name, fold)
    model = _MEMBER_BUILDERS[name](**kwargs) if name in _MEMBER_BUILDERS else None
    if model is None:
        raise CheckpointError(
            f"unknown official model {name!r}; choose one of {sorted(OFFICIAL_FILES)}"
        )
    load_state_dict_strict(model, read_official_state_dict(path, name), path)
    return model.eval()


def load_official_trio(weights_dir: str | Path, fold: int = 1, n_segment: int = 3) -> BigSmallTrio:
    """:class:`BigSmallTrio` with the released weights of ``fold``, in eval mode."""
    trio = BigSmallTrio(n_segment=n_segment)
    for name, member in trio.members().items():
        path = official_path(weights_dir, name, fold)
        load_state_dict_strict(member, read_official_state_dict(path, name), path)
    return trio.eval()


def _copy_prefix(
    target: Mapping[str, torch.Tensor], source: Mapping[str, torch.Tensor], dst: str, src: str
) -> dict[str, torch.Tensor]:
    pattern = re.compile(rf"^{re.escape(dst)}\d*\.")
    out: dict[str, torch.Tensor] = {}
    for key in target:
        if pattern.match(key):
            out[key] = source[src + key[len(dst) :]].detach().clone()
    return out


def bigsmall_from_trio(
    trio_or_dir: BigSmallTrio | str | Path,
    fold: int = 1,
    n_segment: int = 3,
    shift: str = "wtsm",
    small_from: str = DEFAULT_SMALL_FROM,
    **kwargs: Any,
) -> BigSmall:
    """A ``bigsmall`` network initialised from the released trio (see :data:`TRIO_INIT_MAPS`).

    Args:
        trio_or_dir: a loaded :class:`BigSmallTrio`, or the release folder (``fold`` picks).
        fold: subject fold of the release when a folder is given.
        n_segment: frames per window N of the new model.
        shift: its Small-branch shift ("wtsm" as the paper; the released Small models had none).
        small_from: "heart" (default) or "resp": whose Small convolutions are kept; the other
            task's head then reads features it was not trained on.
        kwargs: other :class:`BigSmall` arguments (must keep the released shapes).

    Returns:
        A :class:`BigSmall` in train mode, every parameter copied from the trio.
    """
    if small_from not in TRIO_SMALL_SOURCES:
        raise ValueError(
            f"small_from must be one of {sorted(TRIO_SMALL_SOURCES)}, got {small_from!r}"
        )
    trio = (
        trio_or_dir
        if isinstance(trio_or_dir, BigSmallTrio)
        else load_official_trio(trio_or_dir, fold)
    )
    model = BigSmall(n_segment=n_segment, shift=shift, **kwargs)
    target = model.state_dict()
    sources = {name: m.state_dict() for name, m in trio.members().items()}
    state: dict[str, torch.Tensor] = {}
    for dst, member, src in TRIO_INIT_MAPS[small_from]:
        state.update(_copy_prefix(target, sources[member], dst, src))
    load_state_dict_strict(model, state, f"trio fold {fold}")
    return model


# -- checkpoint detection -------------------------------------------------------------------------
def _has(keys: set[str], prefix: str) -> bool:
    return any(k.startswith(prefix) for k in keys)


def detect_checkpoint_model(
    state: Mapping[str, torch.Tensor], file_name: str = ""
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """Which registered model a (``module.``-stripped) state dict fits.

    Returns ``(model name, key rename map, builder kwargs)``. The released Small_Heart and
    Small_Resp files have identical keys and shapes; the file name decides (``Heart`` /
    ``Resp``), else :class:`CheckpointError` asks for ``--model``.
    """
    keys = set(state)
    big, small = _has(keys, "big_conv"), _has(keys, "small_conv")
    kwargs: dict[str, Any] = {}
    for task in ("au", "bvp", "resp"):
        if f"{task}_fc1.weight" in state:
            kwargs["hidden"] = int(state[f"{task}_fc1.weight"].shape[0])
    if _has(keys, "out_fc"):
        lowered = file_name.lower()
        if big and not small:
            return "big_au", OFFICIAL_KEY_MAPS["big_au"], {}
        if small and not big:
            for hint, name in _FILE_NAME_HINTS.items():
                if hint in lowered:
                    return name, OFFICIAL_KEY_MAPS[name], {}
            raise CheckpointError(
                f"{file_name or 'checkpoint'}: a Small-only single-head file; its keys cannot "
                "tell heart from respiration: pass --model small_heart or --model small_resp"
            )
    tasks = tuple(t for t in ("au", "bvp", "resp") if f"{t}_fc1.weight" in state)
    if "au_fc2.weight" in state:
        kwargs["n_au"] = int(state["au_fc2.weight"].shape[0])
    if big and small and tasks:
        return "bigsmall", {}, {**kwargs, "tasks": tasks}
    if big and tasks:
        return "big_only", {}, {**kwargs, "tasks": tasks}
    if small and tasks:
        return "small_only", {}, {**kwargs, "tasks": tasks}
    raise CheckpointError(
        f"{file_name or 'checkpoint'}: keys {sorted(keys)[:4]}... fit no BigSmall model; "
        "pass --model NAME"
    )
