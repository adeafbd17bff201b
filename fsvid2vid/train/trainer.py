"""The multi-domain few-shot vid2vid trainer: one process, or many under ``torchrun`` (DistributedDataParallel).

Each step draws a batch of B clips (T target frames and K examples each; K drawn per batch, T from the progressive
schedule), lets the generator produce the T frames one after another (the previous generated frames detached), then

1. updates the discriminators: the conditional image discriminator on every frame and the temporal discriminator on
   the T-frame sequence, hinge loss, real vs generated (detached);
2. updates the generator: hinge GAN and feature matching on both discriminators, L1 to the real frames, and the
   flow / warp / occlusion-mask losses of W, M (against OpenCV ground-truth flow) and of the example warp.

A step whose loss or gradients are not finite is skipped and logged; ``nan_patience`` such steps in a row stop the
run with an error naming the last good checkpoint. Checkpoints are written every ``checkpoint_every`` steps, at the
end, and when SIGINT or SIGTERM arrives (after the current step); ``resume`` continues a run exactly, from the latest
checkpoint or from one given by path. A missing or corrupt frame, read in a data-loading process or not, stops the run
with that one-line error after a checkpoint of the last complete step, as does a data-loading process that died.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import yaml
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.profiler import record_function
from torch.utils.data import DataLoader, Dataset
from torch.utils.data import default_collate as _default_collate
from tqdm import tqdm

from fsvid2vid.atomic import atomic_path, write_json
from fsvid2vid.data.dataset import FewShotBatchSampler, FewShotVideoDataset
from fsvid2vid.data.encode import background_channel, label_channel_slices, semantic_preview, tensor_to_rgb
from fsvid2vid.data.layout import OutputFolder
from fsvid2vid.devices import resolve_device
from fsvid2vid.errors import UserError
from fsvid2vid.losses import load_vgg19
from fsvid2vid.losses.objective import (
    Batch,
    RealFeatures,
    discriminator_losses,
    generator_losses,
    weighted_total,
)
from fsvid2vid.models import FewShotGenerator, ImageDiscriminator, TemporalDiscriminator
from fsvid2vid.models.checkpoint import (
    ABANDONED_SUFFIX,
    LATEST,
    checkpoint_step,
    latest_checkpoint,
    read_checkpoint,
    restore,
    save_checkpoint,
)
from fsvid2vid.models.generator_file import load_generator
from fsvid2vid.models.precision import resolve_precision
from fsvid2vid.models.rollout import ClipGenerator, ClipOutput, generate_clip
from fsvid2vid.train.config import TrainConfig


class TrainingDiverged(UserError):
    """Too many non-finite steps in a row."""


# The parts of a training step as torch.profiler sees them (`bench train --profile` reports the time of each): the
# generator's rollout, the discriminators' update, the generator's losses (its discriminator passes, VGG, the
# ground-truth flow) and the generator's backward pass and update.
REGIONS = ("step: generator forward", "step: discriminator update", "step: generator losses",
           "step: generator backward and update")


class Trainer:
    """Builds the networks, the data and the optimisers of a :class:`TrainConfig`, and runs it."""

    def __init__(self, cfg: TrainConfig, run_dir: Path | str, resume: bool | Path | str = False,
                 progress: bool = True):
        """``resume``: False for a new run, True to continue from the latest checkpoint in ``run_dir``, or the path of
        a checkpoint to continue from (e.g. an earlier one when the latest is damaged)."""
        cfg.validate("config")
        self.cfg, self.run_dir, self.progress = cfg, Path(run_dir), progress
        self.world_size = int(os.environ.get("WORLD_SIZE", 1))
        self.rank = int(os.environ.get("RANK", 0))
        self.distributed = self.world_size > 1
        self.device = resolve_device(cfg.run.device, "--device / run.device")
        self.precision = resolve_precision(cfg.run.precision, self.device)
        if self.distributed and not dist.is_initialized():
            dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo")
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)
        if cfg.run.threads > 0:
            torch.set_num_threads(cfg.run.threads)
        self.is_main = self.rank == 0

        augment = cfg.data.augment if cfg.data.augment.enabled else None
        self.dataset = FewShotVideoDataset(cfg.data.root, max_stride=cfg.data.max_stride, augment=augment,
                                           seed=cfg.run.seed, example_choice=cfg.data.example_choice)
        self.label_slices = label_channel_slices(self.dataset.layers)
        self.background = background_channel(self.dataset.layers)  # where the raw loss does not count
        m = cfg.model
        if self.dataset.task != cfg.task or self.dataset.semantic_channels != m.generator.semantic_nc:
            raise UserError(f"{cfg.data.root}: holds {self.dataset.task} clips with {self.dataset.semantic_channels} "
                            f"semantic channels, but the config is for {cfg.task} with {m.generator.semantic_nc}")
        if (self.dataset.height, self.dataset.width) != (m.height, m.width):
            raise UserError(f"{cfg.data.root}: frames are {self.dataset.width}x{self.dataset.height}, the model "
                            f"expects {m.width}x{m.height}; render the data with --size {m.height}")
        longest = cfg.schedule.T_max
        short = [d for d, meta in zip(self.dataset.clip_dirs, self.dataset.metas) if meta.n_frames < longest + 1]
        if short:
            raise UserError(f"{short[0]}: has fewer than T_max + 1 = {longest + 1} frames; render longer clips or "
                            "lower schedule.T_max")

        torch.manual_seed(cfg.run.seed)
        self.generator = FewShotGenerator(m.generator).to(self.device)
        self.image_d = ImageDiscriminator(m.discriminator, m.generator.semantic_nc).to(self.device)
        self.temporal_d = TemporalDiscriminator(m.discriminator).to(self.device)
        rollout = ClipGenerator(self.generator)
        if self.distributed:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.rollout: nn.Module = DistributedDataParallel(rollout, device_ids=ids, find_unused_parameters=True)
            self.image_d_step: nn.Module = DistributedDataParallel(self.image_d, device_ids=ids)
            # Temporal scales that need more frames than T are skipped, leaving their parameters unused.
            self.temporal_d_step: nn.Module = DistributedDataParallel(self.temporal_d, device_ids=ids,
                                                                      find_unused_parameters=True)
        else:
            self.rollout, self.image_d_step, self.temporal_d_step = rollout, self.image_d, self.temporal_d

        o = cfg.optim
        g_lr, d_lr, beta1 = (o.lr / 2, o.lr * 2, 0.0) if o.two_time_scale else (o.lr, o.lr, o.beta1)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=g_lr, betas=(beta1, o.beta2))
        self.opt_d = torch.optim.Adam([*self.image_d.parameters(), *self.temporal_d.parameters()], lr=d_lr,
                                      betas=(beta1, o.beta2))
        self.base_lr = {"generator": g_lr, "discriminators": d_lr}
        self.vgg = None
        if cfg.loss.vgg_weights and cfg.loss.vgg > 0:
            self.vgg = load_vgg19(cfg.loss.vgg_weights).to(self.device)
        elif cfg.loss.vgg > 0 and self.is_main:
            tqdm.write("train: no VGG19 weights given (loss.vgg_weights); training without the perceptual loss")

        self.step = 0
        self.steps_before = 0  # steps the generator was trained for before this run (run.init_from)
        self.bad_steps = 0
        self.last_checkpoint: Path | None = None
        self._stop_signal: int | None = None
        if resume is not False and resume is not True and resume is not None:
            self._resume(Path(resume))
            return
        existing = latest_checkpoint(self.run_dir)
        if resume:
            if existing is None:
                raise UserError(f"{self.run_dir}: has no checkpoint to resume from; drop --resume to start a new run")
            self._resume(existing)
        elif existing is not None:
            raise UserError(f"{self.run_dir}: already holds a run (checkpoint {existing.name}); pass --resume to "
                            "continue it or choose another --out")
        else:
            _check_new_run_folder(self.run_dir)
            if cfg.run.init_from:
                self._init_generator(Path(cfg.run.init_from))

    # -- checkpoints ------------------------------------------------------------------------------------------------

    def _modules(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "image_discriminator": self.image_d,
                "temporal_discriminator": self.temporal_d}

    def _optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generator": self.opt_g, "discriminators": self.opt_d}

    def save(self) -> Path | None:
        """Write a checkpoint of the current step (rank 0 only). A failed write (a full disk) is a one-line error that
        names the last good checkpoint."""
        if self.is_main:
            meta = {"config": self.cfg.to_dict(), "task": self.cfg.task, "bad_steps": self.bad_steps,
                    "steps_before": self.steps_before}
            try:
                self.last_checkpoint = save_checkpoint(self.run_dir, self.step, self._modules(), self._optimizers(),
                                                       meta, keep=self.cfg.run.keep_checkpoints)
            except UserError as exc:
                last = f"last good checkpoint: {self.last_checkpoint} (train --resume continues from it)" \
                    if self.last_checkpoint else "no checkpoint written yet"
                raise UserError(f"{exc}; checkpoint of step {self.step} not written, {last}") from None
        if self.distributed:
            dist.barrier()
        return self.last_checkpoint

    def _resume(self, path: Path) -> None:
        tensors, meta = read_checkpoint(path)
        if meta.get("task") != self.cfg.task:
            raise UserError(f"{path}: is a {meta.get('task')} checkpoint, the config is for {self.cfg.task}")
        if any(".adain." in k and k.startswith("model.generator.synthesis.") for k in tensors):
            # Written before 2026-12-02, when the AdaIN layers sat inside H: the weights still load, but the optimiser
            # state is ordered by the old parameter order and would land on the wrong tensors.
            raise UserError(f"{path}: an AdaIN run from before 2026-12-02 cannot be resumed (its optimiser state is in "
                            "the old parameter order); start a new run from it with --init-from")
        restore(tensors, meta, self._modules(), self._optimizers(), path)
        self.step = int(meta["step"])
        self.bad_steps = int(meta.get("bad_steps", 0))
        self.steps_before = int(meta.get("steps_before", 0))
        self.last_checkpoint = path
        if self.is_main:
            self._set_aside_newer_checkpoints()
            for stale in (self.run_dir / "checkpoints").glob(".step-*"):  # a process killed while writing one
                stale.unlink(missing_ok=True)

    def _set_aside_newer_checkpoints(self) -> None:
        """Resuming from an earlier checkpoint: the run's newer ones (a damaged latest one, or a timeline left
        behind) are renamed ``*.abandoned`` rather than replaced or pruned; latest.json then names the new ones."""
        folder = self.run_dir / "checkpoints"
        newer = [p for p in folder.glob("step-*.safetensors") if checkpoint_step(p) > self.step]
        for p in sorted(newer):
            for part in (p, p.with_suffix(".json")):
                if part.exists():
                    os.replace(part, part.with_name(part.name + ABANDONED_SUFFIX))
        if newer:
            pointer = folder / LATEST
            if self.last_checkpoint is not None and self.last_checkpoint.parent.resolve() == folder.resolve():
                write_json(pointer, {"step": self.step, "stem": self.last_checkpoint.stem})
            else:
                pointer.unlink(missing_ok=True)  # it named a checkpoint now set aside
            tqdm.write(f"train: resuming at step {self.step}; newer checkpoints kept as *{ABANDONED_SUFFIX}: "
                       f"{', '.join(p.name for p in sorted(newer))}")

    def _init_generator(self, path: Path) -> None:
        """Start the generator from the weights of ``path`` (an exported generator or a training checkpoint)."""
        generator, config, info = load_generator(path)
        if config.task != self.cfg.task or config.generator != self.cfg.model.generator:
            raise UserError(f"{path}: its generator ({config.task}, {config.height}x{config.width}) does not match "
                            f"the config's ({self.cfg.task}, {self.cfg.model.height}x{self.cfg.model.width}, same "
                            "model section); use the config it was trained with (model_size and model overrides)")
        self.generator.load_state_dict(generator.state_dict())
        self.steps_before = int(info.get("total_steps", info.get("step", 0)))

    # -- one step ---------------------------------------------------------------------------------------------------

    def _autocast(self):
        """bf16 autocast when the run's precision is bf16: one region per rollout and per discriminator pass."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16")

    def _set_d_grad(self, on: bool) -> None:
        for p in [*self.image_d.parameters(), *self.temporal_d.parameters()]:
            p.requires_grad_(on)

    def train_step(self, batch: Batch) -> dict[str, float]:
        """One discriminator update and one generator update; returns the losses (NaN-guarded)."""
        batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        t = batch["rgb"].shape[1]
        with record_function(REGIONS[0]), self._autocast():
            clip: ClipOutput = self.rollout(batch["semantic"], batch["example_rgb"], batch["example_semantic"])
        use_temporal = self.cfg.loss.temporal_gan > 0 and t >= self.temporal_d.frames_needed(0)
        with record_function(REGIONS[1]):
            d_terms, d_total, d_ok, real = self._discriminator_step(batch, clip, use_temporal)
        g_terms, g_total, g_ok = self._generator_step(batch, clip, use_temporal, real)
        losses = {**{f"D/{k}": v for k, v in d_terms.items()}, **{f"G/{k}": v for k, v in g_terms.items()}}
        losses["G/total"], losses["D/total"] = g_total, d_total
        values = {k: float(v.detach()) for k, v in losses.items()}
        values["T"], values["K"] = float(t), float(batch["example_rgb"].shape[1])
        values["skipped"] = float(not (d_ok and g_ok))
        return values

    def _discriminator_step(self, batch: Batch, clip: ClipOutput, use_temporal: bool
                            ) -> tuple[dict[str, Tensor], Tensor, bool, RealFeatures]:
        """Update both discriminators on real frames against the (detached) generated ones; also returns the real
        frames' features, which the generator's feature matching reuses."""
        self._set_d_grad(True)
        terms, real = discriminator_losses(self.image_d_step, self.temporal_d_step, batch,
                                           clip.frame.float().detach(), use_temporal, self._autocast)
        total = sum(terms.values())
        ok = self._apply(total, self.opt_d, [*self.image_d.parameters(), *self.temporal_d.parameters()])
        return terms, total, ok, real

    def _generator_step(self, batch: Batch, clip: ClipOutput, use_temporal: bool, real: RealFeatures
                        ) -> tuple[dict[str, Tensor], Tensor, bool]:
        """Update the generator; the discriminators are frozen and called unwrapped (no gradient sync for them)."""
        self._set_d_grad(False)
        with record_function(REGIONS[2]):
            terms = generator_losses(clip, batch, self.image_d, self.temporal_d, self.cfg.loss, self.label_slices,
                                     use_temporal, self.vgg, self._autocast, self.background, real)
            total = weighted_total(terms, self.cfg.loss)
        with record_function(REGIONS[3]):
            ok = self._apply(total, self.opt_g, list(self.generator.parameters()))
        self._set_d_grad(True)
        return terms, total, ok

    def _set_learning_rates(self) -> None:
        """The learning rates of the coming step: the configured ones, times the linear decay of ``optim``."""
        factor = self.cfg.optim.lr_factor(self.step, self.cfg.schedule.steps)
        for name, opt in self._optimizers().items():
            for group in opt.param_groups:
                group["lr"] = self.base_lr[name] * factor

    def _apply(self, loss: Tensor, opt: torch.optim.Optimizer, params: list[nn.Parameter]) -> bool:
        """Backward and step, unless the loss or a gradient is not finite on any process (then nothing changes).

        The backward pass always runs, so that under DistributedDataParallel every process takes part in the same
        gradient reductions; the decision to step is then agreed between processes.
        """
        opt.zero_grad(set_to_none=True)
        loss.backward()
        limit = self.cfg.optim.grad_clip if self.cfg.optim.grad_clip > 0 else float("inf")
        grads = [p for p in params if p.grad is not None]
        norm = torch.nn.utils.clip_grad_norm_(grads, limit) if grads else torch.zeros(())
        ok = torch.stack([torch.isfinite(loss.detach()).float().cpu(), torch.isfinite(norm).float().cpu()]).min()
        if self.distributed:
            ok = ok.to(self.device)
            dist.all_reduce(ok, op=dist.ReduceOp.MIN)
        if not bool(ok.item()):
            opt.zero_grad(set_to_none=True)
            return False
        opt.step()
        return True

    # -- the loop ---------------------------------------------------------------------------------------------------

    def _loader(self) -> DataLoader:
        """Batches from ``self.step`` on; an item that cannot be read arrives as a :class:`DataFailure`."""
        s = self.cfg.schedule
        sampler = FewShotBatchSampler(len(self.dataset), s.batch_size, T=s.T, K_max=s.K_max, seed=self.cfg.run.seed,
                                      num_steps=s.steps, start_step=self.step, rank=self.rank,
                                      world_size=self.world_size)
        workers = self.cfg.data.workers
        # Its own generator: creating the loader must not draw from the global RNG (exact resume).
        return DataLoader(_ReportingItems(self.dataset), batch_sampler=sampler, num_workers=workers,
                          collate_fn=_collate_or_failure,
                          generator=torch.Generator().manual_seed(self.cfg.run.seed + self.step),
                          pin_memory=self.device.type == "cuda", persistent_workers=False,
                          prefetch_factor=2 if workers > 0 else None, worker_init_fn=_leave_stop_signals_to_main)

    def _stop_for_data(self, message: str, can_save: bool) -> None:
        """A batch could not be made: checkpoint the last complete step (when it is good and new) and stop."""
        # Under torchrun the other processes are inside a step's collectives: a checkpoint (with its barrier) would
        # wait for them forever, so only a single process saves here.
        if can_save and not self.distributed and self.bad_steps == 0 and self._checkpoint_step() != self.step \
                and self.step > 0:
            self.save()
        if self.last_checkpoint is None:
            raise UserError(f"{message}; training stopped at step {self.step} before its first checkpoint; fix it "
                            "and start again")
        raise UserError(f"{message}; training stopped at step {self.step} (checkpoint: {self.last_checkpoint}); fix "
                        "it, then train --resume")

    def _handle_signal(self, signum, frame) -> None:
        self._stop_signal = signum
        if self.is_main:
            tqdm.write(f"train: got {signal.Signals(signum).name}; stopping after this step and saving a checkpoint")

    def train(self) -> dict[str, Any]:
        """Run to ``schedule.steps`` (or until a signal); returns a summary. A new run that fails before its first
        checkpoint leaves nothing behind (its config.yaml and TensorBoard folder are removed)."""
        if not self.is_main:
            return self._run(None)
        folder = OutputFolder(self.run_dir)
        had = {name: (self.run_dir / name).exists() for name in ("config.yaml", "tb", "checkpoints")}
        try:
            with folder:
                with atomic_path(self.run_dir / "config.yaml") as tmp:
                    tmp.write_text(yaml.safe_dump(self.cfg.to_dict(), sort_keys=False))
                from torch.utils.tensorboard import SummaryWriter

                writer = SummaryWriter(str(self.run_dir / "tb"), purge_step=self.step + 1 if self.step else None)
                return self._run(writer)
        except BaseException:
            if self.last_checkpoint is None:
                if not had["tb"]:
                    shutil.rmtree(self.run_dir / "tb", ignore_errors=True)
                if not had["config.yaml"]:
                    (self.run_dir / "config.yaml").unlink(missing_ok=True)
                if not had["checkpoints"] and (self.run_dir / "checkpoints").is_dir():
                    with contextlib.suppress(OSError):  # empty unless someone else wrote there
                        (self.run_dir / "checkpoints").rmdir()
                folder.remove_created()
            raise

    def _run(self, writer) -> dict[str, Any]:
        cfg = self.cfg
        previous = {s: signal.signal(s, self._handle_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        bar = tqdm(total=cfg.schedule.steps, initial=self.step, unit="step", desc="train",
                   disable=not (self.progress and self.is_main), dynamic_ncols=True)
        started, first_step, seconds = time.time(), self.step, []
        batches = iter(self._loader())
        in_step = False
        try:
            while True:
                try:
                    batch = next(batches)
                except StopIteration:
                    break
                except (OSError, EOFError) as exc:  # the pipe to a data-loading process that was killed
                    if cfg.data.workers == 0:
                        raise
                    self._stop_for_data(f"{cfg.data.root}: a data-loading process died ({type(exc).__name__}: "
                                        f"{exc}); lower data.workers or schedule.batch_size if memory is short",
                                        can_save=True)
                if isinstance(batch, DataFailure):
                    self._stop_for_data(batch.message, can_save=True)
                tick = time.perf_counter()
                self._set_learning_rates()
                in_step = True
                values = self.train_step(batch)
                in_step = False
                self.step += 1
                seconds.append(time.perf_counter() - tick)
                self._guard(values)
                if writer is not None and (self.step % cfg.run.log_every == 0 or self.step == 1):
                    for k, v in values.items():
                        if k != "skipped":
                            writer.add_scalar(k, v, self.step)
                    writer.add_scalar("lr/generator", self.opt_g.param_groups[0]["lr"], self.step)
                    writer.add_scalar("time/step_seconds", seconds[-1], self.step)
                if writer is not None and self.step % cfg.run.image_every == 0:
                    writer.add_image("samples", self.sample_grid(batch), self.step, dataformats="HWC")
                bar.set_postfix(T=int(values["T"]), K=int(values["K"]), G=f"{values['G/total']:.2f}",
                                D=f"{values['D/total']:.2f}", l1=f"{values['G/l1']:.3f}")
                bar.update()
                if self.step % cfg.run.checkpoint_every == 0 and self.bad_steps == 0:
                    self.save()
                if self._stop_signal is not None:
                    break
            if self.last_checkpoint is None or self._checkpoint_step() != self.step:
                self.save()
        except RuntimeError as exc:  # torch's own words when a data-loading process was killed (by the OS: memory)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            if "DataLoader worker" not in first:
                raise
            self._stop_for_data(f"{cfg.data.root}: a data-loading process died ({first}); lower data.workers or "
                                "schedule.batch_size if memory is short", can_save=not in_step)
        finally:
            _shut_down(batches)
            bar.close()
            for s, handler in previous.items():
                signal.signal(s, handler)
            if writer is not None:
                writer.close()
        return {"step": self.step, "interrupted": self._stop_signal is not None,
                "checkpoint": str(self.last_checkpoint), "seconds": time.time() - started,
                "steps_run": self.step - first_step,
                "median_step_seconds": float(np.median(seconds)) if seconds else math.nan}

    def _checkpoint_step(self) -> int:
        return checkpoint_step(self.last_checkpoint) if self.last_checkpoint else -1

    def _guard(self, values: dict[str, float]) -> None:
        if values["skipped"] or not all(math.isfinite(v) for v in values.values()):
            self.bad_steps += 1
            if self.is_main:
                bad = sorted(k for k, v in values.items() if not math.isfinite(v))
                tqdm.write(f"train: step {self.step}: non-finite {', '.join(bad) or 'gradients'}; update skipped "
                           f"({self.bad_steps} in a row)")
            if self.bad_steps >= self.cfg.run.nan_patience:
                where = self.last_checkpoint or "none written yet"
                raise TrainingDiverged(f"{self.bad_steps} non-finite steps in a row at step {self.step}; last good "
                                       f"checkpoint: {where}; lower optim.lr or check the data, then --resume")
        else:
            self.bad_steps = 0

    @torch.no_grad()
    def sample_grid(self, batch: dict[str, Tensor]) -> np.ndarray:
        """(H', W', 3) uint8 image: per sample (up to 2), semantic | examples | generated | real of the last frame."""
        self.generator.eval()
        batch = {k: v[:2].to(self.device) for k, v in batch.items()}
        out = generate_clip(self.generator, batch["semantic"], batch["example_rgb"], batch["example_semantic"])
        self.generator.train()
        rows = []
        for i in range(len(batch["rgb"])):
            cells = [semantic_preview(batch["semantic"][i, -1], self.dataset.layers)]
            cells += [tensor_to_rgb(e) for e in batch["example_rgb"][i]]
            cells += [tensor_to_rgb(out.frame[i, -1]), tensor_to_rgb(batch["rgb"][i, -1])]
            rows.append(np.concatenate(cells, axis=1))
        width = max(r.shape[1] for r in rows)
        return np.concatenate([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows], axis=0)


class DataFailure:
    """Stands in for a batch whose items could not be read: the one-line message of the first failure."""

    def __init__(self, message: str):
        self.message = message


class _ReportingItems(Dataset):
    """The dataset as the loader sees it: an item that raises a :class:`UserError` (a missing or corrupt frame)
    becomes a :class:`DataFailure`, so that the message reaches the training process whole, from a data-loading
    process too (torch would wrap it in a multi-line traceback)."""

    def __init__(self, dataset: FewShotVideoDataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key):
        try:
            return self.dataset[key]
        except UserError as exc:
            return DataFailure(str(exc))


def _collate_or_failure(items: list):
    failure = next((item for item in items if isinstance(item, DataFailure)), None)
    return failure if failure is not None else _default_collate(items)


def _shut_down(batches) -> None:
    """Stop the data-loading processes now. Left to garbage collection, a loader still referenced from a traceback
    outlives the training process's exit, whose multiprocessing clean-up then waits forever for workers that
    ignore SIGTERM (see :func:`_leave_stop_signals_to_main`)."""
    shutdown = getattr(batches, "_shutdown_workers", None)
    if shutdown is not None:
        shutdown()
    for worker in getattr(batches, "_workers", []):
        if worker.is_alive():
            worker.kill()
            worker.join(timeout=5)


def _check_new_run_folder(run_dir: Path) -> None:
    """A new run may write into ``run_dir`` unless it holds a ``config.yaml`` that is not a training run's (a run
    that stopped before its first checkpoint leaves one, which is replaced)."""
    path = Path(run_dir) / "config.yaml"
    if not (path.exists() or path.is_symlink()):
        return
    try:
        data = yaml.safe_load(path.read_text()) if path.is_file() and not path.is_symlink() else None
    except (OSError, yaml.YAMLError):
        data = None
    if not isinstance(data, dict) or set(data) != {f for f in TrainConfig.__dataclass_fields__}:
        raise UserError(f"{path}: exists and is not a training run's config; choose another --out (a run writes "
                        "config.yaml, checkpoints/ and tb/ there)")


def _leave_stop_signals_to_main(_worker_id: int) -> None:
    """DataLoader workers ignore SIGINT and SIGTERM. A Ctrl-C, or a scheduler that signals every process of the job,
    reaches the workers too; a worker that died of it would make the main process fail in the middle of a step,
    without the checkpoint it writes when it is signalled. The main process shuts the workers down itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def train(cfg: TrainConfig, run_dir: Path | str, resume: bool = False, progress: bool = True) -> dict[str, Any]:
    """Train ``cfg`` into ``run_dir`` (see :class:`Trainer`)."""
    trainer = Trainer(cfg, run_dir, resume=resume, progress=progress)
    try:
        return trainer.train()
    finally:
        if trainer.distributed and dist.is_initialized():
            dist.destroy_process_group()
