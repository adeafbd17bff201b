"""The catalogue of bad inputs and faults (issue 17; docs/reliability.md lists the same cases, checked below).

Each case runs a command as a user would (a subprocess) and the catalogue asserts, for every case: the exit status
(2 for an error, 130 for a signal), a single line on stderr naming the file (or the option) and no traceback, and
that the case's folder (the user's files included) is byte for byte what it was: nothing left behind, nothing of the
user's touched. A few cases end in a successful command (a resume, a fresh clip) and check what they promise.
Disk-full and read-only cases mount a small tmpfs; they skip where mounting is not allowed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.conftest import ROOT, make_version_1, run_cli

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RENDER = ["data", "render", "--task", "street", "--motion", "3", "--subject", "1", "--frames", "1", "--size", "64"]


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` with its bytes (None for folders): equal snapshots mean nothing was touched."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


def assert_one_line_error(result, *needles: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def user_folder(tmp_path: Path) -> Path:
    """A folder of the user's that no command may delete: a document and a sub-folder."""
    (tmp_path / "mydocs" / "sub").mkdir(parents=True)
    (tmp_path / "mydocs" / "thesis.txt").write_text("years of work")
    (tmp_path / "mydocs" / "sub" / "notes.txt").write_text("more work")
    return tmp_path / "mydocs"


# -- the shared material --------------------------------------------------------------------------------------------

@dataclass
class Shared:
    ckpt: Path  # a tiny dance model's training checkpoint (1 step)
    generator: Path  # ... exported (fp16)
    own: Path  # a dance clip of subject A
    cross: Path  # subject A performing B's motion (12 frames, ground truth included)
    small: Path  # a small dance dataset for training: 2 subjects x 1 clip x 6 frames
    reference: Path  # checkpoints of a straight 10-step run on ``small`` (one per step)


def train_config(path: Path, root: Path, **run) -> Path:
    """A tiny dance training config for ``root`` written to ``path``; ``run`` overrides run.* and workers."""
    from tests.test_train import tiny_config

    cfg = tiny_config("dance", root, steps=2).to_dict()
    cfg["data"]["workers"] = run.pop("workers", 0)
    cfg["run"].update({"image_every": 1000, **run})
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture(scope="session")
def shared(tiny_dance_model, tmp_path_factory) -> Shared:
    ckpt, generator, dance_dir = tiny_dance_model
    cross = sorted(p for p in dance_dir.iterdir() if "_x" in p.name)[0]
    own = dance_dir / (cross.name.split("_x")[0] + "_c00")
    base = tmp_path_factory.mktemp("catalogue")
    from fsvid2vid.data.synth.export import plan_split, write_jobs

    small = base / "small"
    write_jobs(plan_split("dance", "train", 2, 1, 6, 64), small, progress=False)
    cfg = train_config(base / "reference.yaml", small, checkpoint_every=1, keep_checkpoints=20)
    r = run_cli("train", "--config", cfg, "--out", base / "reference", "--steps", "10", "--quiet")
    assert r.returncode == 0, r.stderr
    return Shared(ckpt, generator, own, cross, small, base / "reference" / "checkpoints")


class Ctx:
    """One case's folder (with a folder of the user's in it) and the command it runs."""

    def __init__(self, root: Path, shared: Shared):
        self.root, self.s = root, shared
        self.user = user_folder(root)
        self.result: subprocess.CompletedProcess | None = None
        self.before = self.after = None
        self.changes_expected = False  # a case whose command succeeds checks its own outputs

    def run(self, *args, cwd: Path | None = None) -> subprocess.CompletedProcess:
        self.before = snapshot(self.root)
        self.result = run_cli(*args, cwd=cwd)
        self.after = snapshot(self.root)
        return self.result

    def popen(self, *args, cwd: Path | None = None, prefix: list[str] | None = None) -> subprocess.Popen:
        """Start a command (in its own process group) for a case that signals it; call :meth:`finish`."""
        self.before = snapshot(self.root)
        cmd = (prefix or [sys.executable, "-m", "fsvid2vid"]) + [str(a) for a in args]
        return subprocess.Popen(cmd, cwd=cwd or ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)

    def finish(self, proc: subprocess.Popen) -> subprocess.CompletedProcess:
        out, err = proc.communicate(timeout=300)
        self.result = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        self.after = snapshot(self.root)
        return self.result

    def generate(self, *args) -> list:
        """A generate command line with the tiny model, one example and the 12-frame driving clip."""
        base = {"--checkpoint": self.s.generator, "--examples": self.s.own / "rgb" / "000001.png",
                "--driving": self.s.cross, "--out": self.root / "out.mp4"}
        given = {a for a in args if isinstance(a, str) and a.startswith("--")}
        line = ["generate", "--quiet"]
        for key, value in base.items():
            if key not in given:
                line += [key, value]
        return line + list(args)

    def put(self, relative: str, content: bytes | str = b"") -> Path:
        """A file of the user's in the case's folder (parents created); a name ending in / makes a folder."""
        path = self.root / relative
        if relative.endswith("/"):
            path.mkdir(parents=True)
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    def copy_clip(self, clip: Path, name: str) -> Path:
        return Path(shutil.copytree(clip, self.root / name))


@dataclass
class Case:
    id: str
    item: str  # the defect of issue 17 it covers (1-11), or "resume" for the kill -9 cases
    what: str
    fn: Callable[[Ctx], list]
    status: int = 2


CASES: list[Case] = []


def case(case_id: str, item: str, what: str, status: int = 2):
    def register(fn: Callable[[Ctx], list]) -> Callable[[Ctx], list]:
        CASES.append(Case(case_id, item, what, fn, status))
        return fn
    return register


@contextmanager
def small_fs(path: Path, size: str, read_only: bool = False) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``path`` (read-only if asked), or skip the case where mounting is refused."""
    path.mkdir()
    options = f"size={size}" + (",ro" if read_only else "")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True)
    if r.returncode != 0:
        path.rmdir()
        pytest.skip(f"cannot mount a {size} tmpfs at {path} ({(r.stderr or 'mount failed').strip()}): the disk-full "
                    "and read-only cases need root with CAP_SYS_ADMIN")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid``."""
    found = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat_file.parent.name))
    return sorted(found)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


# -- 1. --overwrite deleting folders (fixed before the catalogue; kept in it) ---------------------------------------

@case("render-overwrite-dot", "1", "`data render --out . --overwrite` in a folder of the user's: refused, nothing "
      "deleted")
def _(c: Ctx) -> list:
    work = c.put("work/keep.txt", "mine").parent
    c.run(*RENDER, "--out", ".", "--overwrite", cwd=work)
    return ["clip folder", "--out"]


@case("render-overwrite-dotdot", "1", "`data render --out .. --overwrite`: refused")
def _(c: Ctx) -> list:
    c.run(*RENDER, "--out", "..", "--overwrite", cwd=c.user / "sub")
    return ["clip folder"]


@case("render-overwrite-user-folder", "1", "`data render --out mydocs --overwrite` (a folder without meta.json): "
      "refused")
def _(c: Ctx) -> list:
    c.run(*RENDER, "--out", c.user, "--overwrite")
    return [str(c.user), "not a clip folder"]


@case("render-overwrite-user-file", "1", "`data render --out mydocs/thesis.txt --overwrite`: refused")
def _(c: Ctx) -> list:
    c.run(*RENDER, "--out", c.user / "thesis.txt", "--overwrite")
    return ["thesis.txt", "not a clip folder"]


# -- 2. files replaced without --overwrite ---------------------------------------------------------------------------

@case("generate-frames-dir-holds-pngs", "2", "`generate --frames-dir DIR` where DIR holds 000000.png: refused "
      "without --overwrite")
def _(c: Ctx) -> list:
    mine = c.put("frames/000000.png", PNG_SIGNATURE + b"my own picture")
    c.run(*c.generate("--frames-dir", mine.parent, "--max-frames", "2"))
    return [str(mine), "--overwrite"]


@case("generate-overwrite-not-an-mp4", "2", "`generate --out x.mp4 --overwrite` where x.mp4 is a text file of the "
      "user's: not replaced")
def _(c: Ctx) -> list:
    c.run(*c.generate("--out", c.put("notes.mp4", "not a video"), "--overwrite", "--max-frames", "2"))
    return ["notes.mp4", "--overwrite replaces only"]


@case("synth-foreign-dataset-json", "2", "`data synth --overwrite` into a folder whose dataset.json is not "
      "fsvid2vid's: refused")
def _(c: Ctx) -> list:
    index = c.put("data/dataset.json", '{"name": "my thesis data", "rows": 1200}')
    c.run("data", "synth", "--task", "street", "--subjects", "1", "--frames", "1", "--size", "64", "--out",
          index.parent, "--overwrite", "--quiet")
    return [str(index), "not an fsvid2vid dataset index"]


@case("prepare-foreign-dataset-json", "2", "`prepare` into a folder whose dataset.json is not fsvid2vid's: refused "
      "before any video is read")
def _(c: Ctx) -> list:
    index = c.put("data/dataset.json", "[1, 2, 3]")
    c.run("prepare", "--task", "street", c.put("street.mp4", "any"), "--labels", c.put("labels/"), "--out",
          index.parent, "--overwrite", "--quiet")
    return [str(index), "not an fsvid2vid dataset index"]


@case("prepare-existing-overlays", "2", "`prepare` into a folder holding overlays.png: refused without --overwrite")
def _(c: Ctx) -> list:
    sheet = c.put("data/overlays.png", PNG_SIGNATURE + b"mine")
    c.run("prepare", "--task", "dance", c.put("walk.mp4", "any"), "--out", sheet.parent, "--quiet")
    return [str(sheet), "--overwrite"]


@case("prepare-overwrite-foreign-overlays", "2", "`prepare --overwrite` where overlays.png sits in a folder that is "
      "not an fsvid2vid dataset: not replaced")
def _(c: Ctx) -> list:
    sheet = c.put("mydocs/overlays.png", PNG_SIGNATURE + b"mine")
    c.run("prepare", "--task", "dance", c.put("walk.mp4", "any"), "--out", c.user, "--overwrite", "--quiet")
    return [str(sheet), "not an fsvid2vid dataset"]


@case("export-out-exists", "2", "`export --out existing.safetensors`: refused without --overwrite (the flag is new)")
def _(c: Ctx) -> list:
    out = c.root / "mine.safetensors"
    shutil.copy(c.s.generator, out)
    c.run("export", "--checkpoint", c.s.ckpt, "--out", out)
    return [str(out), "--overwrite"]


@case("export-overwrite-foreign-file", "2", "`export --out FILE --overwrite` where FILE is not an fsvid2vid file: "
      "not replaced")
def _(c: Ctx) -> list:
    c.run("export", "--checkpoint", c.s.ckpt, "--out", c.user / "thesis.txt", "--overwrite")
    return ["thesis.txt", "--overwrite replaces only"]


@case("sheet-out-exists", "2", "`data sheet --out existing.png`: refused without --overwrite (the flag is new)")
def _(c: Ctx) -> list:
    out = c.put("sheet.png", PNG_SIGNATURE + b"mine")
    c.run("data", "sheet", c.s.own, "--out", out)
    return [str(out), "--overwrite"]


# -- 3. training with bad data and data-loading processes ------------------------------------------------------------

def _train_on_damaged_data(c: Ctx, clip: int, layer: str, damage: Callable[[Path], object], workers: int) -> Path:
    """Train on a copy of the small dataset whose clip number ``clip`` has every frame of ``layer`` damaged; returns
    that layer's folder."""
    data = Path(shutil.copytree(c.s.small, c.root / "data"))
    folder = sorted(p for p in data.iterdir() if p.is_dir())[clip] / layer
    for frame in sorted(folder.iterdir()):
        damage(frame)
    c.run("train", "--config", train_config(c.root / "cfg.yaml", data, workers=workers), "--out", c.root / "run",
          "--quiet")
    return folder


@case("train-missing-frame-worker", "3", "`train` (data.workers 1) with a missing frame: the frame's one-line error, "
      "no hang, no run folder left")
def _(c: Ctx) -> list:
    folder = _train_on_damaged_data(c, 0, "rgb", lambda frame: frame.unlink(), workers=1)
    return [f"{folder}/", "missing", "training stopped at step 0"]


@case("train-truncated-frame-worker", "3", "`train` (data.workers 2) with a truncated PNG frame: its one-line error, "
      "no hang")
def _(c: Ctx) -> list:
    folder = _train_on_damaged_data(c, 1, "parts", lambda frame: frame.write_bytes(frame.read_bytes()[:60]),
                                    workers=2)
    return [f"{folder}/", "truncated PNG"]


@case("train-worker-killed", "3", "`train` whose data-loading process is killed (as by the OS when memory runs out): "
      "a one-line error after a checkpoint of the last complete step")
def _(c: Ctx) -> list:
    cfg = train_config(c.root / "cfg.yaml", c.s.small, workers=1, checkpoint_every=1)
    proc = c.popen("train", "--config", cfg, "--out", c.root / "run", "--steps", "100000", "--quiet")
    events = c.root / "run" / "tb"
    wait_for(lambda: events.is_dir() and any(events.iterdir()), "training to start")
    time.sleep(1.5)  # a few steps
    workers = children(proc.pid)
    assert workers, "the training process has a data-loading process"
    os.kill(workers[0], signal.SIGKILL)
    c.finish(proc)
    c.changes_expected = True
    from fsvid2vid.models.checkpoint import latest_checkpoint

    assert latest_checkpoint(c.root / "run") is not None  # the last complete step was saved
    return ["a data-loading process died", "checkpoint:"]


# -- 4. truncated and corrupt images ---------------------------------------------------------------------------------

def _jpeg(c: Ctx, name: str = "photo.jpg") -> Path:
    import cv2

    rng = np.random.default_rng(0)
    path = c.root / name
    cv2.imwrite(str(path), (rng.random((96, 72, 3)) * 255).astype(np.uint8))
    return path


@case("generate-truncated-jpeg", "4", "`generate --examples photo.jpg` cut short (no end-of-image marker): refused "
      "before mediapipe, no video")
def _(c: Ctx) -> list:
    photo = _jpeg(c)
    photo.write_bytes(photo.read_bytes()[:-600])
    c.run(*c.generate("--examples", photo, "--max-frames", "2"))
    return [str(photo), "truncated JPEG"]


@case("generate-corrupt-jpeg", "4", "`generate --examples photo.jpg` with damaged data before an intact end "
      "marker: libjpeg's complaint becomes the one line")
def _(c: Ctx) -> list:
    photo = _jpeg(c)
    data = bytearray(photo.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 50] = b"\x00" * 50
    photo.write_bytes(bytes(data))
    c.run(*c.generate("--examples", photo, "--max-frames", "2"))
    return [str(photo), "Corrupt JPEG data"]


@case("generate-truncated-png-example", "4", "`generate --examples <clip>/rgb/000001.png` truncated: refused")
def _(c: Ctx) -> list:
    clip = c.copy_clip(c.s.own, "clip")
    frame = clip / "rgb" / "000001.png"
    frame.write_bytes(frame.read_bytes()[:100])
    c.run(*c.generate("--examples", frame, "--max-frames", "2"))
    return [str(frame), "truncated PNG"]


@case("preview-crc-damaged-png", "4", "`data preview` of a clip with a flipped byte in a PNG (CRC error): refused, "
      "no mp4")
def _(c: Ctx) -> list:
    clip = c.copy_clip(c.s.own, "clip")
    frame = clip / "pose" / "000003.png"
    data = bytearray(frame.read_bytes())
    data[len(data) // 2] ^= 0x40
    frame.write_bytes(bytes(data))
    c.run("data", "preview", clip, "--out", c.root / "clip.mp4")
    return [str(frame), "CRC error"]


@case("prepare-truncated-label-png", "4", "`prepare --task street` with a truncated label PNG: refused, nothing "
      "written")
def _(c: Ctx) -> list:
    video, labels = _street_video(c, "a")
    first = sorted(labels.iterdir())[1]
    first.write_bytes(first.read_bytes()[:50])
    c.run("prepare", "--task", "street", video, "--labels", labels, "--out", c.root / "data", "--quiet")
    return [str(first), "truncated PNG"]


# -- 5. damaged weights ----------------------------------------------------------------------------------------------

def _with_nan(source: Path, target: Path) -> Path:
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(source))
    with safe_open(str(source), framework="pt") as f:
        metadata = {k: v for k, v in f.metadata().items() if k != "sha256"}  # as a writer without checksums
    key = next(k for k, v in tensors.items() if v.is_floating_point() and v.numel() > 1)
    tensors[key] = tensors[key].clone()
    tensors[key].view(-1)[0] = float("nan")
    save_file(tensors, str(target), metadata=metadata)
    return target


@case("generate-nan-weights", "5", "`generate --checkpoint` a generator file holding a NaN weight: refused (no "
      "black video)")
def _(c: Ctx) -> list:
    model = _with_nan(c.s.generator, c.root / "nan.safetensors")
    c.run(*c.generate("--checkpoint", model, "--max-frames", "2"))
    return [str(model), "NaN or infinite"]


@case("generate-damaged-weights", "5", "`generate --checkpoint` a generator file with one byte changed: the SHA-256 "
      "in its header does not match")
def _(c: Ctx) -> list:
    model = c.root / "damaged.safetensors"
    data = bytearray(c.s.generator.read_bytes())
    data[-3] ^= 0x01
    model.write_bytes(bytes(data))
    c.run(*c.generate("--checkpoint", model, "--max-frames", "2"))
    return [str(model), "checksum"]


@case("export-nan-checkpoint", "5", "`export` of a training checkpoint holding a NaN: refused, nothing written")
def _(c: Ctx) -> list:
    folder = c.root / "checkpoints"
    folder.mkdir()
    ckpt = _with_nan(c.s.ckpt, folder / c.s.ckpt.name)
    shutil.copy(c.s.ckpt.with_suffix(".json"), folder)
    c.run("export", "--checkpoint", ckpt, "--out", c.root / "g.safetensors")
    return [str(ckpt), "NaN or infinite"]


# -- 6. tracebacks that became one line ------------------------------------------------------------------------------

@case("generate-read-only-fs", "6", "`generate --out` on a read-only file system")
def _(c: Ctx) -> list:
    with small_fs(c.root / "ro", "1m", read_only=True) as fs:
        c.run(*c.generate("--out", fs / "o.mp4", "--max-frames", "2"))
    return [str(fs / "o.mp4"), "not writable", "Read-only file system"]


@case("generate-disk-full", "6", "`generate` filling the disk while writing the mp4 (--no-space-check): one line, no "
      "hidden temporary left")
def _(c: Ctx) -> list:
    with small_fs(c.root / "full", "4k") as fs:
        c.run(*c.generate("--out", fs / "o.mp4", "--side-by-side", "--no-space-check"))
    return [str(fs), "No space left on device"]


@case("train-disk-full-checkpoint", "6", "`train` whose checkpoint does not fit on the disk: one line naming it, no "
      "temporary or run folder left")
def _(c: Ctx) -> list:
    with small_fs(c.root / "full", "1m") as fs:
        c.run("train", "--config", train_config(c.root / "cfg.yaml", c.s.small), "--out", fs / "run", "--steps", "1",
              "--quiet")
    return ["step-0000001.safetensors", "No space left on device", "not written"]


@case("generate-max-frames-negative", "6", "`generate --max-frames -3`")
def _(c: Ctx) -> list:
    c.run(*c.generate("--max-frames", "-3"))
    return ["--max-frames", "not a positive integer"]


@case("generate-device-banana", "6", "`generate --device banana`")
def _(c: Ctx) -> list:
    c.run(*c.generate("--device", "banana"))
    return ["--device 'banana'", "not a device"]


@case("generate-device-cuda-without-cuda", "6", "`generate --device cuda` where torch sees no CUDA device")
def _(c: Ctx) -> list:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this torch sees a CUDA device: --device cuda is valid here")
    c.run(*c.generate("--device", "cuda"))
    return ["--device 'cuda'", "no CUDA device"]


@case("evaluate-device-banana", "6", "`evaluate --device banana`")
def _(c: Ctx) -> list:
    c.run("evaluate", "--checkpoint", c.s.generator, "--task", "dance", "--data", c.s.own.parent, "--out",
          c.root / "e.json", "--device", "banana")
    return ["--device 'banana'"]


@case("generate-frames-dir-is-a-file", "6", "`generate --frames-dir` naming an existing file")
def _(c: Ctx) -> list:
    c.run(*c.generate("--frames-dir", c.user / "thesis.txt"))
    return ["thesis.txt", "not a folder", "--frames-dir"]


@case("train-config-steps-text", "6", "config `schedule: {steps: \"three\"}`: the file and the key named")
def _(c: Ctx) -> list:
    cfg = train_config(c.root / "cfg.yaml", c.s.small)
    c.run("train", "--config", cfg, "--out", c.root / "run", "--set", "schedule.steps=three")
    return [str(cfg), "schedule.steps must be an integer >= 1", "'three'"]


@case("train-config-lr-negative", "6", "config `optim: {lr: -0.001}`")
def _(c: Ctx) -> list:
    cfg = c.root / "cfg.yaml"
    data = yaml.safe_load(train_config(cfg, c.s.small).read_text())
    data["optim"]["lr"] = -0.001
    cfg.write_text(yaml.safe_dump(data))
    c.run("train", "--config", cfg, "--out", c.root / "run")
    return [str(cfg), "optim.lr must be a number > 0", "-0.001"]


@case("train-config-lr-text", "6", "config `optim: {lr: fast}`")
def _(c: Ctx) -> list:
    cfg = train_config(c.root / "cfg.yaml", c.s.small)
    c.run("train", "--config", cfg, "--out", c.root / "run", "--set", "optim.lr=fast")
    return [str(cfg), "optim.lr", "'fast'"]


# -- 7. SIGTERM: the same clean-up as Ctrl-C -------------------------------------------------------------------------

@case("generate-sigterm", "7", "SIGTERM to `generate` while it writes the mp4 and --frames-dir: no hidden "
      ".out.*.mp4 or .frames.partial-* left", status=130)
def _(c: Ctx) -> list:
    maps = c.root / "maps"  # a long driving folder: 1,500 frames, links to one frame's maps
    for layer in ("pose", "parts"):
        (maps / layer).mkdir(parents=True)
        for i in range(1500):
            (maps / layer / f"{i:06d}.png").symlink_to(c.s.cross / layer / "000000.png")
    proc = c.popen(*c.generate("--driving", maps, "--frames-dir", c.root / "frames"))
    wait_for(lambda: any(p.name.startswith(".out.") for p in c.root.iterdir()), "the mp4 to be started")
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    c.finish(proc)
    return ["interrupted"]


@case("synth-sigterm", "7", "SIGTERM to `data synth` (2 rendering processes) while clips are written: no "
      "*.partial-* folder left", status=130)
def _(c: Ctx) -> list:
    out = c.root / "data"
    proc = c.popen("data", "synth", "--task", "dance", "--subjects", "2", "--clips-per-subject", "1", "--frames",
                   "3000", "--size", "64", "--workers", "2", "--out", out, "--quiet")
    wait_for(lambda: out.is_dir() and any(".partial-" in p.name for p in out.iterdir()), "rendering to start")
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)  # the main process only: it stops its rendering processes itself
    c.finish(proc)
    return ["interrupted"]


# -- 8. prepare is all or nothing ------------------------------------------------------------------------------------

def _street_video(c: Ctx, name: str, frames: int = 3) -> tuple[Path, Path]:
    import cv2

    from fsvid2vid.media import write_mp4

    video = c.root / f"{name}.mp4"
    write_mp4(video, [np.full((64, 128, 3), 40 * i, np.uint8) for i in range(frames)], fps=10)
    labels = c.root / f"{name}-labels"
    labels.mkdir()
    for i in range(frames):
        cv2.imwrite(str(labels / f"{i:06d}.png"), np.full((64, 128), 7, np.uint8))  # Cityscapes 7: road
    return video, labels


@case("prepare-second-video-fails", "8", "`prepare` of two videos whose second fails: the first's clips do not "
      "appear either (and a rerun is not blocked)")
def _(c: Ctx) -> list:
    a, a_labels = _street_video(c, "a")
    b, b_labels = _street_video(c, "b")
    bad = sorted(b_labels.iterdir())[2]
    bad.write_bytes(b"not a png")
    c.run("prepare", "--task", "street", a, b, "--labels", a_labels, b_labels, "--out", c.root / "data", "--quiet")
    return [str(bad)]


@case("prepare-max-frames-zero", "8", "`prepare --max-frames 0`: the option is blamed, not the video")
def _(c: Ctx) -> list:
    a, a_labels = _street_video(c, "a")
    c.run("prepare", "--task", "street", a, "--labels", a_labels, "--out", c.root / "data", "--max-frames", "0")
    return ["--max-frames", "not a positive integer"]


# -- 9. clip folder permissions --------------------------------------------------------------------------------------

@case("render-clip-folder-mode", "9", "`data render` makes clip folders with the usual umask mode (not 0700)",
      status=0)
def _(c: Ctx) -> list:
    out = c.root / "clip"
    c.run(*RENDER, "--out", out)
    c.changes_expected = True
    assert stat.S_IMODE(out.stat().st_mode) & 0o055 == 0o055  # group and others may read a shared dataset
    assert sorted(p.name for p in c.root.iterdir()) == ["clip", "mydocs"]  # no .partial-* left
    return []


# -- 10. names in meta.json ------------------------------------------------------------------------------------------

@case("preview-layer-name-absolute", "10", "`data preview` of a clip whose meta.json names a layer /etc: refused, "
      "nothing outside the clip read")
def _(c: Ctx) -> list:
    clip = c.copy_clip(c.s.own, "clip")
    meta = json.loads((clip / "meta.json").read_text())
    meta["layers"][0]["name"] = str(c.user)
    (clip / "meta.json").write_text(json.dumps(meta))
    c.run("data", "preview", clip, "--out", c.root / "p.mp4")
    return [str(clip / "meta.json"), "plain names"]


@case("generate-points-name-escapes", "10", "`generate --driving` a clip whose points_name is ../x/secret: refused")
def _(c: Ctx) -> list:
    clip = c.copy_clip(c.s.cross, "clip")
    meta = json.loads((clip / "meta.json").read_text())
    meta["points_name"] = "../mydocs/secret"
    (clip / "meta.json").write_text(json.dumps(meta))
    c.run(*c.generate("--driving", clip, "--max-frames", "2"))
    return [str(clip / "meta.json"), "'../mydocs/secret'"]


# -- 11. smaller ones: points, ground truth, limits, resume ----------------------------------------------------------

def _points_json(c: Ctx, value: float) -> Path:
    points = json.loads((c.s.cross / "keypoints.json").read_text())
    points["frames"][1][3][0] = value
    path = c.root / "points.json"
    path.write_text(json.dumps(points))  # Python writes NaN as NaN, which json.loads reads back
    return path


@case("generate-points-json-nan", "11", "`generate --driving points.json` holding NaN: refused, no numpy warning")
def _(c: Ctx) -> list:
    c.run(*c.generate("--driving", _points_json(c, float("nan"))))
    return ["points.json", "NaN or infinite"]


@case("generate-points-json-huge", "11", "`generate --driving points.json` holding 1e300: refused")
def _(c: Ctx) -> list:
    c.run(*c.generate("--driving", _points_json(c, 1e300)))
    return ["points.json", "far outside"]


@case("generate-missing-ground-truth-frame", "11", "`generate --side-by-side` with a driving clip missing one RGB "
      "frame: refused (no stretched frame)")
def _(c: Ctx) -> list:
    clip = c.copy_clip(c.s.cross, "clip")
    (clip / "rgb" / "000003.png").unlink()
    c.run(*c.generate("--driving", clip, "--side-by-side"))
    return [str(clip / "rgb" / "000003.png"), "missing"]


@case("synth-subjects-billion", "11", "`data synth --subjects 1000000000`: refused at once (no silent hang)")
def _(c: Ctx) -> list:
    c.run("data", "synth", "--task", "dance", "--subjects", "1000000000", "--out", c.root / "data")
    return ["--subjects 1000000000", "--max-total-frames"]


@case("synth-frames-huge", "11", "`data synth --frames 100000000000000000000`: refused")
def _(c: Ctx) -> list:
    c.run("data", "synth", "--task", "dance", "--frames", "100000000000000000000", "--out", c.root / "data")
    return ["--frames 100000000000000000000", "over the limit"]


@case("synth-no-space", "11", "`data synth` onto a disk with less free space than the clips' estimated size")
def _(c: Ctx) -> list:
    with small_fs(c.root / "small", "64k") as fs:
        c.run("data", "synth", "--task", "street", "--subjects", "2", "--frames", "20", "--size", "64", "--out",
              fs / "data", "--quiet")
    return [str(fs / "data"), "needed", "--no-space-check"]


@case("generate-no-space", "11", "`generate --frames-dir` onto a disk with less free space than the outputs' "
      "estimated size")
def _(c: Ctx) -> list:
    with small_fs(c.root / "small", "16k") as fs:
        c.run(*c.generate("--out", fs / "o.mp4", "--frames-dir", fs / "frames"))
    return ["12 generated frames", "needed", "--no-space-check"]


@case("generate-photo-over-pixel-limit", "11", "`generate --examples` a 10,000 x 10,000 photo: refused before "
      "decoding (--max-pixels raises the limit)")
def _(c: Ctx) -> list:
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    photo = c.root / "huge.png"  # a valid PNG structure; its pixels are never decoded
    ihdr = (10_000).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    photo.write_bytes(PNG_SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
                      + chunk(b"IEND", b""))
    c.run(*c.generate("--examples", photo))
    return [str(photo), "100,000,000 pixels", "--max-pixels"]


def _run_with_steps(c: Ctx, steps: int) -> tuple[Path, Path]:
    """A run folder with checkpoints of steps 1 .. ``steps`` (copied from the reference run)."""
    run = c.root / "run"
    (run / "checkpoints").mkdir(parents=True)
    for step in range(1, steps + 1):
        for suffix in (".safetensors", ".json"):
            shutil.copy(c.s.reference / f"step-{step:07d}{suffix}", run / "checkpoints")
    (run / "checkpoints" / "latest.json").write_text(json.dumps({"step": steps, "stem": f"step-{steps:07d}"}))
    cfg = train_config(c.root / "cfg.yaml", c.s.small, checkpoint_every=1, keep_checkpoints=20)
    return run, cfg


@case("train-resume-truncated-latest", "11", "`train --resume` after a truncated last checkpoint: the error names "
      "the earlier checkpoint to pass to --resume PATH")
def _(c: Ctx) -> list:
    run, cfg = _run_with_steps(c, 3)
    latest = run / "checkpoints" / "step-0000003.safetensors"
    latest.write_bytes(latest.read_bytes()[:5000])
    c.run("train", "--config", cfg, "--out", run, "--resume", "--steps", "4", "--quiet")
    return [str(latest), f"--resume {run / 'checkpoints' / 'step-0000002.safetensors'}"]


def _assert_bit_identical(checkpoint: Path, reference: Path) -> None:
    from fsvid2vid.models.checkpoint import read_checkpoint

    got, _ = read_checkpoint(checkpoint)
    want, _ = read_checkpoint(reference)
    assert got.keys() == want.keys()
    for key in want:
        assert got[key].dtype == want[key].dtype and bool((got[key] == want[key]).all()), key


@case("train-resume-earlier-checkpoint", "11", "`train --resume PATH` from the earlier checkpoint: continues, "
      "bit-identical to a straight run; the damaged one is kept as *.abandoned", status=0)
def _(c: Ctx) -> list:
    run, cfg = _run_with_steps(c, 3)
    latest = run / "checkpoints" / "step-0000003.safetensors"
    latest.write_bytes(latest.read_bytes()[:5000])
    _resume_to(c, cfg, run, 4, run / "checkpoints" / "step-0000002.safetensors")
    names = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert "step-0000003.safetensors.abandoned" in names, names
    return []


def _resume_to(c: Ctx, cfg: Path, run: Path, step: int, *checkpoint: Path) -> None:
    """``train --resume [CHECKPOINT] --steps step``, then the checkpoint of ``step`` equals the straight run's, bit
    for bit."""
    c.run("train", "--config", cfg, "--out", run, "--resume", *checkpoint, "--steps", str(step), "--quiet")
    c.changes_expected = True
    if c.result.returncode == 0:
        name = f"step-{step:07d}.safetensors"
        _assert_bit_identical(run / "checkpoints" / name, c.s.reference / name)


def _kill_run(c: Ctx) -> tuple[Path, Path]:
    """(config, run folder) of a run to be killed: a checkpoint every step, all kept."""
    return train_config(c.root / "cfg.yaml", c.s.small, checkpoint_every=1, keep_checkpoints=20), c.root / "run"


# -- issue 14: benchmark data of an older version -------------------------------------------------------------------

@case("train-old-benchmark-version", "14", "`train` on benchmark data of version 1 (dancers alike from every side): "
      "refused, with the `data synth` command that re-renders it")
def _(c: Ctx) -> list:
    data = make_version_1(Path(shutil.copytree(c.s.small, c.root / "data")))
    c.run("train", "--config", train_config(c.root / "cfg.yaml", data), "--out", c.root / "run", "--quiet")
    return [f"{data}: holds benchmark version 1 clips", "`fsvid2vid data synth --task dance --split train --subjects "
            f"2 --clips-per-subject 1 --frames 6 --size 64 --out {data} --overwrite`"]


@case("evaluate-old-benchmark-version", "14", "`evaluate --data` a version-1 test folder: refused before any "
      "generation, with the re-render command")
def _(c: Ctx) -> list:
    data = c.root / "data"
    for clip in (c.s.own, c.s.cross):
        shutil.copytree(clip, data / clip.name)
    make_version_1(data)
    c.run("evaluate", "--checkpoint", c.s.ckpt, "--task", "dance", "--data", data, "--k", "1", "--out",
          c.root / "r.json", "--quiet")
    return [f"{data}: holds benchmark version 1 clips", "--subjects 2 --clips-per-subject 1 --cross-identity 1 "
            f"--frames 12 --size 64 --out {data} --overwrite`"]


@case("synth-into-old-version-folder", "14", "`data synth --overwrite` adding version-2 clips to a version-1 "
      "folder whose clips it would not replace: refused (no mixed versions)")
def _(c: Ctx) -> list:
    data = make_version_1(Path(shutil.copytree(c.s.small, c.root / "data")))
    c.run("data", "synth", "--task", "dance", "--subjects", "1", "--clips-per-subject", "1", "--frames", "6", "--size",
          "64", "--out", data, "--overwrite", "--quiet")
    return [f"{data}: holds benchmark version 1 clips", "another --out"]


# -- resume after kill -9 --------------------------------------------------------------------------------------------

@case("train-kill-9-resume", "resume", "`kill -9` of `train` (whole process group) mid-run, then `--resume`: "
      "bit-identical to a straight run", status=0)
def _(c: Ctx) -> list:
    from fsvid2vid.models.checkpoint import checkpoint_step, latest_checkpoint

    cfg, run = _kill_run(c)
    proc = c.popen("train", "--config", cfg, "--out", run, "--steps", "100000", "--quiet")
    wait_for(lambda: (run / "checkpoints" / "latest.json").is_file(), "a first checkpoint")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    step = checkpoint_step(latest_checkpoint(run))
    if step + 2 > 10:
        pytest.skip(f"the run got to step {step} before the kill (the machine is fast); the reference has 10")
    _resume_to(c, cfg, run, step + 2)
    return []


@case("train-kill-9-in-checkpoint-write", "resume", "`kill -9` of `train` in the middle of writing a checkpoint, "
      "then `--resume`: the last good one is used, bit-identical, the stale temporary removed", status=0)
def _(c: Ctx) -> list:
    from fsvid2vid.models.checkpoint import latest_checkpoint

    cfg, run = _kill_run(c)
    killer = (  # the checkpoint of step 2 dies half-written
        "import os, sys\nimport fsvid2vid.atomic as a\nsave = a.save_file\n"
        "def killed(tensors, path, metadata=None):\n"
        "    if os.path.basename(str(path)).startswith('.step-0000002.'):\n"
        "        open(path, 'wb').write(b'half a checkpoint'); os.kill(os.getpid(), 9)\n"
        "    return save(tensors, path, metadata)\n"
        "a.save_file = killed\nfrom fsvid2vid.cli import main\nsys.exit(main(sys.argv[1:]))\n")
    proc = c.popen("train", "--config", cfg, "--out", run, "--steps", "4", "--quiet",
                   prefix=[sys.executable, "-c", killer])
    assert proc.wait(timeout=300) == -signal.SIGKILL
    assert [p.name for p in (run / "checkpoints").glob(".step-0000002.*")], "killed inside the write"
    assert latest_checkpoint(run).name == "step-0000001.safetensors"
    _resume_to(c, cfg, run, 4)
    assert not list((run / "checkpoints").glob(".step-*")), "the stale temporary is removed on resume"
    return []


# -- the catalogue ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("entry", CASES, ids=[c.id for c in CASES])
def test_catalogue(entry: Case, shared: Shared, tmp_path: Path) -> None:
    c = Ctx(tmp_path, shared)
    needles = entry.fn(c)
    r = c.result
    assert r is not None, "the case ran a command"
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == entry.status, (r.returncode, r.stderr)
    if entry.status != 0:
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("fsvid2vid"), r.stderr
        for needle in needles:
            assert str(needle) in lines[0], (needle, lines[0])
    if not c.changes_expected:
        assert c.after == c.before, sorted(set(c.after) ^ set(c.before)) or "a file's bytes changed"


def test_render_overwrite_replaces_a_clip_folder_and_leaves_it_readable(tmp_path):
    out = tmp_path / "clip"
    assert run_cli(*RENDER, "--out", out).returncode == 0
    first = (out / "rgb" / "000000.png").read_bytes()
    r = run_cli(*RENDER, "--out", out)
    assert_one_line_error(r, str(out), "--overwrite")
    r = run_cli(*[a if a != "3" else "4" for a in RENDER], "--out", out, "--overwrite")
    assert r.returncode == 0, r.stderr
    assert (out / "rgb" / "000000.png").read_bytes() != first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip"]  # no .partial-* or .replaced-* left


def test_every_case_is_listed_in_docs_reliability():
    """docs/reliability.md lists exactly the catalogue's cases (so the list cannot drift from the test)."""
    text = (ROOT / "docs" / "reliability.md").read_text()
    listed = re.findall(r"^\| `([a-z0-9-]+)` \|", text, flags=re.MULTILINE)
    assert sorted(listed) == sorted(c.id for c in CASES)
    assert f"`tests/test_bad_inputs.py`: {len(CASES)} cases." in text
    assert len(listed) == len(set(listed))
    for c in CASES:
        row = next(line for line in text.splitlines() if line.startswith(f"| `{c.id}` |"))
        assert f"| {c.item} | {c.status} |" in row, (c.id, row)
