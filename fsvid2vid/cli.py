"""The ``fsvid2vid`` command line. Each subcommand parses its arguments and calls one library function.

Errors in the user's input are reported as one line on stderr with exit status 2 (no traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from fsvid2vid import __version__
from fsvid2vid.errors import UserError


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (the usage is one ``--help`` away)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def _add_render_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--frames", type=_int, default=16, help="frames per clip (default 16)")
    p.add_argument("--size", type=_int, default=128,
                   help="frame height in pixels: a multiple of 8 in [64, 512]; the width follows the task's aspect "
                        "ratio (dance 3:4, face 1:1, street 2:1) (default 128)")
    p.add_argument("--overwrite", action="store_true", help="replace clips that already exist")


def build_parser() -> argparse.ArgumentParser:
    from fsvid2vid.data.synth import SPLITS, TASKS

    parser = _Parser(
        prog="fsvid2vid",
        description="Few-shot video-to-video synthesis (Wang et al., NeurIPS 2019) in plain PyTorch.",
    )
    parser.add_argument("--version", action="version", version=f"fsvid2vid {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)

    data = commands.add_parser("data", help="make, inspect and preview datasets",
                               description="Make, inspect and preview datasets in the clip-folder layout.")
    data_commands = data.add_subparsers(dest="data_command", metavar="ACTION", required=True, parser_class=_Parser)

    synth = data_commands.add_parser(
        "synth", help="render a split of the procedural benchmark",
        description="Render a split of the procedural few-shot video benchmark (dance, face or street) into clip "
                    "folders. Subjects of the train and test splits never overlap; half of the test subjects wear "
                    "appearance combinations that never occur in train.")
    synth.add_argument("--task", required=True, choices=TASKS)
    synth.add_argument("--split", default="train", choices=SPLITS, help="(default train)")
    synth.add_argument("--subjects", type=_int, default=8, help="number of subjects (default 8)")
    synth.add_argument("--clips-per-subject", type=_int, default=2, help="own clips per subject (default 2)")
    synth.add_argument("--cross-identity", type=_int, default=0, metavar="N",
                       help="also render each subject performing the first clip of the next N subjects (their "
                            "body/face/layout shape and motion): the cross-identity ground truth (default 0)")
    _add_render_args(synth)
    synth.add_argument("--workers", type=_int, default=min(2, os.cpu_count() or 1),
                       help="rendering processes (default: up to 2)")
    synth.add_argument("--out", required=True, type=Path, help="dataset folder to write clip folders into")
    synth.add_argument("--quiet", action="store_true", help="no progress bar")

    render = data_commands.add_parser(
        "render", help="render one clip: any subject performing any motion",
        description="Render one clip: the appearance of --subject performing --motion with the shape of --shape. "
                    "With --like CLIP, shape and motion are taken from an existing clip, so the result has that "
                    "clip's semantic maps and the new subject's appearance (the cross-identity ground truth).")
    render.add_argument("--task", choices=TASKS, help="required unless --like is given")
    render.add_argument("--subject", required=True, type=_int, help="subject (appearance) seed")
    render.add_argument("--motion", type=_int, help="motion seed")
    render.add_argument("--shape", type=_int, help="shape seed (default: the subject's own)")
    render.add_argument("--like", type=Path, metavar="CLIP", help="take task, shape, motion, size and length from "
                        "this benchmark clip folder")
    _add_render_args(render)
    render.add_argument("--out", required=True, type=Path, help="clip folder to create")

    sheet = data_commands.add_parser("sheet", help="contact sheet of a dataset folder",
                                     description="Write a PNG contact sheet: one row per subject with a few frames, "
                                                 "each shown as its semantic layers next to the RGB frame.")
    sheet.add_argument("root", type=Path, metavar="DIR", help="dataset folder (or one clip folder)")
    sheet.add_argument("--out", required=True, type=Path, help="PNG file to write")
    sheet.add_argument("--subjects", type=_int, default=8, help="rows (default 8)")
    sheet.add_argument("--frames", type=_int, default=4, help="frames per row (default 4)")

    train = commands.add_parser(
        "train", help="train a model on a dataset folder",
        description="Train few-shot vid2vid (or a baseline) on a dataset folder. Under torchrun "
                    "(torchrun --nproc_per_node=N -m fsvid2vid train ...) it runs DistributedDataParallel: NCCL on "
                    "GPUs, gloo on CPUs. Ctrl-C or SIGTERM saves a checkpoint after the current step.")
    train.add_argument("--config", required=True, type=Path, help="YAML config, e.g. configs/dance-64.yaml")
    train.add_argument("--data", type=Path, help="dataset folder (overrides data.root)")
    train.add_argument("--out", type=Path, help="run folder for checkpoints, TensorBoard logs and the resolved "
                       "config (default runs/<config name>)")
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its latest checkpoint")
    train.add_argument("--steps", type=_int, help="total steps (overrides schedule.steps)")
    train.add_argument("--device", help="cpu, cuda, cuda:1 or auto (overrides run.device)")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                       help="override any config field, e.g. --set model.generator.conditioning=adain "
                            "--set schedule.batch_size=8 (repeatable; VALUE is read as YAML)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    gen = commands.add_parser(
        "generate", help="animate example images with a driving clip into an mp4",
        description="Generate a video of the subject in --examples (K >= 1 frames) performing the motion of the "
                    "driving clip, with a trained model. Writes an H.264 mp4 and a JSON of metadata next to it.")
    gen.add_argument("--checkpoint", required=True, type=Path,
                     help="a generator file (models/*.safetensors) or a training checkpoint")
    gen.add_argument("--examples", required=True, nargs="+", type=Path, metavar="IMG",
                     help="example frames <clip>/rgb/NNNNNN.png (their semantic maps are read from the clip)")
    gen.add_argument("--driving", required=True, type=Path, metavar="SOURCE",
                     help="a clip folder, a folder of semantic maps (one sub-folder per layer, or PNGs for a "
                          "one-layer model), or a keypoints/landmarks JSON (coco18 / dlib68)")
    gen.add_argument("--out", required=True, type=Path, help="mp4 file to write")
    gen.add_argument("--side-by-side", action="store_true",
                     help="also write <out>-side-by-side.mp4: semantic | examples | output | ground truth")
    gen.add_argument("--frames-dir", type=Path, help="also write the frames as PNG files into this folder")
    gen.add_argument("--sheet", type=Path, help="also write a PNG contact sheet: examples, then semantic | generated "
                     "| ground truth for four frames")
    gen.add_argument("--attention-vis", type=Path, metavar="DIR",
                     help="write per frame a PNG of where each example is attended (the paper's Figure 7(c))")
    gen.add_argument("--max-frames", type=_int, help="stop after this many frames")
    gen.add_argument("--finetune", type=_int, default=0, metavar="N",
                     help="first finetune E and H (not W, M) on the examples for N steps (default 0)")
    gen.add_argument("--seed", type=_int, default=0, help="seed of the finetuning (default 0)")
    gen.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:1")
    gen.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    gen.add_argument("--quiet", action="store_true", help="no progress bar")

    export = commands.add_parser("export", help="export a training checkpoint's generator (fp16 safetensors)",
                                 description="Write the generator of a training checkpoint as one self-contained "
                                             "safetensors file (config in its header), fp16 by default.")
    export.add_argument("--checkpoint", required=True, type=Path, help="training checkpoint (.safetensors)")
    export.add_argument("--out", required=True, type=Path, help="generator file to write")
    export.add_argument("--fp32", action="store_true", help="keep float32 weights")

    preview = data_commands.add_parser("preview", help="side-by-side mp4 of one clip",
                                       description="Write an H.264 mp4 of a clip: semantic layers | RGB.")
    preview.add_argument("clip", type=Path, metavar="CLIP", help="clip folder")
    preview.add_argument("--out", required=True, type=Path, help="mp4 file to write")
    return parser


def _cmd_data_synth(args: argparse.Namespace) -> None:
    from fsvid2vid.data.synth.export import plan_split, write_jobs

    jobs = plan_split(args.task, args.split, args.subjects, args.clips_per_subject, args.frames, args.size,
                      args.cross_identity)
    write_jobs(jobs, args.out, workers=args.workers, overwrite=args.overwrite, progress=not args.quiet)
    print(f"wrote {len(jobs)} {args.task} clips ({args.split}, {args.subjects} subjects) to {args.out}")


def _cmd_data_render(args: argparse.Namespace) -> None:
    from fsvid2vid.data.layout import ensure_writable_dir, read_meta
    from fsvid2vid.data.synth.export import ClipJob, check_size, render_job

    task, shape, motion, frames, size = args.task, args.shape, args.motion, args.frames, args.size
    if args.like is not None:
        like = read_meta(args.like)
        if like.source != "synth" or not {"shape", "motion"} <= set(like.seeds):
            raise UserError(f"{args.like}: is not a benchmark clip (no shape/motion seeds); --like needs one")
        task, shape, motion, frames, size = like.task, like.seeds["shape"], like.seeds["motion"], like.n_frames, \
            like.height
    if task is None or motion is None:
        raise UserError("give --task and --motion, or --like CLIP")
    check_size(size)
    if frames < 1:
        raise UserError(f"--frames {frames} is invalid: need at least 1 frame")
    out = Path(args.out)
    ensure_writable_dir(out.parent if str(out.parent) else Path("."))
    shape = args.subject if shape is None else shape
    path = render_job(ClipJob(task, out.name, args.subject, shape, motion, frames, size), out.parent,
                      overwrite=args.overwrite)
    print(f"wrote {path}")


def _cmd_data_sheet(args: argparse.Namespace) -> None:
    from fsvid2vid.data.preview import contact_sheet
    from fsvid2vid.media import write_png

    write_png(args.out, contact_sheet(args.root, args.subjects, args.frames))
    print(f"wrote {args.out}")


def _cmd_data_preview(args: argparse.Namespace) -> None:
    from fsvid2vid.data.layout import read_meta
    from fsvid2vid.data.preview import side_by_side
    from fsvid2vid.media import write_mp4

    meta = read_meta(args.clip)
    n = write_mp4(args.out, side_by_side(args.clip), meta.fps)
    print(f"wrote {args.out} ({n} frames)")


def _cmd_train(args: argparse.Namespace) -> int:
    from fsvid2vid.train.config import load_config, merge_overrides, parse_override
    from fsvid2vid.train.trainer import train

    overrides: dict = merge_overrides(*(parse_override(text) for text in args.overrides))
    if args.data is not None:
        overrides.setdefault("data", {})["root"] = str(args.data)
    if args.steps is not None:
        overrides.setdefault("schedule", {})["steps"] = args.steps
    if args.device is not None:
        overrides.setdefault("run", {})["device"] = args.device
    cfg = load_config(args.config, overrides)
    out = args.out or Path("runs") / args.config.stem
    summary = train(cfg, out, resume=args.resume, progress=not args.quiet)
    if int(os.environ.get("RANK", 0)) == 0:
        state = "interrupted" if summary["interrupted"] else "finished"
        print(f"{state} at step {summary['step']} ({summary['steps_run']} steps, median "
              f"{summary['median_step_seconds']:.2f} s/step); checkpoint: {summary['checkpoint']}")
    return 130 if summary["interrupted"] else 0


def _cmd_generate(args: argparse.Namespace) -> None:
    from fsvid2vid.infer.generate import generate

    info = generate(args.checkpoint, args.examples, args.driving, args.out, side_by_side=args.side_by_side,
                    frames_dir=args.frames_dir, sheet=args.sheet, max_frames=args.max_frames, overwrite=args.overwrite,
                    device=args.device, progress=not args.quiet, finetune=args.finetune, seed=args.seed,
                    attention_vis=args.attention_vis)
    for path in info["outputs"]:
        print(f"wrote {path}")


def _cmd_export(args: argparse.Namespace) -> None:
    from fsvid2vid.infer.model_file import export_generator

    print(f"wrote {export_generator(args.checkpoint, args.out, half=not args.fp32)}")


_COMMANDS = {
    ("data", "synth"): _cmd_data_synth,
    ("data", "render"): _cmd_data_render,
    ("data", "sheet"): _cmd_data_sheet,
    ("data", "preview"): _cmd_data_preview,
    ("train", None): _cmd_train,
    ("generate", None): _cmd_generate,
    ("export", None): _cmd_export,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    # OpenMP threads that spin while waiting make torch about 14x slower when another process holds a core (measured
    # on 2 cores: docs/training.md); passive waiting costs little when the machine is idle. Set before torch loads.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    args = build_parser().parse_args(argv)
    command = _COMMANDS[(args.command, getattr(args, f"{args.command}_command", None))]
    try:
        status = command(args)
    except UserError as exc:
        print(f"fsvid2vid: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fsvid2vid: interrupted", file=sys.stderr)
        return 130
    return status or 0


def main_entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
