"""``fsvid2vid bench``: the commands run and write reports whose fields are consistent; bad arguments are one-line
errors. Tiny presets and a couple of frames / steps; no assertion on how fast anything is."""

from __future__ import annotations

import json
import math

import pytest
import torch

from fsvid2vid.cli import main
from fsvid2vid.models import FewShotGenerator, model_preset
from tests.conftest import ROOT, run_cli


def _check_header(report: dict, kind: str) -> None:
    assert report["kind"] == kind and report["command"].startswith(f"fsvid2vid bench {kind}")
    assert report["date"][:2] == "20" and report["torch"]
    machine = report["machine"]
    assert machine["cpu"] and machine["cores"] >= 1 and machine["torch_threads"] >= 1 and machine["device"] == "cpu"
    assert report["matmul"]["fp32_gflop_s"] > 0 and report["matmul"]["bf16_gflop_s"] > 0


def _check_rates(row: dict, unit: str) -> None:
    """Times, FLOPs and the rates derived from them agree with each other."""
    seconds, flops = row[f"seconds_per_{unit}"], row[f"flops_per_{unit}"]
    assert seconds > 0 and flops > 0 and all(s > 0 for s in row["seconds"])
    assert row["seconds_min"] <= seconds <= row["seconds_max"]
    assert math.isclose(row[f"{unit}s_per_second"], 1 / seconds)
    assert math.isclose(row["gflop_per_s"], flops / seconds / 1e9)
    assert row["matmul_share"] > 0
    assert sum(row["flops_by_op"].values()) == flops
    assert 0 < row["peak_rss_after_warmup_mib"] <= row["peak_rss_mib"] and row["cuda_peak_mib"] is None


def test_bench_infer_reports_every_k_and_precision(tmp_path):
    out = tmp_path / "infer.json"
    r = run_cli("bench", "infer", "--preset", "tiny", "--task", "dance", "--k", "1", "2", "--precision", "fp32",
                "bf16", "--frames", "2", "--warmup", "1", "--end-to-end", "--profile", "5", "--matmul-size", "128",
                "--device", "cpu", "--out", out)
    assert r.returncode == 0, r.stderr
    assert "s/frame" in r.stdout and "PSNR vs fp32" in r.stdout and "self CPU ms" in r.stdout
    assert "page faults while profiled" in r.stdout
    report = json.loads(out.read_text())
    _check_header(report, "infer")
    rows = report["rows"]
    parameters = FewShotGenerator(model_preset("dance", "tiny").generator).parameter_counts()["total"]
    assert [(row["K"], row["precision"]) for row in rows] == [(1, "fp32"), (1, "bf16"), (2, "fp32"), (2, "bf16")]
    for row in rows:
        _check_rates(row, "frame")
        assert len(row["seconds"]) == 2 and (row["height"], row["width"]) == (64, 48)
        assert row["parameters"] == parameters
        parts = row["flops_by_module"]
        assert parts["FewShotGenerator"] == row["flops_per_frame"]  # the parts below the root add up to it
        assert sum(n for name, n in parts.items() if name != "FewShotGenerator") == row["flops_per_frame"]
        e2e = row["end_to_end"]
        assert e2e["frames"] == 1 + 1 + 2 and e2e["seconds_per_frame"] > 0
        assert math.isclose(e2e["ratio_to_model"], e2e["seconds_per_frame"] / row["seconds_per_frame"])
        ops = row["profile"]["ops"]
        assert len(ops) == 5 and all(0 <= op["share"] <= 1 and op["calls"] >= 1 for op in ops)
        assert row["profile"]["page_faults"] >= 0
    assert rows[0]["flops_per_frame"] == rows[1]["flops_per_frame"]  # the count does not depend on the precision
    assert rows[2]["flops_per_frame"] > rows[0]["flops_per_frame"]  # two examples attend over twice the positions
    assert rows[0]["psnr_vs_fp32"] is None and rows[1]["psnr_vs_fp32"] > 25


def test_bench_infer_set_changes_the_presets_model(tmp_path):
    out = tmp_path / "infer.json"
    r = run_cli("bench", "infer", "--preset", "tiny", "--task", "dance", "--precision", "fp32", "--frames", "1",
                "--warmup", "0", "--matmul-size", "64", "--device", "cpu", "--out", out,
                "--set", "model.generator.flow_stride=2", "--set", "model.generator.example_pooling=regions")
    assert r.returncode == 0, r.stderr
    row = json.loads(out.read_text())["rows"][0]
    assert "flow_stride=2" in row["model"] and "example_pooling=regions" in row["model"]
    cfg = model_preset("dance", "tiny")
    cfg.generator.flow_stride, cfg.generator.example_pooling = 2, "regions"
    assert row["parameters"] == FewShotGenerator(cfg.generator).parameter_counts()["total"]
    plain = model_preset("dance", "tiny")
    assert row["parameters"] != FewShotGenerator(plain.generator).parameter_counts()["total"]  # E's region network


def test_bench_train_fixes_t_and_reports_each_precision(dance_dir, tmp_path):
    out = tmp_path / "train.json"
    r = run_cli("bench", "train", "--config", ROOT / "configs" / "dance-64.yaml", "--data", dance_dir,
                "--set", "model_size=tiny", "--set", "schedule.batch_size=2", "--set", "data.workers=0", "--T", "2",
                "--steps", "2", "--warmup", "1", "--precision", "fp32", "bf16", "--matmul-size", "128",
                "--device", "cpu", "--markdown", "--out", out)
    assert r.returncode == 0, r.stderr
    assert "| config | H x W |" in r.stdout
    report = json.loads(out.read_text())
    _check_header(report, "train")
    assert report["settings"]["data"] == str(dance_dir)
    for precision in ("fp32", "bf16"):
        rows = [row for row in report["rows"] if row["precision"] == precision]
        assert sum(row["steps"] for row in rows) == 2
        for row in rows:
            _check_rates(row, "step")
            assert row["T"] == 2 and 1 <= row["K"] <= 2 and row["batch"] == 2 and row["data_seconds"] >= 0
            assert row["page_faults_per_step"] >= 0
            assert row["flops_by_op"]["aten.convolution_backward"] > 0  # the backward pass is counted
            assert row["skipped_steps"] == 0


def test_bench_train_times_each_shape_after_one_untimed_step_of_it(dance_dir, tmp_path, monkeypatch):
    """A (T, K) that the warm-up did not run gets one untimed step on its first timed batch, so no timed step is the
    first of its shape (fresh memory, new kernels); shapes the warm-up ran get none."""
    from fsvid2vid.bench.train import bench_config, bench_precision
    from fsvid2vid.train.trainer import Trainer

    calls: list[tuple[int, tuple[int, int]]] = []
    real_step = Trainer.train_step

    def recording_step(self, batch):
        calls.append((id(batch), (batch["rgb"].shape[1], batch["example_rgb"].shape[1])))
        return real_step(self, batch)

    monkeypatch.setattr(Trainer, "train_step", recording_step)
    cfg = bench_config(ROOT / "configs" / "dance-64.yaml", {"model_size": "tiny", "schedule": {
        "batch_size": 2, "K_max": 3}, "data": {"workers": 0}}, 2, 6, 1, "cpu", None)
    cfg.data.root, cfg.run.precision = str(dance_dir), "fp32"
    rows = bench_precision(cfg, tmp_path / "run", steps=6, warmup=1, matmul_size=64)
    stepped = calls[:-len(rows)]  # then one untimed step per row counts its FLOPs
    warm_shape = stepped[0][1]
    timed_shapes = {(row["T"], row["K"]) for row in rows}
    assert sum(row["steps"] for row in rows) == 6 and len(timed_shapes) >= 2
    assert len(stepped) == 1 + 6 + len(timed_shapes - {warm_shape})
    seen = {warm_shape}
    for (batch, shape), (nxt, _) in zip(stepped[1:], stepped[2:] + [(None, None)]):
        if shape not in seen:  # the first step of a new shape is repeated on the same batch: the untimed one
            assert nxt == batch
            seen.add(shape)


def test_bench_train_renders_a_dataset_long_enough_for_t(tmp_path):
    from fsvid2vid.bench.train import bench_config, render_data
    from fsvid2vid.data.layout import read_meta

    cfg = bench_config(ROOT / "configs" / "face-64.yaml", {"model_size": "tiny"}, 5, 1, 0, "cpu", None)
    assert [cfg.schedule.T(step) for step in (0, 1)] == [5, 5]
    clips = sorted(p for p in render_data(cfg, tmp_path / "data").iterdir() if p.is_dir())
    assert len(clips) == 4
    meta = read_meta(clips[0])
    assert meta.task == "face" and meta.height == 64 and meta.n_frames >= 6


def test_bench_params_counts_every_part(tmp_path, capsys):
    out = tmp_path / "params.json"
    assert main(["bench", "params", "--sizes", "tiny", "128", "--tasks", "dance", "street", "--out", str(out)]) == 0
    assert "E_P" in capsys.readouterr().out
    rows = json.loads(out.read_text())["rows"]
    assert [(r["preset"], r["task"]) for r in rows] == [("tiny", "dance"), ("tiny", "street"), ("128", "dance"),
                                                        ("128", "street")]
    expected = FewShotGenerator(model_preset("street", "128").generator).parameter_counts()
    assert rows[3]["generator"] == expected and rows[3]["discriminators"] > 0


@pytest.mark.parametrize("args, message", [
    (["infer", "--preset", "tiny", "--task", "dance", "--k", "0"], "--k 0 is invalid"),
    (["infer", "--checkpoint", "missing.safetensors"], "no such checkpoint"),
    (["infer", "--preset", "tiny", "--task", "dance", "--precision", "fp16"], "invalid choice: 'fp16'"),
    (["infer", "--preset", "tiny"], "--preset needs --task"),
    (["infer", "--preset", "huge", "--task", "dance"], "unknown preset 'huge'"),
    (["infer", "--preset", "tiny", "--task", "dance", "--height", "60"], "--height 60 is invalid"),
    (["infer", "--preset", "tiny", "--task", "dance", "--frames", "0"], "need at least 1 timed frame"),
    (["infer", "--checkpoint", "models/dance-64.safetensors", "--task", "face"], "go with --preset"),
    (["infer", "--checkpoint", "models/dance-64.safetensors", "--set", "model.generator.ngf=8"], "go with --preset"),
    (["infer", "--preset", "tiny", "--task", "dance", "--set", "schedule.steps=3"], "takes model fields only"),
    (["infer", "--preset", "tiny", "--task", "dance", "--set", "model.generator.flow_stride=3"], "flow_stride"),
    (["infer", "--preset", "tiny", "--task", "dance", "--threads", "0"], "--threads 0 is invalid"),
    (["infer", "--preset", "tiny", "--task", "dance", "--out", "no/such/folder/x.json"], "does not exist"),
    (["train", "--config", "configs/dance-64.yaml", "--T", "0"], "T >= 1"),
    (["train", "--config", "no-such-config.yaml"], "no such config file"),
    (["train", "--config", "configs/dance-64.yaml", "--set", "schedule.nope=1"], "unknown key(s) nope"),
    (["params", "--sizes", "huge"], "unknown model size 'huge'"),
])
def test_bad_arguments_are_one_line_errors(args, message, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    try:
        status = main(["bench", *args])
    except SystemExit as exc:  # argparse
        status = exc.code
    err = capsys.readouterr().err
    assert status == 2 and message in err and err.count("\n") == 1, err


def test_an_existing_report_needs_overwrite(tmp_path, capsys):
    out = tmp_path / "report.json"
    out.write_text("{}")
    assert main(["bench", "params", "--sizes", "tiny", "--tasks", "face", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err and out.read_text() == "{}"
    assert main(["bench", "params", "--sizes", "tiny", "--tasks", "face", "--out", str(out), "--overwrite"]) == 0
    assert json.loads(out.read_text())["rows"][0]["task"] == "face"


def test_bench_train_compile_keeps_the_checkpoint_keys(dance_dir, tmp_path):
    """`bench train --compile` compiles H, W/M and W_e/M_e in place: the modules (and so the checkpoints' keys) stay
    the same. Nothing runs here: compiling even the tiny model takes most of a minute on 2 cores."""
    from fsvid2vid.bench.train import bench_config, compile_generator_parts
    from fsvid2vid.train.trainer import Trainer

    cfg = bench_config(ROOT / "configs" / "dance-64.yaml", {"model_size": "tiny"}, 2, 1, 0, "cpu", None)
    cfg.data.root = str(dance_dir)
    trainer = Trainer(cfg, tmp_path / "run", progress=False)
    keys = list(trainer.generator.state_dict())
    compile_generator_parts(trainer)
    g = trainer.generator
    assert list(g.state_dict()) == keys
    parts = [g.synthesis, g.flow_prev, g.flow_example]
    assert all(p._compiled_call_impl is not None for p in parts if p is not None)
    assert g.conditioning._compiled_call_impl is None  # E stays eager


def test_the_profile_reports_the_time_of_named_regions_within_the_call():
    """`bench train --profile` times the trainer's regions (torch.profiler ranges): each found, within the call's
    wall time, summed over repeats, and the wrapper range is not listed as an operator."""
    from torch.profiler import record_function

    from fsvid2vid.bench.measure import profile_ops, regions_table
    from fsvid2vid.train.trainer import REGIONS

    conv = torch.nn.Conv2d(4, 4, 3, padding=1)
    x = torch.rand(1, 4, 32, 32)

    def call():
        for _ in range(2):
            with record_function("forward"):
                y = conv(x)
        with record_function("backward"):
            y.square().mean().backward()

    profile = profile_ops(call, torch.device("cpu"), 50, ("forward", "backward", "absent"))
    found = {r["region"]: r for r in profile["regions"]}
    assert found["forward"]["ms"] > 0 and found["backward"]["ms"] > 0 and found["absent"]["ms"] == 0
    assert sum(r["ms"] for r in profile["regions"]) <= profile["wall_ms"]
    assert all(op["op"] != "profiled call" for op in profile["ops"])
    assert profile["page_faults"] >= 0
    assert "the whole call" in regions_table(profile)
    assert len(REGIONS) == len(set(REGIONS)) == 4
