"""Pictures of a dataset for people to look at: a contact sheet of subjects, a sheet of their views, and side-by-side
clip frames."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from fsvid2vid.data.draw.labels import colorize_labels
from fsvid2vid.data.layout import (
    RGB_DIR,
    ClipMeta,
    clip_layer_folders,
    find_clips,
    frame_name,
    read_image,
    read_layers,
    read_meta,
)
from fsvid2vid.data.semantics import SemanticLayer
from fsvid2vid.errors import UserError

_LABEL_W = 120


def layer_preview(layer: SemanticLayer, array: np.ndarray) -> np.ndarray:
    """An (H, W, 3) uint8 RGB picture of one semantic layer."""
    if layer.kind == "label":
        return colorize_labels(array, layer.num_classes)
    if layer.kind == "gray":
        return np.repeat(array[..., None], 3, axis=2)
    return array


def frame_panels(clip_dir: Path, meta: ClipMeta, index: int) -> list[np.ndarray]:
    """[semantic layer previews ..., RGB] of frame ``index`` of a clip, each (H, W, 3) uint8."""
    size = (meta.height, meta.width)
    arrays = read_layers(clip_layer_folders(clip_dir, meta.layers), meta.layers, frame_name(index), size)
    return [layer_preview(layer, arrays[layer.name]) for layer in meta.layers] + [
        read_image(clip_dir / RGB_DIR / frame_name(index), 3, size)]


def side_by_side(clip_dir: Path) -> Iterator[np.ndarray]:
    """Frames of a clip as [semantic layers | RGB] strips, for a preview video."""
    clip_dir = Path(clip_dir)
    meta = read_meta(clip_dir)
    for index in range(meta.n_frames):
        yield np.concatenate(frame_panels(clip_dir, meta, index), axis=1)


def _caption(text: str, height: int) -> np.ndarray:
    panel = np.full((height, _LABEL_W, 3), 255, np.uint8)
    for i, line in enumerate(text.split("\n")):
        cv2.putText(panel, line, (4, 16 + 16 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return panel


def contact_sheet(root: Path, subjects: int = 8, frames: int = 4) -> np.ndarray:
    """One row per subject (its first clip): ``frames`` evenly spaced frames, each as [semantic layers | RGB].

    Returns an (H, W, 3) uint8 RGB image.
    """
    if subjects < 1 or frames < 1:
        raise UserError(f"a contact sheet needs at least 1 subject and 1 frame (got {subjects} and {frames})")
    clip_dirs = find_clips(root)
    first_clip: dict[str, Path] = {}
    for d in clip_dirs:
        first_clip.setdefault(read_meta(d).subject, d)
    rows = []
    for subject, d in list(first_clip.items())[:subjects]:
        meta = read_meta(d)
        picks = np.linspace(0, meta.n_frames - 1, min(frames, meta.n_frames)).round().astype(int)
        cells = [np.concatenate(frame_panels(d, meta, int(i)), axis=1) for i in picks]
        gap = np.full((meta.height, 4, 3), 255, np.uint8)
        row = [_caption(f"{subject}\n{meta.split}\n{d.name}", meta.height)]
        for cell in cells:
            row += [cell, gap]
        rows.append(np.concatenate(row, axis=1))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    return np.concatenate(rows, axis=0)


def view_sheet(root: Path, subjects: int = 4, frames: int = 6) -> np.ndarray:
    """One row per subject (its first clip): ``frames`` RGB frames spread evenly over the clip, each captioned with
    the subject's view (its yaw in degrees: 0 facing the camera, 180 from behind) where meta.json has views. For a
    benchmark-v2 dancer the row shows it turning: its front, its sides and its back.

    Returns an (H, W, 3) uint8 RGB image.
    """
    if subjects < 1 or frames < 1:
        raise UserError(f"a view sheet needs at least 1 subject and 1 frame (got {subjects} and {frames})")
    first_clip: dict[str, Path] = {}
    for d in find_clips(root):
        first_clip.setdefault(read_meta(d).subject, d)
    rows = []
    for subject, d in list(first_clip.items())[:subjects]:
        meta = read_meta(d)
        picks = np.linspace(0, meta.n_frames - 1, min(frames, meta.n_frames)).round().astype(int)
        cells = []
        for i in picks:
            rgb = read_image(d / RGB_DIR / frame_name(int(i)), 3, (meta.height, meta.width))
            label = np.full((14, meta.width, 3), 255, np.uint8)
            text = f"{int(i)}" + ("" if meta.views is None else f": {np.degrees(meta.views[i]):+.0f}")
            cv2.putText(label, text, (2, 11), cv2.FONT_HERSHEY_SIMPLEX, 0.33, (0, 0, 0), 1, cv2.LINE_AA)
            cells.append([np.concatenate([rgb, label], axis=0)])
        rows.append(sheet_row([_caption(f"{subject}\n{meta.split}\n{d.name}", meta.height + 14)], cells, gap=2))
    return stack_rows(rows, gap=4)


def sheet_row(examples: Sequence[np.ndarray], frames: Sequence[Sequence[np.ndarray]], gap: int = 0) -> np.ndarray:
    """One row of a sheet: the example frames side by side, then each group of ``frames`` (e.g. semantic |
    generated | ground truth), groups separated by ``gap`` white columns.

    examples: (H, W, 3) uint8 each; frames: groups of (H, W, 3) uint8 pictures. Returns (H, W_total, 3) uint8.
    """
    cells = list(examples)
    for group in frames:
        if gap and cells:
            cells.append(np.full((group[0].shape[0], gap, 3), 255, np.uint8))
        cells.extend(group)
    return np.concatenate(cells, axis=1)


def stack_rows(rows: Sequence[np.ndarray], gap: int = 0) -> np.ndarray:
    """Rows of possibly different widths stacked vertically, padded on the right (and separated) with white."""
    width = max(r.shape[1] for r in rows)
    out = []
    for i, row in enumerate(rows):
        if i and gap:
            out.append(np.full((gap, width, 3), 255, np.uint8))
        out.append(np.pad(row, ((0, 0), (0, width - row.shape[1]), (0, 0)), constant_values=255))
    return np.concatenate(out, axis=0)
