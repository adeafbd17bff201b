"""What every benchmark needs: wall time, peak memory, FLOPs, an operator profile, the machine, and tables.

    seconds = timed(fn, repeats)                     # wall time of each call (CUDA synchronised)
    flops, by_op, by_module = count_flops(fn, 2)     # matmul and convolution FLOPs of one call
    top = profile_ops(fn, device, 15)                # the operators with the most self CPU time in one call
    rates = matmul_rates(device)                     # this machine's fp32 / bf16 GFLOP/s on a square matmul
    rate = matmul_rate(device, "bf16")               # one precision
"""

from __future__ import annotations

import datetime
import os
import platform
import resource
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from fsvid2vid import __version__
from fsvid2vid.allocator import keep_freed_memory
from fsvid2vid.models.precision import DTYPES, cpu_has_native_bf16


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (CUDA runs asynchronously; the CPU needs nothing)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], Any], repeats: int, device: torch.device | None = None) -> list[float]:
    """Seconds of each of ``repeats`` calls of ``fn`` (waiting for ``device`` to finish each)."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        if device is not None:
            synchronize(device)
        seconds.append(time.perf_counter() - start)
    return seconds


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def matmul_rate(device: torch.device, precision: str, size: int = 2048, repeats: int = 5) -> float:
    """GFLOP/s of a ``size`` x ``size`` matmul in ``precision`` ("fp32" or "bf16"): the median of ``repeats`` calls
    after one warm-up call."""
    generator = torch.Generator().manual_seed(0)
    a, b = (torch.randn(size, size, generator=generator).to(device, DTYPES[precision]) for _ in range(2))
    timed(lambda: torch.mm(a, b), 1, device)
    return 2 * size**3 / median(timed(lambda: torch.mm(a, b), repeats, device)) / 1e9


def matmul_rates(device: torch.device, size: int = 2048) -> dict[str, float]:
    """:func:`matmul_rate` of every precision: ``{"size": size, "fp32_gflop_s": ..., "bf16_gflop_s": ...}``."""
    return {"size": size, **{f"{name}_gflop_s": matmul_rate(device, name, size) for name in DTYPES}}


def add_rows(report: dict[str, Any], rows: list[dict[str, Any]], device: torch.device, matmul_size: int
             ) -> dict[str, Any]:
    """Complete ``report`` with its ``rows``, each row's achieved rate as a share of the matmul rate of its precision
    measured just before it (``matmul_gflop_s``: on a shared machine the two then see about the same load), this
    machine's matmul rates at the end of the run, and the load average then."""
    report["rows"] = rows
    for row in rows:
        row["matmul_share"] = row["gflop_per_s"] / row["matmul_gflop_s"]
    report["matmul"] = matmul_rates(device, matmul_size)
    report["load_average"]["end"] = load_average()
    report["machine"]["torch_threads"] = torch.get_num_threads()  # as the run left it (a config may set threads)
    return report


def peak_rss_mib() -> float:
    """Peak resident memory of this process since it started, in MiB (``getrusage``; it never goes down)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def page_faults() -> int:
    """Minor page faults of this process so far (``getrusage``): each first touch of a fresh 4 KiB page is one."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def reset_cuda_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def cuda_peak_mib(device: torch.device) -> float | None:
    """Peak CUDA memory allocated by tensors since the last :func:`reset_cuda_peak`, in MiB (None on the CPU)."""
    return torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None


def count_flops(fn: Callable[[], Any], depth: int = 0) -> tuple[int, dict[str, int], dict[str, int]]:
    """(FLOPs of one call of ``fn``, FLOPs per operator, FLOPs per module down to ``depth`` levels of the module tree).

    ``torch.utils.flop_counter`` counts matmuls and convolutions, forward and backward (a multiply-add is 2 FLOPs);
    normalisation, activations, sampling and copies are not counted. Module names start with the root's class name
    (``FewShotGenerator.synthesis``). Use ``depth`` for forward passes only: in a backward pass the per-module counts
    overlap (a module's backward is also credited to others), while the total and the per-operator counts stay exact.
    """
    counter = FlopCounterMode(display=False, depth=max(depth, 1))
    with counter:
        fn()
    counts = counter.get_flop_counts()
    by_op = {str(op): int(n) for op, n in sorted(counts.get("Global", {}).items(), key=lambda item: -item[1])}
    by_module = {name: int(sum(ops.values())) for name, ops in sorted(counts.items())
                 if name != "Global" and name.count(".") < depth}
    return int(counter.get_total_flops()), by_op, by_module


def profile_ops(fn: Callable[[], Any], device: torch.device, top: int = 15,
                regions: tuple[str, ...] = (), fresh_memory_mib: int = 0) -> dict[str, Any]:
    """``torch.profiler`` over one call of ``fn``: the ``top`` operators by self CPU time (and self device time), and
    the CPU wall time of each of ``regions`` (names of ``torch.profiler.record_function`` ranges that ``fn`` opens;
    ranges of the same name are summed) with its share of the call's, and the page faults during the profiled call
    (the profiler's own records take fresh memory, and on a CPU the operators that touch such pages first are charged
    for the faults: a steady training step that faults a few hundred times faults 10,000-110,000 times profiled).
    ``fresh_memory_mib`` > 0: first touch and free that much memory, so that the records and the call's tensors land
    on pages already faulted in; that needs the freed memory kept (:func:`fsvid2vid.allocator.keep_freed_memory`,
    which this then turns on, as the command line does anyway), and the process keeps that much more memory."""
    from torch.profiler import ProfilerActivity, profile, record_function

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    whole = "profiled call"
    if fresh_memory_mib > 0 and device.type == "cpu" and keep_freed_memory():
        torch.empty(fresh_memory_mib << 20, dtype=torch.uint8).fill_(0)  # faulted in, freed, kept for reuse
    faults = page_faults()
    with profile(activities=activities) as prof:
        with record_function(whole):
            fn()
            synchronize(device)
    faults = page_faults() - faults
    events = list(prof.key_averages())
    total = sum(e.self_cpu_time_total for e in events) or 1.0
    ops = []
    for e in sorted((e for e in events if e.key != whole), key=lambda e: e.self_cpu_time_total, reverse=True)[:top]:
        op = {"op": e.key, "self_cpu_ms": e.self_cpu_time_total / 1e3, "share": e.self_cpu_time_total / total,
              "calls": e.count}
        if device.type == "cuda":
            op["self_device_ms"] = getattr(e, "self_device_time_total", 0.0) / 1e3
        ops.append(op)
    report: dict[str, Any] = {"total_self_cpu_ms": total / 1e3, "ops": ops, "page_faults": faults}
    if regions:
        ms = {name: 0.0 for name in (*regions, whole)}
        for e in prof.events():
            if e.name in ms:
                ms[e.name] += e.time_range.elapsed_us() / 1e3
        report["wall_ms"] = ms.pop(whole)
        report["regions"] = [{"region": name, "ms": t, "share": t / report["wall_ms"] if report["wall_ms"] else 0.0}
                             for name, t in ms.items()]
    return report


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(device: torch.device) -> dict[str, Any]:
    """The machine a benchmark ran on: CPU model, cores, torch threads, native bf16, GPU, load."""
    info = {"cpu": _cpu_model(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "cpu_native_bf16": cpu_has_native_bf16(), "platform": platform.platform(), "device": str(device),
            "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None}
    if hasattr(os, "sched_getaffinity"):
        info["usable_cores"] = len(os.sched_getaffinity(0))
    return info


def load_average() -> float | None:
    """The 1-minute load average (how busy the machine was; None where the OS does not say)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


def report_header(kind: str, device: torch.device, argv: list[str]) -> dict[str, Any]:
    """The fields every report starts with: what ran, where, when, with which versions."""
    return {"kind": kind, "command": shlex.join(["fsvid2vid", *argv]),
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "torch": torch.__version__, "fsvid2vid": __version__, "machine": machine(device),
            "load_average": {"start": load_average()}}


def header_lines(report: dict[str, Any]) -> list[str]:
    """A report's setting in a few lines of text (machine, matmul rates, load, command, date)."""
    m = report["machine"]
    lines = [f"{report['command']}", f"{report['date']}, {m['cpu']}, {m['cores']} cores, {m['torch_threads']} torch "
             f"threads, torch {report['torch']}, device {m['device']}" + (f" ({m['gpu']})" if m["gpu"] else "")]
    if "matmul" in report:
        mm = report["matmul"]
        lines.append(f"matmul {mm['size']}x{mm['size']} at the end of the run: fp32 {mm['fp32_gflop_s']:.0f} GFLOP/s, "
                     f"bf16 {mm['bf16_gflop_s']:.0f} GFLOP/s (each row: its precision's rate just before it)")
    load = report["load_average"]
    if load.get("start") is not None:
        lines.append(f"load average (1 min): {load['start']} at the start, {load.get('end')} at the end")
    return lines


def table(headers: list[str], rows: list[list[str]], markdown: bool = False) -> str:
    """Rows of cells as a markdown table, or as plain columns aligned for a terminal."""
    if markdown:
        lines = [f"| {' | '.join(headers)} |", "|" + " --- |" * len(headers)]
        return "\n".join(lines + [f"| {' | '.join(row)} |" for row in rows])
    widths = [max(len(c) for c in column) for column in zip(headers, *rows)]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(row, widths)).rstrip() for row in [headers, *rows])


def regions_table(profile: dict[str, Any], markdown: bool = False) -> str:
    """The regions of :func:`profile_ops` as a table: wall ms and share of the profiled call."""
    rows = [[r["region"], f"{r['ms']:.1f}", f"{r['share']:.1%}"] for r in profile["regions"]]
    rows.append(["the whole call", f"{profile['wall_ms']:.1f}", "100%"])
    return table(["region", "wall ms", "share"], rows, markdown)


def profile_table(profile: dict[str, Any], markdown: bool = False) -> str:
    """The operators of :func:`profile_ops` as a table."""
    device = any("self_device_ms" in op for op in profile["ops"])
    headers = ["operator", "self CPU ms", "share", "calls"] + (["self device ms"] if device else [])
    rows = [[op["op"], f"{op['self_cpu_ms']:.2f}", f"{op['share']:.1%}", str(op["calls"])]
            + ([f"{op['self_device_ms']:.2f}"] if device else []) for op in profile["ops"]]
    return table(headers, rows, markdown)


def fmt(value: float | None, digits: int = 3) -> str:
    """A number for a table cell: ``digits`` significant digits, '-' for None."""
    return "-" if value is None else f"{value:.{digits}g}"
