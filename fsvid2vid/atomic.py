"""Atomic file writes: every output is written under a temporary name in its own folder and renamed when complete, so
an interrupted or failed write never leaves a half-written file or replaces a good one.

    with atomic_path(out) as tmp:       # any writer that takes a path
        fig.savefig(tmp)
    write_json(out, data)               # JSON
    write_safetensors(out, tensors, metadata, half=True)
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from fsvid2vid.errors import UserError


def temporary_sibling(path: Path | str) -> Path:
    """A new empty file next to ``path`` with the same suffix and the usual permissions (umask applied).

    One-line :class:`UserError` when the folder is missing or not writable.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise UserError(f"{path}: its folder {path.parent} does not exist; create it or choose another output path")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    except PermissionError:
        raise UserError(f"{path}: its folder is not writable; choose another output path") from None
    os.close(fd)
    os.chmod(tmp, _file_mode())  # mkstemp creates 0600
    return Path(tmp)


def _process_umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _file_mode() -> int:
    """The mode an ordinary new file gets: 0o666 less the process umask."""
    return 0o666 & ~_process_umask()


def dir_mode() -> int:
    """The mode an ordinary new folder gets: 0o777 less the process umask (``mkdtemp`` makes 0700 ones)."""
    return 0o777 & ~_process_umask()


@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path to write ``path``'s content to; renamed onto ``path`` only if the block succeeds."""
    tmp = temporary_sibling(path)
    try:
        yield tmp
        os.chmod(tmp, _file_mode())  # some writers (safetensors) replace the file and leave it 0600
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: Path | str, data: Any, indent: int | None = 1, allow_nan: bool = True) -> Path:
    """Write ``data`` as JSON atomically (``allow_nan=False``: refuse NaN and infinity, for strict readers)."""
    text = json.dumps(data, indent=indent, allow_nan=allow_nan)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def write_safetensors(path: Path | str, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None,
                      half: bool = False) -> Path:
    """Write CPU copies of ``tensors`` (floating ones as fp16 when ``half``) with string ``metadata``, atomically."""
    state = {k: v.detach().cpu() for k, v in tensors.items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    with atomic_path(path) as tmp:
        save_file({k: v.contiguous() for k, v in state.items()}, str(tmp), metadata=metadata)
    return Path(path)
