"""The command line: help, the data subcommands end to end, and one-line errors for bad input."""

from __future__ import annotations

import av
import numpy as np
import pytest

from tests.conftest import run_cli


def test_help_for_every_command():
    for args in ([], ["data"], ["data", "synth"], ["data", "render"], ["data", "sheet"], ["data", "preview"]):
        result = run_cli(*args, "--help")
        assert result.returncode == 0, result.stderr
        assert "usage: fsvid2vid" in result.stdout


def test_synth_sheet_preview_and_render(tmp_path):
    out = tmp_path / "face"
    r = run_cli("data", "synth", "--task", "face", "--split", "test", "--subjects", "2", "--clips-per-subject", "1",
                "--frames", "5", "--size", "64", "--out", out, "--quiet")
    assert r.returncode == 0, r.stderr
    clips = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert clips == ["s1000000_c00", "s1000001_c00"] or len(clips) == 2
    r = run_cli("data", "sheet", out, "--out", tmp_path / "sheet.png")
    assert r.returncode == 0, r.stderr
    import cv2

    sheet = cv2.imread(str(tmp_path / "sheet.png"))
    assert sheet is not None and sheet.shape[0] >= 2 * 64
    r = run_cli("data", "preview", out / clips[0], "--out", tmp_path / "clip.mp4")
    assert r.returncode == 0, r.stderr
    with av.open(str(tmp_path / "clip.mp4")) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 5 and frames[0].shape == (64, 128, 3)
    r = run_cli("data", "render", "--subject", "7", "--like", out / clips[0], "--out", tmp_path / "cross")
    assert r.returncode == 0, r.stderr
    same = (tmp_path / "cross" / "sketch" / "000004.png").read_bytes()
    assert same == (out / clips[0] / "sketch" / "000004.png").read_bytes()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--task", "cats"], "invalid choice: 'cats'"),
        (["--task", "dance", "--size", "100"], "multiple of 8"),
        (["--task", "dance", "--size", "1024"], "multiple of 8"),
        (["--task", "dance", "--size", "56"], "multiple of 8"),
        (["--task", "dance", "--subjects", "0"], "at least 1 subject"),
        (["--task", "dance", "--frames", "0"], "at least 1 frame"),
        (["--task", "dance", "--size", "big"], "not an integer"),
    ],
)
def test_bad_synth_arguments_give_one_line_errors(args, message, tmp_path):
    r = run_cli("data", "synth", *args, "--out", tmp_path / "out")
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_unwritable_output_and_existing_output(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    r = run_cli("data", "synth", "--task", "street", "--subjects", "1", "--frames", "1", "--size", "64",
                "--out", blocker / "sub")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "cannot write there" in r.stderr
    out = tmp_path / "out"
    base = ["data", "synth", "--task", "street", "--subjects", "1", "--clips-per-subject", "1", "--frames", "2",
            "--size", "64", "--out", out, "--quiet"]
    assert run_cli(*base).returncode == 0
    before = (out / "s0000000_c00" / "rgb" / "000000.png").read_bytes()
    r = run_cli(*base)
    assert r.returncode == 2 and "already exists" in r.stderr and "--overwrite" in r.stderr
    assert (out / "s0000000_c00" / "rgb" / "000000.png").read_bytes() == before
    assert run_cli(*base, "--overwrite").returncode == 0
    assert not [p for p in out.iterdir() if ".partial-" in p.name]


def test_sheet_of_a_missing_folder(tmp_path):
    r = run_cli("data", "sheet", tmp_path / "nothing", "--out", tmp_path / "s.png")
    assert r.returncode == 2 and "no such dataset folder" in r.stderr
    assert not (tmp_path / "s.png").exists()


def test_python_dash_m_matches_the_console_script():
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("fsvid2vid ")
    assert np.__version__  # numpy imports alongside (no second cv2 / numpy 2 clash)


def test_the_command_line_takes_its_defaults_from_the_functions():
    """One source of defaults: an option left out gets the function's default, and --help shows that value."""
    import inspect

    from fsvid2vid.arguments import fill_defaults as _fill_defaults
    from fsvid2vid.cli import build_parser
    from fsvid2vid.eval.evaluate import evaluate
    from fsvid2vid.eval.training import train_evaluator

    args = build_parser().parse_args(["evaluate", "--checkpoint", "m.safetensors", "--task", "dance", "--split",
                                      "test", "--out", "r.json"])
    _fill_defaults(args)
    defaults = inspect.signature(evaluate).parameters
    assert args.frames == defaults["frames"].default and args.max_clips == defaults["max_clips"].default
    assert args.k == list(defaults["k_values"].default) and args.precision == defaults["precision"].default
    args = build_parser().parse_args(["evaluate", "--checkpoint", "m", "--task", "dance", "--split", "test",
                                      "--out", "r.json", "--frames", "3"])
    _fill_defaults(args)
    assert args.frames == 3
    steps = inspect.signature(train_evaluator).parameters["steps"].default
    assert f"(default {steps})" in run_cli("evaluator", "train", "--help").stdout
