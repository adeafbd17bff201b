"""Real inputs for ``generate``: example photos outside the clip layout, and a driving video file.

Example photos get their semantic maps from ``--example-semantics`` (a folder of ``<layer>.png``, or one PNG for a
one-layer model) or, for dance and face, from mediapipe (detected and cropped like ``prepare``). A driving video is
followed and cropped like ``prepare`` does, and its keypoints / landmarks are retargeted onto the examples'
(:mod:`fsvid2vid.data.real.retarget`) before the semantic maps are drawn.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from fsvid2vid.data.encode import rgb_to_tensor, semantic_to_tensor
from fsvid2vid.data.layout import RGB_DIR, read_image, read_meta, read_points
from fsvid2vid.data.semantics import SemanticLayer, has_points
from fsvid2vid.errors import UserError
from fsvid2vid.infer.synthesizer import DrivingFrame, Examples, load_examples


def is_video(path: Path) -> bool:
    """Whether a driving source is a video file (by its suffix)."""
    from fsvid2vid.data.real.prepare import VIDEO_SUFFIXES

    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def _in_clip_layout(path: Path) -> bool:
    path = Path(path)
    return path.parent.name == RGB_DIR and path.stem.isdigit() and (path.parent.parent / "meta.json").is_file()


@dataclass
class ExampleSet:
    """Examples ready for the model, and their points when known (for retargeting)."""

    examples: Examples
    points: np.ndarray | None  # (K, P, 3) in pixels of the model's frame, or None when any example has none
    extracted: list[str]  # paths whose semantics were detected with mediapipe


def _resize(image: np.ndarray, height: int, width: int, nearest: bool) -> np.ndarray:
    if image.shape[:2] == (height, width):
        return image
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_NEAREST if nearest else cv2.INTER_AREA)


def _check_aspect(path: Path, image: np.ndarray, height: int, width: int) -> None:
    h, w = image.shape[:2]
    if abs(w / h - width / height) > 0.05 * width / height:
        raise UserError(f"{path}: is {w}x{h}, the model's frames are {width}x{height}; crop it to that aspect ratio "
                        "or leave out --example-semantics to detect and crop the subject")


def _given_semantics(photo: Path, semantics: Path, layers: tuple[SemanticLayer, ...], height: int, width: int
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    from fsvid2vid.data.real.prepare import read_photo

    rgb = read_photo(photo)
    _check_aspect(photo, rgb, height, width)
    arrays = {}
    for layer in layers:
        path = semantics / f"{layer.name}.png" if semantics.is_dir() else semantics
        if not semantics.is_dir() and len(layers) > 1:
            raise UserError(f"{semantics}: the model has {len(layers)} semantic layers; give a folder with "
                            f"{', '.join(f'{x.name}.png' for x in layers)}")
        array = read_image(path, 3 if layer.kind == "color" else 1, hint="check the semantic map")
        _check_aspect(path, array, height, width)
        array = _resize(array, height, width, nearest=layer.kind == "label")
        if layer.kind == "label" and int(array.max()) >= layer.num_classes:
            raise UserError(f"{path}: holds label {int(array.max())}, but layer {layer.name!r} has "
                            f"{layer.num_classes} classes")
        arrays[layer.name] = array
    return rgb_to_tensor(_resize(rgb, height, width, nearest=False)), semantic_to_tensor(arrays, layers)


def load_example_set(paths: list[Path], example_semantics: list[Path] | None, task: str,
                     layers: tuple[SemanticLayer, ...], height: int, width: int) -> ExampleSet:
    """Examples from clip frames, photos with given semantics, or photos whose semantics are detected."""
    paths = [Path(p) for p in paths]
    if example_semantics is not None and len(example_semantics) != len(paths):
        raise UserError(f"--example-semantics needs one PATH per example ({len(paths)} examples, "
                        f"{len(example_semantics)} given)")
    if example_semantics is None and all(_in_clip_layout(p) for p in paths):
        ex = load_examples(paths, layers)
        return ExampleSet(ex, _clip_points(paths), [])
    rgbs, sems, points, extracted = [], [], [], []
    for i, path in enumerate(paths):
        if example_semantics is not None:
            rgb, sem = _given_semantics(path, Path(example_semantics[i]), layers, height, width)
            pts = None
        elif _in_clip_layout(path):
            one = load_examples([path], layers)
            rgb, sem = one.rgb[0], one.semantic[0]
            clip_pts = _clip_points([path])
            pts = None if clip_pts is None else clip_pts[0]
        elif has_points(task):
            from fsvid2vid.data.real.prepare import extract_photo, semantic_layers

            frame = extract_photo(task, path, height, width, silhouette=False)
            rgb = rgb_to_tensor(frame.rgb)
            sem = semantic_to_tensor(semantic_layers(task, frame.points, height, width), layers)
            pts = frame.points
            extracted.append(str(path))
        else:
            raise UserError(f"{path}: is not a frame of a clip folder, and {task} semantics cannot be detected; give "
                            "--example-semantics")
        if tuple(rgb.shape[-2:]) != (height, width):
            raise UserError(f"{path}: is {rgb.shape[-1]}x{rgb.shape[-2]}, the model expects {width}x{height}")
        rgbs.append(rgb)
        sems.append(sem)
        points.append(pts)
    known = None if any(p is None for p in points) else np.stack(points)
    return ExampleSet(Examples(torch.stack(rgbs), torch.stack(sems), [str(p) for p in paths]), known, extracted)


def _clip_points(paths: list[Path]) -> np.ndarray | None:
    out = []
    for path in paths:
        clip = path.parent.parent
        meta = read_meta(clip)
        pts = read_points(clip, meta)
        if pts is None:
            return None
        out.append(pts[int(path.stem)])
    return np.stack(out)


@dataclass
class VideoDriving:
    """A driving video's followed subject: per kept frame its (retargeted) points and cropped RGB frame.

    The semantic maps are drawn one frame at a time by :meth:`frames` (a float tensor per frame is ~1 MB at 128 px,
    the points and the uint8 crop a few KB), so a long video does not hold them all in memory.
    """

    points: np.ndarray  # (N, P, 3) in pixels of the model's frame
    rgb: list[np.ndarray]  # N crops (H, W, 3) uint8
    layers: tuple[SemanticLayer, ...]
    task: str
    fps: int
    counts: dict[str, int]
    retargeted: bool

    def __len__(self) -> int:
        return len(self.rgb)

    def frames(self) -> Iterator[DrivingFrame]:
        """The driving frames in order, each drawn when asked for."""
        from fsvid2vid.data.real.prepare import semantic_layers

        height, width = self.rgb[0].shape[:2]
        for p, rgb in zip(self.points, self.rgb):
            yield DrivingFrame(semantic_to_tensor(semantic_layers(self.task, p, height, width), self.layers), rgb)


def video_driving(path: Path, task: str, layers: tuple[SemanticLayer, ...], height: int, width: int,
                  example_points: np.ndarray | None, retarget: bool = True, max_frames: int | None = None,
                  progress: bool = False) -> VideoDriving:
    """Follow the subject of a driving video, retarget its points onto ``example_points`` ((K, P, 3), when given and
    ``retarget``), and draw the task's semantic maps. The cropped video frames ride along as ``DrivingFrame.rgb``."""
    if not has_points(task):
        raise UserError(f"{path}: a driving video needs a dance or face model (this one is {task}); prepare street "
                        "videos with their label maps and drive with the clip folder")
    from fsvid2vid.data.real.prepare import extract_video
    from fsvid2vid.data.real.retarget import retarget_face, retarget_pose

    ex = extract_video(task, path, height, width, max_frames=max_frames, silhouette=False, progress=progress)
    kept = [f for seg in ex.segments for f in seg]
    if not kept:
        raise UserError(f"no {'person' if task == 'dance' else 'face'} detected reliably in {path}")
    points = np.stack([f.points for f in kept])
    do_retarget = retarget and example_points is not None
    if do_retarget:
        points = (retarget_pose if task == "dance" else retarget_face)(points, example_points)
    return VideoDriving(points, [f.rgb for f in kept], layers, task, ex.fps, ex.counts, do_retarget)
