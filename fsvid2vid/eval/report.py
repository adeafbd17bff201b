"""Pictures of a training run: loss curves from its TensorBoard log, and a contact sheet of unseen test subjects.

    python -m fsvid2vid.eval.report runs/dance-64 --test data/dance-test-64 --out docs/img/dance-64

writes ``<out>-losses.png`` and ``<out>-unseen.png``. The sheet uses the test split's cross-identity clips
(``s<A>_x<B>_c00``: subject A performing subject B's motion): K examples are taken from A's own clip, the semantic
maps of the cross clip drive the generator, and the cross clip's RGB frames are the ground truth.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from fsvid2vid.atomic import atomic_path
from fsvid2vid.data.encode import semantic_preview, tensor_to_rgb
from fsvid2vid.data.preview import sheet_row
from fsvid2vid.eval.pairs import cross_pairs, example_paths
from fsvid2vid.infer.synthesizer import Synthesizer, driving_clip, load_examples
from fsvid2vid.media import write_png
from fsvid2vid.models.checkpoint import latest_checkpoint

__all__ = ["plot_losses", "read_scalars", "unseen_sheet"]

MAIN_CURVES = ("G/l1", "G/gan", "G/feature_matching", "G/temporal_gan", "G/flow", "G/warp", "G/mask",
               "D/image_real", "D/image_fake", "D/temporal_real", "D/temporal_fake", "T", "time/step_seconds")


def read_scalars(run_dir: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """tag -> (steps, values) from a run's TensorBoard event files."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(Path(run_dir) / "tb"), size_guidance={"scalars": 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags()["scalars"]:
        events = acc.Scalars(tag)
        out[tag] = (np.array([e.step for e in events]), np.array([e.value for e in events]))
    return out


def plot_losses(run_dir: Path, out: Path, smooth: int = 20) -> Path:
    """A grid of the main loss curves (moving average over ``smooth`` logged points)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scalars = read_scalars(run_dir)
    tags = [t for t in MAIN_CURVES if t in scalars]
    cols = 4
    rows = -(-len(tags) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    for ax, tag in zip(axes.flat, tags):
        steps, values = scalars[tag]
        ax.plot(steps, values, color="0.8", linewidth=0.6)
        if len(values) >= smooth:
            kernel = np.ones(smooth) / smooth
            ax.plot(steps[smooth - 1:], np.convolve(values, kernel, mode="valid"), color="C0", linewidth=1.2)
        ax.set_title(tag, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(tags):]:
        ax.axis("off")
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)
    return out


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fsvid2vid.eval.report", description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="run folder")
    parser.add_argument("--test", type=Path, help="test-split dataset folder rendered with --cross-identity 1")
    parser.add_argument("--out", type=Path, required=True, help="output prefix")
    args = parser.parse_args(argv)
    print(plot_losses(args.run, Path(f"{args.out}-losses.png")))
    if args.test is not None:
        print(unseen_sheet(latest_checkpoint(args.run), args.test, Path(f"{args.out}-unseen.png")))


if __name__ == "__main__":
    main()
