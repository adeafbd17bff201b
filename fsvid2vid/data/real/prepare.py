"""Real videos and photos -> the clip-folder layout (the ``prepare`` command) and model-ready example frames.

Dance and face: decode with PyAV, follow one subject (:mod:`.track`), interpolate gaps of up to ``max_gap`` frames
and drop longer ones (:mod:`.smooth`), smooth the points over time, crop around the subject (:mod:`.crop`), draw the
task's semantic layers with the benchmark's own drawing functions, and write one clip folder per run of kept frames.
Street: videos with per-frame label maps, mapped to the benchmark's 10 classes (:data:`CITYSCAPES_TO_STREET`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from fsvid2vid.atomic import check_output
from fsvid2vid.data.draw.face import draw_face_sketch
from fsvid2vid.data.draw.labels import colorize_labels
from fsvid2vid.data.draw.pose import draw_openpose
from fsvid2vid.data.layout import INDEX_FILE, ClipBatch, ClipMeta, OutputFolder, index_bytes, read_index
from fsvid2vid.data.real.crop import CropBox, crop_boxes, cut, move_points, photo_box
from fsvid2vid.data.real.parts import parts_map
from fsvid2vid.data.real.smooth import DROPPED, fill_gaps, smooth_track
from fsvid2vid.data.real.track import Track, paste_mask, search_frame, track_subject
from fsvid2vid.data.semantics import STREET_CLASSES, frame_size, task_layers, task_points
from fsvid2vid.errors import UserError
from fsvid2vid.media import png_bytes, read_image_file, read_video, video_fps

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")
SUBJECT_NOUN = {"dance": "person", "face": "face"}

#: Cityscapes label ids (gtFine *_labelIds.png) -> street class index. Unlabelled / ego vehicle / out of ROI go to
#: road (they are the bottom of the frame), people and every vehicle to car (the only moving-object class), walls,
#: fences, bridges and tunnels to building, traffic lights to traffic_sign.
CITYSCAPES_TO_STREET: dict[int, str] = {
    0: "road", 1: "road", 2: "road", 3: "road", 4: "building", 5: "car", 6: "terrain", 7: "road", 8: "sidewalk",
    9: "sidewalk", 10: "road", 11: "building", 12: "building", 13: "building", 14: "building", 15: "building",
    16: "building", 17: "pole", 18: "pole", 19: "traffic_sign", 20: "traffic_sign", 21: "vegetation", 22: "terrain",
    23: "sky", 24: "car", 25: "car", 26: "car", 27: "car", 28: "car", 29: "car", 30: "car", 31: "car", 32: "car",
    33: "car",
}


@dataclass
class Extracted:
    """One frame of a subject, cut out at the task's frame size."""

    rgb: np.ndarray  # (H, W, 3) uint8
    points: np.ndarray  # (P, 3) float32 [x, y, confidence] in pixels of the crop (COCO-18 or dlib-68)
    silhouette: np.ndarray | None = None  # (H, W) bool person mask (dance), or None


@dataclass
class VideoExtraction:
    """The subject of one video: runs of consecutive kept frames, and what happened to every frame."""

    path: Path
    fps: int
    segments: list[list[Extracted]]
    counts: dict[str, int] = field(default_factory=dict)  # frames, detected, interpolated, dropped


def _detector(task: str):
    if task == "dance":
        from fsvid2vid.data.real.pose import PoseDetector, is_reliable

        return PoseDetector(), is_reliable
    if task == "face":
        from fsvid2vid.data.real.face import FaceDetector, is_reliable

        return FaceDetector(), is_reliable
    raise UserError(f"task {task!r} has no person or face to detect; use dance or face")


def semantic_layers(task: str, points: np.ndarray, height: int, width: int,
                    silhouette: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The task's semantic layers drawn from (P, 3) points in pixels of an (height, width) frame: dance ``pose``
    (RGB skeleton) and ``parts`` (labels; inside ``silhouette`` when given), face ``sketch``."""
    if task == "dance":
        return {"pose": draw_openpose(points, height, width), "parts": parts_map(points, height, width, silhouette)}
    if task == "face":
        return {"sketch": draw_face_sketch(points, height, width)}
    raise UserError(f"task {task!r} cannot be drawn from points")


def read_photo(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB of an image file, or a one-line error naming it."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such image")
    image = read_image_file(path, cv2.IMREAD_COLOR, "check the photo or use another one")
    return image[..., ::-1].copy()


def extract_photo(task: str, path: Path, height: int, width: int, silhouette: bool = True) -> Extracted:
    """Detect the subject of a photo and cut it out like :func:`extract_video` does (one frame, no smoothing)."""
    image = read_photo(path)
    detector, reliable = _detector(task)
    with detector:
        found = search_frame(detector.detect, image, reliable)
    if found is None:
        raise UserError(f"no {SUBJECT_NOUN[task]} detected in {path}")
    box = photo_box(found.keypoints, task, width / height)
    return _cut_frame(image, found.keypoints, paste_mask(found, *image.shape[:2]) if silhouette else None, box,
                      height, width)


def _cut_frame(frame: np.ndarray, points: np.ndarray, mask: np.ndarray | None, box: CropBox, height: int,
               width: int) -> Extracted:
    rgb = cut(frame, box, height, width)
    sil = None
    if mask is not None:
        sil = cut(mask, box, height, width, border=cv2.BORDER_CONSTANT) > 0.5
    return Extracted(rgb, move_points(points, box, height, width), sil)


def _frames(path: Path, max_frames: int | None) -> Iterator[np.ndarray]:
    for index, frame in enumerate(read_video(path)):
        if max_frames is not None and index >= max_frames:
            return
        yield frame


def extract_video(task: str, path: Path, height: int, width: int, max_frames: int | None = None,
                  max_gap: int = 3, min_frames: int = 1, sigma: float = 1.0, silhouette: bool = True,
                  progress: bool = False) -> VideoExtraction:
    """Follow the subject of a video and cut it out of every kept frame (two decoding passes: track, then cut).

    Args:
        max_frames: read at most this many frames.
        max_gap: the longest run of missed frames that is interpolated; longer runs are dropped.
        min_frames: runs of kept frames shorter than this are dropped too.
        sigma: temporal smoothing of the points (Gaussian, in frames).
        silhouette: keep mediapipe's person mask (dance: the parts map follows the real outline).
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such video")
    fps = video_fps(path)
    detector, reliable = _detector(task)
    with detector, tqdm(desc=f"track {path.name}", unit="frame", disable=not progress) as bar:
        track: Track = track_subject(_frames(path, max_frames), detector.detect, reliable, on_frame=bar.update)
    n = len(track.frames)
    if n == 0:
        raise UserError(f"{path}: holds no video frames")
    if not track.found.any():
        raise UserError(f"no {SUBJECT_NOUN[task]} detected in {path}")
    n_points = next(f.keypoints for f in track.frames if f.keypoints is not None).shape[0]
    raw = np.zeros((n, n_points, 3), np.float32)
    for t, f in enumerate(track.frames):
        if f.keypoints is not None:
            raw[t] = f.keypoints
    points, report = fill_gaps(raw, track.found, max_gap)
    status = report.status.copy()
    segments = [(a, b) for a, b in report.segments if b - a >= min_frames]
    for a, b in report.segments:
        if b - a < min_frames:
            status[a:b] = DROPPED
    boxes: dict[int, CropBox] = {}
    for a, b in segments:
        points[a:b] = smooth_track(points[a:b], sigma)
        for t, box in zip(range(a, b), crop_boxes(points[a:b], task, width / height)):
            boxes[t] = box
    out: list[list[Extracted]] = [[] for _ in segments]
    seg_of = {t: i for i, (a, b) in enumerate(segments) for t in range(a, b)}
    for t, frame in enumerate(_frames(path, n)):
        if t not in seg_of:
            continue
        tracked = track.frames[t]
        mask = paste_mask(tracked, *frame.shape[:2]) if silhouette and tracked.keypoints is not None else None
        out[seg_of[t]].append(_cut_frame(frame, points[t], mask, boxes[t], height, width))
    counts = {"frames": n, "detected": int((status == 0).sum()), "interpolated": int((status == 1).sum()),
              "dropped": int((status == DROPPED).sum()), "segments": len(segments)}
    return VideoExtraction(path, fps, out, counts)


def overlay(task: str, frame: Extracted) -> np.ndarray:
    """(H, W, 3) uint8: the crop with its skeleton (dance, over a light tint of the parts map) or sketch (face)."""
    h, w = frame.rgb.shape[:2]
    layers = semantic_layers(task, frame.points, h, w, frame.silhouette)
    out = frame.rgb.astype(np.float32)
    if task == "dance":
        parts = layers["parts"]
        tint = colorize_labels(parts, 15).astype(np.float32)
        out = np.where((parts > 0)[..., None], 0.65 * out + 0.35 * tint, out)
        pose = layers["pose"]
        drawn = pose.max(axis=2) > 0
        out[drawn] = pose[drawn]
    else:
        out[layers["sketch"] > 0] = (0, 255, 0)
    return out.astype(np.uint8)


def overlay_sheet(task: str, clips: list[tuple[str, list[Extracted]]], per_row: int = 6, scale: int = 2
                  ) -> np.ndarray:
    """One row per clip: ``per_row`` evenly spaced frames as overlays (:func:`overlay`), enlarged ``scale`` times.
    Returns an (H, W, 3) uint8 RGB image."""
    rows = []
    for name, frames in clips:
        picks = np.linspace(0, len(frames) - 1, min(per_row, len(frames))).round().astype(int)
        cells = []
        for i in picks:
            cell = overlay(task, frames[i])
            cell = cv2.resize(cell, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
            cells += [cell, np.full((cell.shape[0], 4, 3), 255, np.uint8)]
        row = np.concatenate(cells, axis=1)
        caption = np.full((18, row.shape[1], 3), 255, np.uint8)
        cv2.putText(caption, name, (2, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        rows.append(np.concatenate([caption, row], axis=0))
    width = max(r.shape[1] for r in rows)
    return np.concatenate([np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows])


OVERLAYS_FILE = "overlays.png"


def _check_dataset_folder(out: Path, task: str, stems: list[str], overwrite: bool, overlays: bool) -> None:
    """Before any video is read: refuse a dataset.json fsvid2vid did not write, clips of another task, clips that
    exist (without --overwrite), and an overlays.png that --overwrite may not replace."""
    out = Path(out)
    if not out.exists():
        return
    index = read_index(out)
    if index is not None and index.get("task") not in (None, task):
        raise UserError(f"{out}: holds {index['task']} clips; write {task} clips to another --out")
    if not overwrite:
        clips = re.compile("|".join(f"{re.escape(stem)}_s\\d\\d" for stem in stems)) if stems else None
        clash = sorted(p for p in out.iterdir() if clips is not None and clips.fullmatch(p.name))
        if clash:
            raise UserError(f"{clash[0]}: already exists; pass --overwrite or choose another --out")
    sheet = out / OVERLAYS_FILE
    if overlays and (sheet.exists() or sheet.is_symlink()):
        if overwrite and index is None:
            raise UserError(f"{sheet}: exists in a folder that is not an fsvid2vid dataset (no {INDEX_FILE}); "
                            "--overwrite replaces only what fsvid2vid wrote, so choose another --out")
        check_output(sheet, overwrite)


def _check_videos(videos: list[Path]) -> None:
    stems: dict[str, Path] = {}
    for video in videos:
        if not video.is_file():
            raise UserError(f"{video}: no such video")
        if video.stem in stems:
            raise UserError(f"{video}: has the same name as {stems[video.stem]}, and clip folders are named after "
                            "the video; rename one of them")
        stems[video.stem] = video


def _meta(task: str, subject: str, height: int, width: int, fps: int, params: dict[str, Any]) -> ClipMeta:
    points_name, points_format = task_points(task)
    return ClipMeta(task=task, split="train", subject=subject, height=height, width=width, fps=fps, n_frames=0,
                    layers=task_layers(task), points_name=points_name, points_format=points_format, source="real",
                    params=params)


def prepare_subjects(task: str, videos: list[Path], out: Path, size: int, max_frames: int | None = None,
                     max_gap: int = 3, min_frames: int = 8, overwrite: bool = False, progress: bool = True
                     ) -> dict[str, Any]:
    """Dance / face: write one clip folder per run of kept frames of every video into ``out`` (one subject per
    video, clips ``<video stem>_sNN``), ``out/dataset.json`` and the overlay sheet ``out/overlays.png``.
    All or nothing: the clips and both files appear only when every video succeeded.
    Returns the totals (frames read, detected, interpolated, dropped, clips) and the written paths."""
    height, width = frame_size(task, size)
    videos = [Path(v) for v in videos]
    _check_videos(videos)
    _check_dataset_folder(out, task, [v.stem for v in videos], overwrite, overlays=True)
    totals = {"frames": 0, "detected": 0, "interpolated": 0, "dropped": 0, "clips": 0}
    names: list[str] = []
    sheet_rows: list[tuple[str, list[Extracted]]] = []
    per_video = []
    with OutputFolder(out) as out, ClipBatch(out, overwrite) as batch:
        for video in videos:
            ex = extract_video(task, video, height, width, max_frames, max_gap, min_frames, progress=progress)
            if not ex.segments:
                raise UserError(f"{video}: no run of {min_frames} or more frames with a reliable "
                                f"{SUBJECT_NOUN[task]} ({ex.counts['detected']} of {ex.counts['frames']} frames "
                                "detected); lower --min-frames")
            for key in ("frames", "detected", "interpolated", "dropped"):
                totals[key] += ex.counts[key]
            for k, frames in enumerate(ex.segments):
                name = f"{video.stem}_s{k:02d}"
                meta = _meta(task, f"real-{video.stem}", height, width, ex.fps,
                             {"video": str(video), "segment": k, "counts": ex.counts})
                with batch.writer(name, meta) as writer:
                    for f in frames:
                        writer.add(f.rgb, semantic_layers(task, f.points, height, width, f.silhouette), f.points)
                names.append(name)
                sheet_rows.append((name, frames))
            per_video.append({"video": str(video), **ex.counts})
        totals["clips"] = len(names)
        batch.add_file(INDEX_FILE, index_bytes(out, task, names, overlays=OVERLAYS_FILE))
        batch.add_file(OVERLAYS_FILE, png_bytes(overlay_sheet(task, sheet_rows), out / OVERLAYS_FILE))
    return {**totals, "kept": totals["detected"] + totals["interpolated"], "clips_written": names,
            "videos": per_video, "overlays": str(out / OVERLAYS_FILE), "out": str(out)}


# -- street ----------------------------------------------------------------------------------------------------------

def label_table(label_format: str) -> np.ndarray:
    """(256,) uint8 lookup from source label values to street classes (255: not allowed)."""
    lut = np.full(256, 255, np.uint8)
    if label_format == "cityscapes":
        for source, name in CITYSCAPES_TO_STREET.items():
            lut[source] = STREET_CLASSES.index(name)
        return lut
    if label_format == "classes":
        lut[: len(STREET_CLASSES)] = np.arange(len(STREET_CLASSES))
        return lut
    path = Path(label_format)
    try:
        mapping = json.loads(path.read_text())
        for source, name in mapping.items():
            lut[int(source)] = STREET_CLASSES.index(name)
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        raise UserError(f"{path}: not a label mapping ({exc}); give cityscapes, classes, or a JSON file "
                        f"{{\"<value>\": \"<class>\"}} with classes {', '.join(STREET_CLASSES)}") from None
    return lut


def _centre_cut(image: np.ndarray, aspect: float, height: int, width: int, nearest: bool) -> np.ndarray:
    h, w = image.shape[:2]
    cw, ch = (w, int(round(w / aspect))) if w / h < aspect else (int(round(h * aspect)), h)
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    crop = image[y0:y0 + ch, x0:x0 + cw]
    return cv2.resize(crop, (width, height), interpolation=cv2.INTER_NEAREST if nearest else cv2.INTER_AREA)


def prepare_street(videos: list[Path], label_dirs: list[Path], out: Path, size: int, label_format: str = "cityscapes",
                   max_frames: int | None = None, overwrite: bool = False, progress: bool = True) -> dict[str, Any]:
    """Street: each video with a folder of per-frame label PNGs (sorted by name, one per frame) -> one clip folder,
    centre-cropped to 2:1 and resized; labels mapped to the street classes by :func:`label_table`. All or nothing,
    like :func:`prepare_subjects`."""
    if len(label_dirs) != len(videos):
        raise UserError(f"street needs one --labels folder per video ({len(videos)} videos, {len(label_dirs)} "
                        "--labels)")
    height, width = frame_size("street", size)
    videos = [Path(v) for v in videos]
    _check_videos(videos)
    _check_dataset_folder(out, "street", [], overwrite, overlays=False)
    if not overwrite:
        for video in videos:
            if (Path(out) / video.stem).exists():
                raise UserError(f"{Path(out) / video.stem}: already exists; pass --overwrite or choose another --out")
    lut = label_table(label_format)
    names, total = [], 0
    with OutputFolder(out) as out, ClipBatch(out, overwrite) as batch:
        for video, labels in zip(videos, map(Path, label_dirs)):
            files = sorted(labels.glob("*.png")) if labels.is_dir() else []
            if not files:
                raise UserError(f"{labels}: holds no label PNGs")
            name = f"{video.stem}"
            meta = _meta("street", f"real-{video.stem}", height, width, video_fps(video), {"video": str(video)})
            with batch.writer(name, meta) as writer:
                frames = _frames(video, max_frames)
                for t, frame in enumerate(tqdm(frames, desc=f"street {video.name}", disable=not progress)):
                    if t >= len(files):
                        raise UserError(f"{labels}: has {len(files)} label maps, but {video} has more frames")
                    raw = read_image_file(files[t], cv2.IMREAD_UNCHANGED, "check the label map")
                    if raw.ndim != 2 or raw.dtype != np.uint8:
                        raise UserError(f"{files[t]}: not an 8-bit one-channel label PNG")
                    if raw.shape != frame.shape[:2]:
                        raise UserError(f"{files[t]}: is {raw.shape[1]}x{raw.shape[0]}, the video frames are "
                                        f"{frame.shape[1]}x{frame.shape[0]}")
                    mapped = lut[raw]
                    if (mapped == 255).any():
                        bad = int(raw[mapped == 255][0])
                        raise UserError(f"{files[t]}: holds label value {bad}, which --label-format {label_format} "
                                        "does not map")
                    writer.add(_centre_cut(frame, width / height, height, width, False),
                               {"labels": _centre_cut(mapped, width / height, height, width, True)})
                if writer.count == 0:
                    raise UserError(f"{video}: holds no video frames")
                total += writer.count
            names.append(name)
        batch.add_file(INDEX_FILE, index_bytes(out, "street", names))
    return {"frames": total, "kept": total, "detected": total, "interpolated": 0, "dropped": 0,
            "clips": len(names), "clips_written": names, "out": str(out)}
