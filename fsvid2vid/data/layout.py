"""The clip-folder layout on disk, shared by the procedural benchmark and by real-footage preparation.

A dataset is a folder of clip folders; each clip folder holds::

    meta.json            task, split, subject, seeds, size, fps, frame count, semantic layers, points format
    rgb/000000.png       RGB frames
    <layer>/000000.png   one folder per semantic layer (e.g. pose/ and parts/ for dance, sketch/ for face,
                         labels/ for street)
    keypoints.json       per-frame points (dance: COCO-18 [x, y, conf]; face: landmarks.json, dlib-68)

Clip folders are written under a temporary name and renamed when complete, so an interrupted run never leaves a
half-written clip that looks finished.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from fsvid2vid.atomic import dir_mode
from fsvid2vid.data.semantics import SemanticLayer
from fsvid2vid.data.synth.common import to_jsonable
from fsvid2vid.errors import UserError

LAYOUT_VERSION = 1
META_FILE = "meta.json"
RGB_DIR = "rgb"


def frame_name(index: int) -> str:
    """File name of frame ``index`` inside a layer folder."""
    return f"{index:06d}.png"


@dataclass
class ClipMeta:
    """The contents of a clip's meta.json."""

    task: str
    split: str
    subject: str  # identity key: clips with the same subject share an appearance
    height: int
    width: int
    fps: int
    n_frames: int
    layers: tuple[SemanticLayer, ...]
    points_name: str | None = None
    points_format: str | None = None
    source: str = "synth"  # "synth" or "real"
    seeds: dict[str, int] = field(default_factory=dict)  # synth: subject, shape, motion
    params: dict[str, Any] = field(default_factory=dict)  # synth: the drawn appearance / shape / motion
    layout_version: int = LAYOUT_VERSION

    def to_json(self) -> dict[str, Any]:
        data = to_jsonable(self)
        data["layers"] = [to_jsonable(layer) for layer in self.layers]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], path: Path) -> ClipMeta:
        try:
            layers = tuple(
                SemanticLayer(d["name"], d["kind"], int(d.get("num_classes", 0)), tuple(d.get("class_names", ())))
                for d in data["layers"]
            )
            meta = cls(
                task=str(data["task"]), split=str(data["split"]), subject=str(data["subject"]),
                height=int(data["height"]), width=int(data["width"]), fps=int(data["fps"]),
                n_frames=int(data["n_frames"]), layers=layers, points_name=data.get("points_name"),
                points_format=data.get("points_format"), source=str(data.get("source", "synth")),
                seeds={k: int(v) for k, v in data.get("seeds", {}).items()}, params=data.get("params", {}),
                layout_version=int(data.get("layout_version", LAYOUT_VERSION)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise UserError(f"{path}: malformed clip metadata ({exc!r}); re-create the clip folder") from exc
        if meta.layout_version > LAYOUT_VERSION:
            raise UserError(f"{path}: layout version {meta.layout_version} is newer than this fsvid2vid "
                            f"({LAYOUT_VERSION}); upgrade fsvid2vid")
        if meta.n_frames < 1 or meta.height < 1 or meta.width < 1:
            raise UserError(f"{path}: clip has no frames or an empty frame size; re-create the clip folder")
        return meta


def read_meta(clip_dir: Path) -> ClipMeta:
    """Read and validate ``clip_dir/meta.json``."""
    path = Path(clip_dir) / META_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{path}: missing; {clip_dir} is not a clip folder") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: unreadable ({exc}); re-create the clip folder") from exc
    return ClipMeta.from_json(data, path)


def find_clips(root: Path) -> list[Path]:
    """Clip folders directly under ``root`` (sorted by name), or ``root`` itself if it is a clip folder."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root}: no such dataset folder; create it with `fsvid2vid data synth --out {root}`")
    if (root / META_FILE).is_file():
        return [root]
    clips = sorted(p.parent for p in root.glob(f"*/{META_FILE}"))
    if not clips:
        raise UserError(f"{root}: holds no clip folders (no */{META_FILE}); create them with `fsvid2vid data synth`")
    return clips


def read_image(path: Path, channels: int, size: tuple[int, int] | None = None) -> np.ndarray:
    """Read a PNG as (H, W, 3) RGB uint8 (``channels`` 3) or (H, W) uint8 (``channels`` 1).

    Raises a one-line :class:`UserError` naming the file when it is missing, corrupt, or of the wrong size or channel
    count.
    """
    path = Path(path)
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        what = "missing" if not path.exists() else "not a readable image"
        raise UserError(f"{path}: {what}; re-create the clip folder")
    got = 1 if image.ndim == 2 else image.shape[2]
    if got != channels:
        raise UserError(f"{path}: has {got} channel(s), expected {channels}; re-create the clip folder")
    if image.dtype != np.uint8:
        raise UserError(f"{path}: is {image.dtype}, expected 8-bit; re-create the clip folder")
    if size is not None and image.shape[:2] != tuple(size):
        raise UserError(f"{path}: is {image.shape[1]}x{image.shape[0]}, expected {size[1]}x{size[0]} (WxH) like the "
                        "rest of the clip; re-create the clip folder")
    return image[..., ::-1].copy() if channels == 3 else image


def read_layers(folders: dict[str, Path], layers: tuple[SemanticLayer, ...], file_name: str,
                size: tuple[int, int]) -> dict[str, np.ndarray]:
    """One frame's semantic layers, ``folders[layer.name] / file_name`` each, with one-line errors for a missing or
    corrupt file, a wrong size or channel count, or a label outside the layer's classes."""
    arrays = {}
    for layer in layers:
        path = folders[layer.name] / file_name
        array = read_image(path, 3 if layer.kind == "color" else 1, size)
        if layer.kind == "label" and int(array.max()) >= layer.num_classes:
            raise UserError(f"{path}: holds label {int(array.max())}, but the layer has {layer.num_classes} "
                            "classes; re-create the file")
        arrays[layer.name] = array
    return arrays


def clip_layer_folders(clip_dir: Path, layers: tuple[SemanticLayer, ...]) -> dict[str, Path]:
    """The layer folders of a clip folder: ``clip_dir / layer.name``."""
    return {layer.name: Path(clip_dir) / layer.name for layer in layers}


def write_image(path: Path, image: np.ndarray) -> None:
    """Write an (H, W, 3) RGB or (H, W) uint8 array as PNG."""
    data = image[..., ::-1] if image.ndim == 3 else image
    if not cv2.imwrite(str(path), np.ascontiguousarray(data)):
        raise UserError(f"{path}: could not be written; check the folder is writable and the disk is not full")


def read_points(clip_dir: Path, meta: ClipMeta) -> np.ndarray | None:
    """(n_frames, P, 3) float32 points of the clip, or None for tasks without points."""
    if meta.points_name is None:
        return None
    path = Path(clip_dir) / f"{meta.points_name}.json"
    try:
        data = json.loads(path.read_text())
        points = np.asarray(data["frames"], dtype=np.float32)
    except FileNotFoundError:
        raise UserError(f"{path}: missing; re-create the clip folder") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{path}: malformed points file ({exc}); re-create the clip folder") from exc
    if points.ndim != 3 or points.shape[0] != meta.n_frames or points.shape[2] != 3:
        raise UserError(f"{path}: expected {meta.n_frames} frames of [x, y, confidence] points, got shape "
                        f"{points.shape}; re-create the clip folder")
    return points


class ClipWriter:
    """Writes one clip folder atomically: into ``<name>.partial-*`` first, renamed to ``<name>`` by :meth:`close`.

    Use as a context manager; on an exception the partial folder is removed and nothing named ``<name>`` appears.
    With ``overwrite`` an existing ``<name>`` is replaced only if it is a clip folder (a real folder holding
    ``meta.json``): anything else of the user's is refused, never deleted.
    """

    def __init__(self, out_dir: Path, name: str, meta: ClipMeta, overwrite: bool = False):
        if name in ("", ".", "..") or "/" in name or os.sep in name:
            raise UserError(f"{Path(out_dir) / name}: is not a clip folder name; give --out a new folder such as "
                            "data/clips/my-clip")
        self.final = Path(out_dir) / name
        if self.final.exists() or self.final.is_symlink():
            if not overwrite:
                raise UserError(f"{self.final}: already exists; pass --overwrite or choose another --out")
            check_replaceable_clip(self.final)
        self.meta = meta
        self.tmp = Path(tempfile.mkdtemp(prefix=f"{name}.partial-", dir=out_dir))
        os.chmod(self.tmp, dir_mode())  # mkdtemp creates 0700; a dataset is meant to be shared
        for sub in [RGB_DIR, *(layer.name for layer in meta.layers)]:
            (self.tmp / sub).mkdir()
        self.points: list[list[list[float]]] = []
        self.count = 0

    def __enter__(self) -> ClipWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def add(self, rgb: np.ndarray, layers: dict[str, np.ndarray], points: np.ndarray | None = None) -> None:
        """Append one frame: RGB (H, W, 3), every semantic layer, and its points when the task has them."""
        name = frame_name(self.count)
        write_image(self.tmp / RGB_DIR / name, rgb)
        for layer in self.meta.layers:
            write_image(self.tmp / layer.name / name, layers[layer.name])
        if self.meta.points_name is not None:
            if points is None:
                raise ValueError(f"frame {self.count} of {self.final.name} has no {self.meta.points_name}")
            self.points.append(np.round(np.asarray(points, np.float64), 3).tolist())
        self.count += 1

    def close(self) -> Path:
        self.meta.n_frames = self.count
        if self.meta.points_name is not None:
            payload = {"format": self.meta.points_format, "frames": self.points}
            (self.tmp / f"{self.meta.points_name}.json").write_text(json.dumps(payload, separators=(",", ":")))
        (self.tmp / META_FILE).write_text(json.dumps(self.meta.to_json(), indent=1))
        old = None
        if self.final.exists() or self.final.is_symlink():
            check_replaceable_clip(self.final)  # again: it may have changed while the clip was rendered
            old = Path(tempfile.mkdtemp(prefix=f"{self.final.name}.replaced-", dir=self.final.parent))
            os.replace(self.final, old / self.final.name)
        os.replace(self.tmp, self.final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.final


def check_replaceable_clip(path: Path) -> None:
    """Raise a one-line :class:`UserError` unless ``path`` is a clip folder that ``--overwrite`` may replace."""
    if path.is_symlink() or not path.is_dir() or not (path / META_FILE).is_file():
        raise UserError(f"{path}: exists and is not a clip folder (no {META_FILE}); --overwrite replaces only clip "
                        "folders, so choose another --out")


def ensure_writable_dir(path: Path) -> Path:
    """Create ``path`` if needed and prove it is writable, or raise a one-line :class:`UserError`."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise UserError(f"{path}: cannot write there ({exc.strerror or exc}); choose a writable --out") from None
    return path
