"""Experiment configuration: YAML in, validated frozen dataclasses out.

``config`` only composes the knobs that each layer owns (:class:`PreprocessConfig` in
``data.pipeline``, :class:`TrainSettings` in ``training``, :class:`EvalSettings` in
``evaluation``) and loads YAML. Unknown keys and bad values are one clear
:class:`~bigsmall.errors.ConfigError` naming the file and the key. Paths may use environment
variables (``${BIGSMALL_DATA}``, ``${VAR:-default}``) and relative ones are resolved against the
working directory the command runs in (the project root in the README's examples).
"""

from __future__ import annotations

import dataclasses
import os
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bigsmall.data.pipeline import PreprocessConfig
from bigsmall.errors import ConfigError
from bigsmall.evaluation.settings import EvalSettings
from bigsmall.training.settings import TrainSettings

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass(frozen=True)
class DataConfig:
    """Which recordings, and how they are split.

    Attributes:
        source: a name in :data:`bigsmall.data.sources.SOURCES`.
        root: dataset folder (relative to the YAML file, or from an environment variable).
        options: keyword options of the source (e.g. ``scope: all`` for BP4D+).
        split: "bp4d_folds" (the paper's 3 subject folds), "kfold" (seeded subject-disjoint
            folds) or "none" (train and test on everything; only for smoke tests).
        folds: number of folds for "kfold".
        split_seed: seed of "kfold".
        synthesize: if ``root`` does not exist, generate the synthetic dataset there with these
            ``bigsmall synth`` arguments (subjects, seconds, seed, ...); empty: never.
    """

    source: str = "folder"
    root: str = "data/synthetic"
    options: dict[str, Any] = field(default_factory=dict)
    split: str = "kfold"
    folds: int = 3
    split_seed: int = 0
    synthesize: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.synthesize:
            return
        from bigsmall.data.synthetic.generate import SynthConfig
        from bigsmall.errors import DatasetError

        allowed = {f.name for f in dataclasses.fields(SynthConfig)} | {"workers"}
        unknown = sorted(set(self.synthesize) - allowed)
        if unknown:
            raise ValueError(
                f"synthesize: unknown key {unknown[0]!r}; "
                f"allowed keys: {', '.join(sorted(allowed))}"
            )
        args = {k: v for k, v in self.synthesize.items() if k != "workers"}
        try:
            SynthConfig(**args).validate()
        except (DatasetError, TypeError) as exc:
            raise ValueError(f"synthesize: {exc}") from None


@dataclass(frozen=True)
class ModelConfig:
    """A registered model name and its constructor arguments.

    Attributes:
        name: registered model (``bigsmall list-models``).
        kwargs: constructor arguments.
        init: optional initialisation: a weights file (``.safetensors`` or toolbox ``.pth``), or
            ``trio:<folder>`` for BigSmall built from the authors' Big_AU/Small_Heart/Small_Resp.
        teacher: optional AU teacher for distillation (``train.au_distill_weight``):
            ``trio:<folder>@<fold>`` uses the authors' Big_AU of that fold.
    """

    name: str = "bigsmall"
    kwargs: dict[str, Any] = field(default_factory=dict)
    init: str | None = None
    teacher: str | None = None


@dataclass(frozen=True)
class PathsConfig:
    cache: str = "cache"
    runs: str = "runs"


@dataclass(frozen=True)
class ExperimentConfig:
    """One experiment: data → preprocess → model → train → evaluate, per fold.

    ``test_data`` (cross-dataset, Table 4): train on all of ``data`` and test on all of
    ``test_data`` (one "fold").
    """

    name: str
    data: DataConfig = field(default_factory=DataConfig)
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainSettings = field(default_factory=TrainSettings)
    eval: EvalSettings = field(default_factory=EvalSettings)
    paths: PathsConfig = field(default_factory=PathsConfig)
    test_data: DataConfig | None = None
    folds_to_run: tuple[int, ...] = ()
    base_dir: str = "."

    def resolve(self, path: str) -> Path:
        """``path`` with environment variables expanded, relative to ``base_dir``."""
        expanded = Path(_expand_env(path)).expanduser()
        return expanded if expanded.is_absolute() else Path(self.base_dir) / expanded

    def expand(self, text: str) -> str:
        """``text`` with environment variables expanded."""
        return _expand_env(text)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _expand_env(text: str) -> str:
    def sub(m: re.Match[str]) -> str:
        value = os.environ.get(m.group(1))
        if value is None:
            if m.group(2) is None:
                raise ConfigError(
                    f"environment variable {m.group(1)} is not set (used in {text!r}); "
                    f"set it or write ${{{m.group(1)}:-default}}"
                )
            return m.group(2)
        return value

    return _ENV.sub(sub, text)


def _convert(value: Any, annotation: Any, where: str) -> Any:
    """Check/convert a YAML value to the dataclass field's annotated type."""
    if isinstance(annotation, str):
        annotation = eval(annotation, vars(typing) | vars(types), {})
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if dataclasses.is_dataclass(annotation):
        return _build(annotation, value, where)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _convert(value, option, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0])
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        item = args[0] if args else Any
        if (len(args) == 2 and args[1] is Ellipsis) or len(args) <= 1:
            return tuple(_convert(v, item, f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(f"{where}: expected {len(args)} values, got {len(value)}")
        pairs = enumerate(zip(value, args, strict=True))
        return tuple(_convert(v, a, f"{where}[{i}]") for i, (v, a) in pairs)
    if origin is dict or annotation is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if annotation is Any:
        return value
    if annotation is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if annotation in (int, str, bool) and type(value) is annotation:
        return value
    if annotation in (int, float, str, bool):
        raise ConfigError(f"{where}: expected {annotation.__name__}, got {value!r}")
    return value


def _build(cls: type, mapping: Any, where: str) -> Any:
    if not isinstance(mapping, Mapping):
        raise ConfigError(f"{where}: expected a mapping of {cls.__name__} fields, got {mapping!r}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(mapping) - set(fields))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r}; allowed keys: {', '.join(sorted(fields))}"
        )
    hints = typing.get_type_hints(cls)
    kwargs = {k: _convert(v, hints[k], f"{where}.{k}") for k, v in mapping.items()}
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None


def config_from_mapping(mapping: Mapping[str, Any], base_dir: str | Path = ".") -> ExperimentConfig:
    """Validate a parsed YAML mapping into an :class:`ExperimentConfig`."""
    data = dict(mapping)
    data.setdefault("base_dir", str(base_dir))
    return _build(ExperimentConfig, data, "config")


def apply_overrides(mapping: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key.sub=value`` overrides (values parsed as YAML) to a nested mapping."""
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like section.key=value")
        dotted, raw = item.split("=", 1)
        node = mapping
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {item!r}: {key} is not a section")
        node[leaf] = yaml.safe_load(raw)
    return mapping


def _deep_merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader without aliases (a few hundred bytes of nested ``*alias`` expand to
    gigabytes) and refusing a key given twice in one mapping (YAML keeps the last silently)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.YAMLError(
                f"line {mark.line + 1}: YAML aliases (*name) are not supported in configs; "
                "write the value out"
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.YAMLError(
                    f"line {key_node.start_mark.line + 1}: key {key!r} is given twice"
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml_mapping(path: Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A YAML mapping; ``base: other.yaml`` (relative to this file) is merged underneath."""
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    if path.resolve() in _seen:
        raise ConfigError(f"{path}: 'base' includes itself")
    try:
        mapping = yaml.load(path.read_text(), Loader=_StrictLoader) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(mapping, dict):
        raise ConfigError(f"{path}: the top level must be a mapping")
    base = mapping.pop("base", None)
    if base is None:
        return mapping
    parent = read_yaml_mapping(path.parent / str(base), (*_seen, path.resolve()))
    parent.pop("name", None)
    return _deep_merge(parent, mapping)


def load_config(path: str | Path, overrides: list[str] | None = None) -> ExperimentConfig:
    """Load and validate an experiment YAML; ``overrides`` like ``train.epochs=1``."""
    path = Path(path)
    mapping = read_yaml_mapping(path)
    mapping = apply_overrides(mapping, list(overrides or []))
    mapping.setdefault("name", path.stem)
    try:
        return config_from_mapping(mapping, base_dir=Path.cwd())
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
