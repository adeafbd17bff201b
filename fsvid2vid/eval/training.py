"""Training the evaluator networks on benchmark frames, and measuring their own accuracy on real (rendered) frames.

    fsvid2vid evaluator train --task dance --data data/dance-train-64 --out models/evaluators/dance-64.safetensors
    fsvid2vid evaluator score --evaluator models/evaluators/dance-64.safetensors --data data/dance-test-64

Training reads every frame of the train-split clips of a dataset folder into memory (a few thousand 64 px frames)
and refuses test-split clips, so the evaluator never sees the subjects it later judges. Each batch is augmented so
that the networks keep working on generated frames, which are blurrier, noisier and off in colour: random colour
jitter (brightness, contrast, saturation), Gaussian blur, Gaussian noise, and a small translation (targets moved
with it).
"""

from __future__ import annotations

import math
import platform
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from fsvid2vid import __version__
from fsvid2vid.data.encode import rgb_to_tensor
from fsvid2vid.data.layout import RGB_DIR, find_clips, frame_name, read_image, read_meta, read_points
from fsvid2vid.data.semantics import task_layers
from fsvid2vid.data.synth.version import check_benchmark_version
from fsvid2vid.errors import UserError
from fsvid2vid.eval.evaluator import Evaluator, EvaluatorConfig, EvaluatorNet, save_evaluator
from fsvid2vid.eval.heatmaps import heatmap_loss
from fsvid2vid.eval.metrics import class_iou, keypoint_error, segmentation_scores


@dataclass
class FrameSet:
    """Frames of a dataset folder with what an evaluator should read from them."""

    task: str
    rgb: torch.Tensor  # (N, 3, H, W) uint8
    points: torch.Tensor | None  # (N, P, 3) float32 [x, y, confidence] for dance / face
    labels: torch.Tensor | None  # (N, H, W) uint8 for street
    clips: list[str]
    splits: list[str]  # the splits the clips belong to


#: The semantic layer a segmenter predicts (street's only layer).
LABEL_LAYER = "labels"


def load_frames(root: Path, split: str | None = None, every: int = 1, max_clips: int | None = None) -> FrameSet:
    """All frames (every ``every``-th) of the clips under ``root``; with ``split``, refuse clips of another split."""
    clips = find_clips(root)[:max_clips]
    metas = [read_meta(c) for c in clips]
    check_benchmark_version(root, clips, metas)
    task = metas[0].task
    if any(m.task != task for m in metas):
        raise UserError(f"{root}: mixes tasks; give a folder of one task's clips")
    if split is not None:
        wrong = [c for c, m in zip(clips, metas) if m.split != split]
        if wrong:
            raise UserError(f"{wrong[0]}: is a {read_meta(wrong[0]).split}-split clip; the evaluators are trained on "
                            f"{split}-split clips only (render them with `fsvid2vid data synth --split {split}`)")
    size = (metas[0].height, metas[0].width)
    rgbs, points, labels = [], [], []
    for clip, meta in zip(clips, metas):
        if (meta.height, meta.width) != size:
            raise UserError(f"{clip}: is {meta.width}x{meta.height}, unlike {clips[0]}; use clips of one size")
        pts = read_points(clip, meta)
        for t in range(0, meta.n_frames, every):
            rgbs.append(read_image(clip / RGB_DIR / frame_name(t), 3, size))
            if pts is not None:
                points.append(pts[t])
            if task == "street":
                labels.append(read_image(clip / LABEL_LAYER / frame_name(t), 1, size))
    rgb = torch.from_numpy(np.stack(rgbs)).permute(0, 3, 1, 2).contiguous()
    return FrameSet(task, rgb, torch.from_numpy(np.stack(points)) if points else None,
                    torch.from_numpy(np.stack(labels)) if labels else None, [c.name for c in clips],
                    sorted({m.split for m in metas}))


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = max(1, int(math.ceil(2.5 * sigma)))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    k = (k / k.sum()).to(x)
    c = x.shape[1]
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="replicate"), k.view(1, 1, 1, -1).expand(c, 1, 1, -1),
                 groups=c)
    return F.conv2d(F.pad(x, (0, 0, radius, radius), mode="replicate"), k.view(1, 1, -1, 1).expand(c, 1, -1, 1),
                    groups=c)


def augment(images: torch.Tensor, points: torch.Tensor | None, labels: torch.Tensor | None,
            generator: torch.Generator, max_shift: int = 4) -> tuple[torch.Tensor, torch.Tensor | None,
                                                                       torch.Tensor | None]:
    """Photometric and small geometric augmentation of a batch.

    images: (B, 3, H, W) in [-1, 1]; points: (B, P, 3) pixels or None; labels: (B, H, W) int64 or None. Returns the
    three, augmented alike: an integer translation of up to ``max_shift`` px (borders replicated, points moved and
    hidden when they leave the frame), colour jitter, Gaussian blur (sigma 0.3-1.5 px) on half of the batch, and
    Gaussian noise (std up to 0.08).
    """
    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator)

    b, _, h, w = images.shape
    if max_shift > 0:
        shifts = torch.randint(-max_shift, max_shift + 1, (b, 2), generator=generator)
        pad = (max_shift, max_shift, max_shift, max_shift)
        padded = F.pad(images, pad, mode="replicate")
        padded_labels = None if labels is None else F.pad(labels[:, None].float(), pad, mode="replicate")[:, 0]
        out, out_labels = torch.empty_like(images), None if labels is None else torch.empty_like(labels)
        for i, (dx, dy) in enumerate(shifts.tolist()):
            y0, x0 = max_shift - dy, max_shift - dx
            out[i] = padded[i, :, y0:y0 + h, x0:x0 + w]
            if out_labels is not None:
                out_labels[i] = padded_labels[i, y0:y0 + h, x0:x0 + w].long()
        images, labels = out, out_labels
        if points is not None:
            points = points.clone()
            points[..., :2] += shifts[:, None, :].float()
            inside = (points[..., 0] >= 0) & (points[..., 0] <= w - 1) & (points[..., 1] >= 0) & \
                (points[..., 1] <= h - 1)
            points[..., 2] = points[..., 2] * inside.float()
    # Colour jitter: brightness, contrast, saturation.
    x = images + (rand(b, 1, 1, 1) - 0.5) * 0.4
    mean = x.mean((1, 2, 3), keepdim=True)
    x = (x - mean) * (0.7 + 0.6 * rand(b, 1, 1, 1)) + mean
    gray = x.mean(1, keepdim=True)
    x = (x - gray) * (0.6 + 0.8 * rand(b, 1, 1, 1)) + gray
    # Blur half of the batch with one sigma, then noise.
    blurred = rand(b) < 0.5
    if blurred.any():
        x[blurred] = _gaussian_blur(x[blurred], 0.3 + 1.2 * float(rand(1)))
    x = x + torch.randn(x.shape, generator=generator) * (0.08 * rand(b, 1, 1, 1))
    return x.clamp(-1, 1), points, labels


def class_weights(labels: torch.Tensor, num_classes: int, cap: float = 10.0) -> torch.Tensor:
    """(num_classes,) cross-entropy weights ``sqrt(median frequency / frequency)``, capped at ``cap`` (absent
    classes get the cap): thin classes such as poles and traffic signs, a fraction of a percent of the pixels, would
    otherwise never be predicted."""
    freq = torch.bincount(labels.flatten().long(), minlength=num_classes).double()
    freq = freq / freq.sum()
    present = freq[freq > 0]
    weights = (present.median() / freq.clamp_min(1e-12)).sqrt().clamp(max=cap)
    return weights.float()


def evaluator_loss(net: EvaluatorNet, images: torch.Tensor, points: torch.Tensor | None,
                   labels: torch.Tensor | None, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Heatmap cross-entropy + visibility BCE (points), or per-pixel cross-entropy at full size, weighted per class
    by ``weights`` (labels)."""
    out = net(images)
    cfg = net.cfg
    if cfg.kind == "points":
        p = cfg.outputs
        visibility = out[:, p:].amax((-2, -1))  # (B, P)
        return heatmap_loss(out[:, :p], points, cfg.stride, cfg.sigma) + \
            F.binary_cross_entropy_with_logits(visibility, (points[..., 2] > 0).float())
    logits = F.interpolate(out, size=images.shape[-2:], mode="bilinear", align_corners=False)
    return F.cross_entropy(logits, labels, weight=weights)


def machine_description() -> str:
    """A one-line description of this machine (CPU model and core count, or the GPU)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}"


def train_evaluator(task: str, data: Path, out: Path, steps: int = 2000, batch: int = 32, lr: float = 2e-3,
                    seed: int = 0, threads: int | None = 1, progress: bool = True,
                    command: str | None = None, overwrite: bool = True) -> dict[str, Any]:
    """Train the ``task`` evaluator on the train-split frames of ``data`` and write it to ``out``; returns its info.
    Without ``overwrite`` an existing ``out`` is refused before training; with it, only an fsvid2vid file is
    replaced."""
    from fsvid2vid.atomic import check_output

    check_output(out, overwrite)
    if steps < 1 or batch < 1:
        raise UserError(f"--steps {steps} / --batch {batch} are invalid: both must be at least 1")
    frames = load_frames(data, split="train")
    if frames.task != task:
        raise UserError(f"{data}: holds {frames.task} clips, not {task}; give a {task} train-split folder")
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    h, w = frames.rgb.shape[-2:]
    cfg = EvaluatorConfig.for_task(task, h, w)
    net = EvaluatorNet(cfg).train()
    weights = None if frames.labels is None else class_weights(frames.labels, cfg.outputs)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * s / steps)))
    n = len(frames.rgb)
    started = time.perf_counter()
    losses: list[float] = []
    bar = tqdm(range(steps), unit="step", desc=f"train {task} evaluator", disable=not progress)
    for _ in bar:
        idx = torch.randint(0, n, (batch,), generator=generator)
        images = frames.rgb[idx].float().div_(127.5).sub_(1.0)
        points = None if frames.points is None else frames.points[idx]
        labels = None if frames.labels is None else frames.labels[idx].long()
        images, points, labels = augment(images, points, labels, generator)
        loss = evaluator_loss(net, images, points, labels, weights)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if len(losses) % 20 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
    seconds = time.perf_counter() - started
    info = {
        "task": task, "data": str(data), "frames": n, "clips": len(frames.clips), "steps": steps, "batch": batch,
        "lr": lr, "seed": seed, "train_seconds": round(seconds, 1),
        "final_loss": round(float(np.mean(losses[-50:])), 4),
        "parameters": net.num_parameters(), "machine": machine_description(), "torch_threads": torch.get_num_threads(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"), "fsvid2vid": __version__, "torch": torch.__version__,
        "command": command,
    }
    save_evaluator(net.eval(), out, info)
    return info


@torch.no_grad()
def score_evaluator(evaluator: Evaluator, data: Path, max_clips: int | None = None, batch: int = 64,
                    progress: bool = True) -> dict[str, Any]:
    """The evaluator's own accuracy on the (real, rendered) frames of ``data``.

    Points: mean and median pixel error over the points visible in the data (whatever the predicted visibility), the
    share within 2 px, and the accuracy of the predicted visibility. Labels: pixel accuracy and mIoU over all frames.
    """
    frames = load_frames(data, max_clips=max_clips)
    if frames.task != evaluator.config.task:
        raise UserError(f"{data}: holds {frames.task} clips, {evaluator.path} is a {evaluator.config.task} evaluator")
    preds = []
    for start in tqdm(range(0, len(frames.rgb), batch), desc="score", unit="batch", disable=not progress):
        images = frames.rgb[start:start + batch].float().div_(127.5).sub_(1.0)
        preds.append(evaluator.points(images) if evaluator.config.kind == "points" else evaluator.labels(images))
    pred = torch.cat(preds).numpy()
    result: dict[str, Any] = {"evaluator": evaluator.path, "data": str(data), "splits": frames.splits,
                              "clips": len(frames.clips), "frames": len(frames.rgb)}
    if evaluator.config.kind == "points":
        target = frames.points.numpy()
        visible = target[..., 2] > 0
        dist = np.linalg.norm(pred[..., :2] - target[..., :2], axis=-1)[visible]
        result.update({
            "point_error_px": keypoint_error(always_visible(pred), target),
            "point_error_median_px": float(np.median(dist)),
            "within_2px": float((dist <= 2).mean()),
            "visibility_accuracy": float(((pred[..., 2] > evaluator.config.visible_threshold) == visible).mean()),
        })
    else:
        target = frames.labels.numpy().astype(np.int64)
        result.update(segmentation_scores(pred, target, evaluator.config.outputs))
        names = task_layers(frames.task)[0].class_names
        iou = class_iou(pred, target, evaluator.config.outputs)
        result["class_iou"] = {name: None if np.isnan(v) else round(float(v), 4) for name, v in zip(names, iou)}
    return result


def always_visible(points: np.ndarray) -> np.ndarray:
    """``points`` (..., P, 3) with confidence 1: the point error then counts every point visible in the target,
    whatever the estimator's own visibility (a generator must not gain from making points undetectable)."""
    out = np.array(points, dtype=np.float64, copy=True)
    out[..., 2] = 1.0
    return out


def rgb_batch(frames: list[np.ndarray]) -> torch.Tensor:
    """(N, 3, H, W) float tensor in [-1, 1] from (H, W, 3) uint8 frames."""
    return torch.stack([rgb_to_tensor(f) for f in frames])
