"""The ``evaluate`` command: a model animates unseen test subjects with other subjects' motion, and is scored
against the exact ground truth of the benchmark.

For each K and each pair of :mod:`fsvid2vid.eval.pairs` (subject A's own clip, A performing B's motion), the model
gets K frames of A's own clip as examples and the semantic maps of the cross-identity clip as driving; the cross
clip's frames are the ground truth. Per K the report holds:

* the task metric through the project's evaluator network (:mod:`fsvid2vid.eval.evaluator`): pose error (dance) or
  landmark error (face) in pixels between the driving points and the points re-detected on the generated frames,
  over the points visible in the driving frame; pixel accuracy and mIoU (street) of the label map segmented from the
  generated frames against the driving label map. The same on the ground-truth frames is the floor / ceiling;
* ``fid_<task>_evaluator``: the Fréchet distance between the generated and the ground-truth frames in the
  evaluator's feature space (not Inception's), and ``fid_inception`` when an Inception file is given;
* L1, PSNR and SSIM against the ground truth (per frame, averaged);
* the warping error: mean |warp(x_{t-1}) - x_t| of the generated frames under the ground-truth motion, next to the
  ground truth's own. The benchmark does not store its motion fields, so the motion is OpenCV DIS optical flow
  between consecutive ground-truth frames, restricted to where it passes the forward-backward and photometric
  checks (:func:`fsvid2vid.losses.flow.ground_truth_flow`);
* ``sources``: where the subject's pixels come from (the warped previous frame, the warped examples, H's own image)
  and the L1 of each intermediate image there, over all frames and the front and back views
  (:mod:`fsvid2vid.eval.sources`).

With ``score_height`` (``--score-height``), the pixel scores (subject and whole-frame L1 / PSNR / SSIM, the ghost)
are also computed on the generated and true frames area-downsampled to that height (``rescaled``, per K): a model at
128 px scored on the grid of a 64 px one, so that two resolutions compare on the same detail.
"""

from __future__ import annotations

import math
import platform
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from fsvid2vid import __version__
from fsvid2vid.atomic import atomic_path, check_output, write_json
from fsvid2vid.data.encode import rgb_to_tensor, semantic_preview, tensor_to_rgb
from fsvid2vid.data.layout import RGB_DIR, frame_name, read_image, read_meta, read_points
from fsvid2vid.data.preview import sheet_row, stack_rows
from fsvid2vid.data.views import wrap_angle
from fsvid2vid.errors import UserError
from fsvid2vid.eval.attention import attention_by_view, write_attention_sheet
from fsvid2vid.eval.evaluator import Evaluator, load_evaluator
from fsvid2vid.eval.inception import InceptionFeatures
from fsvid2vid.eval.metrics import (
    color_distance,
    frechet_distance,
    keypoint_error,
    l1,
    masked_l1,
    masked_psnr,
    masked_ssim,
    psnr,
    segmentation_scores,
    ssim,
    warping_error,
)
from fsvid2vid.eval.pairs import CrossPair, cross_pairs, example_paths
from fsvid2vid.eval.sources import SourceTally
from fsvid2vid.eval.subject import STILL_CAMERA_TASKS, ghost_masks, room_reference, subject_masks, true_room
from fsvid2vid.eval.training import LABEL_LAYER, always_visible, machine_description, rgb_batch
from fsvid2vid.infer.synthesizer import Synthesizer, driving_clip, load_examples
from fsvid2vid.losses.flow import ground_truth_flow

#: Name of the task metric in reports: points of dance are poses, of face landmarks.
POINT_METRIC = {"dance": "pose_error_px", "face": "landmark_error_px"}
#: Clips whose frames appear on the summary sheet, and frames per clip.
SHEET_CLIPS, SHEET_FRAMES = 2, 4


def default_evaluator(task: str) -> Path:
    """The shipped evaluator of a task (next to the package: models/evaluators/<task>-64.safetensors)."""
    return Path(__file__).resolve().parents[2] / "models" / "evaluators" / f"{task}-64.safetensors"


@dataclass
class ClipTruth:
    """What is known of one cross-identity clip before any generation."""

    pair: CrossPair
    frames: torch.Tensor  # (T, 3, H, W) ground truth in [-1, 1]
    flows: torch.Tensor  # (T - 1, 2, H, W) backward flows between consecutive ground-truth frames
    confidence: torch.Tensor  # (T - 1, 1, H, W)
    points: np.ndarray | None  # (T, P, 3) driving points (dance / face)
    labels: np.ndarray | None  # (T, H, W) driving label map (street)
    subject: torch.Tensor | None = None  # (T, H, W) bool: the subject's pixels (fsvid2vid.eval.subject)
    views: list[float] | None = None  # (T,) the subject's yaw per frame (benchmark version 2), else None


@dataclass
class Readout:
    """What the evaluator (and Inception) read from a set of frames, pooled over clips."""

    points: list[np.ndarray] = field(default_factory=list)
    labels: list[np.ndarray] = field(default_factory=list)
    features: list[np.ndarray] = field(default_factory=list)
    inception: list[np.ndarray] = field(default_factory=list)

    def add(self, evaluator: Evaluator, inception: InceptionFeatures | None, frames: torch.Tensor) -> None:
        if evaluator.config.kind == "points":
            self.points.append(evaluator.points(frames).numpy())
        else:
            self.labels.append(evaluator.labels(frames).numpy())
        self.features.append(evaluator.features(frames).numpy())
        if inception is not None:
            self.inception.append(inception(frames).numpy())


def _finite(value: float) -> float | None:
    """JSON has no infinity: PSNR of identical frames is reported as null."""
    return float(value) if math.isfinite(value) else None


def task_scores(task: str, readout: Readout, truths: list[ClipTruth], num_classes: int,
                visible_threshold: float) -> dict[str, float]:
    """The task metric of a readout against the driving points or label maps."""
    if task in POINT_METRIC:
        pred = np.concatenate(readout.points)
        target = np.concatenate([t.points for t in truths])
        driven = target[..., 2] > 0
        return {POINT_METRIC[task]: keypoint_error(always_visible(pred), target),
                "points_detected": float((pred[..., 2] > visible_threshold)[driven].mean())}
    pred = np.concatenate(readout.labels)
    target = np.concatenate([t.labels for t in truths]).astype(np.int64)
    return segmentation_scores(pred, target, num_classes)


SUBJECT_METRICS = ("subject_l1", "subject_psnr", "subject_ssim", "subject_color_distance", "ghost_l1",
                   "ghost_reference_l1", "subject_l1_front", "subject_l1_back", "ghost_floor_l1")
#: The pixel count that weighs each subject metric when clips are pooled.
_POOL_WEIGHT = {"ghost_l1": "ghost_pixels", "ghost_reference_l1": "ghost_pixels", "subject_l1_front": "front_pixels",
                "subject_l1_back": "back_pixels", "ghost_floor_l1": "ghost_floor_pixels"}


def subject_scores(generated: torch.Tensor, truth: ClipTruth, ghost: torch.Tensor | None = None,
                   room: torch.Tensor | None = None) -> dict[str, Any]:
    """L1 / PSNR / SSIM and the colour distance on the subject's pixels of one clip: L1 and the colour histograms
    pooled over all its subject pixels, PSNR and SSIM averaged over the frames that show the subject;
    ``subject_pixels`` weighs the clip when pooling clips. ``ghost`` (T, H, W) bool: where the examples' subject was
    and the target's is not (:func:`fsvid2vid.eval.subject.ghost_masks`); its L1 is ``ghost_l1``, and that of
    ``room`` (3, H, W), the examples' room copied without a network (:func:`fsvid2vid.eval.subject.room_reference`),
    ``ghost_reference_l1``; with ``room`` given (a still camera), ``ghost_floor_l1`` is the L1 of the room the clip
    itself shows (:func:`fsvid2vid.eval.subject.true_room`) on the ghost pixels it covers (``ghost_floor_pixels``):
    what even a perfect copy of the room leaves there."""
    ghost_pixels = 0 if ghost is None else int(ghost.sum())
    ghost_scores = {"ghost_l1": masked_l1(generated, truth.frames, ghost) if ghost_pixels else None,
                    "ghost_reference_l1": (masked_l1(room.expand_as(truth.frames), truth.frames, ghost)
                                           if ghost_pixels and room is not None else None),
                    "ghost_pixels": ghost_pixels, "ghost_floor_l1": None, "ghost_floor_pixels": 0}
    if ghost_pixels and room is not None:
        seen, shown = true_room(truth.frames, truth.subject)
        floor = ghost & shown[None]
        if floor.any():
            ghost_scores.update(ghost_floor_l1=masked_l1(seen.expand_as(truth.frames), truth.frames, floor),
                                ghost_floor_pixels=int(floor.sum()))
    for side, frames in view_frames(truth.views, len(generated)).items():  # subject L1 on front / back views
        pixels = int(truth.subject[frames].sum()) if frames else 0
        ghost_scores[f"subject_l1_{side}"] = (masked_l1(generated[frames], truth.frames[frames], truth.subject[frames])
                                              if pixels else None)
        ghost_scores[f"{side}_pixels"] = pixels
    frames = [t for t in range(len(generated)) if bool(truth.subject[t].any())]
    if not frames:
        return {**dict.fromkeys(SUBJECT_METRICS), "subject_pixels": 0, **ghost_scores}
    gen, real, mask = generated[frames], truth.frames[frames], truth.subject[frames]

    def pixels(images: torch.Tensor) -> np.ndarray:  # the subject's pixels, (N, 3) uint8
        return ((images.permute(0, 2, 3, 1)[mask] + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()

    return {"subject_l1": masked_l1(gen, real, mask),
            "subject_psnr": float(np.mean([masked_psnr(g, r, m) for g, r, m in zip(gen, real, mask)])),
            "subject_ssim": float(np.mean([v for g, r, m in zip(gen, real, mask)
                                           if (v := masked_ssim(g, r, m)) is not None] or [np.nan])),
            "subject_color_distance": color_distance(pixels(gen), pixels(real)),
            "subject_pixels": int(mask.sum()), **ghost_scores}


def pixel_scores(generated: torch.Tensor, truth: ClipTruth, ghost: torch.Tensor | None,
                 room: torch.Tensor | None = None) -> dict[str, Any]:
    """One clip's subject scores and whole-frame L1 / PSNR / SSIM (per frame, averaged); generated (T, 3, H, W)."""
    return {**subject_scores(generated, truth, ghost, room),
            "l1": float(np.mean([l1(g, r) for g, r in zip(generated, truth.frames)])),
            "psnr": float(np.mean([psnr(g, r) for g, r in zip(generated, truth.frames)])),
            "ssim": float(np.mean([ssim(g, r) for g, r in zip(generated, truth.frames)]))}


def downsampled(generated: torch.Tensor, truth: ClipTruth, ghost: torch.Tensor | None, size: tuple[int, int],
                room: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, ClipTruth, torch.Tensor | None, torch.Tensor | None]:
    """The generated and true frames area-averaged to ``size`` (H, W), the subject and ghost masks and the room
    reference with them (a small pixel belongs to a mask when at least half of it did)."""

    def frames(x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x.float(), size=size, mode="area")

    def mask(m: torch.Tensor | None) -> torch.Tensor | None:
        return None if m is None else frames(m[:, None].float())[:, 0] >= 0.5

    small = replace(truth, frames=frames(truth.frames), subject=mask(truth.subject))
    return frames(generated), small, mask(ghost), None if room is None else frames(room[None])[0]


def rescaled_entry(size: tuple[int, int], per_clip: list[dict[str, Any]]) -> dict[str, Any]:
    """The report's ``rescaled`` entry: the clips' :func:`pixel_scores` at ``size``, subject scores pooled by
    pixels, whole-frame ones averaged over clips (a perfect PSNR is null, as in the rest of the report)."""
    whole = {name: _finite(float(np.mean([c[name] for c in per_clip]))) for name in ("l1", "psnr", "ssim")}
    return {"size": list(size), **pooled_subject_scores(per_clip), **whole}


def view_frames(views: list[float] | None, n_frames: int) -> dict[str, list[int]]:
    """The frames seen from the front (|yaw| < 45 degrees) and from behind (|yaw| > 135 degrees); none without
    views."""
    if views is None:
        return {"front": [], "back": []}
    turned = np.abs(wrap_angle(np.asarray(views[:n_frames], np.float64)))
    return {"front": np.flatnonzero(turned < np.pi / 4).tolist(),
            "back": np.flatnonzero(turned > 3 * np.pi / 4).tolist()}


def pooled_subject_scores(per_clip: list[dict[str, Any]]) -> dict[str, float | None]:
    """The clips' subject scores, each clip weighted by its subject pixels (the ghost's by its ghost pixels; clips
    without any left out)."""
    out: dict[str, float | None] = {}
    for name in SUBJECT_METRICS:
        weight = _POOL_WEIGHT.get(name, "subject_pixels")
        clips = [c for c in per_clip if c.get(weight) and c.get(name) is not None]
        out[name] = _finite(float(np.average([c[name] for c in clips], weights=[c[weight] for c in clips]))) \
            if clips else None
    return out


def _load_truth(pair: CrossPair, n_frames: int, task: str) -> ClipTruth:
    meta = read_meta(pair.cross)
    frames = rgb_batch([read_image(pair.cross / RGB_DIR / frame_name(t), 3, (meta.height, meta.width))
                        for t in range(n_frames)])
    flows, confidence = ground_truth_flow(frames[1:], frames[:-1])
    points = read_points(pair.cross, meta)
    labels = None
    if task == "street":
        labels = np.stack([read_image(pair.cross / LABEL_LAYER / frame_name(t), 1, (meta.height, meta.width))
                           for t in range(n_frames)])
    subject = torch.from_numpy(subject_masks(pair.cross, meta, n_frames))
    return ClipTruth(pair, frames, flows, confidence, None if points is None else points[:n_frames], labels, subject,
                     None if meta.views is None else meta.views[:n_frames])


def render_test_split(task: str, size: int, clips: int, frames: int, cache: Path, progress: bool) -> Path:
    """The test split's cross-identity clips at ``size`` px, rendered once into ``cache`` and reused. The folder's
    name holds the benchmark version, so a render of an older version is never reused (and :func:`cross_pairs`
    refuses old clips wherever they are). The clips are rendered into a private temporary folder that is then renamed
    into place, so several evaluations started at once with the same cache each get a whole folder."""
    import os
    import shutil
    import tempfile

    from fsvid2vid.data.layout import check_frame_count
    from fsvid2vid.data.synth.export import plan_split, write_jobs
    from fsvid2vid.data.synth.version import oldest_current

    subjects = max(2, clips)
    check_frame_count(subjects * 2 * frames, f"--max-clips {clips} x 2 clips x --frames {frames}")
    # Named by the task's oldest current version: a render of an older fsvid2vid that is still current is reused.
    root = Path(cache) / f"{task}-test-v{oldest_current(task)}-{size}-s{subjects}-f{frames}"
    jobs = plan_split(task, "test", subjects, 1, frames, size, cross_identity=1)

    def complete() -> bool:
        return (root / "dataset.json").is_file() and all((root / job.name / "meta.json").is_file() for job in jobs)

    if complete():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.", dir=root.parent))
    try:
        write_jobs(jobs, tmp, progress=progress)
        if root.exists() and not complete():  # an interrupted render of an earlier version of this function
            shutil.rmtree(root, ignore_errors=True)
        try:
            os.rename(tmp, root)
        except OSError:
            if not complete():  # another evaluation renamed its render into place first: use that one
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def _check_output(out: Path, overwrite: bool) -> Path:
    out = Path(out)
    if out.suffix.lower() != ".json":
        raise UserError(f"{out}: the report must be a .json file")
    sheet = out.with_suffix(".png")
    for target in (out, sheet, attention_sheet_path(out)):
        check_output(target, overwrite)
    return sheet


def attention_sheet_path(out: Path) -> Path:
    """The Figure 7(c) sheet written next to the report ``out`` (dance models with attention on version-2 data)."""
    return Path(out).with_name(Path(out).stem + "-attention.png")


def evaluate(checkpoint: Path, task: str, out: Path, data: Path | None = None, k_values: tuple[int, ...] = (1, 2, 4, 8),
             evaluator: Path | None = None, inception: Path | None = None, max_clips: int = 8, frames: int = 16,
             cache: Path = Path("data/cache"), device: str = "cpu", overwrite: bool = False, progress: bool = True,
             command: str | None = None, precision: str = "auto", score_height: int | None = None,
             overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Evaluate ``checkpoint`` (see the module docstring); writes the JSON report ``out`` and ``<out>.png``.

    ``data``: a test-split folder with cross-identity clips; None renders the test split into ``cache``.
    ``overrides``: generator config fields to change for this evaluation (e.g. ``{"example_mix": "share"}``).
    Returns the report (with ``outputs``, the paths written).
    """
    started = time.perf_counter()
    sheet_path = _check_output(out, overwrite)
    k_values = sorted(set(int(k) for k in k_values))
    if not k_values or k_values[0] < 1:
        raise UserError(f"--k {k_values}: every K must be at least 1")
    if max_clips < 1:
        raise UserError(f"--max-clips {max_clips} is invalid: need at least 1 clip")
    if frames < 2:
        raise UserError(f"--frames {frames} is invalid: the warping error needs at least 2 frames")
    synth = Synthesizer.from_checkpoint(checkpoint, device, precision, overrides)
    cfg = synth.config
    if cfg.task != task:
        raise UserError(f"{checkpoint}: is a {cfg.task} model, not {task}; pass --task {cfg.task}")
    if score_height is not None and not 8 <= score_height < cfg.height:
        raise UserError(f"--score-height {score_height} is invalid: the frames are {cfg.height} high; give a height "
                        f"from 8 to {cfg.height - 1}")
    score_size = None if score_height is None else (score_height, max(1, round(cfg.width * score_height / cfg.height)))
    evaluator_path = Path(evaluator) if evaluator is not None else default_evaluator(task)
    ev = load_evaluator(evaluator_path, task, device)
    incep = InceptionFeatures(inception, device) if inception is not None else None
    if data is None:
        data = render_test_split(task, cfg.height, max_clips, frames, cache, progress)
    pairs = cross_pairs(data)[:max_clips]
    for pair in pairs:
        meta = read_meta(pair.cross)
        if meta.task != task:
            raise UserError(f"{pair.cross}: is a {meta.task} clip, the evaluation is of {task}")
        if (meta.height, meta.width) != (cfg.height, cfg.width):
            raise UserError(f"{pair.cross}: frames are {meta.width}x{meta.height}, the model expects {cfg.width}x"
                            f"{cfg.height}; render the test split with --size {cfg.height}")
        for k in k_values:
            example_paths(pair.own, k)  # one-line error now rather than after minutes of generation
    n_frames = min([frames] + [read_meta(p.cross).n_frames for p in pairs])
    if n_frames < 2:
        raise UserError(f"{pairs[0].cross}: has fewer than 2 frames; the warping error needs 2")
    metric_names = [POINT_METRIC[task]] if task in POINT_METRIC else ["pixel_accuracy", "mean_iou"]
    fid_name = f"fid_{task}_evaluator"

    bar = tqdm(total=len(pairs) * (1 + len(k_values)), unit="clip", desc="evaluate", disable=not progress)
    truths, real = [], Readout()
    for pair in pairs:
        truth = _load_truth(pair, n_frames, task)
        truths.append(truth)
        real.add(ev, incep, truth.frames)
        bar.update()
    real_features = np.concatenate(real.features)
    ground_truth: dict[str, Any] = {
        **task_scores(task, real, truths, ev.config.outputs, ev.config.visible_threshold),
        "warping_error": float(np.mean([warping_error(t.frames, t.flows, t.confidence) for t in truths])),
    }

    results: dict[str, Any] = {}
    sheet_rows: list[np.ndarray] = []
    sheet_labels: list[str] = []
    sheet_frames = set(np.linspace(0, n_frames - 1, SHEET_FRAMES).round().astype(int).tolist())
    for k in k_values:
        fake, per_clip, rescaled, sources = Readout(), [], [], SourceTally()
        l1s, psnrs, ssims, warps = [], [], [], []
        for index, truth in enumerate(truths):
            views = view_frames(truth.views, n_frames)
            paths = example_paths(truth.pair.own, k)
            examples = load_examples(paths, synth.layers)
            example_subject = subject_masks(truth.pair.own, read_meta(truth.pair.own), [int(p.stem) for p in paths])
            ghost = torch.from_numpy(ghost_masks(example_subject, truth.subject.numpy()))
            room = (rgb_to_tensor(room_reference(np.stack([tensor_to_rgb(e) for e in examples.rgb]), example_subject))
                    if task in STILL_CAMERA_TASKS else None)
            generated, groups = [], []
            for t, result in enumerate(synth.animate(examples, driving_clip(truth.pair.cross, n_frames))):
                generated.append(result.rgb)
                sources.add(result.output, truth.frames[t], truth.subject[t],
                            ["all"] + [side for side, frames in views.items() if t in frames])
                if index < SHEET_CLIPS and t in sheet_frames:
                    groups.append((semantic_preview(result.driving.semantic, synth.layers), result.rgb,
                                   result.driving.rgb))
            if groups:
                sheet_rows.append(sheet_row([tensor_to_rgb(e) for e in examples.rgb], groups, gap=2))
                sheet_labels.append(f"K={k} {truth.pair.cross.name}")
            gen = rgb_batch(generated)
            fake.add(ev, incep, gen)
            clip = {"clip": truth.pair.cross.name, "examples": [str(p) for p in examples.paths],
                    **pixel_scores(gen, truth, ghost, room),
                    "warping_error": warping_error(gen, truth.flows, truth.confidence)}
            if score_height is not None:
                rescaled.append(pixel_scores(*downsampled(gen, truth, ghost, score_size, room)))
            l1s.append(clip["l1"])
            psnrs.append(clip["psnr"])
            ssims.append(clip["ssim"])
            warps.append(clip["warping_error"])
            per_clip.append({key: _finite(v) if isinstance(v, float) else v for key, v in clip.items()})
            bar.update()
        entry = task_scores(task, fake, truths, ev.config.outputs, ev.config.visible_threshold)
        entry.update({f"{name}_ground_truth": ground_truth[name] for name in metric_names})
        entry[fid_name] = frechet_distance(np.concatenate(fake.features), real_features)
        if incep is not None:
            entry["fid_inception"] = frechet_distance(np.concatenate(fake.inception), np.concatenate(real.inception))
        entry.update(pooled_subject_scores(per_clip))
        entry["sources"] = sources.result()  # where the subject's pixels come from (fsvid2vid.eval.sources)
        entry.update({"l1": float(np.mean(l1s)), "psnr": _finite(float(np.mean(psnrs))), "ssim": float(np.mean(ssims)),
                      "warping_error": float(np.mean(warps)),
                      "warping_error_ground_truth": ground_truth["warping_error"], "per_clip": per_clip})
        if rescaled:
            entry["rescaled"] = rescaled_entry(score_size, rescaled)
        results[str(k)] = entry
    bar.close()
    attention, attention_rows, attention_labels = attention_by_view(synth, [t.pair for t in truths], n_frames)

    report = {
        "command": command, "task": task, "checkpoint": str(checkpoint), "model": synth.info,
        "overrides": overrides or {},
        "model_size": [cfg.height, cfg.width], "data": str(data),
        "evaluator": {"path": str(evaluator_path), "info": ev.info},
        "inception": None if inception is None else str(inception),
        "clips": [t.pair.cross.name for t in truths], "frames_per_clip": n_frames, "k": k_values,
        # "test" alone means unseen subjects; anything else is flagged by the command line.
        "splits": sorted({read_meta(t.pair.cross).split for t in truths}),
        "metrics": list(SUBJECT_METRICS) + metric_names + [fid_name] + (["fid_inception"] if incep else []) +
        ["l1", "psnr", "ssim", "warping_error"],
        "ground_truth": ground_truth, "results": results, "attention_views": attention,
        "flow": "OpenCV DIS between consecutive ground-truth frames, confident pixels only (losses.flow)",
        "machine": machine_description(), "device": str(device), "precision": synth.precision,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": {"fsvid2vid": __version__, "torch": torch.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
        "seconds": round(time.perf_counter() - started, 1),
        "outputs": [str(out), str(sheet_path)],
    }
    summary_sheet(report, sheet_rows, sheet_labels, sheet_path)
    if write_attention_sheet(attention_rows, attention_labels, attention_sheet_path(out)) is not None:
        report["outputs"].append(str(attention_sheet_path(out)))
    write_json(out, report, allow_nan=False)
    return report


def summary_sheet(report: dict[str, Any], rows: list[np.ndarray], row_labels: list[str], out: Path) -> Path:
    """A PNG: the frame rows (examples | then per frame: semantic | generated | ground truth), labelled with their K
    and clip, and one small plot per metric against K (dashed: the ground truth's own value)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gap = 2
    grid = stack_rows(rows, gap=gap)
    ks, names = report["k"], report["metrics"]
    h, w = grid.shape[:2]
    fig_w = max(8.0, 1.6 * len(names))
    grid_h = fig_w * 0.85 * h / w
    total = grid_h + 2.4 + 0.4
    fig = plt.figure(figsize=(fig_w, total))
    top = fig.add_axes((0.15, 2.4 / total, 0.85, grid_h / total))
    top.imshow(grid, interpolation="nearest")
    top.set_xticks([])
    top.set_yticks([i * (rows[0].shape[0] + gap) + rows[0].shape[0] / 2 for i in range(len(rows))], row_labels,
                   fontsize=6)
    for spine in top.spines.values():
        spine.set_visible(False)
    top.set_title(f"{report['task']}: {Path(report['checkpoint']).name} on {len(report['clips'])} unseen subjects x "
                  f"{report['frames_per_clip']} frames. Rows: examples, then semantic | generated | ground truth",
                  fontsize=8)
    width = 1.0 / len(names)
    for i, name in enumerate(names):
        ax = fig.add_axes((i * width + 0.25 * width, 0.45 / total, 0.68 * width, 1.5 / total))
        values = [report["results"][str(k)].get(name) for k in ks]
        ax.plot(ks, [np.nan if v is None else v for v in values], "o-", color="C0", markersize=3)
        truth = report["ground_truth"].get(name)
        if truth is not None:
            ax.axhline(truth, color="C2", linestyle="--", linewidth=1)
        ax.set_title(name, fontsize=7)
        ax.set_xscale("log", base=2)
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.minorticks_off()
        ax.tick_params(labelsize=6)
        ax.set_xlabel("K", fontsize=6)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return out
