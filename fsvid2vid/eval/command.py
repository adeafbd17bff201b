"""The ``fsvid2vid evaluate`` and ``fsvid2vid evaluator train|score`` command line: arguments, then one call of the
evaluation functions (docs/evaluation.md).

Imports nothing heavy at module level: ``fsvid2vid --help`` builds this parser too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fsvid2vid.arguments import (
    Parser,
    add_generator_set_option,
    add_model_run_options,
    default_from,
    generator_overrides,
    int_arg,
)


def add_commands(commands: argparse._SubParsersAction, handlers: dict) -> None:
    """Register ``evaluate`` and ``evaluator train|score`` on the top-level subcommands, and their functions in
    ``handlers`` (the command line's table of (command, action) -> function)."""
    from fsvid2vid.data.semantics import TASKS

    ev = commands.add_parser(
        "evaluate", help="score a model on unseen subjects driven by other subjects' motion",
        description="Evaluate a model on the benchmark's unseen test subjects, each driven by another subject's motion "
                    "(cross-identity clips, whose frames are the ground truth): pose / landmark error or "
                    "segmentation accuracy through the project's evaluator networks (also on the ground truth, as "
                    "the floor / ceiling), FID in the evaluator's feature space (and Inception FID with "
                    "--inception), L1 / PSNR / SSIM against the ground truth, and the warping error. Writes a JSON "
                    "report and a PNG summary sheet. See docs/evaluation.md.")
    ev.add_argument("--checkpoint", required=True, type=Path, help="generator file or training checkpoint")
    ev.add_argument("--task", required=True, choices=TASKS, help="must match the checkpoint's task")
    source = ev.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, metavar="DIR",
                        help="test-split dataset folder rendered with --cross-identity 1 (or more)")
    source.add_argument("--split", choices=("test",),
                        help="render the test split's cross-identity clips at the model's size into --cache")
    default_from(ev, ev.add_argument("--cache", type=Path, help="where --split test renders its clips"),
                 "fsvid2vid.eval.evaluate:evaluate")
    default_from(ev, ev.add_argument("--k", type=int_arg, nargs="+", help="numbers of example frames"),
                 "fsvid2vid.eval.evaluate:evaluate", "k_values")
    ev.add_argument("--out", required=True, type=Path, help="JSON report to write; the sheet goes next to it "
                    "(<out>.png)")
    ev.add_argument("--evaluator", type=Path, help="evaluator file (default models/evaluators/<task>-64.safetensors)")
    ev.add_argument("--inception", type=Path, metavar="PATH",
                    help="TorchScript Inception-v3 feature extractor; adds the standard FID (docs/evaluation.md)")
    for option, text in (("--max-clips", "unseen subjects to evaluate"), ("--frames", "driving frames per clip")):
        default_from(ev, ev.add_argument(option, type=int_arg, help=text), "fsvid2vid.eval.evaluate:evaluate")
    ev.add_argument("--score-height", type=int_arg, metavar="H",
                    help="also score the pixels on frames area-downsampled to this height (e.g. 64: a 128 px model "
                         "on the grid of a 64 px one); the report's 'rescaled' entry per K")
    add_generator_set_option(ev, "this evaluation")
    add_model_run_options(ev, "fsvid2vid.eval.evaluate:evaluate", "an existing report")

    evaluator = commands.add_parser("evaluator", help="train or score the evaluation networks",
                                    description="Train the small networks that read generated frames back into "
                                                "keypoints, landmarks or label maps, and measure their own accuracy.")
    actions = evaluator.add_subparsers(dest="evaluator_command", metavar="ACTION", required=True, parser_class=Parser)
    tr = actions.add_parser("train", help="train an evaluator on a train-split dataset folder",
                            description="Train a task's evaluator network on the frames of train-split benchmark "
                                        "clips (test-split clips are refused) and write it as fp16 safetensors.")
    tr.add_argument("--task", required=True, choices=TASKS)
    tr.add_argument("--data", required=True, type=Path, help="train-split dataset folder")
    tr.add_argument("--out", required=True, type=Path, help="evaluator file to write (.safetensors)")
    for option, text in (("--steps", "optimisation steps"), ("--batch", "frames per step"), ("--seed", ""),
                         ("--threads", "torch CPU threads")):
        default_from(tr, tr.add_argument(option, type=int_arg, help=text), "fsvid2vid.eval.training:train_evaluator")
    tr.add_argument("--overwrite", action="store_true", help="replace an existing evaluator file")
    tr.add_argument("--quiet", action="store_true", help="no progress bar")
    sc = actions.add_parser("score", help="an evaluator's own accuracy on real frames",
                            description="Run an evaluator on the real (rendered) frames of a dataset folder and "
                                        "print its accuracy as JSON: point error in pixels for the visible points, "
                                        "or pixel accuracy and mIoU.")
    sc.add_argument("--evaluator", required=True, type=Path, help="evaluator file")
    sc.add_argument("--data", required=True, type=Path, help="dataset folder (e.g. a test split)")
    sc.add_argument("--max-clips", type=int_arg, help="use only the first N clips")
    handlers.update({("evaluate", None): _evaluate, ("evaluator", "train"): _train_evaluator,
                     ("evaluator", "score"): _score_evaluator})


def _evaluate(args: argparse.Namespace) -> None:
    from fsvid2vid.devices import resolve_device
    from fsvid2vid.eval.evaluate import evaluate

    resolve_device(args.device)
    overrides = generator_overrides(args.overrides)
    report = evaluate(args.checkpoint, args.task, args.out, data=args.data, k_values=args.k,
                      evaluator=args.evaluator, inception=args.inception, max_clips=args.max_clips,
                      frames=args.frames, cache=args.cache, device=args.device, overwrite=args.overwrite,
                      progress=not args.quiet, command=" ".join(["fsvid2vid", *sys.argv[1:]]),
                      precision=args.precision, score_height=args.score_height, overrides=overrides)
    for path in report["outputs"]:
        print(f"wrote {path}")
    if report["splits"] != ["test"]:
        print(f"fsvid2vid: warning: {args.data} holds {'/'.join(report['splits'])}-split clips: these subjects are "
              "not unseen; evaluate on a test split (--split test) for the paper's protocol", file=sys.stderr)


def _train_evaluator(args: argparse.Namespace) -> None:
    from fsvid2vid.eval.training import train_evaluator

    info = train_evaluator(args.task, args.data, args.out, steps=args.steps, batch=args.batch, seed=args.seed,
                           threads=args.threads, progress=not args.quiet, overwrite=args.overwrite,
                           command=" ".join(["fsvid2vid", *sys.argv[1:]]))
    print(f"wrote {args.out} ({info['parameters']} parameters, {info['steps']} steps in {info['train_seconds']} s, "
          f"final loss {info['final_loss']})")


def _score_evaluator(args: argparse.Namespace) -> None:
    import json

    from fsvid2vid.eval.evaluator import load_evaluator
    from fsvid2vid.eval.training import score_evaluator

    print(json.dumps(score_evaluator(load_evaluator(args.evaluator), args.data, args.max_clips, progress=False),
                     indent=1))
