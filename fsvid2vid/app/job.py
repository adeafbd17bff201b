"""One job of the app: example images (uploaded, or an unseen benchmark subject) and a driving input (an uploaded
video, or an unseen benchmark subject's motion) -> :func:`fsvid2vid.infer.generate.generate` -> the result files.

Each job works in its own folder under the app's root: ``work/`` (rendered benchmark clips, attention frames) is
removed when the job ends, whatever happens; ``out/`` holds only what the page shows and offers for download, and
is removed by :func:`discard` once the page has taken its copies. A failed job leaves nothing behind. Errors are
one-line :class:`~fsvid2vid.errors.UserError` messages that name uploads as the visitor called them.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fsvid2vid.app.benchmark import render_driving, render_examples, subjects
from fsvid2vid.app.catalog import ModelEntry
from fsvid2vid.app.limits import Limits
from fsvid2vid.data.layout import read_image
from fsvid2vid.data.semantics import has_points
from fsvid2vid.errors import UserError
from fsvid2vid.infer.generate import generate
from fsvid2vid.media import write_png
from fsvid2vid.models.precision import PRECISIONS

#: Attention pictures shown on the page (frames spread over the video); all of them are in the download.
N_ATTENTION_SHOWN = 4

Progress = Callable[[float, str], None]


@dataclass
class Upload:
    """An uploaded file: where the server keeps it, and the name the visitor gave it."""

    path: Path
    name: str


@dataclass
class JobRequest:
    """What the page asks for. ``examples`` None: K frames of benchmark ``subject``; ``video`` None: the motion of
    benchmark ``motion_subject``."""

    model: ModelEntry
    examples: list[Upload] | None = None
    subject: int | None = None
    k: int = 2
    video: Upload | None = None
    motion_subject: int | None = None
    retarget: bool = True
    finetune: int = 0
    precision: str = "auto"
    max_frames: int = 30
    seed: int = 0


@dataclass
class JobResult:
    """The files of a finished job, all inside ``folder`` (see :func:`discard`)."""

    folder: Path
    video: Path
    side_by_side: Path
    metadata: Path
    attention: Path | None  # a few frames' attention pictures in one PNG (None: the model has no attention)
    downloads: list[Path]
    summary: str
    info: dict[str, Any] = field(default_factory=dict)


def _check(request: JobRequest, limits: Limits) -> None:
    limits.check_options(request.max_frames, request.finetune)
    if request.precision not in PRECISIONS:
        raise UserError(f"unknown precision {request.precision!r}: choose one of {', '.join(PRECISIONS)}")
    task = request.model.task
    if request.examples is None:
        limits.check_count(request.k)
        if request.subject not in subjects(task):
            raise UserError(f"choose a benchmark subject for the examples (one of {subjects(task)})")
    else:
        limits.check_count(len(request.examples))
        for upload in request.examples:
            limits.check_image(upload.path, upload.name)
    if request.video is None:
        if request.motion_subject not in subjects(task):
            raise UserError(f"choose a benchmark motion (one of {subjects(task)}) or upload a driving video")
    else:
        if not has_points(task):
            raise UserError(f"{request.video.name}: a driving video needs a dance or face model; {request.model.name}"
                            f" is a {task} model: drive it with a benchmark clip")
        limits.check_video(request.video.path, request.video.name)


def _named(message: str, names: dict[str, str]) -> str:
    """``message`` with server-side paths replaced by what the visitor knows them as (longest paths first)."""
    for path in sorted(names, key=len, reverse=True):
        message = message.replace(path, names[path])
    return message


def _spread(items: list[Path], n: int) -> list[Path]:
    if len(items) <= n:
        return items
    return [items[i] for i in np.linspace(0, len(items) - 1, n).round().astype(int)]


def _montage(pictures: list[Path], out: Path, gap: int = 2, width: int = 720) -> Path:
    """The attention pictures of a few frames one under the other (white gaps between), enlarged by a whole factor
    towards ``width`` pixels, as one PNG."""
    rows = [read_image(p, 3) for p in pictures]
    white = np.full((gap, rows[0].shape[1], 3), 255, np.uint8)
    picture = np.concatenate([x for row in rows for x in (row, white)][:-1], axis=0)
    scale = max(1, width // picture.shape[1])
    return write_png(out, picture.repeat(scale, axis=0).repeat(scale, axis=1))


def run_job(request: JobRequest, root: Path, limits: Limits | None = None, progress: Progress | None = None
            ) -> JobResult:
    """Run one job in a new folder under ``root``; see the module docstring. ``progress(fraction, text)`` is told
    what the job is doing (the frames themselves go through generate's tqdm bar, which the page follows)."""
    _check(request, limits or Limits())
    say = progress or (lambda fraction, text: None)
    entry, task = request.model, request.model.task
    folder = Path(tempfile.mkdtemp(prefix="job-", dir=root))
    work, out = folder / "work", folder / "out"
    work.mkdir()
    out.mkdir()
    names = {str(work) + "/": "", str(out) + "/": ""}
    names.update({str(u.path): u.name for u in [*(request.examples or []), *filter(None, [request.video])]})
    started = time.perf_counter()
    try:
        if request.examples is None:
            say(0.0, "rendering the benchmark examples")
            examples = render_examples(task, request.subject, request.k, entry.height, work / "examples")
        else:
            examples = [u.path for u in request.examples]
        if request.video is None:
            say(0.02, "rendering the benchmark motion")
            driving = render_driving(task, request.motion_subject, request.max_frames, entry.height,
                                     work / "driving", request.subject if request.examples is None else None)
        else:
            driving = request.video.path
        say(0.05, "detecting, finetuning and generating" if request.examples or request.video else "generating")
        attention_dir = work / "attention" if entry.attention else None
        info = generate(entry.path, examples, driving, out / "result.mp4", side_by_side=True,
                        max_frames=request.max_frames, progress=progress is not None, finetune=request.finetune,
                        seed=request.seed, attention_vis=attention_dir, retarget=request.retarget,
                        precision=request.precision)
        attention = None
        if attention_dir is not None:
            frames = sorted(attention_dir.glob("*.png"))
            attention = _montage(_spread(frames, N_ATTENTION_SHOWN), out / "attention.png")
            with zipfile.ZipFile(out / "attention.zip", "w", zipfile.ZIP_DEFLATED) as archive:
                for png in frames:
                    archive.write(png, png.name)
        info = _describe(info, request, names)
        (out / "result.json").write_text(json.dumps(info, indent=1) + "\n")
    except UserError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise UserError(_named(str(exc), names)) from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    seconds = time.perf_counter() - started
    downloads = [out / "result.mp4", out / "result-side-by-side.mp4", out / "result.json"]
    downloads += [out / "attention.zip"] if attention else []
    return JobResult(folder, out / "result.mp4", out / "result-side-by-side.mp4", out / "result.json", attention,
                     downloads, _summary(info, request, seconds), info)


def _renamed(value: Any, names: dict[str, str]) -> Any:
    """``value`` (JSON-like) with :func:`_named` applied to every string in it."""
    if isinstance(value, str):
        return _named(value, names)
    if isinstance(value, list):
        return [_renamed(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _renamed(v, names) for k, v in value.items()}
    return value


def _describe(info: dict[str, Any], request: JobRequest, names: dict[str, str]) -> dict[str, Any]:
    """generate's metadata without the server's paths, plus what the page asked for."""
    info = _renamed(info, {**names, str(request.model.path): request.model.path.name})
    info["app"] = {"model": request.model.name, "examples": "upload" if request.examples else "benchmark",
                   "subject": request.subject if request.examples is None else None,
                   "driving": "upload" if request.video else "benchmark",
                   "motion_subject": request.motion_subject if request.video is None else None,
                   "precision": request.precision, "max_frames": request.max_frames}
    return info


def _summary(info: dict[str, Any], request: JobRequest, seconds: float) -> str:
    parts = [f"{info['frames']} frames at {info['fps']} fps in {seconds:.1f} s", f"model {request.model.name}",
             f"K = {info['K']}"]
    if request.finetune:
        parts.append(f"finetuned for {request.finetune} steps")
    if info.get("driving_video"):
        parts.append(f"driving video: {info['driving_video'].get('frames', '?')} frames read, {info['frames']} "
                     "with the subject found" + (", retargeted to the examples" if info.get("retargeted") else ""))
    if info.get("examples_detected"):
        parts.append(f"{len(info['examples_detected'])} example(s) detected with mediapipe")
    return "; ".join(parts)


def discard(result: JobResult | Path | str | None) -> None:
    """Remove a finished job's folder (after the page has taken its copies of the files)."""
    if result is not None:
        shutil.rmtree(result.folder if isinstance(result, JobResult) else Path(result), ignore_errors=True)


def new_root() -> Path:
    """A fresh folder for the jobs of one server (removed by the server when it stops)."""
    return Path(tempfile.mkdtemp(prefix="fsvid2vid-app-"))
