"""The catalogue of bad inputs and faults: each case runs a command as a user would and asserts exit status 2, a
single-line message naming the file, no traceback, nothing left behind and nothing of the user's touched."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.conftest import run_cli

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


@pytest.mark.parametrize("out", [".", "..", "mydocs/sub/..", "mydocs", "mydocs/sub", "mydocs/thesis.txt"])
def test_render_overwrite_never_deletes_what_is_not_a_clip(tmp_path, out):
    """``data render --overwrite`` once wiped the working folder (``--out .``) and any folder it was pointed at."""
    work = tmp_path / "work"
    work.mkdir()
    docs = user_folder(work)
    before = snapshot(tmp_path)
    r = run_cli(*RENDER, "--out", out, "--overwrite", cwd=docs if out == ".." else work)
    assert_one_line_error(r)
    assert "clip folder" in r.stderr and "--out" in r.stderr
    assert snapshot(tmp_path) == before


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
    assert stat.S_IMODE(out.stat().st_mode) & 0o055 == 0o055  # group and others may read a shared dataset
