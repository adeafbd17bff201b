"""Parameter counts and CPU timings of the presets, printed as markdown tables (the numbers in docs/model.md).

    python -m fsvid2vid.models.benchmark                   # every preset and task, 2 torch threads
    python -m fsvid2vid.models.benchmark --sizes tiny 128 --tasks dance --train-step

Per frame: G in eval mode under no_grad, batch 1, K = 1, a previous frame given so W/M run, the examples encoded
beforehand (the "encoding" column times that call). Train step (``--train-step``): a proxy of one per-frame training
iteration at ``--train-height`` px: examples encoded with gradients, G forward with a previous frame, image D on real
and fake, hinge losses, D backward and G backward (no VGG or flow losses, no optimizer step). Every time is the
fastest call after a warm-up, over at least ``--repeats`` calls and ``--min-seconds`` seconds, in the fastest of
``--passes`` interleaved passes over all rows (the machine may be shared: the minimum is the least disturbed number).
"""

from __future__ import annotations

import argparse
import sys
import time

import torch
import torch.nn.functional as F

from fsvid2vid.data.semantics import TASKS
from fsvid2vid.models.config import SIZES, ModelConfig, model_preset, task_frame_size
from fsvid2vid.models.discriminators import ImageDiscriminator, TemporalDiscriminator
from fsvid2vid.models.generator import FewShotGenerator


def _inputs(cfg: ModelConfig, batch: int, k: int, height: int, width: int):
    c_s = cfg.generator.semantic_nc
    example_rgb = torch.rand(batch, k, 3, height, width) * 2 - 1
    example_semantic = torch.rand(batch, k, c_s, height, width)
    semantic, prev_semantic = torch.rand(batch, c_s, height, width), torch.rand(batch, 1, c_s, height, width)
    prev_frame = torch.rand(batch, 1, 3, height, width) * 2 - 1
    return example_rgb, example_semantic, semantic, prev_semantic, prev_frame


def _millions(n: int) -> str:
    return f"{n / 1e6:.2f} M"


def fastest(fn, repeats: int, min_seconds: float) -> float:
    """Seconds of the fastest call of ``fn`` after one warm-up call, over at least ``repeats`` calls spread over
    at least ``min_seconds`` (the minimum is the number least disturbed by other processes on a shared machine)."""
    fn()
    times: list[float] = []
    while len(times) < repeats or sum(times) < min_seconds:
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def frame_seconds(cfg: ModelConfig, repeats: int, min_seconds: float) -> tuple[float, float]:
    """(example encoding, one frame) seconds: batch 1, K = 1, eval, no_grad, a previous frame given."""
    model = FewShotGenerator(cfg.generator).eval()
    example_rgb, example_semantic, semantic, prev_semantic, prev_frame = _inputs(cfg, 1, 1, cfg.height, cfg.width)
    with torch.no_grad():
        cache = model.encode_examples(example_rgb, example_semantic)
        encode = fastest(lambda: model.encode_examples(example_rgb, example_semantic), repeats, min_seconds)
        frame = fastest(lambda: model(semantic, prev_frame, prev_semantic, cache), repeats, min_seconds)
    return encode, frame


def train_step_seconds(cfg: ModelConfig, batch: int, height: int, repeats: int, min_seconds: float) -> float:
    """Seconds of the training-iteration proxy described in the module docstring (fastest of the repeats)."""
    _, width = task_frame_size(cfg.task, height)
    generator = FewShotGenerator(cfg.generator).train()
    discriminator = ImageDiscriminator(cfg.discriminator, cfg.generator.semantic_nc).train()
    example_rgb, example_semantic, semantic, prev_semantic, prev_frame = _inputs(cfg, batch, 1, height, width)
    real = torch.rand(batch, 3, height, width) * 2 - 1
    e, s_e = example_rgb[:, 0], example_semantic[:, 0]

    def step() -> None:
        generator.zero_grad(set_to_none=True)
        discriminator.zero_grad(set_to_none=True)
        cache = generator.encode_examples(example_rgb, example_semantic)
        out = generator(semantic, prev_frame, prev_semantic, cache)
        d_real = discriminator(semantic, e, s_e, real)
        d_fake = discriminator(semantic, e, s_e, out.frame.detach())
        d_loss = sum(F.relu(1 - r[-1]).mean() + F.relu(1 + f[-1]).mean() for r, f in zip(d_real, d_fake))
        d_loss.backward()
        g_loss = -sum(f[-1].mean() for f in discriminator(semantic, e, s_e, out.frame))
        g_loss.backward()

    return fastest(step, repeats, min_seconds)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=SIZES)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--passes", type=int, default=3, help="interleaved passes over all rows; the fastest counts")
    parser.add_argument("--repeats", type=int, default=5, help="at least this many timed calls per row and pass")
    parser.add_argument("--min-seconds", type=float, default=1.0, help="and at least this long in total")
    parser.add_argument("--train-step", action="store_true", help="also time the training-iteration proxy")
    parser.add_argument("--train-batch", type=int, default=4)
    parser.add_argument("--train-height", type=int, default=64)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rows = [(size, task) for size in args.sizes for task in args.tasks]

    # Several passes over all rows, so a burst of load from other processes spoils at most one pass of a row.
    best: dict[tuple[str, str, str], float] = {}
    for i in range(args.passes):
        for size, task in rows:
            print(f"pass {i + 1}/{args.passes}: {size} {task}", file=sys.stderr, flush=True)
            cfg = model_preset(task, size)
            times = dict(zip(("encode", "frame"), frame_seconds(cfg, args.repeats, args.min_seconds)))
            if args.train_step:
                times["train"] = train_step_seconds(cfg, args.train_batch, args.train_height, args.repeats,
                                                    args.min_seconds)
            for name, seconds in times.items():
                best[size, task, name] = min(seconds, best.get((size, task, name), float("inf")))

    train_setup = f"; train step: {args.train_height} px, batch {args.train_batch}" if args.train_step else ""
    print(f"torch {torch.__version__}, {args.threads} threads; per frame: batch 1, K = 1, eval, no_grad{train_setup}; "
          f"fastest of {args.passes} passes\n")
    train_column = " train step |" if args.train_step else ""
    print(f"| preset | task | frame (H x W) | G params | of which E_P | D_I + D_V params | encoding | per frame |"
          f"{train_column}")
    print("| --- " * (9 if args.train_step else 8) + "|")
    for size, task in rows:
        cfg = model_preset(task, size)
        counts = FewShotGenerator(cfg.generator).parameter_counts()
        d_params = sum(p.numel() for d in (ImageDiscriminator(cfg.discriminator, cfg.generator.semantic_nc),
                                           TemporalDiscriminator(cfg.discriminator)) for p in d.parameters())
        train = f" {best[size, task, 'train']:.2f} s |" if args.train_step else ""
        print(f"| {size} | {task} | {cfg.height} x {cfg.width} | {_millions(counts['total'])} | "
              f"{_millions(counts.get('E_P', 0))} | {_millions(d_params)} | {best[size, task, 'encode'] * 1e3:.0f} ms "
              f"| {best[size, task, 'frame'] * 1e3:.0f} ms |{train}")


if __name__ == "__main__":
    main()
