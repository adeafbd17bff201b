"""The few-shot video dataset over the clip-folder layout, and the batch sampler that varies T and K.

Each item is T consecutive target frames of one clip (with a random frame stride) and K example frames of the same
subject taken outside the target window (from any of the subject's clips), with one augmentation shared by all of
them. An item is addressed by a :class:`SampleKey` (index, T, K, seed) and is a pure function of it, so a training
run that replays the same keys sees the same data (exact resume).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from fsvid2vid.data.draw.pose import draw_openpose, flip_keypoints
from fsvid2vid.data.encode import rgb_to_tensor, semantic_channels, semantic_to_tensor
from fsvid2vid.data.layout import (
    RGB_DIR,
    ClipMeta,
    clip_layer_folders,
    find_clips,
    frame_name,
    read_image,
    read_layers,
    read_meta,
    read_points,
)
from fsvid2vid.data.semantics import SemanticLayer
from fsvid2vid.data.synth.version import check_benchmark_version
from fsvid2vid.data.views import spread_views
from fsvid2vid.errors import UserError


@dataclass(frozen=True)
class AugmentConfig:
    """Augmentation drawn once per item and applied identically to its target frames and examples."""

    enabled: bool = True  # False: no augmentation at all
    flip: bool = True  # mirror horizontally with probability 0.5 (left/right body parts and keypoints swapped)
    max_zoom: float = 1.15  # zoom in by a random factor in [1, max_zoom], then crop back to the frame size
    color: float = 0.1  # strength of brightness / contrast / saturation / hue jitter of the RGB frames (0 = off)


EXAMPLE_CHOICES = ("random", "views", "front_views")


@dataclass(frozen=True)
class SampleKey:
    """Address of one item: clip ``index``, ``T`` target frames, ``K`` examples, and the item's random ``seed``."""

    index: int
    T: int
    K: int
    seed: int


def _flip_permutation(layer: SemanticLayer) -> np.ndarray | None:
    """Label permutation swapping ``left_*`` and ``right_*`` classes, or None if the layer has none."""
    names = list(layer.class_names)
    if not any(n.startswith(("left_", "right_")) for n in names):
        return None
    perm = np.arange(max(layer.num_classes, 1), dtype=np.uint8)
    for i, n in enumerate(names):
        other = "right_" + n[5:] if n.startswith("left_") else "left_" + n[6:] if n.startswith("right_") else n
        if other in names:
            perm[i] = names.index(other)
    return perm


class FewShotVideoDataset(Dataset):
    """Items of T target frames and K same-subject examples from a folder of clips.

    Args:
        root: a dataset folder (clip folders inside) or a single clip folder.
        T, K: default sequence length and number of examples for integer indices (a :class:`SampleKey` overrides).
        max_stride: the frame stride between target frames is drawn from [1, max_stride] (limited by clip length).
        augment: shared augmentation, or None for none (evaluation).
        seed: mixed into every item's randomness.

    Each item is a dict of tensors:
        semantic:         (T, C, H, W) float32, the stacked semantic layers (see :mod:`fsvid2vid.data.encode`)
        rgb:              (T, 3, H, W) float32 in [-1, 1]
        example_semantic: (K, C, H, W)
        example_rgb:      (K, 3, H, W)
        frame_index:      (T,) int64 frame numbers of the targets in their clip
        example_index:    (K, 2) int64 (clip index, frame number) of each example
        clip:             () int64 clip index
    """

    def __init__(self, root: Path | str, T: int = 1, K: int = 1, max_stride: int = 4,
                 augment: AugmentConfig | None = None, seed: int = 0, example_choice: str = "random"):
        self.root = Path(root)
        self.clip_dirs = find_clips(self.root)
        self.metas = [read_meta(d) for d in self.clip_dirs]
        check_benchmark_version(self.root, self.clip_dirs, self.metas)  # benchmark data of an older version
        first = self.metas[0]
        for d, m in zip(self.clip_dirs, self.metas):
            if m.task != first.task or (m.height, m.width) != (first.height, first.width) or m.layers != first.layers:
                raise UserError(f"{d}: is a {m.task} clip of {m.width}x{m.height} with layers "
                                f"{[layer.name for layer in m.layers]}, unlike {self.clip_dirs[0].name} "
                                f"({first.task}, {first.width}x{first.height}); keep one kind of clip per folder")
        self.task = first.task
        self.layers = first.layers
        self.height, self.width = first.height, first.width
        self.semantic_channels = semantic_channels(self.layers)
        self.T, self.K, self.max_stride, self.augment, self.seed = T, K, max_stride, augment, seed
        if example_choice not in EXAMPLE_CHOICES:
            raise UserError(f"unknown example choice {example_choice!r}: choose one of {', '.join(EXAMPLE_CHOICES)}")
        self.example_choice = example_choice
        by_subject: dict[str, list[int]] = defaultdict(list)
        for i, m in enumerate(self.metas):
            by_subject[m.subject].append(i)
        self.subject_clips = dict(by_subject)
        self._points: dict[int, np.ndarray | None] = {}
        self._flips = {layer.name: _flip_permutation(layer) for layer in self.layers if layer.kind == "label"}

    def __len__(self) -> int:
        return len(self.clip_dirs)

    def key(self, index: int) -> SampleKey:
        """The default key of an integer index (the dataset's own T and K, a seed fixed by the index)."""
        return SampleKey(index, self.T, self.K, index)

    # -- sampling ---------------------------------------------------------------------------------------------------

    def __getitem__(self, key: int | SampleKey | tuple[int, int, int, int]) -> dict[str, torch.Tensor]:
        if isinstance(key, (int, np.integer)):
            key = self.key(int(key))
        elif not isinstance(key, SampleKey):
            key = SampleKey(*map(int, key))
        if key.T < 1 or key.K < 1:
            raise UserError(f"T={key.T} and K={key.K} are invalid: need at least 1 target frame and 1 example")
        index = key.index % len(self)
        rng = np.random.default_rng([self.seed, index, key.T, key.K, key.seed])
        targets = self._target_frames(index, key.T, rng)
        examples = self._example_frames(index, targets, key.K, rng)
        aug = self._draw_augmentation(rng)
        t_rgb, t_sem = zip(*(self.load_frame(index, f, aug) for f in targets))
        e_rgb, e_sem = zip(*(self.load_frame(c, f, aug) for c, f in examples))
        return {
            "semantic": torch.stack(t_sem),
            "rgb": torch.stack(t_rgb),
            "example_semantic": torch.stack(e_sem),
            "example_rgb": torch.stack(e_rgb),
            "frame_index": torch.tensor(targets, dtype=torch.int64),
            "example_index": torch.tensor(examples, dtype=torch.int64).reshape(key.K, 2),
            "clip": torch.tensor(index, dtype=torch.int64),
        }

    def _target_frames(self, index: int, T: int, rng: np.random.Generator) -> list[int]:
        n = self.metas[index].n_frames
        if T > n:
            raise UserError(f"{self.clip_dirs[index]}: has {n} frames, fewer than T={T}; lower T or render "
                            "longer clips")
        max_stride = 1 if T == 1 else max(1, min(self.max_stride, (n - 1) // (T - 1)))
        stride = int(rng.integers(1, max_stride + 1))
        start = int(rng.integers(0, n - (T - 1) * stride))
        return [start + i * stride for i in range(T)]

    def _example_frames(self, index: int, targets: list[int], K: int,
                        rng: np.random.Generator) -> list[tuple[int, int]]:
        lo, hi = targets[0], targets[-1]
        candidates = [
            (c, f)
            for c in self.subject_clips[self.metas[index].subject]
            for f in range(self.metas[c].n_frames)
            if c != index or not lo <= f <= hi
        ]
        if not candidates:
            raise UserError(f"{self.clip_dirs[index]}: subject {self.metas[index].subject} has no frame outside a "
                            f"{len(targets)}-frame window to use as an example; render longer or more clips per "
                            "subject, or lower T")
        with_views = all(self.metas[c].views is not None for c in self.subject_clips[self.metas[index].subject])
        front_first = self.example_choice == "front_views"
        if (front_first or (self.example_choice == "views" and K > 1)) and len(candidates) >= K and with_views:
            yaw = np.array([self.metas[c].views[f] for c, f in candidates])
            return [candidates[i] for i in spread_views(yaw, K, rng, front_first=front_first)]
        chosen = rng.choice(len(candidates), size=K, replace=len(candidates) < K)
        return [candidates[int(i)] for i in chosen]

    # -- loading and augmentation -----------------------------------------------------------------------------------

    def _draw_augmentation(self, rng: np.random.Generator) -> dict[str, float] | None:
        a = self.augment
        if a is None:
            return None
        zoom = float(rng.uniform(1.0, max(1.0, a.max_zoom)))
        return {
            "flip": float(a.flip and rng.random() < 0.5),
            "zoom": zoom,
            "dx": float(rng.random()),
            "dy": float(rng.random()),
            "brightness": float(rng.uniform(-a.color, a.color)),
            "contrast": float(rng.uniform(1 - a.color, 1 + a.color)),
            "saturation": float(rng.uniform(1 - 2 * a.color, 1 + 2 * a.color)),
            "hue": float(rng.uniform(-a.color, a.color) * 0.1),
        }

    def _clip_points(self, index: int) -> np.ndarray | None:
        if index not in self._points:
            self._points[index] = read_points(self.clip_dirs[index], self.metas[index])
        return self._points[index]

    def load_frame(self, index: int, frame: int,
                   aug: dict[str, float] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(RGB (3, H, W), semantic (C, H, W)) tensors of frame ``frame`` of clip ``index``, optionally augmented."""
        d, meta = self.clip_dirs[index], self.metas[index]
        size = (meta.height, meta.width)
        rgb = read_image(d / RGB_DIR / frame_name(frame), 3, size)
        arrays = read_layers(clip_layer_folders(d, meta.layers), meta.layers, frame_name(frame), size)
        if aug is not None:
            rgb, arrays = self._augment(index, frame, meta, rgb, arrays, aug)
        return rgb_to_tensor(rgb), semantic_to_tensor(arrays, meta.layers)

    def _augment(self, index: int, frame: int, meta: ClipMeta, rgb: np.ndarray, arrays: dict[str, np.ndarray],
                 aug: dict[str, float]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        h, w = meta.height, meta.width
        if aug["flip"]:
            rgb = rgb[:, ::-1]
            for layer in meta.layers:
                a = arrays[layer.name][:, ::-1]
                if layer.kind == "label" and self._flips.get(layer.name) is not None:
                    a = self._flips[layer.name][a]
                elif layer.kind == "color" and meta.points_format == "coco18":
                    # Keypoint colours encode left/right: redraw the skeleton from mirrored keypoints.
                    points = self._clip_points(index)
                    a = draw_openpose(flip_keypoints(points[frame], w), h, w)
                arrays[layer.name] = a
        zoom = aug["zoom"]
        if zoom > 1.0:
            zh, zw = int(round(h * zoom)), int(round(w * zoom))
            y0, x0 = int(aug["dy"] * (zh - h)), int(aug["dx"] * (zw - w))

            def crop(a: np.ndarray, interpolation: int) -> np.ndarray:
                return cv2.resize(np.ascontiguousarray(a), (zw, zh), interpolation=interpolation)[y0:y0 + h, x0:x0 + w]

            rgb = crop(rgb, cv2.INTER_LINEAR)
            arrays = {
                layer.name: crop(arrays[layer.name], cv2.INTER_NEAREST if layer.kind == "label" else cv2.INTER_LINEAR)
                for layer in meta.layers
            }
        if aug["brightness"] or aug["contrast"] != 1 or aug["saturation"] != 1 or aug["hue"]:
            rgb = _jitter_color(np.ascontiguousarray(rgb), aug)
        return np.ascontiguousarray(rgb), {k: np.ascontiguousarray(v) for k, v in arrays.items()}


def _jitter_color(rgb: np.ndarray, aug: dict[str, float]) -> np.ndarray:
    """Hue shift, saturation, contrast and brightness, in that order, on an (H, W, 3) uint8 image."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] + aug["hue"] * 256.0) % 256.0
    hsv[..., 1] = np.clip(hsv[..., 1] * aug["saturation"], 0, 255)
    out = cv2.cvtColor(np.round(hsv).astype(np.uint8), cv2.COLOR_HSV2RGB_FULL).astype(np.float32)
    mean = out.mean()
    out = (out - mean) * aug["contrast"] + mean + aug["brightness"] * 255.0
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


class FewShotBatchSampler(Sampler[list[SampleKey]]):
    """Batches of :class:`SampleKey`, one per training step, a pure function of (seed, step).

    Step ``s`` draws ``batch_size * world_size`` distinct clip indices (all of them when there are fewer clips, with
    repeats), one K from 1..``K_max`` shared by the whole batch, T = ``T(s)`` (an int or a function of the step, for a
    progressive schedule), and one item seed per sample; rank r takes its slice. Iteration covers steps
    ``start_step`` .. ``num_steps - 1``, so a resumed run sees exactly the batches it would have seen.
    """

    def __init__(self, n_items: int, batch_size: int, T: int | Callable[[int], int] = 1, K_max: int = 1,
                 seed: int = 0, num_steps: int = 1, start_step: int = 0, rank: int = 0, world_size: int = 1):
        if n_items < 1 or batch_size < 1 or K_max < 1 or num_steps < 0 or not 0 <= rank < world_size:
            raise UserError(f"invalid sampler settings: items={n_items}, batch={batch_size}, K_max={K_max}, "
                            f"steps={num_steps}, rank={rank}/{world_size}")
        self.n_items, self.batch_size, self.K_max, self.seed = n_items, batch_size, K_max, seed
        self.T = T if callable(T) else (lambda step, t=int(T): t)
        self.num_steps, self.start_step, self.rank, self.world_size = num_steps, start_step, rank, world_size

    def __len__(self) -> int:
        return max(0, self.num_steps - self.start_step)

    def batch(self, step: int) -> list[SampleKey]:
        """The keys of this rank's batch at ``step``."""
        rng = np.random.default_rng([self.seed, step])
        total = self.batch_size * self.world_size
        index = np.concatenate([rng.permutation(self.n_items) for _ in range(-(-total // self.n_items))])[:total]
        k = int(rng.integers(1, self.K_max + 1))
        seeds = rng.integers(0, 2**31, size=total)
        t = int(self.T(step))
        mine = slice(self.rank * self.batch_size, (self.rank + 1) * self.batch_size)
        return [SampleKey(int(i), t, k, int(s)) for i, s in zip(index[mine], seeds[mine])]

    def __iter__(self) -> Iterator[list[SampleKey]]:
        for step in range(self.start_step, self.num_steps):
            yield self.batch(step)
