"""The bundled models (models/<task>-<size>.safetensors): each loads as what its name says, animates an unseen
subject of its task at its frame size, and refuses another task's driving clip with a one-line error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fsvid2vid.cli import main
from fsvid2vid.infer.synthesizer import Synthesizer, driving_clip, load_examples

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = sorted((ROOT / "models").glob("*.safetensors"))
TASKS = ("dance", "face", "street")


def _render(task: str, size: int, out: Path) -> tuple[Path, Path]:
    """Two unseen (test-split) subjects of ``task`` at ``size``, 3 frames: (the first's own clip, it with the
    second's motion)."""
    assert main(["data", "synth", "--task", task, "--split", "test", "--subjects", "2", "--clips-per-subject", "1",
                 "--cross-identity", "1", "--frames", "3", "--size", str(size), "--out", str(out), "--quiet"]) == 0
    own = sorted(p for p in out.iterdir() if p.is_dir() and "_x" not in p.name)[0]
    cross = next(out.glob(own.name.removesuffix("_c00") + "_x*_c00"))
    return own, cross


def test_every_task_of_the_paper_has_a_bundled_model():
    assert {p.name.split("-")[0] for p in BUNDLED} >= set(TASKS), [p.name for p in BUNDLED]


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_bundled_model_is_what_its_name_says_and_animates_an_unseen_subject(path, tmp_path):
    task, size = path.stem.split("-")
    synth = Synthesizer.from_checkpoint(path, precision="fp32")
    assert synth.config.task == task and synth.config.height == int(size)
    own, cross = _render(task, int(size), tmp_path / task)
    examples = load_examples([own / "rgb" / "000000.png", own / "rgb" / "000002.png"], synth.layers)
    frames = [r.rgb for r in synth.animate(examples, driving_clip(cross, 2))]
    assert len(frames) == 2
    for frame in frames:
        assert frame.shape == (synth.config.height, synth.config.width, 3) and frame.dtype == np.uint8
        assert frame.std() > 5  # a picture, not a flat colour


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_bundled_model_given_another_tasks_driving_clip_says_so_in_one_line(path, tmp_path, capsys):
    task, size = path.stem.split("-")
    other = TASKS[(TASKS.index(task) + 1) % len(TASKS)]
    own, _ = _render(task, int(size), tmp_path / task)
    _, foreign = _render(other, int(size), tmp_path / other)
    out = tmp_path / "out.mp4"
    status = main(["generate", "--checkpoint", str(path), "--examples", str(own / "rgb" / "000000.png"),
                   "--driving", str(foreign), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert status == 2 and not out.exists()
    assert len(err.splitlines()) == 1 and f"is a {other} clip" in err and f"is a {task} model" in err, err
