"""Atomic file writes: every output is written under a temporary name in its own folder and renamed when complete, so
an interrupted or failed write never leaves a half-written file or replaces a good one.

    with atomic_path(out) as tmp:       # any writer that takes a path
        fig.savefig(tmp)
    write_json(out, data)               # JSON
    write_safetensors(out, tensors, metadata, half=True)
    with FolderOfNewFiles(frames_dir, "--frames-dir", overwrite) as folder:   # files that appear together
        write_png(folder.path("000000.png"), image)

A failed write (a full disk, a read-only file system) is a one-line :class:`UserError` naming the file.
:func:`check_output` is the rule of ``--overwrite``: it replaces only a regular file of the kind the command writes
(an mp4, a PNG, a JSON object, an fsvid2vid safetensors file), never a folder, a link or anything else.
:func:`read_safetensors` reads what :func:`write_safetensors` wrote, checking its SHA-256 and that every floating
tensor is finite; nothing is ever unpickled.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fsvid2vid.errors import UserError

if TYPE_CHECKING:  # torch is imported where tensors are written or read: the data commands start without it
    import torch

#: A safetensors header larger than this is refused (a damaged length field must not allocate gigabytes).
MAX_HEADER_BYTES = 100 * 2**20
_NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)


def os_error_message(exc: OSError) -> str:
    """The operating system's words for ``exc`` ("No space left on device"), without the file name."""
    return exc.strerror or str(exc) or type(exc).__name__


def write_failure(path: Path | str, exc: OSError) -> UserError:
    """The one-line error of a failed write of ``path``."""
    if exc.errno in _NOT_WRITABLE:
        return UserError(f"{path}: its folder is not writable ({os_error_message(exc)}); choose another output path")
    return UserError(f"{path}: could not be written ({os_error_message(exc)}); free some space or choose another "
                     "output path")


def temporary_sibling(path: Path | str) -> Path:
    """A new empty file next to ``path`` with the same suffix and the usual permissions (umask applied).

    One-line :class:`UserError` when the folder is missing or not writable.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise UserError(f"{path}: its folder {path.parent} does not exist; create it or choose another output path")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    except OSError as exc:
        raise write_failure(path, exc) from None
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
    """Yield a temporary path to write ``path``'s content to; renamed onto ``path`` only if the block succeeds.

    An ``OSError`` inside the block (the disk filled up) becomes a one-line :class:`UserError` naming ``path``.
    """
    tmp = temporary_sibling(path)
    try:
        yield tmp
        os.chmod(tmp, _file_mode())  # some writers (safetensors) replace the file and leave it 0600
        os.replace(tmp, path)
    except OSError as exc:
        raise write_failure(path, exc) from None
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: Path | str, data: Any, indent: int | None = 1, allow_nan: bool = True) -> Path:
    """Write ``data`` as JSON atomically (``allow_nan=False``: refuse NaN and infinity, for strict readers)."""
    text = json.dumps(data, indent=indent, allow_nan=allow_nan)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def save_file(tensors: dict[str, torch.Tensor], path: Path | str, metadata: dict[str, str] | None = None) -> None:
    """Write a safetensors file whose header metadata also holds ``sha256``, the SHA-256 of its data section."""
    from safetensors.torch import save

    raw = save(tensors, metadata=metadata)
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    body = memoryview(raw)[8 + n:]
    header.setdefault("__metadata__", {})["sha256"] = hashlib.sha256(body).hexdigest()
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data section stays 8-byte aligned, as safetensors writes it
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        f.write(body)


def write_safetensors(path: Path | str, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None,
                      half: bool = False) -> Path:
    """Write CPU copies of ``tensors`` (floating ones as fp16 when ``half``) with string ``metadata`` and a checksum,
    atomically."""
    state = {k: v.detach().cpu() for k, v in tensors.items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    with atomic_path(path) as tmp:
        save_file({k: v.contiguous() for k, v in state.items()}, str(tmp), metadata=metadata)
    return Path(path)


def _safetensors_header(data: bytes, path: Path, hint: str = "use another file") -> tuple[dict[str, Any], int]:
    if len(data) < 8:
        raise UserError(f"{path}: truncated or not a safetensors file ({len(data)} bytes); {hint}")
    n = int.from_bytes(data[:8], "little")
    if n > MAX_HEADER_BYTES or 8 + n > len(data):
        raise UserError(f"{path}: truncated or not a safetensors file (a header of {n:,} bytes in a file of "
                        f"{len(data):,}); {hint}")
    try:
        header = json.loads(data[8:8 + n])
    except ValueError:
        raise UserError(f"{path}: truncated or not a safetensors file (its header is not JSON); {hint}") from None
    if not isinstance(header, dict):
        raise UserError(f"{path}: not a safetensors file (its header is not a JSON object); {hint}")
    return header, n


def read_safetensors_metadata(path: Path | str) -> dict[str, str]:
    """The header metadata of a safetensors file, reading only its header."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            start = f.read(8)
            n = int.from_bytes(start, "little") if len(start) == 8 else 0
            data = start + f.read(min(n, MAX_HEADER_BYTES + 1))
    except OSError as exc:
        raise UserError(f"{path}: cannot be read ({os_error_message(exc)})") from None
    header, _ = _safetensors_header(data, path)
    metadata = header.get("__metadata__") or {}
    return metadata if isinstance(metadata, dict) else {}


def read_safetensors(path: Path | str, hint: str = "use another file", finite: bool = True
                     ) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """(tensors, header metadata) of a safetensors file, with one-line errors (ending with ``hint``) for a missing,
    truncated or damaged file (SHA-256 mismatch, when the file records one) and, with ``finite``, for NaN or
    infinite values in any floating tensor."""
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load

    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: no such file; {hint}") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot be read ({os_error_message(exc)}); {hint}") from None
    header, n = _safetensors_header(data, path, hint)
    metadata = header.get("__metadata__") or {}
    expected = metadata.get("sha256") if isinstance(metadata, dict) else None
    if expected and hashlib.sha256(memoryview(data)[8 + n:]).hexdigest() != expected:
        raise UserError(f"{path}: damaged (its data do not match the checksum it was written with); {hint}")
    try:
        tensors = load(data)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise UserError(f"{path}: truncated or not a safetensors file ({exc}); {hint}") from None
    if finite:
        for key, value in tensors.items():
            if value.is_floating_point() and not bool(torch.isfinite(value).all()):
                raise UserError(f"{path}: holds NaN or infinite values (in {key}); {hint}")
    return tensors, metadata if isinstance(metadata, dict) else {}


def human_bytes(n: float) -> str:
    """1536 -> '1.5 KB' (powers of 1000, as disk tools print them)."""
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def check_free_space(folder: Path | str, needed: int, what: str) -> None:
    """One-line :class:`UserError` when the file system of ``folder`` (or its nearest existing parent) has less than
    ``needed`` bytes free for ``what``."""
    target = existing = Path(folder)
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        free = shutil.disk_usage(existing).free
    except OSError:
        return
    if needed > free:
        raise UserError(f"{target}: about {human_bytes(needed)} needed for {what}, but only {human_bytes(free)} free "
                        "there; free some space or write elsewhere (--no-space-check skips this estimate)")


# -- what --overwrite may replace ---------------------------------------------------------------------------------

def _is_our_kind(path: Path) -> bool:
    """Whether ``path`` is a regular file of the kind fsvid2vid writes under its suffix."""
    suffix = path.suffix.lower()
    try:
        with open(path, "rb") as f:
            head = f.read(16)
        if suffix == ".mp4":
            return head[4:8] == b"ftyp"
        if suffix == ".png":
            return head.startswith(b"\x89PNG\r\n\x1a\n")
        if suffix == ".json":
            return isinstance(json.loads(path.read_text()), dict)
        if suffix == ".safetensors":
            return str(read_safetensors_metadata(path).get("format", "")).startswith("fsvid2vid-")
    except (OSError, ValueError, UserError):
        return False
    return False


def check_output(path: Path | str, overwrite: bool, option: str = "--out") -> Path:
    """Refuse, with a one-line :class:`UserError`, to write ``path`` when its folder is missing, when it exists and
    ``overwrite`` is off, or when it exists and is not a regular file of the kind this project writes there (an mp4,
    a PNG, a JSON object, an fsvid2vid safetensors file): ``--overwrite`` never replaces anything else."""
    path = Path(path)
    if not path.parent.is_dir():
        raise UserError(f"{path}: its folder {path.parent} does not exist; create it or choose another {option}")
    if path.exists() or path.is_symlink():
        if not overwrite:
            raise UserError(f"{path}: already exists; pass --overwrite or choose another {option}")
        if path.is_symlink() or not path.is_file() or not _is_our_kind(path):
            what = "a folder" if path.is_dir() and not path.is_symlink() else \
                f"not a {path.suffix or 'suffix-less'} file that fsvid2vid writes"
            raise UserError(f"{path}: exists and is {what}; --overwrite replaces only those, so choose another "
                            f"{option}")
    return path


class FolderOfNewFiles:
    """Files that appear in ``folder`` together or not at all: written into a hidden temporary folder first (inside
    ``folder`` when it exists, else in its nearest existing parent) and moved in by a successful ``with`` block; a
    failed one removes them. :meth:`check_names` refuses, before anything is written, names that exist already
    (without ``overwrite``) or that are not files of the kind this project writes (see :func:`check_output`)."""

    def __init__(self, folder: Path | str, option: str, overwrite: bool = False):
        self.folder, self.option, self.overwrite = Path(folder), option, overwrite
        if self.folder.is_symlink() or (self.folder.exists() and not self.folder.is_dir()):
            raise UserError(f"{self.folder}: exists and is not a folder; choose another {option}")
        anchor = self.folder
        while not anchor.is_dir():
            if anchor.exists() or anchor == anchor.parent:
                raise UserError(f"{self.folder}: cannot be created ({anchor} is not a folder); choose another "
                                f"{option}")
            anchor = anchor.parent
        try:
            self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.folder.name or 'out'}.partial-", dir=anchor))
        except OSError as exc:
            raise UserError(f"{self.folder}: cannot write there ({os_error_message(exc)}); choose another "
                            f"{option}") from None
        os.chmod(self.tmp, dir_mode())

    def check_names(self, names: list[str]) -> None:
        for name in names:
            target = self.folder / name
            if target.exists() or target.is_symlink():
                check_output(target, self.overwrite, self.option)

    def path(self, name: str) -> Path:
        """Where to write the file ``name`` (a temporary place until the block ends)."""
        return self.tmp / name

    def __enter__(self) -> FolderOfNewFiles:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.folder.mkdir(parents=True, exist_ok=True)
                for item in sorted(self.tmp.iterdir()):
                    os.replace(item, self.folder / item.name)
        except OSError as exc:
            raise UserError(f"{self.folder}: could not be written ({os_error_message(exc)}); choose another "
                            f"{self.option}") from None
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
