"""The version of the procedural benchmark, and the refusal of benchmark data rendered by another version.

Version 1 (absent from ``dataset.json`` and ``meta.json``): dancers look the same from every side. Version 2
(issue 14): dancers turn and show a front and a back that differ, and clips store the subject's per-frame yaw
(``views`` in meta.json). Version 3 (dance only): the part map also labels what the dancer wears beyond the body
(hair as head, a backpack and a skirt as torso), so that the subject's pixels, the example gate's room and the ghost
measure see them as the dancer's. A rendered benchmark dataset records ``benchmark_version`` in its ``dataset.json``
and in every clip's ``meta.json``; training, ``evaluate`` and ``bench`` refuse benchmark clips older than their task's
:func:`oldest_current` with the command that re-renders them (face and street clips of version 2 are what version 3
renders, so they stay). Clips prepared from real footage (``source`` other than ``"synth"``) are no benchmark and are
never refused.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from fsvid2vid.data.layout import ClipMeta, read_index
from fsvid2vid.errors import UserError

#: The benchmark version this fsvid2vid renders (docs/data.md, "Benchmark versions").
BENCHMARK_VERSION = 3
#: What each version changed, for the refusal of older data.
CHANGES = {2: "dancers that turn and differ front and back, per-frame views",
           3: "dance part maps that label the hair, backpack and skirt"}
#: Per task, the first version whose clips are what BENCHMARK_VERSION renders (later versions changed other tasks).
SAME_SINCE = {"dance": 3, "face": 2, "street": 2}


def oldest_current(task: str) -> int:
    """The oldest benchmark version whose ``task`` clips need no re-rendering."""
    return SAME_SINCE.get(task, BENCHMARK_VERSION)


def clip_version(meta: ClipMeta) -> int:
    """The benchmark version of a synth clip (1 when meta.json does not say)."""
    return meta.benchmark_version if meta.benchmark_version is not None else 1


def index_version(index: dict | None) -> int | None:
    """The benchmark version a ``dataset.json`` records (1 when it does not say), None without an index."""
    return None if index is None else int(index.get("benchmark_version", 1))


def rerender_command(root: Path, metas: list[ClipMeta], names: list[str], clip: bool = False) -> str:
    """The command that renders the benchmark clips ``names`` (with ``metas``) of ``root`` again, at the current
    version: ``fsvid2vid data synth`` with their task, split, size and length, subjects and clips per subject; for
    one clip folder (``clip``) ``fsvid2vid data render --like`` it."""
    first = metas[0]
    if clip:
        return (f"fsvid2vid data render --like {root} --subject {first.seeds.get('subject', 0)} --out {root} "
                "--overwrite")
    own = Counter(m.seeds.get("subject") for m, n in zip(metas, names) if "_x" not in n)
    cross = Counter(m.seeds.get("subject") for m, n in zip(metas, names) if "_x" in n)
    # Every subject seen, as a look or as the body and motion a cross-identity clip borrows.
    seen = {m.seeds.get("subject") for m in metas} | {m.seeds.get("shape") for m, n in zip(metas, names) if "_x" in n}
    subjects = max(len(seen), max(cross.values(), default=0) + 1 if cross else 1)
    command = (f"fsvid2vid data synth --task {first.task} --split {first.split} --subjects {subjects} "
               f"--clips-per-subject {max(own.values(), default=1)}")
    if cross:
        command += f" --cross-identity {max(cross.values())}"
    frames = max(m.n_frames for m in metas)
    return f"{command} --frames {frames} --size {first.height} --out {root} --overwrite"


def check_benchmark_version(root: Path, clip_dirs: list[Path], metas: list[ClipMeta]) -> None:
    """Raise a one-line :class:`UserError` when the benchmark clips among ``clip_dirs`` (under ``root``: a dataset
    folder or one clip folder) or the ``dataset.json`` of their folder are of another benchmark version."""
    synth = [(d, m) for d, m in zip(clip_dirs, metas) if m.source == "synth"]
    if not synth:
        return
    clip = Path(root) in {Path(d) for d, _ in synth}
    versions = {clip_version(m) for _, m in synth}
    if not clip:
        try:
            index = read_index(root)
        except UserError:
            index = None  # a file of someone else's: the clips' own meta.json still say their version
        if index is not None:
            versions.add(index_version(index))
    if max(versions) > BENCHMARK_VERSION:
        raise UserError(f"{root}: holds benchmark version {max(versions)} data, newer than this fsvid2vid "
                        f"(version {BENCHMARK_VERSION}); upgrade fsvid2vid")
    needed = max(oldest_current(m.task) for _, m in synth)
    if min(versions) < needed:
        old = min(versions)
        command = rerender_command(root, [m for _, m in synth], [d.name for d, _ in synth], clip)
        changes = "; ".join(CHANGES[v] for v in range(old + 1, needed + 1) if v in CHANGES)
        raise UserError(f"{root}: holds benchmark version {old} clips, rendered before version {needed} ({changes}); "
                        f"re-render it with `{command}`")
