"""``fsvid2vid bench infer``: the steady time per frame of a generator, through the streaming API.

Per model, K and precision: a :class:`~fsvid2vid.infer.synthesizer.Synthesizer` animates pre-loaded inputs (a
rendered benchmark clip, cycled: the model alone, no file reading), batch 1, with ``workers`` frames synthesised at
once (the API's default unless given). The first ``warmup`` frames are not timed, then ``frames`` frames are; the
number is their total time over ``frames`` (frames made several at a time come out unevenly, so single calls do not
measure the stream). FLOPs (``torch.utils.flop_counter``) and the optional ``torch.profiler`` record come from one
frame of a one-worker stream, which runs in the calling thread. Optionally ``generate`` runs end to end on the same
clip (reading PNGs, the model, writing an mp4).
"""

from __future__ import annotations

import dataclasses
import itertools
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fsvid2vid.bench.measure import (
    add_rows,
    count_flops,
    cuda_peak_mib,
    fmt,
    matmul_rate,
    median,
    peak_rss_mib,
    profile_ops,
    reset_cuda_peak,
    timed,
)
from fsvid2vid.data.layout import RGB_DIR, frame_name, read_meta
from fsvid2vid.data.synth import clip_motion_seed, split_subject_seeds
from fsvid2vid.data.synth.export import MAX_SIZE, MIN_SIZE, ClipJob, render_job
from fsvid2vid.data.views import example_indices
from fsvid2vid.errors import UserError
from fsvid2vid.infer.synthesizer import DrivingFrame, Examples, Synthesizer, driving_clip, load_examples
from fsvid2vid.models import FewShotGenerator, ModelConfig, model_preset
from fsvid2vid.models.config import task_frame_size
from fsvid2vid.models.generator_file import load_generator, write_generator_file
from fsvid2vid.models.precision import resolve_precision
from fsvid2vid.train.config import merge_overrides

PSNR_FRAMES = 32  # bf16 is compared with fp32 over the first this many frames of the stream
EXAMPLE_FRAMES = 16  # frames of the examples' clip; K examples cover its views (fsvid2vid.data.views)


@dataclasses.dataclass(frozen=True)
class ModelSource:
    """A generator to benchmark: an exported file, or random weights of a preset (seed 0)."""

    checkpoint: Path | None = None
    task: str | None = None
    size: str | None = None
    height: int | None = None  # frame height of a preset (default: the preset's); the width follows the task
    model_overrides: dict = dataclasses.field(default_factory=dict)  # nested ModelConfig fields replacing the preset's

    @property
    def name(self) -> str:
        if self.checkpoint:
            return self.checkpoint.name
        changed = ", ".join(f"{k}={v}" for part in self.model_overrides.values() if isinstance(part, dict)
                            for k, v in part.items())
        return f"preset {self.size}" + (f" ({changed})" if changed else "")

    def load(self) -> tuple[FewShotGenerator, ModelConfig]:
        if self.checkpoint is not None:
            generator, config, _ = load_generator(self.checkpoint)
            return generator, config
        config = model_preset(self.task, self.size)
        if self.model_overrides:
            config = ModelConfig.from_dict(merge_overrides(config.to_dict(), self.model_overrides))
        if self.height is not None:
            height, width = task_frame_size(self.task, self.height)
            config = dataclasses.replace(config, height=height, width=width)
        torch.manual_seed(0)
        return FewShotGenerator(config.generator).eval(), config


@dataclasses.dataclass
class Inputs:
    """A benchmark subject's clip (its frames are the examples) and a clip of it in another subject's motion."""

    example_clip: Path
    driving_clip: Path
    driving: list[DrivingFrame]  # the driving clip, loaded

    def example_paths(self, k: int) -> list[Path]:
        """K frames of the example clip, chosen to cover the subject's views as the evaluation does."""
        views = read_meta(self.example_clip).views
        return [self.example_clip / RGB_DIR / frame_name(i) for i in example_indices(EXAMPLE_FRAMES, k, views)]


def render_inputs(config: ModelConfig, folder: Path, driving_frames: int) -> Inputs:
    """Render the inputs at the model's frame size into ``folder`` (test subjects 0 and 1 of the task)."""
    height, width = config.height, config.width
    if height % 8 or not MIN_SIZE <= height <= MAX_SIZE or task_frame_size(config.task, height) != (height, width):
        raise UserError(f"the model's frames are {width}x{height}: the benchmark renders its inputs with the "
                        f"{config.task} renderer, which needs a height that is a multiple of 8 in [{MIN_SIZE}, "
                        f"{MAX_SIZE}] and the task's aspect ratio")
    subject, other = split_subject_seeds(config.task, "test", 2)
    example_clip = render_job(ClipJob(config.task, "examples", subject, subject, clip_motion_seed(subject, 0),
                                      EXAMPLE_FRAMES, height), folder)
    drive = render_job(ClipJob(config.task, "driving", subject, other, clip_motion_seed(other, 0), driving_frames,
                               height), folder)
    return Inputs(example_clip, drive, list(driving_clip(drive)))


def stream_frames(synth: Synthesizer, examples: Examples, driving: list[DrivingFrame], frames: int, warmup: int,
                  profile_top: int = 0, workers: int | None = None) -> tuple[dict[str, Any], list[np.ndarray]]:
    """Time ``frames`` steady frames of ``synth`` on ``driving`` (cycled); returns the row and the first frames."""
    device = synth.device
    reset_cuda_peak(device)
    fast = synth.inference_generator  # spectral norm folded and weights cast here, not in the first frame
    rgb, semantic = (x[None].to(device, synth.dtype) for x in (examples.rgb, examples.semantic))
    with torch.no_grad():
        encode = timed(lambda: fast.encode_examples(rgb, semantic), 3, device)
    workers = synth.default_workers() if workers is None else workers
    # One frame with a previous frame, in this thread (a worker's operations are not seen by the counter).
    single = synth.animate(examples, itertools.cycle(driving), workers=1)
    next(single)
    flops, by_op, by_module = count_flops(lambda: next(single), depth=2)
    profile = profile_ops(lambda: next(single), device, profile_top) if profile_top else None
    single.close()

    kept: list[np.ndarray] = []
    stream = synth.animate(examples, itertools.cycle(driving), workers=workers)

    def next_frame() -> None:
        frame = next(stream)
        if len(kept) < PSNR_FRAMES:
            kept.append(frame.rgb)

    timed(next_frame, warmup, device)
    rss_warm = peak_rss_mib()
    calls = timed(next_frame, frames, device)
    rss_end, cuda_end = peak_rss_mib(), cuda_peak_mib(device)
    stream.close()
    per_frame = sum(calls) / frames
    row = {"batch": 1, "workers": workers, "frames": frames, "warmup": warmup, "seconds_per_frame": per_frame,
           "frames_per_second": 1 / per_frame, "call_seconds_median": median(calls), "seconds_min": min(calls),
           "seconds_max": max(calls), "seconds": [round(s, 6) for s in calls], "encode_seconds": median(encode),
           "flops_per_frame": flops, "gflop_per_s": flops / per_frame / 1e9, "flops_by_op": by_op,
           "flops_by_module": by_module, "peak_rss_after_warmup_mib": rss_warm, "peak_rss_mib": rss_end,
           "cuda_peak_mib": cuda_end, "psnr_vs_fp32": None, "end_to_end": None, "profile": profile}
    return row, kept


def psnr_uint8(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    """PSNR in dB between two lists of uint8 frames, over all their pixels (inf when identical)."""
    n = min(len(a), len(b))
    mse = float(np.mean((np.stack(a[:n]).astype(np.float64) - np.stack(b[:n]).astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def end_to_end(checkpoint: Path, inputs: Inputs, k: int, out: Path, device: torch.device, precision: str,
               workers: int | None = None) -> dict[str, Any]:
    """``fsvid2vid generate`` on the driving clip: its own seconds per frame (reading the driving PNGs, the model,
    the mp4) and the set-up before its first frame (loading the file and the examples)."""
    from fsvid2vid.infer.generate import generate

    start = time.perf_counter()
    info = generate(checkpoint, inputs.example_paths(k), inputs.driving_clip, out, device=str(device),
                    progress=False, precision=precision, overwrite=True, workers=workers)
    total = time.perf_counter() - start
    return {"frames": info["frames"], "seconds_per_frame": info["seconds"] / info["frames"],
            "setup_seconds": total - info["seconds"]}


def bench_model(source: ModelSource, k_values: list[int], precisions: list[str], frames: int, warmup: int,
                device: torch.device, end_to_end_run: bool = False, profile_top: int = 0, matmul_size: int = 2048,
                workers: int | None = None) -> list[dict[str, Any]]:
    """The rows of one model: one per (K, precision)."""
    generator, config = source.load()
    parameters = sum(p.numel() for p in generator.parameters())
    resolved = list(dict.fromkeys(resolve_precision(p, device) for p in precisions))
    synths = {p: Synthesizer(generator, config, device, precision=p) for p in resolved}
    rows = []
    with tempfile.TemporaryDirectory(prefix="fsvid2vid-bench-") as tmp:
        folder = Path(tmp)
        n_stream = warmup + 1 + frames
        inputs = render_inputs(config, folder, n_stream if end_to_end_run else min(n_stream, PSNR_FRAMES))
        checkpoint = source.checkpoint
        if end_to_end_run and checkpoint is None:
            checkpoint = write_generator_file(folder / "generator.safetensors", generator.state_dict(), config,
                                              half=False, info={"preset": source.size, "weights": "random, seed 0"})
        for k in k_values:
            examples = load_examples(inputs.example_paths(k), synths[resolved[0]].layers)
            outputs: dict[str, list[np.ndarray]] = {}
            by_precision: dict[str, dict[str, Any]] = {}
            for precision in resolved:
                rate = matmul_rate(device, precision, matmul_size)
                row, outputs[precision] = stream_frames(synths[precision], examples, inputs.driving, frames, warmup,
                                                        profile_top, workers)
                row = {"model": source.name, "task": config.task, "height": config.height, "width": config.width,
                       "parameters": parameters, "K": k, "precision": precision, "matmul_gflop_s": rate, **row}
                if end_to_end_run:
                    e2e = end_to_end(checkpoint, inputs, k, folder / f"out-{k}-{precision}.mp4", device, precision,
                                     row["workers"])
                    e2e["ratio_to_model"] = e2e["seconds_per_frame"] / row["seconds_per_frame"]
                    row["end_to_end"] = e2e
                rows.append(row)
                by_precision[precision] = row
            if {"fp32", "bf16"} <= set(outputs):
                by_precision["bf16"]["psnr_vs_fp32"] = psnr_uint8(outputs["bf16"], outputs["fp32"])
    return rows


def bench_infer(sources: list[ModelSource], k_values: list[int], precisions: list[str], frames: int, warmup: int,
                device: torch.device, report: dict[str, Any], end_to_end_run: bool = False, profile_top: int = 0,
                matmul_size: int = 2048, workers: int | None = None) -> dict[str, Any]:
    """Fill ``report`` (from :func:`~fsvid2vid.bench.measure.report_header`) with the matmul rates and the rows."""
    if min(k_values) < 1 or max(k_values) > EXAMPLE_FRAMES:
        raise UserError(f"--k {min(k_values) if min(k_values) < 1 else max(k_values)} is invalid: K (example frames) "
                        f"must be from 1 to {EXAMPLE_FRAMES}, the frames of the examples' clip")
    if frames < 1 or warmup < 0:
        raise UserError(f"--frames {frames} --warmup {warmup}: need at least 1 timed frame and warmup >= 0")
    if workers is not None and workers < 1:
        raise UserError(f"--workers {workers} is invalid: synthesise at least one frame at a time")
    report["settings"] = {"k": k_values, "precisions": precisions, "frames": frames, "warmup": warmup,
                          "end_to_end": end_to_end_run, "batch": 1, "workers": workers}
    rows = [row for source in sources for row in bench_model(
        source, k_values, precisions, frames, warmup, device, end_to_end_run, profile_top, matmul_size, workers)]
    return add_rows(report, rows, device, matmul_size)

def infer_table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Headers and cells of the per-frame table (optional columns only where some row has them)."""
    gpu = any(r["cuda_peak_mib"] is not None for r in rows)
    psnr = any(r["psnr_vs_fp32"] is not None for r in rows)
    e2e = any(r["end_to_end"] for r in rows)
    headers = ["model", "task", "H x W", "K", "precision", "workers", "s/frame", "frames/s", "encode ms", "GFLOP/frame",
               "GFLOP/s", "matmul GFLOP/s", "of matmul", "peak RSS MiB"] + ["GPU MiB"] * gpu + ["PSNR vs fp32"] * psnr \
        + ["e2e s/frame", "e2e / model"] * e2e
    cells = []
    for r in rows:
        row = [r["model"], r["task"], f"{r['height']} x {r['width']}", str(r["K"]), r["precision"],
               str(r["workers"]),
               f"{r['seconds_per_frame']:.4f}", f"{r['frames_per_second']:.1f}", f"{r['encode_seconds'] * 1e3:.1f}",
               fmt(r["flops_per_frame"] / 1e9), f"{r['gflop_per_s']:.1f}", f"{r['matmul_gflop_s']:.0f}",
               f"{r['matmul_share']:.0%}", f"{r['peak_rss_mib']:.0f}"]
        row += [fmt(r["cuda_peak_mib"], 4)] * gpu
        row += [("-" if r["psnr_vs_fp32"] is None else f"{r['psnr_vs_fp32']:.1f} dB")] * psnr
        if e2e:
            e = r["end_to_end"]
            row += [f"{e['seconds_per_frame']:.4f}", f"{e['ratio_to_model']:.2f}x"] if e else ["-", "-"]
        cells.append(row)
    return headers, cells
