"""Streaming inference: K example images of a subject + a driving semantic video -> generated frames, one at a time.

    synth = Synthesizer.from_checkpoint("models/dance-64.safetensors")
    examples = load_examples(["data/dance-test-64/s1000000_c00/rgb/000004.png", ...], synth.layers)
    for frame in synth.animate(examples, driving_clip("data/dance-test-64/s1000000_x1000001_c00")):
        frame.rgb  # (H, W, 3) uint8

The example-dependent part of the network runs once per example set; only the last tau generated frames are kept,
so memory stays flat however long the driving video is. ``precision="auto"`` (the default) runs bf16 where the
hardware does it natively (fsvid2vid.models.precision), with spectral norm folded and the weights cast once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import torch

from fsvid2vid.data.encode import rgb_to_tensor, semantic_to_tensor, tensor_to_rgb
from fsvid2vid.data.layout import (
    RGB_DIR,
    ClipMeta,
    clip_layer_folders,
    frame_name,
    points_array,
    read_image,
    read_layers,
    read_meta,
)
from fsvid2vid.data.semantics import SemanticLayer, task_layers
from fsvid2vid.devices import cpu_threads, single_threaded_ops
from fsvid2vid.errors import UserError
from fsvid2vid.infer.pipeline import map_ahead
from fsvid2vid.models import FewShotGenerator, FrameOutput, ModelConfig
from fsvid2vid.models.generator_file import load_generator
from fsvid2vid.models.precision import DTYPES, inference_generator, resolve_precision
from fsvid2vid.models.rollout import Rollout


@dataclass
class Examples:
    """K example frames of one subject with their semantic maps."""

    rgb: torch.Tensor  # (K, 3, H, W) in [-1, 1]
    semantic: torch.Tensor  # (K, C_s, H, W)
    paths: list[str]


@dataclass
class DrivingFrame:
    """One frame of a driving video: its semantic map and, when known, the real frame (ground truth)."""

    semantic: torch.Tensor  # (C_s, H, W)
    rgb: np.ndarray | None = None  # (H, W, 3) uint8


@dataclass
class GeneratedFrame:
    """One generated frame and what produced it."""

    rgb: np.ndarray  # (H, W, 3) uint8
    output: FrameOutput  # the network's intermediate quantities (batch of 1)
    driving: DrivingFrame


def _clip_of_frame(path: Path) -> tuple[Path, int]:
    """(clip folder, frame index) of ``<clip>/rgb/NNNNNN.png``, or a one-line error."""
    path = Path(path)
    if path.parent.name != RGB_DIR or not path.stem.isdigit() or not (path.parent.parent / "meta.json").is_file():
        raise UserError(f"{path}: example semantic maps not found; give an example frame inside a clip folder "
                        f"(<clip>/{RGB_DIR}/NNNNNN.png), e.g. from `fsvid2vid data synth`")
    return path.parent.parent, int(path.stem)


def _frame_semantics(clip_dir: Path, meta: ClipMeta, index: int) -> torch.Tensor:
    arrays = read_layers(clip_layer_folders(clip_dir, meta.layers), meta.layers, frame_name(index),
                         (meta.height, meta.width))
    return semantic_to_tensor(arrays, meta.layers)


def load_examples(paths: Iterable[Path | str], layers: tuple[SemanticLayer, ...] | None = None) -> Examples:
    """Example frames given as ``<clip>/rgb/NNNNNN.png`` files; their semantic maps come from the same clip."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise UserError("no example images given: pass at least one with --examples (K >= 1)")
    rgbs, semantics = [], []
    size = None
    for path in paths:
        if not path.is_file():
            raise UserError(f"{path}: no such example image")
        clip_dir, index = _clip_of_frame(path)
        meta = read_meta(clip_dir)
        if layers is not None and meta.layers != layers:
            raise UserError(f"{path}: its clip has semantic layers {[x.name for x in meta.layers]}, the model "
                            f"expects {[x.name for x in layers]}")
        if size is not None and (meta.height, meta.width) != size:
            raise UserError(f"{path}: is {meta.width}x{meta.height}, unlike the first example "
                            f"({size[1]}x{size[0]}); give examples of one size")
        size = (meta.height, meta.width)
        rgbs.append(rgb_to_tensor(read_image(path, 3, size)))
        semantics.append(_frame_semantics(clip_dir, meta, index))
    return Examples(torch.stack(rgbs), torch.stack(semantics), [str(p) for p in paths])


def driving_clip(clip_dir: Path | str, max_frames: int | None = None) -> Iterator[DrivingFrame]:
    """The frames of a driving clip folder (semantic maps, and the RGB frames as ground truth when present)."""
    clip_dir = Path(clip_dir)
    meta = read_meta(clip_dir)
    n = meta.n_frames if max_frames is None else min(meta.n_frames, max_frames)
    with_rgb = (clip_dir / RGB_DIR).is_dir()  # a clip of semantic maps only has no rgb/ at all
    for index in range(n):
        rgb = read_image(clip_dir / RGB_DIR / frame_name(index), 3, (meta.height, meta.width)) if with_rgb else None
        yield DrivingFrame(_frame_semantics(clip_dir, meta, index), rgb)


#: Drawing functions of the point formats a points JSON may hold: format -> (layer it draws, draw(points, h, w)).
def _point_drawers() -> dict[str, tuple[str, object]]:
    from fsvid2vid.data.draw.face import draw_face_sketch
    from fsvid2vid.data.draw.pose import draw_openpose

    return {"coco18": ("pose", draw_openpose), "dlib68": ("sketch", draw_face_sketch)}


def driving_length(path: Path | str, layers: tuple[SemanticLayer, ...]) -> int:
    """Number of frames of a driving source (see :func:`driving_source`), without reading its images."""
    path = Path(path)
    if path.is_dir() and (path / "meta.json").is_file():
        return read_meta(path).n_frames
    if path.is_file() and path.suffix.lower() == ".json":
        try:
            return len(json.loads(path.read_text())["frames"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UserError(f"{path}: not a points JSON ({exc}); see docs/data.md for the format") from None
    if not path.is_dir():
        raise UserError(f"{path}: no such driving clip, folder of semantic maps or points JSON")
    first = path / layers[0].name
    return len(list((first if first.is_dir() else path).glob("*.png")))


def driving_source(path: Path | str, layers: tuple[SemanticLayer, ...], height: int, width: int,
                   max_frames: int | None = None) -> Iterator[DrivingFrame]:
    """Driving frames from any of the supported sources:

    * a clip folder (``meta.json``; its RGB frames are the ground truth);
    * a folder with one sub-folder per semantic layer (``pose/``, ``parts/`` ...) of equally named PNGs, or, for a
      single-layer model, a folder of PNGs;
    * a points JSON ``{"format": "coco18" | "dlib68", "frames": [[[x, y, conf], ...], ...]}`` (the layout's
      keypoints.json / landmarks.json), drawn with the same functions as the benchmark, in pixels of a
      ``height`` x ``width`` frame. Only for models whose every layer can be drawn from points.
    """
    path = Path(path)
    if path.is_dir() and (path / "meta.json").is_file():
        yield from driving_clip(path, max_frames)
        return
    size = (height, width)
    if path.is_file() and path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text())
            fmt, frames = data["format"], data["frames"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UserError(f"{path}: not a points JSON ({exc}); see docs/data.md for the format") from None
        drawers = _point_drawers()
        if fmt not in drawers:
            raise UserError(f"{path}: needs format coco18 or dlib68 and frames of [x, y, confidence] points")
        frames = points_array(frames, path, height, width, "see docs/data.md for the format")
        layer_name, draw = drawers[fmt]
        if [layer.name for layer in layers] != [layer_name]:
            raise UserError(f"{path}: {fmt} points draw only the {layer_name!r} layer, but the model needs "
                            f"{[layer.name for layer in layers]}; drive it with a clip folder or a folder of maps")
        for points in frames[:max_frames]:
            yield DrivingFrame(semantic_to_tensor({layer_name: draw(points, height, width)}, layers))
        return
    if not path.is_dir():
        raise UserError(f"{path}: no such driving clip, folder of semantic maps or points JSON")
    folders = clip_layer_folders(path, layers)
    if len(layers) == 1 and not folders[layers[0].name].is_dir():
        folders = {layers[0].name: path}
    missing = [str(f) for f in folders.values() if not f.is_dir()]
    if missing:
        raise UserError(f"{missing[0]}: missing; a folder of semantic maps needs one sub-folder per layer "
                        f"({', '.join(folders)})")
    names = sorted(p.name for p in next(iter(folders.values())).glob("*.png"))
    if not names:
        raise UserError(f"{next(iter(folders.values()))}: holds no PNG semantic maps")
    for name in names[:max_frames]:
        yield DrivingFrame(semantic_to_tensor(read_layers(folders, layers, name, size), layers))


class Synthesizer:
    """A trained generator ready to animate example sets (see the module docstring)."""

    def __init__(self, generator: FewShotGenerator, config: ModelConfig, device: str | torch.device = "cpu",
                 info: dict | None = None, precision: str = "auto"):
        self.generator, self.config, self.info = generator.to(device).eval(), config, info or {}
        self.device = torch.device(device)
        self.precision = resolve_precision(precision, self.device)
        self.dtype = DTYPES[self.precision]
        self.layers = task_layers(config.task)
        self._fast: FewShotGenerator | None = None  # folded and cast copy, made on first use, dropped by finetune

    @classmethod
    def from_checkpoint(cls, path: Path | str, device: str | torch.device = "cpu", precision: str = "auto",
                        overrides: dict | None = None) -> Synthesizer:
        """``overrides``: generator config fields to change
        (:func:`~fsvid2vid.models.generator_file.load_generator`)."""
        generator, config, info = load_generator(path, device, overrides)
        return cls(generator, config, device, info, precision)

    @property
    def inference_generator(self) -> FewShotGenerator:
        """The generator as inference runs it: spectral norm folded, weights in the working precision."""
        if self._fast is None:
            self._fast = inference_generator(self.generator, self.precision)
        return self._fast

    def check(self, examples: Examples) -> None:
        """One-line errors when the examples do not fit the model."""
        h, w = examples.rgb.shape[-2:]
        if (h, w) != (self.config.height, self.config.width):
            raise UserError(f"{examples.paths[0]}: is {w}x{h}, the model expects {self.config.width}x"
                            f"{self.config.height} ({self.config.task}); render or resize the data to that size")
        if examples.semantic.shape[1] != self.config.generator.semantic_nc:
            raise UserError(f"{examples.paths[0]}: has {examples.semantic.shape[1]} semantic channels, the model "
                            f"({self.config.task}) expects {self.config.generator.semantic_nc}")

    def finetune(self, examples: Examples, steps: int, lr: float = 1e-4, seed: int = 0) -> list[float]:
        """The paper's optional test-time finetuning of E and H on the examples (W, M frozen); in place."""
        from fsvid2vid.infer.finetune import finetune

        self.check(examples)
        self._fast = None  # the finetuned weights are folded and cast again on the next animate
        return finetune(self.generator, examples.rgb.to(self.device), examples.semantic.to(self.device), steps, lr,
                        seed)

    def default_workers(self) -> int:
        """How many frames :meth:`animate` synthesises at once by default: torch's CPU thread count on the CPU (one
        torch thread each), 1 on other devices."""
        return cpu_threads() if self.device.type == "cpu" else 1

    @torch.no_grad()
    def animate(self, examples: Examples, driving: Iterable[DrivingFrame], attention: bool = False,
                workers: int | None = None) -> Iterator[GeneratedFrame]:
        """Yield one generated frame per driving frame; the examples are encoded once.

        ``attention``: each frame's output also carries alpha itself (``output.attention``, B x N x K N numbers:
        for pictures of it); without it only its sums (``output.attention_share``), which is faster.
        ``workers``: how many frames are synthesised at once (E, H and the example warp, which do not depend on
        earlier frames, each frame in a thread of its own), ahead of W/M, which runs frame after frame. Default:
        :meth:`default_workers`. With more than one, torch runs one CPU thread per operation while the frames are
        made (restored when the loop ends, or when the last of several such streams does): a frame's operations are
        too small to share out between threads (docs/performance.md). The frames are the same as with one worker on
        one torch thread.
        """
        self.check(examples)
        workers = self.default_workers() if workers is None else workers
        if workers < 1:
            raise UserError(f"workers={workers}: synthesise at least one frame at a time (workers >= 1)")
        device, dtype = self.device, self.dtype
        fast = self.inference_generator
        fast.conditioning.keep_attention = attention

        def inputs() -> Iterator[tuple[DrivingFrame, torch.Tensor]]:
            for index, frame in enumerate(driving):
                semantic = frame.semantic[None].to(device, dtype)
                if semantic.shape[1:] != examples.semantic.shape[1:]:
                    raise UserError(f"driving frame {index}: semantic map of shape {tuple(semantic.shape[1:])} "
                                    f"does not match the examples' {tuple(examples.semantic.shape[1:])}")
                yield frame, semantic

        def encoded() -> Rollout:
            return Rollout(fast, examples.rgb[None].to(device, dtype), examples.semantic[None].to(device, dtype))

        if workers == 1:
            rollout = encoded()
            for frame, semantic in inputs():
                out = as_float(rollout.step(semantic))
                yield GeneratedFrame(tensor_to_rgb(out.frame[0]), out, frame)
            return

        def synthesize(item: tuple[DrivingFrame, torch.Tensor]) -> FrameOutput:
            with torch.no_grad():  # grad mode is per thread
                return fast.synthesize(item[1], rollout.cache)

        with single_threaded_ops():
            rollout = encoded()
            for (frame, semantic), synthesized in map_ahead(synthesize, inputs(), workers):
                out = as_float(rollout.step(semantic, synthesized))
                yield GeneratedFrame(tensor_to_rgb(out.frame[0]), out, frame)


def as_float(out: FrameOutput) -> FrameOutput:
    """``out`` with every floating tensor in fp32 (what callers convert to numpy and pictures)."""
    return FrameOutput(**{f.name: _float(getattr(out, f.name)) for f in fields(FrameOutput)})


def _float(value):
    return value.float() if isinstance(value, torch.Tensor) and value.is_floating_point() else value
