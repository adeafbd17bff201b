"""The model files the app offers: the bundled ``models/*.safetensors`` plus any given with ``--model``, grouped by
task. Only each file's safetensors header is read (task, frame size, training steps, whether it has attention over
examples); the weights are loaded by ``generate`` when a job runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from fsvid2vid.atomic import read_safetensors_metadata
from fsvid2vid.data.semantics import TASKS
from fsvid2vid.errors import UserError
from fsvid2vid.models import ModelConfig
from fsvid2vid.models.generator_file import FORMAT

#: Where the bundled generator files live (the repository's models/ folder; absent in a non-editable install).
BUNDLED_DIR = Path(__file__).resolve().parents[2] / "models"


@dataclass(frozen=True)
class ModelEntry:
    """One generator file on offer."""

    name: str  # the file name without .safetensors; unique in a catalogue
    path: Path
    task: str
    height: int
    width: int
    steps: int  # training steps of the generator (all runs together when the header says)
    attention: bool  # attention over the examples: the app can show the attention maps

    @property
    def label(self) -> str:
        """What the page shows for it."""
        return f"{self.name} ({self.width}x{self.height}, {self.steps:,} steps)"


def read_entry(path: Path | str) -> ModelEntry:
    """The :class:`ModelEntry` of an exported generator file, from its header alone; a one-line error otherwise."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such model file")
    header = read_safetensors_metadata(path)
    if header.get("format") != FORMAT:
        raise UserError(f"{path}: not an exported fsvid2vid generator; export a training checkpoint with "
                        "`fsvid2vid export --checkpoint CKPT --out FILE` and give that file")
    try:
        config = ModelConfig.from_dict(json.loads(header["config"]))
        info = json.loads(header.get("info") or "{}")
        steps = int(info.get("total_steps", header.get("step", 0)))
    except (KeyError, ValueError, TypeError) as exc:
        raise UserError(f"{path}: damaged generator header ({exc}); export it again") from None
    g = config.generator
    return ModelEntry(path.stem, path, config.task, config.height, config.width, steps,
                      g.conditioning == "ours" and bool(g.attention))


class Catalog:
    """Model entries by task (tasks in the benchmark's order, models smallest frame first)."""

    def __init__(self, entries: list[ModelEntry]):
        if not entries:
            raise UserError(f"no model files: {BUNDLED_DIR} holds no *.safetensors; give one with --model FILE")
        names: dict[str, Path] = {}
        for entry in entries:
            if entry.name in names and names[entry.name] != entry.path:
                raise UserError(f"{entry.path}: has the same name as {names[entry.name]}; rename one of them")
            names[entry.name] = entry.path
        unique = {e.name: e for e in entries}.values()
        self.entries = sorted(unique, key=lambda e: (TASKS.index(e.task), e.height, e.name))

    @classmethod
    def find(cls, extra: list[Path] | None = None, bundled: Path | None = BUNDLED_DIR) -> Catalog:
        """The bundled files (``bundled/*.safetensors``; evaluators in its sub-folders are not generators) and
        ``extra``."""
        paths = sorted(bundled.glob("*.safetensors")) if bundled is not None and bundled.is_dir() else []
        return cls([read_entry(p) for p in [*paths, *(extra or [])]])

    @property
    def tasks(self) -> list[str]:
        """Tasks with at least one model."""
        return list(dict.fromkeys(e.task for e in self.entries))

    def of_task(self, task: str) -> list[ModelEntry]:
        return [e for e in self.entries if e.task == task]

    def get(self, name: str) -> ModelEntry:
        """The entry called ``name``; a one-line error for any other value (the page's choices come from here)."""
        for entry in self.entries:
            if entry.name == name:
                return entry
        raise UserError(f"unknown model {name!r}: choose one of {', '.join(e.name for e in self.entries)}")

    def fastest(self, task: str) -> ModelEntry:
        """The model of ``task`` with the smallest frames (the quickest example run)."""
        return self.of_task(task)[0]
