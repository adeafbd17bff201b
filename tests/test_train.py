"""Training: a smoke run per task, exact resume, the NaN guard, atomic checkpoints, signals and a 2-process run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import torch
import yaml

import fsvid2vid.losses.objective as objective
from fsvid2vid.errors import UserError
from fsvid2vid.models.checkpoint import latest_checkpoint, read_checkpoint, save_checkpoint
from fsvid2vid.train.config import TrainConfig, load_config, merge_overrides, parse_override
from fsvid2vid.train.trainer import Trainer, TrainingDiverged, train
from tests.conftest import ROOT


def tiny_config(task: str, root, steps: int = 3, optim: dict | None = None, **schedule) -> TrainConfig:
    return TrainConfig.from_dict({
        "task": task, "model_size": "tiny", "optim": optim or {},
        "data": {"root": str(root), "workers": 0},
        "schedule": {"steps": steps, "batch_size": 2, "K_max": 2, "single_frame_steps": 1, "T_start": 2,
                     "T_double_every": 100, "T_max": 2, **schedule},
        "run": {"checkpoint_every": 100, "log_every": 1, "image_every": 2, "device": "cpu", "threads": 1},
    })


@pytest.mark.parametrize("task", ["dance", "face", "street"])
def test_smoke_run_per_task(task, request, tmp_path):
    root = request.getfixturevalue(f"{task}_dir")
    summary = train(tiny_config(task, root), tmp_path / "run", progress=False)
    assert summary["step"] == 3 and not summary["interrupted"]
    tensors, meta = read_checkpoint(latest_checkpoint(tmp_path / "run"))
    assert meta["step"] == 3 and meta["task"] == task
    assert all(torch.isfinite(v).all() for k, v in tensors.items() if v.is_floating_point())
    assert list((tmp_path / "run" / "tb").glob("events.*")), "TensorBoard log written"
    assert (tmp_path / "run" / "config.yaml").is_file()


def test_every_loss_is_logged_and_temporal_terms_appear_once_t_grows(dance_dir, tmp_path):
    t = Trainer(tiny_config("dance", dance_dir), tmp_path / "run", progress=False)
    loader = iter(t._loader())
    first = t.train_step(next(loader))
    assert first["T"] == 1 and "G/flow" not in first and "G/warp" in first  # example warp from the start
    second = t.train_step(next(loader))
    assert second["T"] == 2
    for name in ("G/gan", "G/feature_matching", "G/temporal_gan", "G/temporal_feature_matching", "G/l1", "G/flow",
                 "G/warp", "G/mask", "G/part_warp", "G/part_mask", "D/image_real", "D/image_fake", "D/temporal_real",
                 "D/temporal_fake"):
        assert name in second and second[name] == second[name], name
    w = t.cfg.loss  # G/total is each logged term times the LossConfig field of its name
    terms = [k for k in second if k.startswith("G/") and k != "G/total"]
    assert second["G/total"] == pytest.approx(sum(w.weight(k[2:]) * second[k] for k in terms), rel=1e-5)


def test_the_attention_warp_with_the_gate_and_part_alignment_trains_with_finite_losses(dance_dir, tmp_path):
    """The recipe's example warp (every example aligned by its parts, mixed by attention, gated by the labels): all
    K examples' warp, mask and part terms are computed and finite, and E_A gets a gradient."""
    values = tiny_config("dance", dance_dir).to_dict()
    values["model"] = {"generator": {"example_warp": "attention", "example_gate": True, "example_alignment": "parts"}}
    t = Trainer(TrainConfig.from_dict(values), tmp_path / "run", progress=False)
    loader = iter(t._loader())
    t.train_step(next(loader))
    logged = t.train_step(next(loader))
    for name in ("G/warp", "G/mask", "G/part_warp", "G/part_mask", "G/flow", "G/total"):
        assert name in logged and torch.isfinite(torch.tensor(logged[name])), name
    grads = [p.grad for p in t.generator.conditioning.attention.parameters()]
    assert all(g is not None and torch.isfinite(g).all() and g.abs().sum() > 0 for g in grads)


def test_the_learning_rates_decay_linearly_to_zero_over_the_last_steps(dance_dir, tmp_path):
    cfg = tiny_config("dance", dance_dir, steps=10, optim={"lr_decay_steps": 4})
    assert [cfg.optim.lr_factor(s, 10) for s in range(10)] == [1, 1, 1, 1, 1, 1, 1, 0.75, 0.5, 0.25]
    assert tiny_config("dance", dance_dir).optim.lr_factor(2, 3) == 1  # off by default
    t = Trainer(cfg, tmp_path / "run", progress=False)
    t.step = 8
    t._set_learning_rates()
    assert t.opt_g.param_groups[0]["lr"] == t.opt_d.param_groups[0]["lr"] == pytest.approx(cfg.optim.lr / 2)


def test_resume_is_exact_through_the_lr_decay(dance_dir, tmp_path):
    """A run resumed into a decay takes the steps it would have taken straight: the rates follow the step and the
    config, not the optimiser state saved at a constant rate (how a finished run is extended with a decay)."""
    decay = {"lr_decay_steps": 3}  # factors 1, 1, 2/3, 1/3
    straight = train(tiny_config("dance", dance_dir, steps=4, optim=decay), tmp_path / "a", progress=False)
    train(tiny_config("dance", dance_dir, steps=2), tmp_path / "b", progress=False)
    resumed = train(tiny_config("dance", dance_dir, steps=4, optim=decay), tmp_path / "b", resume=True, progress=False)
    assert straight["step"] == resumed["step"] == 4
    a, _ = read_checkpoint(latest_checkpoint(tmp_path / "a"))
    b, _ = read_checkpoint(latest_checkpoint(tmp_path / "b"))
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6, msg=key)
    train(tiny_config("dance", dance_dir, steps=4), tmp_path / "c", progress=False)
    constant, _ = read_checkpoint(latest_checkpoint(tmp_path / "c"))
    assert any(not torch.equal(a[key], constant[key]) for key in a if key.startswith("model.generator.")), "no decay"


def test_init_from_starts_the_generator_only_and_rejects_another_config(dance_dir, tmp_path):
    from fsvid2vid.errors import UserError
    from fsvid2vid.models.generator_file import export_generator, load_generator

    train(tiny_config("dance", dance_dir, steps=2), tmp_path / "a", progress=False)
    exported = export_generator(latest_checkpoint(tmp_path / "a"), tmp_path / "g.safetensors", half=False)
    source, _ = read_checkpoint(latest_checkpoint(tmp_path / "a"))
    cfg = tiny_config("dance", dance_dir, steps=1)
    cfg.run.init_from = str(exported)
    t = Trainer(cfg, tmp_path / "b", progress=False)
    fresh = Trainer(tiny_config("dance", dance_dir, steps=1), tmp_path / "c", progress=False)
    for name, value in t.generator.state_dict().items():
        torch.testing.assert_close(value, source[f"model.generator.{name}"], rtol=0, atol=0, msg=name)
    for mine, new in zip(t.image_d.state_dict().values(), fresh.image_d.state_dict().values()):
        torch.testing.assert_close(mine, new, rtol=0, atol=0)  # the discriminators start fresh
    assert t.step == 0 and t.steps_before == 2
    t.train()  # one step; the exported file counts the steps of both runs and names the file it started from
    _, _, info = load_generator(export_generator(latest_checkpoint(tmp_path / "b"), tmp_path / "g2.safetensors"))
    assert info["step"] == 1 and info["total_steps"] == 3 and info["init_from"] == str(exported)
    # Resumed with a config that no longer names the file (as `train --resume --config <the task's yaml>` does): the
    # export still counts the steps of both runs.
    Trainer(tiny_config("dance", dance_dir, steps=2), tmp_path / "b", resume=True, progress=False).train()
    _, _, info = load_generator(export_generator(latest_checkpoint(tmp_path / "b"), tmp_path / "g3.safetensors"))
    assert info["step"] == 2 and info["total_steps"] == 4
    other = tiny_config("dance", dance_dir, steps=1)
    other.model.generator.conditioning = "adain"
    other.run.init_from = str(exported)
    with pytest.raises(UserError, match="g.safetensors: its generator .* does not match"):
        Trainer(other, tmp_path / "d", progress=False)


def test_nan_guard_skips_and_then_stops_naming_the_last_checkpoint(dance_dir, tmp_path, monkeypatch):
    cfg = tiny_config("dance", dance_dir, steps=6)
    cfg.run.nan_patience = 2
    cfg.run.checkpoint_every = 1
    t = Trainer(cfg, tmp_path / "run", progress=False)
    real_hinge = objective.generator_hinge

    def poisoned(features):  # a NaN from the third step on
        return real_hinge(features) * (float("nan") if t.step >= 2 else 1.0)

    monkeypatch.setattr(objective, "generator_hinge", poisoned)
    before = {k: v.clone() for k, v in t.generator.state_dict().items()}
    with pytest.raises(TrainingDiverged, match=r"last good checkpoint: .*step-0000002\.safetensors"):
        t.train()
    assert t.step == 4  # steps 3 and 4 were skipped, then the run stopped
    after = t.generator.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)  # steps 1-2 trained
    _, meta = read_checkpoint(latest_checkpoint(tmp_path / "run"))
    assert meta["step"] == 2


def test_a_checkpoint_killed_while_writing_never_replaces_the_last_good_one(tmp_path, monkeypatch):
    module = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(module.parameters())
    module(torch.ones(1, 3)).sum().backward()
    opt.step()
    good = save_checkpoint(tmp_path, 1, {"m": module}, {"o": opt}, {"task": "dance"})

    def killed(tensors, path, metadata=None):
        with open(path, "wb") as f:
            f.write(b"partial")
        raise KeyboardInterrupt

    import fsvid2vid.atomic

    monkeypatch.setattr(fsvid2vid.atomic, "save_file", killed)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path, 2, {"m": module}, {"o": opt}, {"task": "dance"})
    assert latest_checkpoint(tmp_path) == good
    tensors, meta = read_checkpoint(good)
    assert meta["step"] == 1 and "model.m.weight" in tensors
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [
        "latest.json", "step-0000001.json", "step-0000001.safetensors"]


def test_existing_run_needs_resume_and_bad_configs_are_one_line_errors(dance_dir, tmp_path):
    from fsvid2vid.errors import UserError

    train(tiny_config("dance", dance_dir, steps=1), tmp_path / "run", progress=False)
    with pytest.raises(UserError, match="pass --resume"):
        Trainer(tiny_config("dance", dance_dir, steps=2), tmp_path / "run", progress=False)
    with pytest.raises(UserError, match="no checkpoint to resume"):
        Trainer(tiny_config("dance", dance_dir, steps=2), tmp_path / "new", resume=True, progress=False)
    with pytest.raises(UserError, match="unknown key"):
        TrainConfig.from_dict({"schedule": {"stepz": 3}})
    with pytest.raises(UserError, match="holds dance clips"):
        Trainer(tiny_config("face", dance_dir), tmp_path / "face", progress=False)
    (tmp_path / "bad.yaml").write_text("task: [unclosed")
    with pytest.raises(UserError, match="not a readable YAML"):
        load_config(tmp_path / "bad.yaml")


def test_set_overrides_any_field_and_rejects_bad_ones(tmp_path):
    from fsvid2vid.errors import UserError

    path = tmp_path / "c.yaml"
    path.write_text("task: street\nmodel_size: tiny\nschedule: {steps: 7, batch_size: 2}\n")
    overrides = merge_overrides(parse_override("model.generator.conditioning=adain"),
                                parse_override("schedule.batch_size=8"), parse_override("data.augment=false"))
    cfg = load_config(path, overrides)
    assert cfg.model.generator.conditioning == "adain"
    assert (cfg.schedule.batch_size, cfg.schedule.steps, cfg.data.augment.enabled) == (8, 7, False)
    with pytest.raises(UserError, match="KEY=VALUE"):
        parse_override("schedule.batch_size")
    with pytest.raises(UserError, match="unknown key"):
        load_config(path, parse_override("schedule.bach_size=8"))


def _write_config(path, cfg: TrainConfig) -> None:
    path.write_text(yaml.safe_dump(cfg.to_dict()))


def test_sigterm_saves_a_checkpoint_and_resume_continues(dance_dir, tmp_path):
    cfg = tiny_config("dance", dance_dir, steps=10_000)
    cfg.data.workers = 1  # the signal goes to the whole process group, data worker included (Ctrl-C, schedulers)
    _write_config(tmp_path / "cfg.yaml", cfg)
    cmd = [sys.executable, "-m", "fsvid2vid", "train", "--config", str(tmp_path / "cfg.yaml"), "--out",
           str(tmp_path / "run"), "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.time() + 120
    while not list((tmp_path / "run" / "tb").glob("events.*")) and time.time() < deadline:
        time.sleep(0.5)
    time.sleep(2)
    os.killpg(proc.pid, signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted at step" in out
    _, meta = read_checkpoint(latest_checkpoint(tmp_path / "run"))
    step = meta["step"]
    assert step >= 1
    r = subprocess.run(cmd + ["--resume", "--steps", str(step + 1)], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    _, meta = read_checkpoint(latest_checkpoint(tmp_path / "run"))
    assert meta["step"] == step + 1


def test_two_process_gloo_run(dance_dir, tmp_path):
    cfg = tiny_config("dance", dance_dir, steps=2)
    cfg.schedule.batch_size = 1
    _write_config(tmp_path / "cfg.yaml", cfg)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                        "-m", "fsvid2vid", "train", "--config", str(tmp_path / "cfg.yaml"), "--out",
                        str(tmp_path / "run"), "--quiet"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count("finished at step 2") == 1, "only rank 0 reports"
    tensors, meta = read_checkpoint(latest_checkpoint(tmp_path / "run"))
    assert meta["step"] == 2


def test_report_plots_losses_and_an_unseen_subject_sheet(dance_dir, tmp_path):
    from fsvid2vid.eval.report import plot_losses, unseen_sheet

    train(tiny_config("dance", dance_dir, steps=2), tmp_path / "run", progress=False)
    import cv2

    curves = cv2.imread(str(plot_losses(tmp_path / "run", tmp_path / "losses.png")))
    assert curves is not None and curves.shape[0] > 100
    sheet = cv2.imread(str(unseen_sheet(latest_checkpoint(tmp_path / "run"), dance_dir, tmp_path / "s.png",
                                        subjects=2, k=2, frames=(0, 5))))
    assert sheet.shape == (2 * 64, (2 + 2 * 3) * 48, 3)


@pytest.mark.parametrize("path", sorted((ROOT / "configs").rglob("*.yaml")),
                         ids=lambda p: p.relative_to(ROOT / "configs").as_posix())
def test_shipped_configs_load(path):
    cfg = load_config(path)
    assert cfg.task == path.stem.split("-")[0]
    assert cfg.model.height == int(path.stem.split("-")[1])
    assert cfg.schedule.T(cfg.schedule.steps - 1) == cfg.schedule.T_max


@pytest.mark.parametrize("path", sorted((ROOT / "configs" / "repro").glob("*.yaml")), ids=lambda p: p.stem)
def test_repro_configs_build_every_method_as_reproduce_sh_sets_it(path):
    """scripts/reproduce.sh trains every method from one config, the baselines with the example warp of the nearest
    example and without the aligned look (they have no E_A): each combination must build."""
    from fsvid2vid.models import CONDITIONINGS, FewShotGenerator

    script = (ROOT / "scripts" / "reproduce.sh").read_text()
    baseline = ["model.generator.example_warp=argmax", "model.generator.example_aligned=false"]
    assert all(f"--set {setting}" in script for setting in baseline), "reproduce.sh's baseline settings changed"
    for method in CONDITIONINGS:
        settings = [f"model.generator.conditioning={method}"] + (baseline if method != "ours" else [])
        cfg = load_config(path, merge_overrides(*map(parse_override, settings)))
        FewShotGenerator(cfg.model.generator)


def test_one_source_of_defaults_for_the_model_and_augmentation():
    from fsvid2vid.data.dataset import AugmentConfig
    from fsvid2vid.models import ModelConfig, model_preset

    assert TrainConfig().model == model_preset(TrainConfig.task, TrainConfig.model_size)
    cfg = TrainConfig.from_dict({"data": {"augment": {"flip": False, "max_zoom": 1.3}}})
    assert cfg.data.augment == AugmentConfig(flip=False, max_zoom=1.3)
    assert TrainConfig.from_dict({"data": {"augment": False}}).data.augment.enabled is False
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg  # the checkpoint's copy of the config round-trips
    with pytest.raises(UserError, match=r"data.augment must be a mapping of AugmentConfig fields \(unknown: mirror\)"):
        TrainConfig.from_dict({"data": {"augment": {"mirror": True}}})
    old = model_preset("face", "64").to_dict()
    old["discriminator"]["semantic_nc"] = old["generator"]["semantic_nc"]  # files written before 2026-12-02
    assert ModelConfig.from_dict(old) == model_preset("face", "64")


def test_bf16_training_on_cpu_keeps_fp32_weights_and_finite_losses(dance_dir, tmp_path):
    cfg = tiny_config("dance", dance_dir, steps=3)
    cfg.run.precision = "bf16"
    t = Trainer(cfg, tmp_path / "run", progress=False)
    loader = iter(t._loader())
    for _ in range(3):
        values = t.train_step(next(loader))
        assert values["skipped"] == 0 and all(v == v for v in values.values()), values
    assert all(p.dtype == torch.float32 for p in t.generator.parameters())
    assert TrainConfig.from_dict({"run": {"bf16": True}}).run.precision == "bf16"  # the old switch still reads
    with pytest.raises(UserError, match="run.precision must be one of"):
        TrainConfig.from_dict({"run": {"precision": "fp8"}})


def test_an_adain_checkpoint_of_before_the_restructuring_is_not_resumed_but_can_start_a_run(dance_dir, tmp_path):
    """AdaIN's layers moved from H to its conditioning module, changing the parameter order Adam's state follows."""
    import re

    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    cfg = tiny_config("dance", dance_dir, steps=1)
    cfg.model.generator.conditioning = "adain"
    train(cfg, tmp_path / "run", progress=False)
    path = latest_checkpoint(tmp_path / "run")
    old = {re.sub(r"^model\.generator\.conditioning\.adain\.(\d+)\.(norm_in|norm_mid)\.",
                  r"model.generator.synthesis.blocks.\1.\2.adain.", k): v for k, v in load_file(str(path)).items()}
    with safe_open(str(path), framework="pt") as f:
        metadata = {k: v for k, v in (f.metadata() or {}).items() if k != "sha256"}
    save_file(old, str(path), metadata=metadata)  # as written before 2026-12-02 (no checksum then)
    cfg.schedule.steps = 2
    with pytest.raises(UserError, match="cannot be resumed .* --init-from"):
        Trainer(cfg, tmp_path / "run", resume=True, progress=False)
    cfg.run.init_from = str(path)
    assert Trainer(cfg, tmp_path / "new", progress=False).steps_before == 1
