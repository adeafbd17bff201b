"""The ``generate`` command: examples + a driving clip -> an H.264 mp4 (optionally side by side, and PNG frames)."""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from fsvid2vid.atomic import FolderOfNewFiles, check_free_space, check_output, write_json
from fsvid2vid.data.encode import semantic_preview, tensor_to_rgb
from fsvid2vid.data.layout import read_meta
from fsvid2vid.data.preview import sheet_row
from fsvid2vid.errors import UserError
from fsvid2vid.infer.intermediates import intermediates_picture
from fsvid2vid.infer.pipeline import WriteBehind, read_ahead
from fsvid2vid.infer.real_inputs import is_video, load_example_set, video_driving
from fsvid2vid.infer.synthesizer import Synthesizer, driving_length, driving_source
from fsvid2vid.media import Mp4Writer, write_png


def attention_shares(share: torch.Tensor) -> torch.Tensor:
    """(h_a, w_a, K): for each position of the frame, the share of its attention that goes to each example (rows sum
    to 1). ``share``: one sample's ``FrameOutput.attention_share``, (K, h_a, w_a)."""
    return share.permute(1, 2, 0)


def attention_picture(frame: np.ndarray, example_rgb: torch.Tensor, share: torch.Tensor) -> np.ndarray:
    """The generated frame, then per example: the example | its attention share heat map over the frame (as in the
    paper's Figure 7(c)); ``share`` as for :func:`attention_shares`. (H, W * (1 + 2K), 3) uint8."""
    import cv2

    h, w = frame.shape[:2]
    shares = attention_shares(share).float().cpu().numpy()  # (h_a, w_a, K)
    cells = [frame]
    for k in range(shares.shape[-1]):
        heat = cv2.resize(shares[..., k], (w, h), interpolation=cv2.INTER_LINEAR)
        colour = cv2.applyColorMap(np.clip(heat * 255, 0, 255).astype(np.uint8), cv2.COLORMAP_JET)[..., ::-1]
        cells += [tensor_to_rgb(example_rgb[k]), (0.5 * frame + 0.5 * colour).astype(np.uint8)]
    return np.concatenate(cells, axis=1)


def generate(checkpoint: Path, examples: list[Path], driving: Path, out: Path, side_by_side: bool = False,
             frames_dir: Path | None = None, sheet: Path | None = None, max_frames: int | None = None,
             overwrite: bool = False, device: str = "cpu", progress: bool = True, finetune: int = 0,
             seed: int = 0, attention_vis: Path | None = None, example_semantics: list[Path] | None = None,
             retarget: bool = True, space_check: bool = True, precision: str = "auto",
             intermediates: Path | None = None, workers: int | None = None, overrides: dict | None = None
             ) -> dict[str, Any]:
    """Write ``out`` (mp4) and ``out``.json (metadata); with ``side_by_side`` also ``<out stem>-side-by-side.mp4``
    (semantic | examples | generated | ground truth when the driving clip has RGB frames); with ``sheet`` a PNG:
    the examples, then semantic | generated | ground truth for four frames spread over the clip; with
    ``attention_vis`` a PNG per frame of where each example is attended (:func:`attention_picture`); with
    ``intermediates`` a PNG per frame of what each network contributed to it
    (:func:`fsvid2vid.infer.intermediates.intermediates_picture`: h_t, the warped examples and their masks, h'_t,
    the warped previous frame and its mask, x_t).

    ``examples`` may be photos outside the clip layout: their semantic maps come from ``example_semantics`` (one
    folder of ``<layer>.png``, or PNG, per example) or are detected (dance, face). ``driving`` may be a video file:
    its subject is detected, followed and cropped, and with ``retarget`` its points are mapped onto the examples'
    proportions and placement (docs/real-footage.md).

    Nothing is written unless everything is: the videos, the PNG folders, the sheet and the JSON appear together at
    the end, and existing files are replaced only with ``overwrite`` (and only files of the kinds written here).
    ``overrides``: generator settings to change in the file's config (e.g. ``{"example_alignment": "parts_only"}``;
    :func:`~fsvid2vid.models.generator_file.load_generator`), recorded in the JSON."""
    out = Path(out)
    if out.suffix.lower() != ".mp4":
        raise UserError(f"{out}: the output must be an .mp4 file")
    side = out.with_name(f"{out.stem}-side-by-side.mp4")
    if sheet is not None and Path(sheet).suffix.lower() != ".png":
        raise UserError(f"{sheet}: the sheet must be a .png file")
    targets = [(out, "--out"), (out.with_suffix(".json"), "--out")] + ([(side, "--out")] if side_by_side else []) + \
        ([(Path(sheet), "--sheet")] if sheet else [])
    for target, option in targets:
        check_output(target, overwrite, option)
    if sheet is not None and Path(sheet).resolve() in {t.resolve() for t, _ in targets[:-1]}:
        raise UserError(f"{sheet}: is also another output of this command; choose another --sheet")
    created = [t for t, _ in targets if not (t.exists() or t.is_symlink())]
    try:
        with ExitStack() as folders:  # PNG folders: filled in hidden temporary folders, moved in at the very end
            frames_out = attention_out = intermediates_out = None
            if intermediates is not None:
                intermediates_out = folders.enter_context(FolderOfNewFiles(intermediates, "--intermediates",
                                                                           overwrite))
            if frames_dir is not None:
                frames_out = folders.enter_context(FolderOfNewFiles(frames_dir, "--frames-dir", overwrite))
            if attention_vis is not None:
                attention_out = folders.enter_context(FolderOfNewFiles(attention_vis, "--attention-vis", overwrite))
            return _generate(checkpoint, examples, driving, out, side, side_by_side, frames_out, attention_out, sheet,
                             max_frames, device, progress, finetune, seed, example_semantics, retarget, space_check,
                             precision, intermediates_out, workers, overrides)
    except BaseException:
        for target in created:  # what this run wrote before it failed (a file it replaced stays complete)
            if target.exists():
                target.unlink()
        raise


def _generate(checkpoint: Path, examples: list[Path], driving: Path, out: Path, side: Path, side_by_side: bool,
              frames_out: FolderOfNewFiles | None, attention_out: FolderOfNewFiles | None, sheet: Path | None,
              max_frames: int | None, device: str, progress: bool, finetune: int, seed: int,
              example_semantics: list[Path] | None, retarget: bool, space_check: bool, precision: str,
              intermediates_out: FolderOfNewFiles | None, workers: int | None, overrides: dict | None
              ) -> dict[str, Any]:
    attention = attention_out is not None
    synth = Synthesizer.from_checkpoint(checkpoint, device, precision, overrides)
    g = synth.config.generator
    if attention and not (g.conditioning == "ours" and g.attention):
        raise UserError(f"{checkpoint}: this model has no attention over examples (conditioning {g.conditioning!r}, "
                        f"attention {g.attention}); drop --attention-vis")
    fps = 15  # semantic-map folders and points files carry no frame rate
    cfg = synth.config
    ex_set = load_example_set(examples, example_semantics, cfg.task, synth.layers, cfg.height, cfg.width)
    ex = ex_set.examples
    synth.check(ex)
    real = None
    if is_video(driving):
        real = video_driving(driving, cfg.task, synth.layers, cfg.height, cfg.width, ex_set.points, retarget,
                             max_frames, progress)
        fps, n = real.fps, len(real)
    elif Path(driving).is_dir() and (Path(driving) / "meta.json").is_file():
        meta = read_meta(driving)
        if meta.task != synth.config.task:
            raise UserError(f"{driving}: is a {meta.task} clip, {checkpoint} is a {synth.config.task} model")
        if (meta.height, meta.width) != (synth.config.height, synth.config.width):
            raise UserError(f"{driving}: frames are {meta.width}x{meta.height}, the model expects "
                            f"{synth.config.width}x{synth.config.height}; render the clip with --size "
                            f"{synth.config.height}")
        fps, n = meta.fps, meta.n_frames if max_frames is None else min(max_frames, meta.n_frames)
    else:
        total = driving_length(driving, synth.layers)
        n = total if max_frames is None else min(max_frames, total)
    names = [f"{i:06d}.png" for i in range(n)]
    for folder in (frames_out, attention_out, intermediates_out):
        if folder is not None:
            folder.check_names(names)
    if space_check:
        check_free_space(out.parent, _estimate_bytes(cfg.height, cfg.width, len(ex.paths), n, side_by_side,
                                                     frames_out is not None, attention, intermediates_out is not None),
                         f"{n} generated frames")
    torch.manual_seed(seed)
    finetune_losses = synth.finetune(ex, finetune, seed=seed) if finetune > 0 else []
    example_strip = np.concatenate([tensor_to_rgb(e) for e in ex.rgb], axis=1)
    sheet_frames = set(np.linspace(0, n - 1, min(4, n)).round().astype(int).tolist())
    sheet_groups: list[tuple[np.ndarray, ...]] = []
    share_range: list[list[float]] = []  # per example: [lowest, highest] attention share over frames and positions
    started = time.perf_counter()
    with ExitStack() as stack:
        video = stack.enter_context(Mp4Writer(out, fps))
        side_video = stack.enter_context(Mp4Writer(side, fps)) if side_by_side else None
        bar = stack.enter_context(tqdm(total=n, unit="frame", desc="generate", disable=not progress))
        frames = real.frames() if real is not None else driving_source(driving, synth.layers,
                                                                            cfg.height, cfg.width, n)

        def emit(i: int, result) -> None:  # everything after the model, run behind it in a thread
            nonlocal share_range
            video.write(result.rgb)
            if frames_out is not None:
                write_png(frames_out.path(names[i]), result.rgb)
            if attention_out is not None:
                picture = attention_picture(result.rgb, ex.rgb, result.output.attention_share[0])
                shares = attention_shares(result.output.attention_share[0]).flatten(0, 1)  # (positions, K)
                lows, highs = shares.min(0).values.tolist(), shares.max(0).values.tolist()
                share_range = [[min(r[0], lo), max(r[1], hi)] for r, lo, hi in zip(share_range, lows, highs)] \
                    if share_range else [[lo, hi] for lo, hi in zip(lows, highs)]
                write_png(attention_out.path(names[i]), picture)
            wanted = side_video is not None or (sheet is not None and i in sheet_frames)
            if not wanted and intermediates_out is None:
                return
            semantic = semantic_preview(result.driving.semantic, synth.layers)  # once, for whichever needs it
            if intermediates_out is not None:
                write_png(intermediates_out.path(names[i]), intermediates_picture(result.output, semantic))
            if not wanted:
                return
            truth = [] if result.driving.rgb is None else [result.driving.rgb]
            if side_video is not None:
                side_video.write(np.concatenate([semantic, example_strip, result.rgb, *truth], axis=1))
            if sheet is not None and i in sheet_frames:
                sheet_groups.append((semantic, result.rgb, *truth))

        # The driving frames are read ahead and the outputs written behind, in threads: the model does not wait.
        with WriteBehind() as behind:
            for i, result in enumerate(synth.animate(ex, read_ahead(frames), workers=workers)):
                behind.submit(emit, i, result)
                bar.update()
        count, seconds = video.count, time.perf_counter() - started
        info = {
            "checkpoint": str(checkpoint), "overrides": overrides or {},
            "model": synth.info, "task": synth.config.task, "examples": ex.paths,
            "K": len(ex.paths), "driving": str(driving), "frames": count, "fps": fps, "finetune_steps": finetune,
            "finetune_l1_first_last": [round(x, 4) for x in finetune_losses[:1] + finetune_losses[-1:]],
            "seed": seed, "seconds": round(seconds, 3), "device": str(device), "precision": synth.precision,
            "workers": synth.default_workers() if workers is None else workers,
            "torch": torch.__version__,
            "examples_detected": ex_set.extracted, "driving_video": real.counts if real is not None else None,
            "retargeted": bool(real is not None and real.retargeted),
            "attention_share_range": [[round(lo, 4), round(hi, 4)] for lo, hi in share_range] or None,
            "outputs": [str(out)] + ([str(side)] if side_by_side else []) + ([str(sheet)] if sheet else []),
        }
        # Still inside the block: should these fail, the videos' temporary files go too.
        if sheet is not None:
            write_png(sheet, sheet_row([example_strip], sheet_groups, gap=2))
        write_json(out.with_suffix(".json"), info)
    return info


def _estimate_bytes(height: int, width: int, k: int, n: int, side_by_side: bool, frames: bool,
                    attention: bool, intermediates: bool = False) -> int:
    """About how much disk the outputs of ``n`` frames take: H.264 at CRF 18 about a tenth of the raw pixels, PNGs
    about half, each PNG file rounded up to a 4 KiB block."""
    def png(raw: int) -> int:
        return -(-raw // 2 // 4096) * 4096

    raw = height * width * 3
    total = n * raw // 10 + 65536
    total += n * raw * (3 + k) // 10 if side_by_side else 0
    total += n * png(raw) if frames else 0
    total += n * png(raw * (1 + 2 * k)) if attention else 0
    total += n * png(raw * (6 + 3 * k)) if intermediates else 0
    return total
