"""Shared fixtures: small benchmark datasets rendered once per session, and a CLI runner."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: see fsvid2vid.cli.main

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fsvid2vid.data.synth.export import plan_split, write_jobs

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m fsvid2vid ARGS`` and capture its output."""
    return subprocess.run([sys.executable, "-m", "fsvid2vid", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=300)


@pytest.fixture(scope="session")
def dance_dir(tmp_path_factory) -> Path:
    """3 train dance subjects x 2 clips x 12 frames at 64 px, plus one cross-identity clip each."""
    out = tmp_path_factory.mktemp("dance")
    write_jobs(plan_split("dance", "train", 3, 2, 12, 64, cross_identity=1), out, progress=False)
    return out


@pytest.fixture(scope="session")
def street_dir(tmp_path_factory) -> Path:
    """2 train street cities x 1 clip x 6 frames at 64 px."""
    out = tmp_path_factory.mktemp("street")
    write_jobs(plan_split("street", "train", 2, 1, 6, 64), out, progress=False)
    return out


@pytest.fixture(scope="session")
def face_dir(tmp_path_factory) -> Path:
    """2 train face subjects x 2 clips x 6 frames at 64 px."""
    out = tmp_path_factory.mktemp("face")
    write_jobs(plan_split("face", "train", 2, 2, 6, 64), out, progress=False)
    return out


@pytest.fixture(scope="session")
def tiny_dance_model(tmp_path_factory, dance_dir) -> tuple[Path, Path, Path]:
    """(training checkpoint, exported fp16 generator file, dataset) of a tiny dance model trained for 1 step."""
    from fsvid2vid.models.checkpoint import latest_checkpoint
    from fsvid2vid.models.generator_file import export_generator
    from fsvid2vid.train.trainer import train
    from tests.test_train import tiny_config

    run = tmp_path_factory.mktemp("run")
    train(tiny_config("dance", dance_dir, steps=1), run / "r", progress=False)
    ckpt = latest_checkpoint(run / "r")
    return ckpt, export_generator(ckpt, run / "dance-tiny.safetensors"), dance_dir


def shared_or_skip(relative: str) -> Path:
    """A file under ../shared, or skip the test with a message saying why."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"{path} is absent: this test needs the project's shared data folder next to the repository")
    return path


def make_version_1(folder: Path) -> Path:
    """Turn a rendered benchmark folder (or one clip folder) into what version 1 wrote: no ``benchmark_version`` in
    dataset.json and meta.json, no per-frame ``views``."""
    for path in [folder / "dataset.json", *folder.glob("meta.json"), *folder.glob("*/meta.json")]:
        if path.is_file():
            data = json.loads(path.read_text())
            data.pop("benchmark_version", None)
            data.pop("views", None)
            path.write_text(json.dumps(data, indent=1))
    return folder
