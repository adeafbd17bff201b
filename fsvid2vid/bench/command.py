"""The ``fsvid2vid bench infer|train|params`` command line: arguments, then one call of the bench functions.

Imports nothing heavy at module level: ``fsvid2vid --help`` builds this parser too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

PRECISION_CHOICES = ("auto", "fp32", "bf16")  # fsvid2vid.models.precision.PRECISIONS (without importing torch)


def add_command(commands: argparse._SubParsersAction, handlers: dict) -> None:
    """Register ``bench`` and its three actions on the top-level subcommands, and :func:`run` as the handler of each
    in ``handlers`` (the command line's table of (command, action) -> function)."""
    bench = commands.add_parser(
        "bench", help="measure inference and training speed on this machine",
        description="Measure the median seconds per frame (inference) or per training step, FLOPs, achieved GFLOP/s, "
                    "peak memory and this machine's fp32 / bf16 matmul rates in the same run. Prints a table and "
                    "writes a JSON report (--out). See docs/performance.md.")
    actions = bench.add_subparsers(dest="bench_command", metavar="ACTION", required=True,
                                   parser_class=type(bench))

    infer = actions.add_parser(
        "infer", help="seconds per generated frame (the streaming API)",
        description="Time a generator frame by frame through the streaming Synthesizer on pre-loaded inputs (a "
                    "rendered benchmark clip): the model alone, batch 1. One row per model, K and precision.")
    model = infer.add_mutually_exclusive_group(required=True)
    model.add_argument("--checkpoint", type=Path, help="an exported generator, e.g. models/dance-128.safetensors")
    model.add_argument("--preset", nargs="+", metavar="SIZE",
                       help="random weights (seed 0) of model_preset(TASK, SIZE): tiny, 64, 128, 256, paper (several "
                            "allowed)")
    infer.add_argument("--task", nargs="+", help="with --preset: dance, face, street (several allowed)")
    infer.add_argument("--height", type=int, help="with --preset: frame height instead of the preset's (a multiple "
                       "of 8 in [64, 512]; the width follows the task's aspect, e.g. street 256 -> 256 x 512)")
    infer.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                       help="with --preset: override a model field, e.g. model.generator.ngf=16 (repeatable)")
    infer.add_argument("--k", type=int, nargs="+", default=[1], help="numbers of example frames (default 1)")
    _add_common(infer, frames=("--frames", 20, "timed frames"), warmup=3)
    infer.add_argument("--workers", type=int, help="frames synthesised at once, one torch thread each (default: the "
                       "streaming API's, the torch thread count on the CPU); 1 for one frame at a time on --threads")
    infer.add_argument("--end-to-end", action="store_true",
                       help="also time `generate` on the driving clip (PNG reading, model, mp4) and report the ratio")

    train = actions.add_parser(
        "train", help="seconds per training step (Trainer.train_step)",
        description="Time Trainer.train_step on batches of the trainer's own loader in a temporary run folder. One row "
                    "per precision, T and K (K is drawn per batch from 1..schedule.K_max, as in training).")
    train.add_argument("--config", required=True, type=Path, help="YAML config, e.g. configs/dance-128.yaml")
    train.add_argument("--data", type=Path, help="dataset folder (default: render 2 subjects x 2 clips of the "
                       "config's task and size into a temporary folder)")
    train.add_argument("--T", type=int, dest="T", help="frames per step at every step (default: the schedule's)")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                       help="override a config field, as in `train --set` (repeatable)")
    train.add_argument("--compile", action="store_true", dest="compile_parts",
                       help="torch.compile the generator's H, W/M and W_e/M_e first (compilation falls in the warm-up; "
                            "give --warmup 3 or more)")
    _add_common(train, frames=("--steps", 5, "timed steps"), warmup=2)

    handlers.update({("bench", action): run for action in ("infer", "train", "params")})

    params = actions.add_parser("params", help="parameter counts of the presets",
                                description="Parameters of every preset's generator, per part, and discriminators.")
    params.add_argument("--sizes", nargs="+", default=["tiny", "64", "128", "256", "paper"], metavar="SIZE")
    params.add_argument("--tasks", nargs="+", default=["dance", "face", "street"], metavar="TASK")
    _add_output(params)


def _add_common(p: argparse.ArgumentParser, frames: tuple[str, int, str], warmup: int) -> None:
    flag, default, what = frames
    p.add_argument(flag, type=int, default=default, help=f"{what} (default {default})")
    p.add_argument("--warmup", type=int, default=warmup, help=f"untimed {what.split()[1]} first (default {warmup})")
    p.add_argument("--precision", nargs="+", default=["auto"], choices=PRECISION_CHOICES,
                   help="fp32, bf16, auto (bf16 where the hardware runs it natively, else fp32); several for a "
                        "comparison (default auto)")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:1 or auto (default: CUDA when available)")
    p.add_argument("--profile", type=int, nargs="?", const=15, default=0, metavar="N",
                   help=f"also profile one more of the {what.split()[1]} with torch.profiler and print the N operators "
                        "with the most self CPU time (default N 15)")
    p.add_argument("--matmul-size", type=int, default=2048, metavar="N",
                   help="side of the square matmul that measures the machine's fp32 / bf16 rates (default 2048)")
    _add_output(p)


def _add_output(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, help="JSON report to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--markdown", action="store_true", help="print markdown tables")


def run(args: argparse.Namespace) -> None:
    """Run ``bench <action>`` with parsed arguments: print the tables, write the JSON report."""
    import torch

    from fsvid2vid.atomic import check_output, write_json
    from fsvid2vid.bench import measure
    from fsvid2vid.errors import UserError

    if args.out is not None:
        check_output(args.out, args.overwrite)
    argv = sys.argv[1:]
    if args.bench_command == "params":
        from fsvid2vid.bench.params import params_table, preset_parameters

        report: dict[str, Any] = measure.report_header("params", torch.device("cpu"), argv)
        report["rows"] = [preset_parameters(task, size) for size in args.sizes for task in args.tasks]
        report["load_average"]["end"] = measure.load_average()
        _print(report, *params_table(report["rows"]), args.markdown)
        _write(write_json, args.out, report)
        return
    for flag in ("threads", "matmul_size"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise UserError(f"--{flag.replace('_', '-')} {value} is invalid: use a positive number")
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.bench_command == "infer":
        from fsvid2vid.bench.infer import bench_infer, infer_table
        from fsvid2vid.train.trainer import resolve_device

        device = resolve_device(args.device)
        report = measure.report_header("infer", device, argv)
        bench_infer(_model_sources(args), args.k, args.precision, args.frames, args.warmup, device, report,
                    args.end_to_end, args.profile, args.matmul_size, args.workers)
        headers, cells = infer_table(report["rows"])
    else:
        from fsvid2vid.bench.train import bench_train, train_table
        from fsvid2vid.train.config import merge_overrides, parse_override
        from fsvid2vid.train.trainer import resolve_device

        device = resolve_device(args.device)
        report = measure.report_header("train", device, argv)
        overrides = merge_overrides(*(parse_override(text) for text in args.overrides))
        bench_train(args.config, overrides, args.data, args.T, args.steps, args.warmup, args.precision,
                    str(device), args.threads, report, args.profile, args.matmul_size, args.compile_parts)
        headers, cells = train_table(report["rows"])
    _print(report, headers, cells, args.markdown)
    _write(write_json, args.out, report)


def _model_sources(args: argparse.Namespace) -> list:
    from fsvid2vid.bench.infer import ModelSource
    from fsvid2vid.errors import UserError
    from fsvid2vid.models.config import SIZES, TASKS
    from fsvid2vid.train.config import merge_overrides, parse_override

    if args.checkpoint is not None:
        if args.task or args.height or args.overrides:
            raise UserError("--task, --height and --set go with --preset; a --checkpoint brings its own task, size "
                            "and model")
        return [ModelSource(checkpoint=args.checkpoint)]
    if not args.task:
        raise UserError("--preset needs --task (dance, face or street)")
    if args.height is not None and (args.height % 8 or not 64 <= args.height <= 512):
        raise UserError(f"--height {args.height} is invalid: use a multiple of 8 between 64 and 512 (the benchmark "
                        "renders its inputs at that height)")
    for size in args.preset:
        if size not in SIZES:
            raise UserError(f"unknown preset {size!r}: choose one of {', '.join(SIZES)}")
    for task in args.task:
        if task not in TASKS:
            raise UserError(f"unknown task {task!r}: choose one of {', '.join(TASKS)}")
    overrides = merge_overrides(*(parse_override(text) for text in args.overrides))
    if set(overrides) - {"model"}:
        raise UserError(f"bench infer --set takes model fields only (model.generator.KEY=VALUE), got "
                        f"{', '.join(sorted(set(overrides) - {'model'}))}")
    return [ModelSource(task=task, size=size, height=args.height, model_overrides=overrides.get("model", {}))
            for size in args.preset for task in args.task]


def _print(report: dict[str, Any], headers: list[str], cells: list[list[str]], markdown: bool) -> None:
    from fsvid2vid.bench.measure import header_lines, profile_table, regions_table, table

    print("\n".join(header_lines(report)) + "\n")
    print(table(headers, cells, markdown))
    for row in report["rows"]:
        if row.get("profile"):
            what = " ".join(f"{k} {row[k]}" for k in ("model", "config", "task", "T", "K", "precision") if k in row)
            unit = "frame" if report["kind"] == "infer" else "step"
            print(f"\nprofile of one {unit}: {what}; {row['profile']['total_self_cpu_ms']:.1f} ms self CPU in all; "
                  f"{row['profile']['page_faults']} page faults while profiled (fresh pages: the operators that touch "
                  "them first are charged for them)")
            total = row.get("flops_per_frame", row.get("flops_per_step"))
            for title, counts in (("module", row.get("flops_by_module")), ("operator", row["flops_by_op"])):
                if counts:
                    print(table([f"FLOPs by {title}", "GFLOP", "of all"],
                                [[name, f"{n / 1e9:.3g}", f"{n / total:.0%}"] for name, n in counts.items()],
                                markdown) + "\n")
            if row["profile"].get("regions"):
                print(f"{regions_table(row['profile'], markdown)}\n")
            print(profile_table(row["profile"], markdown))


def _write(write_json, out: Path | None, report: dict[str, Any]) -> None:
    if out is not None:
        write_json(out, report)
        print(f"\nwrote {out}")
