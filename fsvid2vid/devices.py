"""The ``--device`` / ``run.device`` value: checked once, with a one-line error for a name torch does not know, a
CUDA device on a torch without CUDA, or a device index the machine does not have; and torch's CPU thread count for
a block of work."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

import torch

from fsvid2vid.errors import UserError


def resolve_device(name: str, option: str = "--device") -> torch.device:
    """"auto" picks CUDA when available; under torchrun each process takes cuda:LOCAL_RANK."""
    name = str(name)
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError, TypeError):
        raise UserError(f"{option} {name!r}: not a device; use cpu, cuda, cuda:N or auto") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UserError(f"{option} {name!r}: this torch sees no CUDA device (a CPU-only build, or no GPU); use "
                            "--device cpu")
        if device.index is None:
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        if device.index >= torch.cuda.device_count():
            raise UserError(f"{option} {name!r}: this machine has {torch.cuda.device_count()} CUDA device(s) "
                            f"(cuda:0 .. cuda:{torch.cuda.device_count() - 1})")
    elif device.type == "mps":
        if not torch.backends.mps.is_available():
            raise UserError(f"{option} {name!r}: this torch has no MPS device; use --device cpu")
    elif device.type != "cpu":
        raise UserError(f"{option} {name!r}: fsvid2vid runs on cpu or cuda devices, not {device.type}")
    return device


_single_threaded = {"depth": 0, "before": 1}
_single_threaded_lock = threading.Lock()


@contextlib.contextmanager
def single_threaded_ops() -> Iterator[None]:
    """Run the block with torch's intra-op thread count at 1 (process-wide). Blocks may overlap (several streams,
    in threads or interleaved): the count the first one found is restored when the last one ends."""
    with _single_threaded_lock:
        if _single_threaded["depth"] == 0:
            _single_threaded["before"] = torch.get_num_threads()
            torch.set_num_threads(1)
        _single_threaded["depth"] += 1
    try:
        yield
    finally:
        with _single_threaded_lock:
            _single_threaded["depth"] -= 1
            if _single_threaded["depth"] == 0:
                torch.set_num_threads(_single_threaded["before"])


def cpu_threads() -> int:
    """torch's intra-op thread count as set outside any :func:`single_threaded_ops` block."""
    with _single_threaded_lock:
        return _single_threaded["before"] if _single_threaded["depth"] else torch.get_num_threads()
