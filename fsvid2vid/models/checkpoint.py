"""Training checkpoints as safetensors (every tensor) + JSON (step, config, optimiser hyper-parameters, RNG states).

A run folder holds ``checkpoints/step-0000500.safetensors`` with ``step-0000500.json`` next to it, and
``checkpoints/latest.json`` naming the newest complete pair. Each file is written under a temporary name and renamed,
and ``latest.json`` is replaced only after both files are in place, so a process killed while writing never replaces
the last good checkpoint. Reading checks the file's SHA-256 and that every tensor is finite, and a damaged checkpoint's
error names the earlier ones (``train --resume PATH`` continues from any of them). Nothing is ever unpickled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from fsvid2vid.atomic import os_error_message, read_safetensors, write_json, write_safetensors
from fsvid2vid.errors import UserError

FORMAT = "fsvid2vid-train-checkpoint"
VERSION = 1
LATEST = "latest.json"
#: Checkpoints newer than the one a run resumed from are renamed with this suffix (kept, never pruned).
ABANDONED_SUFFIX = ".abandoned"


def checkpoint_step(path: Path) -> int:
    """The step of ``.../step-0000500.safetensors`` (-1 for another name)."""
    try:
        return int(Path(path).stem.split("-")[1])
    except (IndexError, ValueError):
        return -1


def state_tensors(modules: dict[str, nn.Module], optimizers: dict[str, torch.optim.Optimizer]
                  ) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Flatten module and optimiser states into (tensors for safetensors, JSON-able optimiser metadata)."""
    tensors: dict[str, torch.Tensor] = {}
    for name, module in modules.items():
        for key, value in module.state_dict().items():
            tensors[f"model.{name}.{key}"] = value.detach().to("cpu").contiguous().clone()
    optim_meta: dict[str, Any] = {}
    for name, opt in optimizers.items():
        state = opt.state_dict()
        scalars: dict[str, dict[str, Any]] = {}
        for index, entries in state["state"].items():
            for key, value in entries.items():
                if torch.is_tensor(value):
                    tensors[f"optim.{name}.{index}.{key}"] = value.detach().to("cpu").contiguous().clone()
                else:
                    scalars.setdefault(str(index), {})[key] = value
        optim_meta[name] = {"param_groups": state["param_groups"], "scalars": scalars}
    return tensors, optim_meta


def save_checkpoint(run_dir: Path, step: int, modules: dict[str, nn.Module],
                    optimizers: dict[str, torch.optim.Optimizer], meta: dict[str, Any], keep: int = 3) -> Path:
    """Write the checkpoint of ``step`` and point ``latest.json`` at it; keep the ``keep`` newest. Returns its path."""
    folder = Path(run_dir) / "checkpoints"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{folder}: cannot be created ({os_error_message(exc)}); choose a writable --out") from None
    tensors, optim_meta = state_tensors(modules, optimizers)
    tensors["rng.torch"] = torch.get_rng_state()
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            tensors[f"rng.cuda.{i}"] = torch.cuda.get_rng_state(i)
    stem = f"step-{step:07d}"
    weights = folder / f"{stem}.safetensors"
    write_safetensors(weights, tensors, metadata={"format": FORMAT})
    write_json(folder / f"{stem}.json",
               {"format": FORMAT, "version": VERSION, "step": step, "optim": optim_meta, **meta})
    write_json(folder / LATEST, {"step": step, "stem": stem})
    for old in sorted(folder.glob("step-*.safetensors"))[:-keep]:
        old.unlink(missing_ok=True)
        old.with_suffix(".json").unlink(missing_ok=True)
    return weights


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The safetensors file named by ``run_dir/checkpoints/latest.json``, or None when the run has none."""
    pointer = Path(run_dir) / "checkpoints" / LATEST
    if not pointer.is_file():
        return None
    try:
        stem = json.loads(pointer.read_text())["stem"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{pointer}: unreadable ({exc}); delete it to start over or restore it") from None
    return pointer.parent / f"{stem}.safetensors"


def earlier_checkpoints(path: Path) -> list[Path]:
    """The other checkpoints next to ``path`` that are older than it, newest first."""
    path = Path(path)
    return sorted((p for p in path.parent.glob("step-*.safetensors") if p.name < path.name), reverse=True)


def _earlier_hint(path: Path) -> str:
    earlier = earlier_checkpoints(path)
    if not earlier:
        return "no earlier checkpoint is left in its folder"
    return f"continue from an earlier one with train --resume {earlier[0]}"


def read_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(tensors, metadata) of a checkpoint, with one-line errors for missing, truncated, damaged (checksum, NaN or
    infinite values) or foreign files."""
    path = Path(path)
    meta_path = path.with_suffix(".json")
    if not path.is_file():
        raise UserError(f"{path}: no such checkpoint")
    tensors, header = read_safetensors(path, hint=_earlier_hint(path))
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"{meta_path}: missing or unreadable checkpoint metadata ({exc}); "
                        f"{_earlier_hint(path)}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or header.get("format") != FORMAT:
        raise UserError(f"{path}: not an fsvid2vid training checkpoint")
    missing = sorted({"step", "task", "optim"} - set(meta))
    if missing or not isinstance(meta.get("config", {}), dict):
        raise UserError(f"{meta_path}: damaged checkpoint metadata (missing {', '.join(missing) or 'config'}); "
                        f"{_earlier_hint(path)}")
    if "rng.torch" not in tensors:
        raise UserError(f"{path}: damaged checkpoint (no RNG state); {_earlier_hint(path)}")
    return tensors, meta


def restore(tensors: dict[str, torch.Tensor], meta: dict[str, Any], modules: dict[str, nn.Module],
            optimizers: dict[str, torch.optim.Optimizer], path: Path | str = "checkpoint") -> None:
    """Load module weights, optimiser states and the torch RNG state saved by :func:`save_checkpoint`."""
    for name, module in modules.items():
        prefix = f"model.{name}."
        state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        try:
            module.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[0]
            raise UserError(f"{path}: does not fit this model's {name} ({first}); was it trained with another "
                            "config?") from None
    for name, opt in optimizers.items():
        saved = meta["optim"][name]
        state: dict[int, dict[str, Any]] = {}
        prefix = f"optim.{name}."
        for key, value in tensors.items():
            if key.startswith(prefix):
                index, entry = key[len(prefix):].split(".", 1)
                state.setdefault(int(index), {})[entry] = value
        for index, entries in saved.get("scalars", {}).items():
            state.setdefault(int(index), {}).update(entries)
        opt.load_state_dict({"state": state, "param_groups": saved["param_groups"]})
    torch.set_rng_state(tensors["rng.torch"])
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            if f"rng.cuda.{i}" in tensors:
                torch.cuda.set_rng_state(tensors[f"rng.cuda.{i}"], i)
