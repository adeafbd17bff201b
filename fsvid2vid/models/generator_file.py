"""Generator files: export from a training checkpoint (fp16 safetensors, config inside), and load either kind.

An exported file is one safetensors file whose header metadata holds the model config as JSON, so it is
self-contained: ``load_generator`` needs nothing else. Nothing is ever unpickled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open

from fsvid2vid.atomic import write_safetensors
from fsvid2vid.errors import UserError
from fsvid2vid.models import FewShotGenerator, ModelConfig
from fsvid2vid.models.checkpoint import FORMAT as TRAIN_FORMAT
from fsvid2vid.models.checkpoint import read_checkpoint

FORMAT = "fsvid2vid-generator"
_PREFIX = "model.generator."


def export_generator(checkpoint: Path | str, out: Path | str, half: bool = True,
                     info: dict[str, Any] | None = None) -> Path:
    """Write the generator of a training checkpoint to ``out`` (fp16 unless ``half`` is False), atomically."""
    tensors, meta = read_checkpoint(Path(checkpoint))
    weights = {k[len(_PREFIX):]: v for k, v in tensors.items() if k.startswith(_PREFIX)}
    init_from = meta["config"].get("run", {}).get("init_from")
    if init_from:  # a run started from another generator: say which, and count the generator's steps in all
        lineage: dict[str, Any] = {"init_from": init_from}
        if "steps_before" in meta:  # (checkpoints written before 2026-11-30 do not record it)
            lineage["total_steps"] = int(meta["steps_before"]) + int(meta["step"])
        info = {**lineage, **(info or {})}
    header = {"format": FORMAT, "task": meta["task"], "step": str(meta["step"]),
              "config": json.dumps(meta["config"]["model"]), "info": json.dumps(info or {})}
    return write_safetensors(out, weights, header, half=half)


def read_header(path: Path | str) -> dict[str, str]:
    """The metadata of a safetensors file's header (without reading its tensors), or a one-line error."""
    try:
        with safe_open(str(path), framework="pt") as f:
            return f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise UserError(f"{path}: truncated or not a safetensors file ({exc})") from None


def load_generator(path: Path | str, device: str | torch.device = "cpu") -> tuple[FewShotGenerator, ModelConfig,
                                                                                 dict[str, Any]]:
    """(generator in eval mode, its config, info) from an exported generator or a training checkpoint.

    One-line :class:`UserError` for a missing, truncated or foreign file, or weights that do not fit the config.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such checkpoint; give a models/*.safetensors file or a training checkpoint")
    header = read_header(path)
    if header.get("format") == FORMAT:
        try:
            config = ModelConfig.from_dict(json.loads(header["config"]))
            info = json.loads(header.get("info", "{}"))
        except (KeyError, ValueError) as exc:
            raise UserError(f"{path}: damaged generator header ({exc}); export it again") from None
        from safetensors.torch import load_file

        try:
            weights = load_file(str(path))
        except (SafetensorError, OSError) as exc:
            raise UserError(f"{path}: truncated or not a safetensors file ({exc})") from None
        info = {"step": int(header.get("step", 0)), **info}
    elif header.get("format") == TRAIN_FORMAT:
        tensors, meta = read_checkpoint(path)
        config = ModelConfig.from_dict(meta["config"]["model"])
        weights = {k[len(_PREFIX):]: v for k, v in tensors.items() if k.startswith(_PREFIX)}
        info = {"step": int(meta["step"])}
    else:
        raise UserError(f"{path}: not an fsvid2vid generator or training checkpoint")
    generator = FewShotGenerator(config.generator)
    try:
        generator.load_state_dict({k: v.float() for k, v in weights.items()}, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise UserError(f"{path}: weights do not fit its own config ({first}); export it again") from None
    return generator.to(device).eval(), config, info
