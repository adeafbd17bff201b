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


def test_a_png_whose_colour_profile_libpng_warns_about_decodes(tmp_path):
    """Many photos carry an iCCP chunk libpng warns about ("known incorrect sRGB profile", the scikit-image
    astronaut's): a warning on an ancillary chunk is not damage; the pixels read as written. A damaged pixel chunk
    still is."""
    import zlib

    import cv2

    from fsvid2vid.media import read_image_file

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    pixels = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    png = cv2.imencode(".png", pixels)[1].tobytes()
    header_end = 8 + 25  # signature, then the IHDR chunk
    with_profile = png[:header_end] + chunk(b"iCCP", b"ICC Profile\0\0" + zlib.compress(b"\0" * 200)) + png[header_end:]
    photo = tmp_path / "profile.png"
    photo.write_bytes(with_profile)
    np.testing.assert_array_equal(read_image_file(photo), pixels)
    idat = with_profile.index(b"IDAT") - 4
    length = int.from_bytes(with_profile[idat:idat + 4], "big")
    damaged = bytearray(with_profile)
    damaged[idat + 8:idat + 8 + length] = zlib.compress(b"\x07" * 5)[:length].ljust(length, b"\0")  # not 8 rows
    damaged[idat + 8 + length:idat + 12 + length] = zlib.crc32(bytes(damaged[idat + 4:idat + 8 + length])).to_bytes(
        4, "big")
    photo.write_bytes(bytes(damaged))
    with pytest.raises(UserError, match="profile.png"):
        read_image_file(photo)
