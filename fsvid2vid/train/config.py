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

from fsvid2vid.errors import UserError
from fsvid2vid.fields import AtLeast1, Positive, Range, build, check_instance, check_keys
from fsvid2vid.models.config import ModelConfig, model_preset

Beta = Annotated[float, Range(0, 1, high_inclusive=False)]


@dataclass
class DataConfig:
    """Where the training clips are and how items are drawn (see fsvid2vid.data.dataset)."""

    root: str = "data/dance-train"  # dataset folder of clip folders (fsvid2vid data synth --out ...)
    max_stride: AtLeast1 = 4  # target frames are 1..max_stride frames apart
    augment: bool = True  # shared flip / zoom / colour jitter per item
    workers: int = 1  # DataLoader worker processes (0: load in the training process)


@dataclass
class LossConfig:
    """Weights of the generator's loss terms (the vid2vid objective the paper reuses)."""

    gan: float = 1.0  # hinge GAN on the conditional image discriminator
    feature_matching: float = 10.0  # L1 between image-discriminator features of real and generated frames
    temporal_gan: float = 1.0  # hinge GAN on the temporal discriminator (on by default; the anchors left it off)
    temporal_feature_matching: float = 10.0  # feature matching on the temporal discriminator
    l1: float = 10.0  # L1 between generated and real frames (final frame x_t and intermediate image h'_t)
    flow: float = 10.0  # L1 between W's flow and OpenCV ground-truth flow where the latter is consistent
    warp: float = 10.0  # L1 between real frames and the real previous frame / example warped by the predicted flows
    mask: float = 10.0  # soft occlusion masks: 0 where the warp is right, 1 where it is wrong
    part_warp: float = 10.0  # label layers: L1 between the example's one-hot map warped by W_e's flow and the frame's
    part_mask: float = 10.0  # label layers: m_e pushed to 1 where the warped example's labels disagree (anti-ghost)
    vgg: float = 10.0  # VGG19 perceptual loss; used only when vgg_weights is set
    vgg_weights: str | None = None  # path of VGG19 weights as safetensors (torchvision key names); None: no VGG
    flow_method: Literal["dis", "farneback"] = "dis"  # OpenCV ground-truth flow: "dis" or "farneback"


@dataclass
class OptimConfig:
    """Adam, as in the paper (lr 0.0004, betas (0.5, 0.999)), with an optional two-time-scale update."""

    lr: Positive = 4e-4
    beta1: Beta = 0.5
    beta2: Beta = 0.999
    two_time_scale: bool = False  # TTUR: generator lr / 2, discriminators lr * 2, beta1 = 0 (vid2vid's option)
    grad_clip: float = 0.0  # clip gradient norms to this (0: off)


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
    bf16: bool = False  # bf16 autocast on CUDA
    threads: int = 0  # torch CPU threads (0: torch's default)
    init_from: str | None = None  # a new run's generator starts from this generator file or training checkpoint
    # (same model config; the discriminators and optimisers start fresh): fine-tuning, or continuing a bundled model


@dataclass
class TrainConfig:
    """A whole training run."""

    task: Literal["dance", "face", "street"] = "dance"
    model_size: str = "64"
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    run: RunConfig = field(default_factory=RunConfig)

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
