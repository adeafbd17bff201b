"""Atomic writes: nothing half-written on failure, the usual permissions on success."""

from __future__ import annotations

import json
import os
import stat

import pytest
import torch
from safetensors.torch import load_file

from fsvid2vid.atomic import atomic_path, write_json, write_safetensors
from fsvid2vid.errors import UserError


def _mode(path) -> int:
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~umask
    return umask


def test_a_failed_write_leaves_neither_the_file_nor_a_temporary(tmp_path):
    out = tmp_path / "x.json"
    out.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(out) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert out.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["x.json"]


def test_json_and_safetensors_round_trip_with_the_usual_permissions(tmp_path):
    write_json(tmp_path / "a.json", {"x": [1, 2]})
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": [1, 2]}
    _mode(tmp_path / "a.json")
    with pytest.raises(ValueError):
        write_json(tmp_path / "b.json", {"x": float("nan")}, allow_nan=False)
    assert not (tmp_path / "b.json").exists()
    tensors = {"w": torch.randn(3, 2), "i": torch.arange(4)}
    write_safetensors(tmp_path / "m.safetensors", tensors, {"k": "v"}, half=True)
    back = load_file(tmp_path / "m.safetensors")
    assert back["w"].dtype == torch.float16 and back["i"].dtype == torch.int64
    torch.testing.assert_close(back["w"].float(), tensors["w"], atol=1e-2, rtol=1e-2)
    _mode(tmp_path / "m.safetensors")  # safetensors replaces the file; the mode must still be 0o666 - umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "m.safetensors"]


def test_a_missing_folder_is_a_one_line_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        write_json(tmp_path / "nope" / "a.json", {})
