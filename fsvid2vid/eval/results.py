"""Tables and plots of the Table 1 / Figure 7 reproduction from ``fsvid2vid evaluate`` reports (docs/results.md).

    python -m fsvid2vid.eval.results runs/repro/eval --plots docs/img

reads ``<task>-<method>.json`` (Table 1: methods ours, encoder, concat_style, adain) and ``dance-ours-s<N>.json``
(Figure 7(a): ours trained on N subjects; the Table 1 run is the point at the full training set) written by
``scripts/reproduce.sh evaluate``, prints the tables as Markdown, and writes ``results-fig7a.png`` and
``results-fig7b.png`` (Figure 7(b): ours at every K of its reports, the mean over its training seeds
``<task>-ours[-seed<N>]`` with their range as bars) into ``--plots``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from fsvid2vid.atomic import atomic_path
from fsvid2vid.errors import UserError

METHODS = ("ours", "encoder", "concat_style", "adain")
METHOD_NAMES = {"ours": "Ours", "encoder": "Encoder", "concat_style": "ConcatStyle", "adain": "AdaIN"}
#: Per task: (report key, column title, lower is better) in table order.
_SUBJECT = [("subject_l1", "subject L1 ↓", True), ("subject_psnr", "subject PSNR ↑", False),
            ("subject_ssim", "subject SSIM ↑", False), ("subject_color_distance", "subject colour dist ↓", True),
            ("ghost_l1", "ghost L1 ↓", True)]
# first: the subject's own pixels (eval.subject)
COLUMNS = {
    "dance": _SUBJECT + [("pose_error_px", "pose error (px) ↓", True),
                         ("fid_dance_evaluator", "FID (evaluator) ↓", True), ("l1", "L1 ↓", True),
                         ("psnr", "PSNR ↑", False), ("ssim", "SSIM ↑", False), ("warping_error", "warp err ↓", True)],
    "face": _SUBJECT + [("landmark_error_px", "landmark error (px) ↓", True),
                        ("fid_face_evaluator", "FID (evaluator) ↓", True), ("l1", "L1 ↓", True),
                        ("psnr", "PSNR ↑", False), ("ssim", "SSIM ↑", False), ("warping_error", "warp err ↓", True)],
    "street": _SUBJECT + [("pixel_accuracy", "pixel acc ↑", False), ("mean_iou", "mIoU ↑", False),
                          ("fid_street_evaluator", "FID (evaluator) ↓", True), ("l1", "L1 ↓", True),
                          ("psnr", "PSNR ↑", False), ("ssim", "SSIM ↑", False), ("warping_error", "warp err ↓", True)],
}
#: Training subjects of the Table 1 runs (scripts/reproduce.sh renders data/<task>-train-64 with 150).
FULL_TRAINING_SUBJECTS = 150
_SUBSET = re.compile(r"^(?P<task>[a-z]+)-ours-s(?P<n>\d+)$")
_SEED = re.compile(r"^(?P<task>[a-z]+)-(?P<method>[a-z_]+?)(-seed(?P<seed>\d+))?$")
#: Columns of the seed table: the subject's pixels, then the ghost.
SEED_COLUMNS = [("subject_l1", "subject L1 ↓"), ("subject_l1_back", "subject L1, back views ↓"),
                ("subject_psnr", "subject PSNR ↑"), ("ghost_l1", "ghost L1 ↓")]


def load_reports(folder: Path) -> dict[str, dict[str, Any]]:
    """Every ``*.json`` report in ``folder`` by file stem."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(Path(folder).glob("*.json"))}


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.2f}"


def table1(reports: dict[str, dict[str, Any]], task: str, k: str) -> str:
    """Markdown table of the four methods on ``task`` at K = ``k``; the best value of each column in bold, and the
    ground truth's own value (floor / ceiling) as the last row where the metric has one."""
    columns = COLUMNS[task]
    rows = [(METHOD_NAMES[m], reports[f"{task}-{m}"]["results"][k]) for m in METHODS if f"{task}-{m}" in reports]
    if not rows:
        return f"(no {task} reports)"
    best = {}
    for key, _, lower in columns:
        values = [r[key] for _, r in rows if r.get(key) is not None]
        best[key] = (min if lower else max)(values) if values else None
    lines = ["| method | " + " | ".join(title for _, title, _ in columns) + " |",
             "| --- |" + " --- |" * len(columns)]
    for name, r in rows:
        cells = [f"**{_fmt(r.get(key))}**" if r.get(key) is not None and r.get(key) == best[key] else _fmt(r.get(key))
                 for key, _, _ in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    truth = [_fmt(rows[0][1].get(f"{key}_ground_truth")) for key, _, _ in columns]
    lines.append("| ground truth | " + " | ".join(truth) + " |")
    return "\n".join(lines)


def seed_runs(reports: dict[str, dict[str, Any]], task: str) -> dict[str, dict[int, dict[str, Any]]]:
    """Per method, its reports by training seed: ``<task>-<method>`` is seed 0, ``<task>-<method>-seed<N>`` seed N."""
    out: dict[str, dict[int, dict[str, Any]]] = {}
    for stem, report in reports.items():
        m = _SEED.match(stem)
        if m and m["task"] == task and m["method"] in METHODS:
            out.setdefault(m["method"], {})[int(m["seed"] or 0)] = report
    return out


def _share_cell(values: list[float | None]) -> str:
    """'mean (spread)' of the values that exist, or a dash."""
    values = [v for v in values if v is not None]
    return f"{sum(values) / len(values):.2f} ({max(values) - min(values):.2f})" if values else "–"


def seed_table(reports: dict[str, dict[str, Any]], task: str) -> str:
    """Markdown: per method with two or more seeds and per K, the mean over seeds of each SEED_COLUMNS metric and its
    spread (max - min over seeds), and the back example's torso attention share where the reports have it."""
    lines = ["| method | seeds | K | " + " | ".join(f"{title} (spread)" for _, title in SEED_COLUMNS) +
             " | back-example torso share | front-example torso share |",
             "| --- |" + " --- |" * (len(SEED_COLUMNS) + 4)]
    for method, by_seed in sorted(seed_runs(reports, task).items(), key=lambda item: METHODS.index(item[0])):
        if len(by_seed) < 2:
            continue
        runs = [by_seed[seed] for seed in sorted(by_seed)]
        share, front = (_share_cell([(r.get("attention_views") or {}).get(key) for r in runs])
                        for key in ("back_example_torso_share", "front_example_torso_share"))
        for k in sorted(set.intersection(*(set(r["results"]) for r in runs)), key=int):
            cells = []
            for key, _ in SEED_COLUMNS:
                values = [r["results"][k].get(key) for r in runs]
                values = [v for v in values if v is not None]
                cells.append(f"{_fmt(sum(values) / len(values))} ({_fmt(max(values) - min(values))})" if values
                             else "–")
            lines.append(f"| {METHOD_NAMES[method]} | {', '.join(map(str, sorted(by_seed)))} | {k} | "
                         + " | ".join(cells) + f" | {share} | {front} |")
    return "\n".join(lines) if len(lines) > 2 else f"(no {task} method with two or more seeds)"


def figure7a(reports: dict[str, dict[str, Any]], task: str = "dance") -> list[tuple[int, dict[str, Any]]]:
    """(number of training subjects, report) for ours, sorted; the full-data Table 1 run included."""
    points = []
    for stem, report in reports.items():
        m = _SUBSET.match(stem)
        if m and m["task"] == task:
            points.append((int(m["n"]), report))
    full = reports.get(f"{task}-ours")
    if full is not None:
        points.append((FULL_TRAINING_SUBJECTS, full))
    return sorted(points, key=lambda p: p[0])


def plot_figure7(reports: dict[str, dict[str, Any]], out_dir: Path, task: str = "dance", prefix: str = "results"
                 ) -> list[Path]:
    """Write <prefix>-fig7a.png (metrics against training subjects, at K = 1) and <prefix>-fig7b.png (ours against
    K) into ``out_dir``; Figure 7(a) only where there are two or more training-set sizes."""
    keys = [c for c in COLUMNS[task] if c[0] in ("subject_l1", "pose_error_px", "fid_dance_evaluator", "l1", "ssim")]
    written = []
    points = figure7a(reports, task)
    if len(points) > 1:
        rows = [r["results"][min(r["results"], key=int)] for _, r in points]
        written.append(_plot_row([n for n, _ in points], rows, keys, "training subjects", 10,
                                 Path(out_dir) / f"{prefix}-fig7a.png"))
    seeds = list(seed_runs(reports, task).get("ours", {}).values())
    if seeds:
        ks, mean, low, high = figure7b(seeds)
        written.append(_plot_row(ks, mean, keys, "K (examples at test time)", 2, Path(out_dir) / f"{prefix}-fig7b.png",
                                 low, high))
    return written


def figure7b(runs: list[dict[str, Any]]) -> tuple[list[int], list[dict], list[dict], list[dict]]:
    """Ours against K over its training seeds' reports: the K of every report, and per K the mean, the lowest and the
    highest value of each metric over the seeds (one seed: all three the same)."""
    ks = sorted(set.intersection(*(set(r["results"]) for r in runs)), key=int)
    mean, low, high = [], [], []
    for k in ks:
        keys = set.intersection(*(set(r["results"][k]) for r in runs))
        values = {key: [r["results"][k][key] for r in runs] for key in keys}
        values = {key: v for key, v in values.items() if all(isinstance(x, int | float) for x in v)}
        mean.append({key: sum(v) / len(v) for key, v in values.items()})
        low.append({key: min(v) for key, v in values.items()})
        high.append({key: max(v) for key, v in values.items()})
    return [int(k) for k in ks], mean, low, high


def _plot_row(xs: list[int], rows: list[dict[str, Any]], keys: list[tuple[str, str, bool]], xlabel: str,
              log_base: int, out: Path, low: list[dict[str, Any]] | None = None,
              high: list[dict[str, Any]] | None = None) -> Path:
    """One small plot per metric key: rows[i][key] against xs[i] on a log x axis, with bars from low[i][key] to
    high[i][key] when given (the seeds' range); written atomically to ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(keys), figsize=(2.6 * len(keys), 2.4), constrained_layout=True)
    for ax, (key, title, _) in zip(axes, keys):
        ys = [row.get(key) for row in rows]
        if low is not None and high is not None and None not in ys:
            below = [y - lo.get(key, y) for y, lo in zip(ys, low)]
            above = [hi.get(key, y) - y for y, hi in zip(ys, high)]
            ax.errorbar(xs, ys, yerr=[below, above], fmt="o-", capsize=2)
        else:
            ax.plot(xs, ys, "o-")
        ax.set_xscale("log", base=log_base)
        ax.set_xticks(xs, [str(x) for x in xs])
        ax.minorticks_off()
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=7)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fsvid2vid.eval.results", description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="folder of evaluate reports (runs/repro/eval)")
    parser.add_argument("--plots", type=Path, help="folder to write results-fig7a.png and results-fig7b.png into")
    parser.add_argument("--prefix", default="results", help="file name prefix of the plots (default results)")
    parser.add_argument("--k", default="1", help="K of the Table 1 columns (default 1)")
    args = parser.parse_args(argv)
    try:
        return _report(args)
    except UserError as exc:  # a missing folder or a bad report: one line, no traceback
        print(f"python -m fsvid2vid.eval.results: error: {exc}", file=sys.stderr)
        return 2


def _report(args: argparse.Namespace) -> int:
    reports = load_reports(args.folder)
    for task in ("dance", "face", "street"):
        if any(stem.startswith(f"{task}-") for stem in reports):
            print(f"### {task}, K = {args.k}\n\n{table1(reports, task, args.k)}\n")
    for task in ("dance", "face", "street"):
        if any(len(by_seed) > 1 for by_seed in seed_runs(reports, task).values()):
            print(f"### {task}: seeds (mean over seeds, spread = max - min)\n\n{seed_table(reports, task)}\n")
    points = figure7a(reports)
    if len(points) > 1:
        columns = COLUMNS["dance"]
        print("### Figure 7(a): ours on dance against the number of training subjects (smallest K of each report)\n")
        print("| subjects | " + " | ".join(title for _, title, _ in columns) + " |")
        print("| --- |" + " --- |" * len(columns))
        for n, r in points:
            first = r["results"][min(r["results"], key=int)]
            print(f"| {n} | " + " | ".join(_fmt(first.get(key)) for key, _, _ in columns) + " |")
        print()
    ours = reports.get("dance-ours")
    if ours is not None:
        columns = COLUMNS["dance"]
        print("### Figure 7(b): ours on dance against K\n")
        print("| K | " + " | ".join(title for _, title, _ in columns) + " |")
        print("| --- |" + " --- |" * len(columns))
        for k in sorted(ours["results"], key=int):
            print(f"| {k} | " + " | ".join(_fmt(ours["results"][k].get(key)) for key, _, _ in columns) + " |")
        print()
    if args.plots is not None:
        for path in plot_figure7(reports, args.plots, prefix=args.prefix):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
