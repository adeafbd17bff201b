"""Video and PNG writing: round-trips, odd sizes, atomic writes and errors."""

from __future__ import annotations

import numpy as np
import pytest

from fsvid2vid.errors import UserError
from fsvid2vid.media import read_video, write_mp4, write_png


def test_mp4_round_trip_keeps_frames_and_colours(tmp_path):
    frames = [np.full((48, 64, 3), (40 * i, 100, 200 - 20 * i), np.uint8) for i in range(6)]
    n = write_mp4(tmp_path / "v.mp4", iter(frames), fps=15)
    back = list(read_video(tmp_path / "v.mp4"))
    assert n == len(back) == 6
    for a, b in zip(frames, back):
        assert b.shape == a.shape
        assert np.abs(a.astype(int) - b.astype(int)).mean() < 4


def test_odd_sizes_are_padded(tmp_path):
    write_mp4(tmp_path / "v.mp4", [np.zeros((33, 45, 3), np.uint8)] * 2, fps=10)
    assert next(iter(read_video(tmp_path / "v.mp4"))).shape == (34, 46, 3)


def test_failed_write_leaves_no_file(tmp_path):
    def frames():
        yield np.zeros((16, 16, 3), np.uint8)
        raise RuntimeError("generator died")

    with pytest.raises(RuntimeError):
        write_mp4(tmp_path / "v.mp4", frames(), fps=10)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(UserError, match="no frames"):
        write_mp4(tmp_path / "v.mp4", [], fps=10)
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_is_a_one_line_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        write_png(tmp_path / "nope" / "a.png", np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(UserError, match="does not exist"):
        write_mp4(tmp_path / "nope" / "a.mp4", [np.zeros((4, 4, 3), np.uint8)], fps=1)


def test_unreadable_video(tmp_path):
    (tmp_path / "bad.mp4").write_bytes(b"garbage")
    with pytest.raises(UserError, match="not a readable video"):
        list(read_video(tmp_path / "bad.mp4"))
