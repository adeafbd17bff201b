"""The ``fsvid2vid`` command line. Each subcommand parses its arguments and calls one library function.

Errors in the user's input are reported as one line on stderr with exit status 2 (no traceback). SIGTERM is handled
like Ctrl-C (KeyboardInterrupt: every command's clean-up runs, no temporary file is left; exit status 130); ``train``
turns both into a checkpoint. See docs/reliability.md.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from fsvid2vid import __version__, bench
from fsvid2vid.allocator import keep_freed_memory
from fsvid2vid.arguments import (
    Parser,
    add_generator_set_option,
    add_model_run_options,
    default_from,
    fill_defaults,
    generator_overrides,
    int_arg,
    positive_int,
)
from fsvid2vid.errors import UserError
from fsvid2vid.eval import command as eval_command
from fsvid2vid.openmp import openmp_wait_briefly


def _add_render_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--frames", type=int_arg, default=16, help="frames per clip (default 16)")
    p.add_argument("--size", type=int_arg, default=128,
                   help="frame height in pixels: a multiple of 8 in [64, 512]; the width follows the task's aspect "
                        "ratio (dance 3:4, face 1:1, street 2:1) (default 128)")
    p.add_argument("--overwrite", action="store_true", help="replace clips that already exist")
    p.add_argument("--max-total-frames", type=positive_int, default=None, metavar="N",
                   help="refuse to render more than N frames in all (default 1,000,000: about 25 GB at 128 px)")
    p.add_argument("--no-space-check", action="store_true",
                   help="skip the check of the free disk space against the estimated size of the clips")


def build_parser() -> argparse.ArgumentParser:
    from fsvid2vid.data.semantics import TASKS
    from fsvid2vid.data.synth import SPLITS

    parser = Parser(
        prog="fsvid2vid",
        description="Few-shot video-to-video synthesis (Wang et al., NeurIPS 2019) in plain PyTorch.",
    )
    parser.add_argument("--version", action="version", version=f"fsvid2vid {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=Parser)

    data = commands.add_parser("data", help="make, inspect and preview datasets",
                               description="Make, inspect and preview datasets in the clip-folder layout.")
    data_commands = data.add_subparsers(dest="data_command", metavar="ACTION", required=True, parser_class=Parser)

    synth = data_commands.add_parser(
        "synth", help="render a split of the procedural benchmark",
        description="Render a split of the procedural few-shot video benchmark (dance, face or street) into clip "
                    "folders. Subjects of the train and test splits never overlap; half of the test subjects wear "
                    "appearance combinations that never occur in train.")
    synth.add_argument("--task", required=True, choices=TASKS)
    synth.add_argument("--split", default="train", choices=SPLITS, help="(default train)")
    synth.add_argument("--subjects", type=int_arg, default=8, help="number of subjects (default 8)")
    synth.add_argument("--clips-per-subject", type=int_arg, default=2, help="own clips per subject (default 2)")
    synth.add_argument("--cross-identity", type=int_arg, default=0, metavar="N",
                       help="also render each subject performing the first clip of the next N subjects (their "
                            "body/face/layout shape and motion): the cross-identity ground truth (default 0)")
    _add_render_args(synth)
    synth.add_argument("--workers", type=int_arg, default=min(2, os.cpu_count() or 1),
                       help="rendering processes (default: up to 2)")
    synth.add_argument("--out", required=True, type=Path, help="dataset folder to write clip folders into")
    synth.add_argument("--quiet", action="store_true", help="no progress bar")

    render = data_commands.add_parser(
        "render", help="render one clip: any subject performing any motion",
        description="Render one clip: the appearance of --subject performing --motion with the shape of --shape. "
                    "With --like CLIP, shape and motion are taken from an existing clip, so the result has that "
                    "clip's semantic maps and the new subject's appearance (the cross-identity ground truth).")
    render.add_argument("--task", choices=TASKS, help="required unless --like is given")
    render.add_argument("--subject", required=True, type=int_arg, help="subject (appearance) seed")
    render.add_argument("--motion", type=int_arg, help="motion seed")
    render.add_argument("--shape", type=int_arg, help="shape seed (default: the subject's own)")
    render.add_argument("--like", type=Path, metavar="CLIP", help="take task, shape, motion, size and length from "
                        "this benchmark clip folder")
    _add_render_args(render)
    render.add_argument("--out", required=True, type=Path, help="clip folder to create")

    sheet = data_commands.add_parser("sheet", help="contact sheet of a dataset folder",
                                     description="Write a PNG contact sheet: one row per subject with a few frames, "
                                                 "each shown as its semantic layers next to the RGB frame.")
    sheet.add_argument("root", type=Path, metavar="DIR", help="dataset folder (or one clip folder)")
    sheet.add_argument("--out", required=True, type=Path, help="PNG file to write")
    sheet.add_argument("--overwrite", action="store_true", help="replace an existing PNG")
    sheet.add_argument("--subjects", type=int_arg, default=8, help="rows (default 8)")
    sheet.add_argument("--frames", type=int_arg, default=4, help="frames per row (default 4)")

    train = commands.add_parser(
        "train", help="train a model on a dataset folder",
        description="Train few-shot vid2vid (or a baseline) on a dataset folder. Under torchrun "
                    "(torchrun --nproc_per_node=N -m fsvid2vid train ...) it runs DistributedDataParallel: NCCL on "
                    "GPUs, gloo on CPUs. Ctrl-C or SIGTERM saves a checkpoint after the current step.")
    train.add_argument("--config", required=True, type=Path, help="YAML config, e.g. configs/dance-64.yaml")
    train.add_argument("--data", type=Path, help="dataset folder (overrides data.root)")
    train.add_argument("--out", type=Path, help="run folder for checkpoints, TensorBoard logs and the resolved "
                       "config (default runs/<config name>)")
    train.add_argument("--resume", nargs="?", const=True, default=False, type=Path, metavar="CHECKPOINT",
                       help="continue the run in --out from its latest checkpoint, or from CHECKPOINT (e.g. an "
                            "earlier runs/x/checkpoints/step-0000500.safetensors when the latest is damaged)")
    train.add_argument("--steps", type=int_arg, help="total steps (overrides schedule.steps)")
    train.add_argument("--init-from", type=Path, metavar="GENERATOR",
                       help="start a new run's generator from this generator file or training checkpoint, e.g. "
                            "models/dance-128.safetensors, to fine-tune it on your data (overrides run.init_from)")
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
                     help="example frames <clip>/rgb/NNNNNN.png (their semantic maps are read from the clip), or "
                          "photos: their semantics come from --example-semantics or are extracted with mediapipe "
                          "(dance, face; docs/real-footage.md)")
    gen.add_argument("--example-semantics", nargs="+", type=Path, metavar="PATH",
                     help="one per example, in the order of --examples: a folder with one <layer>.png per semantic "
                          "layer (or, for one-layer models, a PNG file)")
    gen.add_argument("--driving", required=True, type=Path, metavar="SOURCE",
                     help="a clip folder, a folder of semantic maps (one sub-folder per layer, or PNGs for a "
                          "one-layer model), a keypoints/landmarks JSON (coco18 / dlib68), or a video file (dance, "
                          "face: the subject is detected, followed and cropped)")
    gen.add_argument("--retarget", action=argparse.BooleanOptionalAction, default=True,
                     help="map the driving pose / face to the examples' proportions and placement (relative mode; "
                          "default on; applies to a driving video)")
    gen.add_argument("--out", required=True, type=Path, help="mp4 file to write")
    gen.add_argument("--side-by-side", action="store_true", help="also write <out>-side-by-side.mp4")
    gen.add_argument("--frames-dir", type=Path, help="also write the frames as PNG files into this folder")
    gen.add_argument("--sheet", type=Path, help="also write a PNG contact sheet: examples, then semantic | generated "
                     "| ground truth for four frames")
    gen.add_argument("--attention-vis", type=Path, metavar="DIR",
                     help="write per frame a PNG of where each example is attended (the paper's Figure 7(c))")
    gen.add_argument("--intermediates", type=Path, metavar="DIR", help="write per frame a PNG of the networks' "
                     "intermediate images: s_t | h_t | w_e(e_k), m_e, a_k | h'_t | w(x_t-1), m_t | x_t")
    gen.add_argument("--max-frames", type=positive_int, help="stop after this many frames")
    gen.add_argument("--max-pixels", type=positive_int, metavar="N",
                     help="refuse example images of more than N pixels (default 50,000,000) before decoding them")
    gen.add_argument("--no-space-check", action="store_true",
                     help="skip the check of the free disk space against the estimated size of the outputs")
    default_from(gen, gen.add_argument("--finetune", type=int_arg, metavar="N",
                                       help="first finetune E and H (not W, M) on the examples for N steps"),
                 "fsvid2vid.infer.generate:generate")
    default_from(gen, gen.add_argument("--seed", type=int_arg, help="seed of the finetuning"),
                 "fsvid2vid.infer.generate:generate")
    gen.add_argument("--workers", type=positive_int, help="frames synthesised at once, one torch thread each (default: "
                     "the torch thread count on the CPU, 1 on a GPU; docs/inference.md)")
    add_generator_set_option(gen, "this video")
    add_model_run_options(gen, "fsvid2vid.infer.generate:generate", "existing outputs")

    export = commands.add_parser("export", help="export a training checkpoint's generator (fp16 safetensors)",
                                 description="Write the generator of a training checkpoint as one self-contained "
                                             "safetensors file (config in its header), fp16 by default.")
    export.add_argument("--checkpoint", required=True, type=Path, help="training checkpoint (.safetensors)")
    export.add_argument("--out", required=True, type=Path, help="generator file to write")
    export.add_argument("--fp32", action="store_true", help="keep float32 weights")
    export.add_argument("--overwrite", action="store_true", help="replace an existing generator file")

    eval_command.add_commands(commands, _COMMANDS)  # evaluate, evaluator train|score and their handlers
    _add_prepare_command(commands)
    _add_app_command(commands)
    bench.add_command(commands, _COMMANDS)  # and its handlers in the command table

    preview = data_commands.add_parser("preview", help="side-by-side mp4 of one clip",
                                       description="Write an H.264 mp4 of a clip: semantic layers | RGB.")
    preview.add_argument("clip", type=Path, metavar="CLIP", help="clip folder")
    preview.add_argument("--out", required=True, type=Path, help="mp4 file to write")
    preview.add_argument("--overwrite", action="store_true", help="replace an existing mp4")
    return parser


def _add_prepare_command(commands: argparse._SubParsersAction) -> None:
    """The ``prepare`` command: real videos -> the clip-folder layout (docs/real-footage.md)."""
    prep = commands.add_parser(
        "prepare", help="turn real videos into a dataset folder",
        description="Turn real videos into clip folders ready for `train`. dance / face: detect the person (mediapipe "
                    "Pose -> COCO-18) or face (FaceMesh -> dlib-68), follow one subject, smooth, crop around it, "
                    "draw the semantic layers, and write DIR/overlays.png (skeleton or sketch over the crops). "
                    "street: videos with per-frame label maps (--labels). See docs/real-footage.md.")
    prep.add_argument("--task", required=True, choices=("dance", "face", "street"))
    prep.add_argument("videos", nargs="+", type=Path, metavar="VIDEO", help="video files (one subject each)")
    prep.add_argument("--out", required=True, type=Path, metavar="DIR", help="dataset folder to write")
    prep.add_argument("--size", type=int_arg, default=64,
                      help="frame height: a multiple of 8 in [64, 512] (default 64)")
    prep.add_argument("--max-frames", type=positive_int, help="read at most this many frames of each video")
    default_from(prep, prep.add_argument(
        "--max-gap", type=int_arg, help="interpolate runs of at most this many missed frames; longer runs are dropped"),
        "fsvid2vid.data.real.prepare:prepare_subjects")
    default_from(prep, prep.add_argument("--min-frames", type=int_arg,
                                         help="drop runs of kept frames shorter than this"),
                 "fsvid2vid.data.real.prepare:prepare_subjects")
    prep.add_argument("--labels", nargs="+", type=Path, metavar="DIR",
                      help="street: one folder of per-frame label PNGs per video, in the same order")
    label_format = prep.add_argument("--label-format", metavar="FORMAT", help="street: cityscapes (label ids), "
                                     "classes (already 0..9 in the benchmark's order), or a JSON file mapping values "
                                     "to class names")
    default_from(prep, label_format, "fsvid2vid.data.real.prepare:prepare_street")
    prep.add_argument("--overwrite", action="store_true", help="replace clips that already exist")
    prep.add_argument("--quiet", action="store_true", help="no progress bar")


def _cmd_prepare(args: argparse.Namespace) -> None:
    from fsvid2vid.data.real.prepare import prepare_street, prepare_subjects
    from fsvid2vid.data.synth.export import check_size

    check_size(args.size)
    if args.max_gap < 0 or args.min_frames < 1:
        raise UserError("--max-gap must be >= 0 and --min-frames >= 1")
    if args.task == "street":
        if not args.labels:
            raise UserError("--task street needs --labels DIR (one folder of label PNGs per video)")
        s = prepare_street(args.videos, args.labels, args.out, args.size, args.label_format, args.max_frames,
                           args.overwrite, progress=not args.quiet)
    else:
        if args.labels:
            raise UserError(f"--labels is for --task street; {args.task} semantics are detected")
        s = prepare_subjects(args.task, args.videos, args.out, args.size, args.max_frames, args.max_gap,
                             args.min_frames, args.overwrite, progress=not args.quiet)
    print(f"{s['frames']} frames read, {s['kept']} kept ({s['interpolated']} interpolated), {s['dropped']} dropped; "
          f"wrote {s['clips']} clip(s) to {s['out']}" + (f"; overlays: {s['overlays']}" if "overlays" in s else ""))


def _add_app_command(commands: argparse._SubParsersAction) -> None:
    """The ``app`` command: the web app (docs/app.md)."""
    app = commands.add_parser(
        "app", help="start the web app: photos and a video in, a video out, in the browser",
        description="Serve a web page (Gradio; the ui extra) where you choose a task and a model, give 1 to 8 "
                    "example images and a driving video (or pick unseen benchmark subjects), and get the generated "
                    "video, a side-by-side video, the attention maps and downloads. Jobs run one at a time. "
                    "See docs/app.md.")
    app.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for every interface)")
    app.add_argument("--port", type=int_arg, default=7860, help="(default 7860)")
    app.add_argument("--share", action="store_true",
                     help="also open a public gradio.live link (off by default; needs the internet)")
    app.add_argument("--model", action="append", default=[], type=Path, metavar="FILE", dest="models",
                     help="an exported generator file to offer besides the bundled models/*.safetensors "
                          "(repeatable)")


def _cmd_app(args: argparse.Namespace) -> None:
    from fsvid2vid.app.serve import serve

    serve(args.host, args.port, args.share, args.models)


def _frame_limit(args: argparse.Namespace) -> int:
    from fsvid2vid.data.layout import MAX_TOTAL_FRAMES

    return args.max_total_frames or MAX_TOTAL_FRAMES


def _cmd_data_synth(args: argparse.Namespace) -> None:
    from fsvid2vid.data.layout import check_frame_count
    from fsvid2vid.data.synth.export import plan_split, write_jobs

    if args.subjects >= 1 and args.frames >= 1 and args.clips_per_subject >= 1 and args.cross_identity >= 0:
        per_subject = args.clips_per_subject + args.cross_identity
        check_frame_count(args.subjects * per_subject * args.frames,
                          f"--subjects {args.subjects} x {per_subject} clip(s) x --frames {args.frames}",
                          _frame_limit(args))
    jobs = plan_split(args.task, args.split, args.subjects, args.clips_per_subject, args.frames, args.size,
                      args.cross_identity)
    write_jobs(jobs, args.out, workers=args.workers, overwrite=args.overwrite, progress=not args.quiet,
               space_check=not args.no_space_check)
    print(f"wrote {len(jobs)} {args.task} clips ({args.split}, {args.subjects} subjects) to {args.out}")


def _cmd_data_render(args: argparse.Namespace) -> None:
    from fsvid2vid.atomic import check_free_space
    from fsvid2vid.data.layout import check_frame_count, ensure_writable_dir, read_meta
    from fsvid2vid.data.synth.export import ClipJob, check_size, estimate_jobs_bytes, render_job

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
    check_frame_count(frames, f"--frames {frames}", _frame_limit(args))
    out = Path(args.out)
    shape = args.subject if shape is None else shape
    job = ClipJob(task, out.name, args.subject, shape, motion, frames, size)
    if not args.no_space_check:
        check_free_space(out.parent, estimate_jobs_bytes([job]), "the clip")
    ensure_writable_dir(out.parent if str(out.parent) else Path("."))
    path = render_job(job, out.parent, overwrite=args.overwrite)
    print(f"wrote {path}")


def _cmd_data_sheet(args: argparse.Namespace) -> None:
    from fsvid2vid.atomic import check_output
    from fsvid2vid.data.preview import contact_sheet
    from fsvid2vid.media import write_png

    check_output(args.out, args.overwrite)
    write_png(args.out, contact_sheet(args.root, args.subjects, args.frames))
    print(f"wrote {args.out}")


def _cmd_data_preview(args: argparse.Namespace) -> None:
    from fsvid2vid.atomic import check_output
    from fsvid2vid.data.layout import read_meta
    from fsvid2vid.data.preview import side_by_side
    from fsvid2vid.media import write_mp4

    check_output(args.out, args.overwrite)
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
    if args.init_from is not None:
        overrides.setdefault("run", {})["init_from"] = str(args.init_from)
    cfg = load_config(args.config, overrides)
    out = args.out or Path("runs") / args.config.stem
    summary = train(cfg, out, resume=args.resume or False, progress=not args.quiet)
    if int(os.environ.get("RANK", 0)) == 0:
        state = "interrupted" if summary["interrupted"] else "finished"
        print(f"{state} at step {summary['step']} ({summary['steps_run']} steps, median "
              f"{summary['median_step_seconds']:.2f} s/step); checkpoint: {summary['checkpoint']}")
    return 130 if summary["interrupted"] else 0


def _cmd_generate(args: argparse.Namespace) -> None:
    from fsvid2vid.devices import resolve_device
    from fsvid2vid.infer.generate import generate
    from fsvid2vid.media import set_max_pixels

    resolve_device(args.device)
    if args.max_pixels is not None:
        set_max_pixels(args.max_pixels)
    info = generate(args.checkpoint, args.examples, args.driving, args.out, side_by_side=args.side_by_side,
                    example_semantics=args.example_semantics, retarget=args.retarget, frames_dir=args.frames_dir,
                    sheet=args.sheet, max_frames=args.max_frames, overwrite=args.overwrite, device=args.device,
                    progress=not args.quiet, finetune=args.finetune, seed=args.seed, attention_vis=args.attention_vis,
                    precision=args.precision, space_check=not args.no_space_check, intermediates=args.intermediates,
                    workers=args.workers, overrides=generator_overrides(args.overrides))
    for path in info["outputs"]:
        print(f"wrote {path}")


def _cmd_export(args: argparse.Namespace) -> None:
    from fsvid2vid.models.generator_file import export_generator

    print(f"wrote {export_generator(args.checkpoint, args.out, half=not args.fp32, overwrite=args.overwrite)}")


_COMMANDS = {
    ("data", "synth"): _cmd_data_synth,
    ("data", "render"): _cmd_data_render,
    ("data", "sheet"): _cmd_data_sheet,
    ("data", "preview"): _cmd_data_preview,
    ("train", None): _cmd_train,
    ("generate", None): _cmd_generate,
    ("export", None): _cmd_export,
    ("prepare", None): _cmd_prepare,
    ("app", None): _cmd_app,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    # OpenMP threads that spin without end while waiting make torch about 14x slower when another process holds a
    # core (docs/training.md); sleeping at once makes a bf16 training step 9-24 % slower when it does not. A short
    # spin, then sleep (fsvid2vid.openmp). Set before torch loads.
    openmp_wait_briefly()
    keep_freed_memory()  # no page faults on every step's fresh tensors (fsvid2vid.allocator)
    args = build_parser().parse_args(argv)
    fill_defaults(args)
    command = _COMMANDS[(args.command, getattr(args, f"{args.command}_command", None))]
    previous = _sigterm_as_interrupt()
    try:
        status = command(args)
    except UserError as exc:
        print(f"fsvid2vid: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fsvid2vid: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # the environment (a full disk, a read-only file system) where no writer named it
        if exc.errno not in _ENVIRONMENT_ERRORS:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"fsvid2vid: error: {where}{exc.strerror or exc}; check the disk and the permissions, then run again",
              file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return status or 0


#: Operating-system errors that are the machine's state, not a bug: reported as one line when no writer named them.
_ENVIRONMENT_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.EFBIG,
                       errno.EMFILE, errno.ENFILE, errno.ENOMEM}


def _interrupt(signum: int, frame) -> None:
    raise KeyboardInterrupt


def _sigterm_as_interrupt():
    """SIGTERM raises KeyboardInterrupt like Ctrl-C, so the same clean-up runs (partial files and folders removed;
    train installs its own handler, which checkpoints). Returns the previous handler (None off the main thread)."""
    try:
        return signal.signal(signal.SIGTERM, _interrupt)
    except ValueError:  # not the main thread
        return None


def _one_line(message: str) -> str:
    return " ".join(message.split("\n")).strip()


def main_entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
