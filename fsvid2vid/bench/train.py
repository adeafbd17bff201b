"""``fsvid2vid bench train``: the time per training step of a config, through ``Trainer.train_step``.

Per precision a :class:`~fsvid2vid.train.trainer.Trainer` is built in a temporary run folder (nothing is written
there) and steps through batches of its own loader: ``warmup`` steps, then ``steps`` timed ones, each timed step of a
(T, K) that has not run yet preceded by one untimed step on the same batch (a shape's first step pays for fresh memory
and new oneDNN kernels once, which a training run spreads over thousands of steps). The time waiting for the loader
is measured apart from the step. K is drawn per batch from 1..K_max as in training, so the steps are
grouped by (T, K) into rows; each group's FLOPs are counted on one more, untimed step with its first batch.
"""

from __future__ import annotations

import copy
import functools
import tempfile
import time
from pathlib import Path
from typing import Any

from fsvid2vid.bench import measure
from fsvid2vid.data.synth.export import check_size, plan_split, write_jobs
from fsvid2vid.errors import UserError
from fsvid2vid.models.precision import resolve_precision
from fsvid2vid.train.config import TrainConfig, load_config, merge_overrides
from fsvid2vid.train.trainer import REGIONS, Trainer, resolve_device

#: memory touched and freed before a step is profiled, so that the profiler's records do not fault in fresh pages that
#: the step's operators are then charged for (512 MiB: a profiled 128 px T = 2 step faulted 151 times, 10,000-110,000
#: times without, docs/performance.md; measure.profile_ops)
PROFILE_FRESH_MIB = 512


def bench_config(path: Path, overrides: dict[str, Any], T: int | None, steps: int, warmup: int, device: str,
                 threads: int | None) -> TrainConfig:
    """The config at ``path`` with ``overrides`` (``--set``), ``steps + warmup`` steps and, with ``T``, that sequence
    length at every step."""
    if steps < 1 or warmup < 0 or (T is not None and T < 1):
        raise UserError(f"--steps {steps} --warmup {warmup} --T {T}: need at least 1 timed step, warmup >= 0, T >= 1")
    ours: dict[str, Any] = {"schedule": {"steps": warmup + steps}, "run": {"device": device}}
    if T is not None:
        ours["schedule"].update(single_frame_steps=0, T_start=T, T_max=T)
    if threads is not None:
        ours["run"]["threads"] = threads
    return load_config(path, merge_overrides(overrides, ours))


def render_data(cfg: TrainConfig, folder: Path) -> Path:
    """A small training set for ``cfg`` (2 subjects x 2 clips, long enough for T_max) rendered into ``folder``."""
    try:
        check_size(cfg.model.height)
    except UserError:
        raise UserError(f"the config's frames are {cfg.model.height} px high; the renderer needs a multiple of 8 in "
                        "[64, 512]: give a dataset with --data") from None
    frames = max(8, 2 * cfg.schedule.T_max + 2)
    write_jobs(plan_split(cfg.task, "train", 2, 2, frames, cfg.model.height), folder, progress=False)
    return folder


def compile_generator_parts(trainer: Trainer) -> None:
    """``torch.compile`` H, W/M and W_e/M_e in place (the parts that hold the generator's convolutions); E stays eager
    (its attention's shapes change with K). The first steps of each new shape pay the compilation."""
    g = trainer.generator
    for part in (g.synthesis, g.flow_prev, g.flow_example):
        if part is not None:
            part.compile()


def bench_precision(cfg: TrainConfig, run_dir: Path, steps: int, warmup: int, profile_top: int = 0,
                    matmul_size: int = 2048, compile_parts: bool = False) -> list[dict[str, Any]]:
    """Rows of one precision (``cfg.run.precision``): one per (T, K) seen in the timed steps. ``compile_parts``:
    :func:`compile_generator_parts` before the warm-up."""
    trainer = Trainer(cfg, run_dir, progress=False)
    if compile_parts:
        compile_generator_parts(trainer)
    device = trainer.device
    rate = measure.matmul_rate(device, trainer.precision, matmul_size)
    measure.reset_cuda_peak(device)
    batches = iter(trainer._loader())
    groups: dict[tuple[int, int], dict[str, Any]] = {}
    warm: set[tuple[int, int]] = set()  # the (T, K) that have run a step
    rss_warm = None
    for index in range(warmup + steps):
        if index == warmup:
            rss_warm = measure.peak_rss_mib()
        start = time.perf_counter()
        batch = next(batches)
        wait = time.perf_counter() - start
        shape = (int(batch["rgb"].shape[1]), int(batch["example_rgb"].shape[1]))  # (T, K)
        if index >= warmup and shape not in warm:  # a shape's first step pays once: fresh memory, new kernels
            trainer.train_step(batch)
            measure.synchronize(device)
        warm.add(shape)
        start, faults = time.perf_counter(), measure.page_faults()
        values = trainer.train_step(batch)
        measure.synchronize(device)
        step, faults = time.perf_counter() - start, measure.page_faults() - faults
        if index < warmup:
            continue
        group = groups.setdefault(shape, {"batch": batch, "seconds": [], "data": [], "faults": [], "skipped": 0})
        group["seconds"].append(step)
        group["faults"].append(faults)
        group["data"].append(wait)
        group["skipped"] += int(values["skipped"])
    rss_end, cuda_end = measure.peak_rss_mib(), measure.cuda_peak_mib(device)
    rows = []
    for (t, k), group in sorted(groups.items()):
        one_step = functools.partial(trainer.train_step, group["batch"])
        flops, by_op, _ = measure.count_flops(one_step)
        profile = (measure.profile_ops(one_step, device, profile_top, REGIONS, fresh_memory_mib=PROFILE_FRESH_MIB)
                   if profile_top else None)
        per_step = measure.median(group["seconds"])
        m = cfg.model
        rows.append({
            "task": cfg.task, "height": m.height, "width": m.width, "batch": cfg.schedule.batch_size, "T": t, "K": k,
            "precision": trainer.precision, "compiled": compile_parts, "matmul_gflop_s": rate,
            "steps": len(group["seconds"]), "warmup": warmup,
            "seconds_per_step": per_step, "steps_per_second": 1 / per_step, "seconds_min": min(group["seconds"]),
            "seconds_max": max(group["seconds"]), "seconds": [round(s, 6) for s in group["seconds"]],
            "data_seconds": measure.median(group["data"]), "page_faults_per_step": measure.median(group["faults"]),
            "flops_per_step": flops,
            "gflop_per_s": flops / per_step / 1e9, "flops_by_op": by_op, "peak_rss_after_warmup_mib": rss_warm,
            "peak_rss_mib": rss_end, "cuda_peak_mib": cuda_end,
            "skipped_steps": group["skipped"], "vgg": trainer.vgg is not None, "profile": profile})
    return rows


def bench_train(config: Path, overrides: dict[str, Any], data: Path | None, T: int | None, steps: int, warmup: int,
                precisions: list[str], device_name: str, threads: int | None, report: dict[str, Any],
                profile_top: int = 0, matmul_size: int = 2048, compile_parts: bool = False) -> dict[str, Any]:
    """Fill ``report`` (from :func:`~fsvid2vid.bench.measure.report_header`) with the matmul rates and the rows."""
    cfg = bench_config(config, overrides, T, steps, warmup, device_name, threads)
    device = resolve_device(cfg.run.device)
    resolved = list(dict.fromkeys(resolve_precision(p, device) for p in precisions))
    report["settings"] = {"config": str(config), "overrides": overrides, "T": T, "steps": steps, "warmup": warmup,
                          "precisions": precisions, "compile": compile_parts,
                          "data": str(data) if data else "rendered (2 subjects x 2 clips)"}
    rows = []
    with tempfile.TemporaryDirectory(prefix="fsvid2vid-bench-") as tmp:
        cfg.data.root = str(data if data is not None else render_data(cfg, Path(tmp) / "data"))
        for precision in resolved:
            run = copy.deepcopy(cfg)
            run.run.precision = precision
            rows += bench_precision(run, Path(tmp) / f"run-{precision}", steps, warmup, profile_top, matmul_size,
                                    compile_parts)
    for row in rows:
        row["config"] = str(config)
    return measure.add_rows(report, rows, device, matmul_size)

def train_table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Headers and cells of the per-step table."""
    gpu = any(r["cuda_peak_mib"] is not None for r in rows)
    headers = ["config", "H x W", "batch", "T", "K", "precision", "steps", "s/step", "steps/s", "data s",
               "GFLOP/step", "GFLOP/s", "matmul GFLOP/s", "of matmul", "page faults",
               "peak RSS MiB"] + ["GPU MiB"] * gpu
    cells = []
    for r in rows:
        cells.append([r["config"], f"{r['height']} x {r['width']}", str(r["batch"]), str(r["T"]),
                      str(r["K"]), r["precision"] + " compiled" * r["compiled"], str(r["steps"]),
                      f"{r['seconds_per_step']:.3f}",
                      f"{r['steps_per_second']:.2f}", f"{r['data_seconds']:.3f}",
                      measure.fmt(r["flops_per_step"] / 1e9), f"{r['gflop_per_s']:.1f}", f"{r['matmul_gflop_s']:.0f}",
                      f"{r['matmul_share']:.0%}", f"{r['page_faults_per_step']:.0f}",
                      f"{r['peak_rss_mib']:.0f}"]
                     + [measure.fmt(r["cuda_peak_mib"], 4)] * gpu)
    return headers, cells
