"""Generator files: export from a training checkpoint (fp16 safetensors, config inside), and load either kind.

An exported file is one safetensors file whose header metadata holds the model config as JSON, so it is
self-contained: ``load_generator`` needs nothing else. Loading checks the file's SHA-256 (files exported before
2026-12 carry none) and that every weight is finite. Nothing is ever unpickled.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import torch

from fsvid2vid.atomic import check_output, read_safetensors, read_safetensors_metadata, write_safetensors
from fsvid2vid.errors import UserError
from fsvid2vid.models import FewShotGenerator, ModelConfig
from fsvid2vid.models.checkpoint import FORMAT as TRAIN_FORMAT
from fsvid2vid.models.checkpoint import read_checkpoint

FORMAT = "fsvid2vid-generator"
_PREFIX = "model.generator."


#: The largest magnitude fp16 holds; larger weights would be exported as infinity.
FP16_MAX = 65504.0


def export_generator(checkpoint: Path | str, out: Path | str, half: bool = True,
                     info: dict[str, Any] | None = None, overwrite: bool = True) -> Path:
    """Write the generator of a training checkpoint to ``out`` (fp16 unless ``half`` is False), atomically.

    Without ``overwrite`` an existing ``out`` is refused; with it, only an fsvid2vid file is replaced."""
    out = Path(out)
    check_output(out, overwrite)
    if out.exists() and out.resolve() == Path(checkpoint).resolve():
        raise UserError(f"{out}: is the checkpoint being exported; choose another --out")
    tensors, meta = read_checkpoint(Path(checkpoint))
    model = _model_section(meta, Path(checkpoint))
    weights = {k[len(_PREFIX):]: v for k, v in tensors.items() if k.startswith(_PREFIX)}
    if not weights:
        raise UserError(f"{checkpoint}: holds no generator weights; is it a training checkpoint of fsvid2vid?")
    if half:
        for key, value in weights.items():
            if value.is_floating_point() and value.numel() and float(value.abs().max()) > FP16_MAX:
                raise UserError(f"{checkpoint}: weight {key} exceeds the fp16 range ({float(value.abs().max()):.3g} "
                                f"> {FP16_MAX:g}); export it with --fp32")
    init_from = meta["config"].get("run", {}).get("init_from")
    steps_before = int(meta.get("steps_before", 0))  # (checkpoints written before 2026-11-30 do not record it)
    if init_from or steps_before:  # a run started from another generator: say which, count its steps in all
        # (init_from can be unset where the run was resumed with a config that does not name it: steps_before stays)
        lineage: dict[str, Any] = {"init_from": init_from} if init_from else {}
        if "steps_before" in meta:
            lineage["total_steps"] = steps_before + int(meta["step"])
        info = {**lineage, **(info or {})}
    return write_generator_file(out, weights, model, half, int(meta["step"]), info)


def write_generator_file(out: Path | str, weights: dict[str, torch.Tensor], config: ModelConfig | dict[str, Any],
                         half: bool = True, step: int = 0, info: dict[str, Any] | None = None) -> Path:
    """Write generator ``weights`` (a state dict) and their model config as a generator file, atomically."""
    config = config.to_dict() if isinstance(config, ModelConfig) else config
    header = {"format": FORMAT, "task": str(config.get("task")), "step": str(step), "config": json.dumps(config),
              "info": json.dumps(info or {})}
    return write_safetensors(out, weights, header, half=half)


def _model_section(meta: dict[str, Any], path: Path) -> dict[str, Any]:
    model = (meta.get("config") or {}).get("model")
    if not isinstance(model, dict):
        raise UserError(f"{path}: its metadata has no model config; is it a training checkpoint of fsvid2vid?")
    return model


def load_generator(path: Path | str, device: str | torch.device = "cpu", overrides: dict[str, Any] | None = None
                   ) -> tuple[FewShotGenerator, ModelConfig, dict[str, Any]]:
    """(generator in eval mode, its config, info) from an exported generator or a training checkpoint.

    ``overrides``: GeneratorConfig fields to change before the weights are loaded (e.g. ``{"example_mix": "share"}``
    or ``{"example_alignment": "parts_only"}``, whose generator has no W_e: the file's W_e weights are left out).
    One-line :class:`UserError` for a missing, truncated or foreign file, weights that do not fit the config, or an
    unknown field.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such checkpoint; give a models/*.safetensors file or a training checkpoint")
    header = read_safetensors_metadata(path)
    if header.get("format") == FORMAT:
        weights, header = read_safetensors(path, hint="export it again or use another generator file")
        try:
            config = ModelConfig.from_dict(json.loads(header["config"]))
            info = json.loads(header.get("info", "{}"))
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise UserError(f"{path}: damaged generator header ({exc!r}); export it again") from None
        info = {"step": int(header.get("step", 0)), **info}
    elif header.get("format") == TRAIN_FORMAT:
        tensors, meta = read_checkpoint(path)
        config = ModelConfig.from_dict(_model_section(meta, path))
        weights = {k[len(_PREFIX):]: v for k, v in tensors.items() if k.startswith(_PREFIX)}
        info = {"step": int(meta["step"])}
    else:
        raise UserError(f"{path}: not an fsvid2vid generator or training checkpoint")
    if overrides:
        try:
            config = dataclasses.replace(config, generator=dataclasses.replace(config.generator, **overrides))
        except TypeError as exc:
            raise UserError(f"{path}: cannot set {sorted(overrides)} on its generator ({exc})") from None
    generator = FewShotGenerator(config.generator)
    try:
        generator.load_state_dict({k: v.float() for k, v in weights.items()}, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise UserError(f"{path}: weights do not fit its own config ({first}); export it again") from None
    return generator.to(device).eval(), config, info
