"""The clip-folder layout on disk, shared by the procedural benchmark and by real-footage preparation.

A dataset is a folder of clip folders; each clip folder holds::

    meta.json            task, split, subject, seeds, size, fps, frame count, semantic layers, points format,
                         per-frame views (the subject's yaw) where the task has them, benchmark version
    rgb/000000.png       RGB frames
    <layer>/000000.png   one folder per semantic layer (e.g. pose/ and parts/ for dance, sketch/ for face,
                         labels/ for street)
    keypoints.json       per-frame points (dance: COCO-18 [x, y, conf]; face: landmarks.json, dlib-68)

Clip folders are written under a temporary name and renamed when complete, so an interrupted run never leaves a
half-written clip that looks finished. :class:`ClipBatch` makes several clips (and the dataset's ``dataset.json``,
``overlays.png``) appear together or not at all.

Names read from ``meta.json`` (layers, the points file) must be plain names, so a clip folder can never make a reader
open a file outside it; points must be finite and near the frame.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from fsvid2vid.atomic import dir_mode, os_error_message, temporary_sibling, write_failure
from fsvid2vid.data.semantics import SemanticLayer
from fsvid2vid.data.synth.common import to_jsonable
from fsvid2vid.errors import UserError
from fsvid2vid.media import read_image_file

LAYOUT_VERSION = 1
META_FILE = "meta.json"
RGB_DIR = "rgb"
INDEX_FILE = "dataset.json"
INDEX_FORMAT = "fsvid2vid-dataset"
#: Layer and points-file names in meta.json: a plain name, so that it can only name something inside the clip folder.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
#: Points further than this many frame sizes outside the frame are refused (1e300 and NaN included).
POINT_MARGIN = 10.0


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
    #: The subject's yaw per frame in radians (0: facing the camera, +-pi: seen from behind), None for tasks and
    #: footage without views.
    views: list[float] | None = None
    #: synth: the benchmark version that rendered the clip (fsvid2vid.data.synth.version); None before version 2.
    benchmark_version: int | None = None

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
                views=None if data.get("views") is None else [float(v) for v in data["views"]],
                benchmark_version=None if data.get("benchmark_version") is None else int(data["benchmark_version"]),
            )
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise UserError(f"{path}: malformed clip metadata ({exc!r}); re-create the clip folder") from None
        if meta.views is not None and (len(meta.views) != meta.n_frames
                                       or not all(math.isfinite(v) and abs(v) <= 7.0 for v in meta.views)):
            raise UserError(f"{path}: views must be one finite yaw in radians per frame ({meta.n_frames}), got "
                            f"{len(meta.views)} value(s); re-create the clip folder")
        names = [layer.name for layer in meta.layers] + ([meta.points_name] if meta.points_name is not None else [])
        for name in names:
            if not isinstance(name, str) or not _PLAIN_NAME.fullmatch(name) or name == RGB_DIR:
                raise UserError(f"{path}: names {name!r} as a layer or points file, but only plain names (letters, "
                                f"digits, _ and -, not {RGB_DIR!r}) inside the clip folder are allowed; re-create "
                                "the clip folder")
        if len(set(names)) != len(names):
            raise UserError(f"{path}: names a layer twice; re-create the clip folder")
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


def read_image(path: Path, channels: int, size: tuple[int, int] | None = None,
               hint: str = "re-create the clip folder") -> np.ndarray:
    """Read an image (a clip's PNG) as (H, W, 3) RGB uint8 (``channels`` 3) or (H, W) uint8 (``channels`` 1).

    Raises a one-line :class:`UserError` naming the file (and ending with ``hint``) when it is missing, truncated,
    corrupt, or of the wrong size or channel count (see :func:`fsvid2vid.media.read_image_file`).
    """
    path = Path(path)
    image = read_image_file(path, cv2.IMREAD_UNCHANGED, hint)
    got = 1 if image.ndim == 2 else image.shape[2]
    if got != channels:
        raise UserError(f"{path}: has {got} channel(s), expected {channels}; {hint}")
    if image.dtype != np.uint8:
        raise UserError(f"{path}: is {image.dtype}, expected 8-bit; {hint}")
    if size is not None and image.shape[:2] != tuple(size):
        raise UserError(f"{path}: is {image.shape[1]}x{image.shape[0]}, expected {size[1]}x{size[0]} (WxH) like the "
                        f"rest of the clip; {hint}")
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
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(data))
    if not ok:
        raise UserError(f"{path}: could not encode the image")
    try:
        Path(path).write_bytes(encoded.tobytes())
    except OSError as exc:
        raise write_failure(path, exc) from None


def points_array(frames: Any, path: Path, height: float, width: float, hint: str) -> np.ndarray:
    """(N, P, 3) float32 [x, y, confidence] points from JSON ``frames``: one-line errors (ending with ``hint``) for a
    wrong shape, or a NaN, infinite or absurd value (more than :data:`POINT_MARGIN` frame sizes off the frame)."""
    try:
        points = np.asarray(frames, dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise UserError(f"{path}: malformed points ({exc}); {hint}") from None
    if points.ndim != 3 or points.shape[2] != 3:
        raise UserError(f"{path}: expected frames of [x, y, confidence] points, got shape {points.shape}; {hint}")
    if not np.isfinite(points).all():
        raise UserError(f"{path}: holds NaN or infinite coordinates; {hint}")
    limit = POINT_MARGIN * max(height, width)
    if np.abs(points[..., :2]).max(initial=0.0) > limit or np.abs(points[..., 2]).max(initial=0.0) > 1e3:
        raise UserError(f"{path}: holds coordinates far outside a {width:g}x{height:g} frame (up to "
                        f"{np.abs(points[..., :2]).max():.3g}); {hint}")
    return points.astype(np.float32)


def read_points(clip_dir: Path, meta: ClipMeta) -> np.ndarray | None:
    """(n_frames, P, 3) float32 points of the clip, or None for tasks without points."""
    if meta.points_name is None:
        return None
    path = Path(clip_dir) / f"{meta.points_name}.json"
    try:
        data = json.loads(path.read_text())
        frames = data["frames"]
    except FileNotFoundError:
        raise UserError(f"{path}: missing; re-create the clip folder") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{path}: malformed points file ({exc}); re-create the clip folder") from None
    points = points_array(frames, path, meta.height, meta.width, "re-create the clip folder")
    if points.shape[0] != meta.n_frames:
        raise UserError(f"{path}: expected {meta.n_frames} frames of [x, y, confidence] points, got shape "
                        f"{points.shape}; re-create the clip folder")
    return points


class ClipWriter:
    """Writes one clip folder atomically: into ``<name>.partial-*`` first, renamed to ``<name>`` by :meth:`close`.

    Use as a context manager; on an exception the partial folder is removed and nothing named ``<name>`` appears.
    With ``overwrite`` an existing ``<name>`` is replaced only if it is a clip folder (a real folder holding
    ``meta.json``): anything else of the user's is refused, never deleted. With ``deferred`` a successful block only
    completes the partial folder; :class:`ClipBatch` installs it.
    """

    def __init__(self, out_dir: Path, name: str, meta: ClipMeta, overwrite: bool = False, deferred: bool = False):
        if name in ("", ".", "..") or "/" in name or os.sep in name:
            raise UserError(f"{Path(out_dir) / name}: is not a clip folder name; give --out a new folder such as "
                            "data/clips/my-clip")
        self.final = Path(out_dir) / name
        if self.final.exists() or self.final.is_symlink():
            if not overwrite:
                raise UserError(f"{self.final}: already exists; pass --overwrite or choose another --out")
            check_replaceable_clip(self.final)
        self.meta, self.deferred = meta, deferred
        try:
            self.tmp = Path(tempfile.mkdtemp(prefix=f"{name}.partial-", dir=out_dir))
        except OSError as exc:
            raise UserError(f"{out_dir}: cannot write there ({os_error_message(exc)}); choose a writable --out") \
                from None
        try:
            os.chmod(self.tmp, dir_mode())  # mkdtemp creates 0700; a dataset is meant to be shared
            for sub in [RGB_DIR, *(layer.name for layer in meta.layers)]:
                (self.tmp / sub).mkdir()
        except OSError as exc:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise write_failure(self.final, exc) from None
        self.points: list[list[list[float]]] = []
        self.views: list[float | None] = []
        self.count = 0

    def __enter__(self) -> ClipWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                self.finish() if self.deferred else self.close()
            except BaseException:
                self.discard()
                raise
        else:
            self.discard()

    def discard(self) -> None:
        """Remove the partial folder."""
        shutil.rmtree(self.tmp, ignore_errors=True)

    def add(self, rgb: np.ndarray, layers: dict[str, np.ndarray], points: np.ndarray | None = None,
            view: float | None = None) -> None:
        """Append one frame: RGB (H, W, 3), every semantic layer, its points when the task has them, and the
        subject's yaw (``view``, radians) when it has one: every frame or none."""
        name = frame_name(self.count)
        write_image(self.tmp / RGB_DIR / name, rgb)
        for layer in self.meta.layers:
            write_image(self.tmp / layer.name / name, layers[layer.name])
        if self.meta.points_name is not None:
            if points is None:
                raise ValueError(f"frame {self.count} of {self.final.name} has no {self.meta.points_name}")
            self.points.append(np.round(np.asarray(points, np.float64), 3).tolist())
        if self.views and (view is None) != (self.views[0] is None):
            raise ValueError(f"frame {self.count} of {self.final.name}: a view on some frames and not on others")
        self.views.append(None if view is None else float(view))
        self.count += 1

    def finish(self) -> None:
        """Write the points and meta.json into the partial folder (which is then complete)."""
        self.meta.n_frames = self.count
        if self.views and self.views[0] is not None:
            self.meta.views = [float(v) for v in self.views]
        try:
            if self.meta.points_name is not None:
                payload = {"format": self.meta.points_format, "frames": self.points}
                (self.tmp / f"{self.meta.points_name}.json").write_text(json.dumps(payload, separators=(",", ":")))
            (self.tmp / META_FILE).write_text(json.dumps(self.meta.to_json(), indent=1))
        except OSError as exc:
            raise write_failure(self.final / META_FILE, exc) from None

    def install(self) -> Path | None:
        """Rename the complete partial folder to its name; an existing clip is moved aside into a ``.replaced-*``
        folder, returned (the caller removes it, or :meth:`uninstall` puts it back)."""
        old = None
        if self.final.exists() or self.final.is_symlink():
            check_replaceable_clip(self.final)  # again: it may have changed while the clip was rendered
            old = Path(tempfile.mkdtemp(prefix=f"{self.final.name}.replaced-", dir=self.final.parent))
            os.replace(self.final, old / self.final.name)
        try:
            os.replace(self.tmp, self.final)
        except OSError:
            if old is not None:
                os.replace(old / self.final.name, self.final)
                shutil.rmtree(old, ignore_errors=True)
            raise
        return old

    def uninstall(self, old: Path | None) -> None:
        """Undo :meth:`install`: the new clip goes back to its partial folder (then removed), the old one returns."""
        os.replace(self.final, self.tmp)
        if old is not None:
            os.replace(old / self.final.name, self.final)
            shutil.rmtree(old, ignore_errors=True)
        self.discard()

    def close(self) -> Path:
        self.finish()
        old = self.install()
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.final


class ClipBatch:
    """Clip folders, and files of the dataset folder, that appear together or not at all (``prepare``).

        with ClipBatch(out, overwrite) as batch:
            with batch.writer(name, meta) as w:   # complete, but not yet in place
                w.add(...)
            batch.add_file("overlays.png", png_bytes)
        # here every clip and file is in place; after an exception, none is (and replaced clips are back)
    """

    def __init__(self, out_dir: Path, overwrite: bool = False):
        self.out_dir, self.overwrite = Path(out_dir), overwrite
        self.writers: list[ClipWriter] = []
        self.files: dict[str, bytes] = {}

    def writer(self, name: str, meta: ClipMeta) -> ClipWriter:
        if any(w.final.name == name for w in self.writers):
            raise UserError(f"{self.out_dir / name}: would be written twice (two inputs with the same name); rename "
                            "one of them")
        w = ClipWriter(self.out_dir, name, meta, self.overwrite, deferred=True)
        self.writers.append(w)
        return w

    def add_file(self, name: str, data: bytes) -> None:
        """A file of the dataset folder to write with the clips (the caller has checked it may be replaced)."""
        self.files[name] = data

    def __enter__(self) -> ClipBatch:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            for w in self.writers:
                w.discard()
            return
        temporaries: dict[str, Path] = {}
        installed: list[tuple[ClipWriter, Path | None]] = []
        try:
            for name, data in self.files.items():
                temporaries[name] = temporary_sibling(self.out_dir / name)
                try:
                    temporaries[name].write_bytes(data)
                except OSError as exc:
                    raise write_failure(self.out_dir / name, exc) from None
            for w in self.writers:
                installed.append((w, w.install()))
            for name, tmp in temporaries.items():
                os.replace(tmp, self.out_dir / name)
        except BaseException:
            for w, old in reversed(installed):
                w.uninstall(old)
            for w in self.writers:
                w.discard()
            for tmp in temporaries.values():
                tmp.unlink(missing_ok=True)
            raise
        for _, old in installed:
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)


def read_index(out_dir: Path) -> dict[str, Any] | None:
    """The ``dataset.json`` of a dataset folder, None when there is none; a one-line :class:`UserError` when the file
    there is not one that fsvid2vid wrote (it is never replaced, with or without ``--overwrite``)."""
    path = Path(out_dir) / INDEX_FILE
    if not (path.exists() or path.is_symlink()):
        return None
    try:
        index = json.loads(path.read_text()) if path.is_file() and not path.is_symlink() else None
    except (OSError, ValueError):
        index = None
    ours = isinstance(index, dict) and (
        index.get("format") == INDEX_FORMAT
        or (set(index) <= {"task", "clips", "overlays"} and isinstance(index.get("clips", []), list)))
    if not ours or not all(isinstance(c, str) for c in index.get("clips", [])):
        raise UserError(f"{path}: exists and is not an fsvid2vid dataset index; move it away or choose another --out")
    return index


def index_bytes(out_dir: Path, task: str | None, names: list[str], **extra: Any) -> bytes:
    """The new ``dataset.json`` of ``out_dir``: the clips already listed there and ``names``, for ``task`` (a
    one-line error when the folder holds clips of another task)."""
    old = read_index(out_dir) or {}
    if old.get("task") not in (None, task):
        raise UserError(f"{out_dir}: holds {old['task']} clips; write {task} clips to another --out")
    index = {"format": INDEX_FORMAT, "task": task, "clips": sorted({*old.get("clips", []), *names}),
             **{k: v for k, v in old.items() if k not in ("format", "task", "clips")}, **extra}
    return json.dumps(index, indent=1).encode()


def check_replaceable_clip(path: Path) -> None:
    """Raise a one-line :class:`UserError` unless ``path`` is a clip folder that ``--overwrite`` may replace."""
    if path.is_symlink() or not path.is_dir() or not (path / META_FILE).is_file():
        raise UserError(f"{path}: exists and is not a clip folder (no {META_FILE}); --overwrite replaces only clip "
                        "folders, so choose another --out")


class OutputFolder:
    """``with OutputFolder(out) as out:`` creates ``out`` (and missing parents) and proves it writable; when the block
    fails, the folders it created are removed again if they are still empty (nothing is left behind)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        missing, parent = [], self.path
        while not parent.exists() and parent != parent.parent:
            missing.append(parent)
            parent = parent.parent
        self.created = missing

    def __enter__(self) -> Path:
        try:
            return ensure_writable_dir(self.path)
        except BaseException:
            self.remove_created()
            raise

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.remove_created()

    def remove_created(self) -> None:
        for folder in self.created:
            try:
                folder.rmdir()
            except OSError:
                break


def estimate_clip_bytes(height: int, width: int, layers: tuple[SemanticLayer, ...], n_frames: int) -> int:
    """About how much disk a clip of ``n_frames`` frames takes: the benchmark's PNGs measure about 0.4 byte per raw
    RGB byte and 0.1 per semantic-layer byte, each file rounded up to a 4 KiB block, plus the points and meta.json."""
    def file_bytes(raw: int, ratio: float) -> int:
        return -(-int(raw * ratio) // 4096) * 4096

    pixels = height * width
    per_frame = file_bytes(pixels * 3, 0.4) + sum(
        file_bytes(pixels * (3 if layer.kind == "color" else 1), 0.1) for layer in layers)
    return n_frames * (per_frame + 1024) + 16384


#: The most frames one command renders unless told otherwise (--max-total-frames): about 25 GB of 128 px clips.
MAX_TOTAL_FRAMES = 1_000_000


def check_frame_count(frames: int, what: str, limit: int = MAX_TOTAL_FRAMES) -> None:
    """One-line error when a command would render more than ``limit`` frames (``what`` says which options)."""
    if frames > limit:
        raise UserError(f"{what} = {frames:,} frames, over the limit of {limit:,}; lower them, or raise the limit "
                        f"with --max-total-frames {frames} if you mean it")


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
