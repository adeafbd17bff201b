"""Streaming benchmark: time per frame and peak memory over a long driving stream.

    python -m fsvid2vid.infer.benchmark --checkpoint models/dance-64.safetensors --clip CLIP --frames 2000

The driving clip is repeated to ``--frames`` frames; examples are the clip's first and middle frames. Peak resident
memory (ru_maxrss) is printed after 100 frames and at the end: a flat stream keeps them equal.
"""

from __future__ import annotations

import argparse
import itertools
import resource
import time
from pathlib import Path

import torch

from fsvid2vid.data.layout import RGB_DIR, frame_name, read_meta
from fsvid2vid.infer.synthesizer import Synthesizer, driving_clip, load_examples


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--clip", type=Path, required=True, help="driving clip folder (also the examples' clip)")
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    synth = Synthesizer.from_checkpoint(args.checkpoint)
    n = read_meta(args.clip).n_frames
    examples = load_examples([args.clip / RGB_DIR / frame_name(0), args.clip / RGB_DIR / frame_name(n // 2)],
                             synth.layers)
    frames = list(driving_clip(args.clip))
    stream = itertools.islice(itertools.cycle(frames), args.frames)
    start, rss_100 = time.perf_counter(), None
    for i, _ in enumerate(synth.animate(examples, stream), start=1):
        if i == 100:
            rss_100 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            start_100 = time.perf_counter()
    end = time.perf_counter()
    rss_end = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    h, w = synth.config.height, synth.config.width
    print(f"{args.frames} frames of {w}x{h} ({synth.config.task}, K=2, {args.threads} threads, torch "
          f"{torch.__version__}): {(end - start) / args.frames * 1e3:.1f} ms/frame overall, "
          f"{(end - start_100) / max(1, args.frames - 100) * 1e3:.1f} ms/frame after frame 100; peak RSS "
          f"{rss_100:.0f} MiB after 100 frames, {rss_end:.0f} MiB after {args.frames}")


if __name__ == "__main__":
    main()
