"""Contact sheets of generated frames: examples, then semantic | generated | ground truth for a few frames.

One drawing helper, :func:`sheet_row`, serves ``generate --sheet``, the unseen-subject sheet of a training run
(:func:`unseen_sheet`) and the summary sheet of ``evaluate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fsvid2vid.data.encode import semantic_preview, tensor_to_rgb
from fsvid2vid.eval.pairs import cross_pairs, example_paths
from fsvid2vid.infer.synthesizer import Synthesizer, driving_clip, load_examples
from fsvid2vid.media import write_png


def sheet_row(examples: Sequence[np.ndarray], frames: Sequence[Sequence[np.ndarray]], gap: int = 0) -> np.ndarray:
    """One row of a sheet: the example frames side by side, then each group of ``frames`` (e.g. semantic |
    generated | ground truth), groups separated by ``gap`` white columns.

    examples: (H, W, 3) uint8 each; frames: groups of (H, W, 3) uint8 pictures. Returns (H, W_total, 3) uint8.
    """
    cells = list(examples)
    for group in frames:
        if gap and cells:
            cells.append(np.full((group[0].shape[0], gap, 3), 255, np.uint8))
        cells.extend(group)
    return np.concatenate(cells, axis=1)


def stack_rows(rows: Sequence[np.ndarray], gap: int = 0) -> np.ndarray:
    """Rows of possibly different widths stacked vertically, padded on the right (and separated) with white."""
    width = max(r.shape[1] for r in rows)
    out = []
    for i, row in enumerate(rows):
        if i and gap:
            out.append(np.full((gap, width, 3), 255, np.uint8))
        out.append(np.pad(row, ((0, 0), (0, width - row.shape[1]), (0, 0)), constant_values=255))
    return np.concatenate(out, axis=0)


def unseen_sheet(checkpoint: Path, test_root: Path, out: Path, subjects: int = 6, k: int = 2,
                 frames: tuple[int, ...] = (0, 8, 16, 23)) -> Path:
    """Rows: unseen subjects. Columns: K examples, then for each frame in ``frames``: driving semantics | generated |
    ground truth. ``checkpoint``: a training checkpoint or an exported generator file. The clips are paired as in
    :mod:`fsvid2vid.eval.pairs`."""
    synth = Synthesizer.from_checkpoint(checkpoint)
    rows = []
    for pair in cross_pairs(test_root)[:subjects]:
        examples = load_examples(example_paths(pair.own, k), synth.layers)
        groups = [(semantic_preview(r.driving.semantic, synth.layers), r.rgb, r.driving.rgb)
                  for t, r in enumerate(synth.animate(examples, driving_clip(pair.cross))) if t in frames]
        rows.append(sheet_row([tensor_to_rgb(e) for e in examples.rgb], groups))
    return write_png(out, np.concatenate(rows, axis=0))
