"""Writing benchmark clips to disk in the clip-folder layout (see :mod:`fsvid2vid.data.layout`)."""

from __future__ import annotations

import shutil
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from fsvid2vid.atomic import atomic_path, check_free_space
from fsvid2vid.data.layout import ClipMeta, ClipWriter, OutputFolder, estimate_clip_bytes, index_bytes, read_index
from fsvid2vid.data.synth import (
    MAX_CLIPS_PER_SUBJECT,
    SPLITS,
    clip_motion_seed,
    frame_size,
    get_renderer,
    render_clip,
    split_of,
    split_subject_seeds,
)
from fsvid2vid.data.synth.common import to_jsonable
from fsvid2vid.data.synth.version import BENCHMARK_VERSION, index_version, oldest_current
from fsvid2vid.errors import UserError

MIN_SIZE, MAX_SIZE = 64, 512


@dataclass(frozen=True)
class ClipJob:
    """One clip to render: ``subject_seed``'s look performing ``motion_seed`` with ``shape_seed``'s shape."""

    task: str
    name: str
    subject_seed: int
    shape_seed: int
    motion_seed: int
    n_frames: int
    size: int


def check_size(size: int) -> int:
    """Validate a frame height: a multiple of 8 in [64, 512]."""
    if not MIN_SIZE <= size <= MAX_SIZE or size % 8:
        raise UserError(f"--size {size} is invalid: use a multiple of 8 between {MIN_SIZE} and {MAX_SIZE}")
    return size


def clip_name(subject_seed: int, clip_index: int, motion_subject: int | None = None) -> str:
    """``s0000003_c01`` for a subject's own clip, ``s0000003_x0000005_c01`` for it performing subject 5's clip 1."""
    if motion_subject is None or motion_subject == subject_seed:
        return f"s{subject_seed:07d}_c{clip_index:02d}"
    return f"s{subject_seed:07d}_x{motion_subject:07d}_c{clip_index:02d}"


def plan_split(task: str, split: str, subjects: int, clips_per_subject: int, frames: int, size: int,
               cross_identity: int = 0) -> list[ClipJob]:
    """The clips of a split: each subject's own clips, plus ``cross_identity`` clips per subject in which it performs
    the first clip of the next subjects in the list (their shape and motion: the cross-identity ground truth)."""
    get_renderer(task)
    if split not in SPLITS:
        raise UserError(f"unknown split {split!r}: choose one of {', '.join(SPLITS)}")
    if subjects < 1:
        raise UserError(f"--subjects {subjects} is invalid: need at least 1 subject")
    if not 1 <= clips_per_subject <= MAX_CLIPS_PER_SUBJECT:
        raise UserError(f"--clips-per-subject {clips_per_subject} is invalid: use 1 to {MAX_CLIPS_PER_SUBJECT}")
    if frames < 1:
        raise UserError(f"--frames {frames} is invalid: need at least 1 frame per clip")
    if cross_identity < 0 or (cross_identity and cross_identity >= subjects):
        raise UserError(f"--cross-identity {cross_identity} is invalid: use 0 to subjects - 1 ({subjects - 1})")
    check_size(size)
    seeds = split_subject_seeds(task, split, subjects)
    jobs = []
    for s in seeds:
        for c in range(clips_per_subject):
            jobs.append(ClipJob(task, clip_name(s, c), s, s, clip_motion_seed(s, c), frames, size))
    for i, s in enumerate(seeds):
        for j in range(1, cross_identity + 1):
            other = seeds[(i + j) % len(seeds)]
            jobs.append(ClipJob(task, clip_name(s, 0, other), s, other, clip_motion_seed(other, 0), frames, size))
    return jobs


def render_job(job: ClipJob, out_dir: Path, overwrite: bool = False) -> Path:
    """Render one clip into ``out_dir/job.name`` (atomically)."""
    clip = render_clip(job.task, job.subject_seed, job.motion_seed, job.n_frames, job.size, job.shape_seed)
    renderer = get_renderer(job.task)
    meta = ClipMeta(
        task=job.task, split=split_of(job.subject_seed), subject=f"{job.task}-{job.subject_seed}",
        height=clip.height, width=clip.width, fps=renderer.fps, n_frames=job.n_frames, layers=renderer.layers,
        points_name=renderer.points_name, points_format=renderer.points_format, source="synth",
        seeds={"subject": job.subject_seed, "shape": job.shape_seed, "motion": job.motion_seed},
        params={"appearance": to_jsonable(clip.appearance), "shape": to_jsonable(clip.shape),
                "motion": to_jsonable(clip.motion)},
        benchmark_version=BENCHMARK_VERSION,
    )
    with ClipWriter(out_dir, job.name, meta, overwrite=overwrite) as writer:
        for frame in clip.frames:
            writer.add(frame.rgb, frame.layers, frame.points, frame.view)
    return writer.final


def _render_job_star(args: tuple[ClipJob, Path, bool]) -> Path:
    return render_job(*args)


def _stop_on_sigterm() -> None:
    """Rendering processes: SIGTERM (the main process ends the pool with it) unwinds like Ctrl-C, so that the clip
    being written removes its partial folder."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)


def estimate_jobs_bytes(jobs: list[ClipJob]) -> int:
    """About how much disk ``jobs`` take (see :func:`fsvid2vid.data.layout.estimate_clip_bytes`)."""
    total = 0
    for job in jobs:
        height, width = frame_size(job.task, job.size)
        total += estimate_clip_bytes(height, width, get_renderer(job.task).layers, job.n_frames)
    return total


def write_jobs(jobs: list[ClipJob], out_dir: Path, workers: int = 1, overwrite: bool = False,
               progress: bool = True, space_check: bool = True) -> list[Path]:
    """Render ``jobs`` into ``out_dir`` with ``workers`` processes; writes ``dataset.json`` last.

    Refuses (before rendering) a ``dataset.json`` that fsvid2vid did not write, clips that exist (without
    ``overwrite``), and, with ``space_check``, a disk with less free space than the clips' estimated size. An
    interrupt (Ctrl-C, SIGTERM) or a failure stops the rendering processes and leaves no partial clip folder."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        index = read_index(out_dir)
        existing_task = (index or {}).get("task")
        if jobs and existing_task not in (None, jobs[0].task):
            raise UserError(f"{out_dir}: holds {existing_task} clips; write {jobs[0].task} clips to another --out")
        kept = sorted(set((index or {}).get("clips", [])) - {job.name for job in jobs})
        task = jobs[0].task if jobs else existing_task
        if index is not None and index_version(index) < oldest_current(task) and kept:
            raise UserError(f"{out_dir}: holds benchmark version {index_version(index)} clips ({kept[0]}, ...) that "
                            f"this run would not replace; write version {BENCHMARK_VERSION} to another --out, or "
                            "re-render all of them (same --subjects, --clips-per-subject, --cross-identity, "
                            "--overwrite)")
        if not overwrite:
            clash = [job.name for job in jobs if (out_dir / job.name).exists()]
            if clash:
                raise UserError(f"{out_dir / clash[0]}: already exists ({len(clash)} clip(s) would be replaced); "
                                "pass --overwrite or choose another --out")
    if space_check:
        check_free_space(out_dir, estimate_jobs_bytes(jobs), f"rendering {len(jobs)} clip(s)")
    with OutputFolder(out_dir) as out_dir:
        args = [(job, out_dir, overwrite) for job in jobs]
        bar = tqdm(total=len(jobs), unit="clip", desc="render", disable=not progress)
        paths = []
        try:
            if workers > 1 and len(jobs) > 1:
                pool = ProcessPoolExecutor(max_workers=workers, initializer=_stop_on_sigterm)
                try:
                    for path in pool.map(_render_job_star, args):
                        paths.append(path)
                        bar.update()
                except BaseException:
                    processes = list((getattr(pool, "_processes", None) or {}).values())
                    pool.shutdown(wait=False, cancel_futures=True)
                    for process in processes:
                        if process.is_alive():
                            process.terminate()
                    for process in processes:
                        process.join(timeout=5)
                        if process.is_alive():
                            process.kill()  # its partial folder is removed below
                            process.join()
                    raise
                pool.shutdown()
            else:
                for a in args:
                    paths.append(render_job(*a))
                    bar.update()
        except BrokenProcessPool:
            raise UserError(f"{out_dir}: a rendering process died (out of memory?); lower --workers or --size and "
                            "run again") from None
        finally:
            bar.close()
            _remove_partials(out_dir, jobs)
        with atomic_path(out_dir / "dataset.json") as tmp:
            tmp.write_bytes(index_bytes(out_dir, jobs[0].task if jobs else None, [p.name for p in paths],
                                        benchmark_version=BENCHMARK_VERSION))
    return paths


def _remove_partials(out_dir: Path, jobs: list[ClipJob]) -> None:
    """Partial folders of ``jobs`` that a killed rendering process could not remove itself."""
    for job in jobs:
        for partial in out_dir.glob(f"{job.name}.partial-*"):
            shutil.rmtree(partial, ignore_errors=True)
