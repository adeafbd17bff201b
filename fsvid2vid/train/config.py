"""Typed training configuration. Every default lives in a dataclass field here or in
:mod:`fsvid2vid.models.config`; a YAML file in ``configs/`` only overrides fields.

Values are checked on load against the fields' types and ranges (:mod:`fsvid2vid.fields`): ``steps: "three"`` or
``lr: -0.001`` is a one-line error naming the file and the key.

A config file looks like::

    task: dance
    model_size: "64"          # a preset of fsvid2vid.models.config.model_preset
    model:                    # optional overrides of the preset
      generator: {conditioning: ours}
    data: {root: data/dance-train}
    schedule: {steps: 5000, batch_size: 4}
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml

from fsvid2vid.data.dataset import AugmentConfig
from fsvid2vid.errors import UserError
from fsvid2vid.fields import AtLeast1, Positive, Range, build, check_instance, check_keys
from fsvid2vid.losses.config import LossConfig
from fsvid2vid.models.config import ModelConfig, model_preset
from fsvid2vid.models.precision import PRECISIONS

Beta = Annotated[float, Range(0, 1, high_inclusive=False)]


@dataclass
class DataConfig:
    """Where the training clips are and how items are drawn (see fsvid2vid.data.dataset)."""

    root: str = "data/dance-train"  # dataset folder of clip folders (fsvid2vid data synth --out ...)
    max_stride: AtLeast1 = 4  # target frames are 1..max_stride frames apart
    augment: AugmentConfig | bool = field(default_factory=AugmentConfig)  # shared flip / zoom / colour jitter per
    #                            item; YAML: a mapping of AugmentConfig fields, or false for none (always an
    #                            AugmentConfig once built)
    workers: int = 1  # DataLoader worker processes (0: load in the training process)
    example_choice: Literal["random", "views", "front_views"] = "random"  # how an item's K examples are drawn from
    #                            its subject's frames: "random"; "views": the first at random, each next the frame
    #                            whose view (yaw, benchmark version 2) is farthest from those drawn (random where no
    #                            views); "front_views": as "views" with the first (also at K = 1) drawn among the
    #                            frames that face the camera, as evaluate's K = 1 example and most photos do

    def __post_init__(self) -> None:
        if isinstance(self.augment, bool):  # `augment: false` (and configs written before 2026-12-02)
            self.augment = AugmentConfig(enabled=self.augment)
        elif isinstance(self.augment, dict):
            self.augment = build(AugmentConfig, self.augment, "data.augment", prefix="data.augment.")


@dataclass
class OptimConfig:
    """Adam, as in the paper (lr 0.0004, betas (0.5, 0.999)), with an optional two-time-scale update."""

    lr: Positive = 4e-4
    beta1: Beta = 0.5
    beta2: Beta = 0.999
    two_time_scale: bool = False  # TTUR: generator lr / 2, discriminators lr * 2, beta1 = 0 (vid2vid's option)
    grad_clip: float = 0.0  # clip gradient norms to this (0: off)
    lr_decay_steps: int = 0  # decay every lr linearly to 0 over the last this many of schedule.steps (0: constant);
    #                          the official code's niter_decay (its street recipe decays over 50 of 70 epochs)

    def lr_factor(self, step: int, steps: int) -> float:
        """The multiplier of the learning rates for the step after ``step`` of ``steps`` in all (1 until the decay)."""
        if self.lr_decay_steps <= 0:
            return 1.0
        return max(0.0, min(1.0, (steps - step) / self.lr_decay_steps))


@dataclass
class ScheduleConfig:
    """Length of the run, batch, K, and the progressive sequence length T."""

    steps: AtLeast1 = 3000  # optimisation steps in all
    batch_size: AtLeast1 = 4  # clips per step (per process under torchrun)
    K_max: AtLeast1 = 2  # K is drawn per batch from 1..K_max, so one model serves any K
    single_frame_steps: int = 1000  # T = 1 for the first steps (no temporal networks yet, as in the paper)
    T_start: AtLeast1 = 2  # T after the single-frame phase ...
    T_double_every: int = 1000  # ... doubled every this many steps ...
    T_max: AtLeast1 = 4  # ... up to this

    def T(self, step: int) -> int:
        """Sequence length at ``step``."""
        if step < self.single_frame_steps:
            return 1
        doublings = (step - self.single_frame_steps) // max(1, self.T_double_every)
        return int(min(self.T_max, self.T_start * 2 ** min(doublings, 30)))


@dataclass
class RunConfig:
    """Checkpoints, logging, safety nets, seeds and devices."""

    seed: int = 0  # model initialisation and data order
    checkpoint_every: AtLeast1 = 250  # steps between checkpoints (one is also written at the end and on SIGINT/SIGTERM)
    keep_checkpoints: AtLeast1 = 3  # most recent checkpoints kept on disk
    log_every: AtLeast1 = 10  # steps between TensorBoard scalar logs
    image_every: AtLeast1 = 250  # steps between TensorBoard image grids
    nan_patience: AtLeast1 = 5  # this many non-finite steps in a row stop the run
    device: str = "auto"  # "auto" (CUDA when available), "cpu", "cuda", "cuda:1", ...
    precision: Literal[PRECISIONS] = "fp32"  # "fp32", "bf16" (autocast: convolutions and matmuls in bf16, losses
    #                          and weights in fp32, CPU or CUDA) or "auto" (bf16 where the hardware runs it natively);
    #                          fp32 until an equal-budget run shows bf16 trains as well (docs/performance.md)
    threads: int = 0  # torch CPU threads (0: torch's default)
    init_from: str | None = None  # a new run's generator starts from this generator file or training checkpoint
    # (same model config; the discriminators and optimisers start fresh): fine-tuning, or continuing a bundled model


@dataclass
class TrainConfig:
    """A whole training run."""

    task: Literal["dance", "face", "street"] = "dance"
    model_size: str = "64"
    model: ModelConfig | None = None  # None: model_preset(task, model_size)
    data: DataConfig = field(default_factory=DataConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def __post_init__(self) -> None:
        if self.model is None:
            self.model = model_preset(self.task, self.model_size)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "config") -> TrainConfig:
        """Build from a (possibly partial) dict: ``model`` overrides the preset of (task, model_size). Every value is
        checked against its field's type and range (:mod:`fsvid2vid.fields`)."""
        data = dict(data or {})
        check_keys(cls, data, where)
        if isinstance(data.get("model_size"), int) and not isinstance(data.get("model_size"), bool):
            data["model_size"] = str(data["model_size"])  # YAML reads model_size: 64 as a number
        top = build(cls, {k: v for k, v in data.items() if k in ("task", "model_size")}, where)
        task, size = top.task, top.model_size
        overrides = data.get("model") or {}
        if not isinstance(overrides, dict):
            raise UserError(f"{where}: 'model' must be a mapping of overrides")
        try:
            model = ModelConfig.from_dict(_merge(model_preset(task, size).to_dict(), overrides))
        except UserError as exc:
            raise UserError(f"{where}: {exc}") from None
        if model.task != task:
            raise UserError(f"{where}: model.task {model.task!r} differs from task {task!r}")
        parts = {}
        for name, sub in (("data", DataConfig), ("loss", LossConfig), ("optim", OptimConfig),
                          ("schedule", ScheduleConfig), ("run", RunConfig)):
            values = data.get(name) or {}
            if not isinstance(values, dict):
                raise UserError(f"{where}: {name!r} must be a mapping")
            if name == "run" and "bf16" in values:  # configs written before 2026-12-02: run.bf16 (CUDA only)
                values = {k: v for k, v in values.items() if k != "bf16"}
                if data["run"]["bf16"] is True:
                    values.setdefault("precision", "bf16")
            check_keys(sub, values, f"{where}: {name}")
            parts[name] = build(sub, values, where, prefix=f"{name}.")
        cfg = cls(task=task, model_size=size, model=model, **parts)
        cfg.validate(where)
        return cfg

    def validate(self, where: str = "config") -> None:
        """Check every field against its type and range (also after fields were set in code)."""
        try:
            check_instance(self)
        except UserError as exc:
            raise UserError(f"{where}: {exc}") from None


def load_config(path: Path | str, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Read a YAML config file and apply ``overrides`` (a nested dict, e.g. from the command line)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise UserError(f"{path}: no such config file; see configs/ for examples") from None
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"{path}: not a readable YAML config ({exc})".replace("\n", " ")) from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: a config file must be a mapping of sections")
    return TrainConfig.from_dict(_merge(data, overrides or {}), where=str(path))


def parse_override(text: str) -> dict[str, Any]:
    """``"a.b.c=VALUE"`` -> ``{"a": {"b": {"c": VALUE}}}``, VALUE read as YAML (``4``, ``true``, ``[1, 2]``, ``x``)."""
    key, sep, value = text.partition("=")
    if not sep or not key or any(not part for part in key.split(".")):
        raise UserError(f"--set {text!r}: expected KEY=VALUE with a dotted key, e.g. schedule.batch_size=8")
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        raise UserError(f"--set {text!r}: the value is not valid YAML") from None
    nested: dict[str, Any] = {}
    node = nested
    *parents, leaf = key.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = parsed
    return nested


def merge_overrides(*overrides: dict[str, Any]) -> dict[str, Any]:
    """Merge nested override dicts, later ones winning."""
    out: dict[str, Any] = {}
    for o in overrides:
        out = _merge(out, o)
    return out


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in overrides.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out
