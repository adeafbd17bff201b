"""The evaluator networks: a small fully-convolutional network per task that reads a frame back into what drove it.

* dance: 18 COCO keypoints (heatmaps + a visibility per point), for the pose error;
* face: 68 dlib landmarks (same machinery), for the landmark error;
* street: a 10-class label map, for pixel accuracy and mIoU.

The paper runs OpenPose and a street segmentation network on generated frames; these play that role on the
procedural benchmark. Each network also exposes :meth:`EvaluatorNet.features`, global-pooled deep features used for
a Fréchet distance in the evaluator's own feature space (``fid_<task>_evaluator`` in reports, never called "FID"
alone, which means Inception features).

A network works at the frame size it was trained at (``config.height`` x ``config.width``); :class:`Evaluator`
resizes other inputs to it and maps the outputs back (points scaled, label maps upsampled), so a 64 px evaluator
also reads 128 px frames.

Files are fp16 safetensors with the config (and training info) as JSON in the header; nothing is unpickled.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from fsvid2vid.atomic import read_safetensors, read_safetensors_metadata, write_safetensors
from fsvid2vid.errors import UserError
from fsvid2vid.eval.heatmaps import decode_heatmaps

FORMAT = "fsvid2vid-evaluator"
#: What each task's evaluator predicts: (kind, number of points or classes).
TASK_OUTPUTS = {"dance": ("points", 18), "face": ("points", 68), "street": ("labels", 10)}


@dataclass
class EvaluatorConfig:
    """Architecture and input size of one evaluator network."""

    task: str  # "dance", "face" or "street"
    height: int  # frame size it was trained at; other sizes are resized to it
    width: int
    kind: str = "points"  # "points" (heatmaps + visibility) or "labels" (segmentation)
    outputs: int = 18  # points or classes
    widths: tuple[int, ...] = (16, 32, 48, 64)  # channels at strides 2, 4, 8, 16
    stride: int = 2  # heatmap / logit stride w.r.t. the input frame
    sigma: float = 1.0  # heatmap Gaussian, in heatmap cells
    visible_threshold: float = 0.5  # a point is reported visible when its visibility probability exceeds this

    @classmethod
    def for_task(cls, task: str, height: int, width: int, **kwargs: Any) -> EvaluatorConfig:
        if task not in TASK_OUTPUTS:
            raise UserError(f"unknown task {task!r}: choose one of {', '.join(TASK_OUTPUTS)}")
        kind, outputs = TASK_OUTPUTS[task]
        return cls(task=task, height=height, width=width, kind=kind, outputs=outputs, **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluatorConfig:
        data = dict(data)
        data["widths"] = tuple(data.get("widths", cls.widths))
        return cls(**data)


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class _Residual(nn.Module):
    """x + conv(conv(x)), both 3x3 (the second without the activation), then ReLU."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False), nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.body(x))


class EvaluatorNet(nn.Module):
    """A small U-Net: an encoder down to stride 16, a decoder back to ``config.stride`` with skip connections.

    forward(x (B, 3, H, W) in [-1, 1]) -> logits (B, O, H / stride, W / stride): for ``points`` O = 2 P (P heatmap
    logit maps, then P visibility logit maps, max-pooled over space by :meth:`visibility`); for ``labels`` O = the
    number of classes.
    """

    def __init__(self, cfg: EvaluatorConfig):
        super().__init__()
        if cfg.stride != 2 or len(cfg.widths) != 4:
            raise ValueError("EvaluatorNet supports stride 2 and four encoder widths")
        self.cfg = cfg
        c2, c4, c8, c16 = cfg.widths
        self.stem = nn.Sequential(_conv(3, c2, 2), _conv(c2, c2))  # stride 2
        self.down4 = nn.Sequential(_conv(c2, c4, 2), _Residual(c4))
        self.down8 = nn.Sequential(_conv(c4, c8, 2), _Residual(c8))
        self.down16 = nn.Sequential(_conv(c8, c16, 2), _Residual(c16))
        self.lateral8 = nn.Conv2d(c16, c8, 1)
        self.lateral4 = nn.Conv2d(c8, c4, 1)
        self.lateral2 = nn.Conv2d(c4, c2, 1)
        self.refine8, self.refine4, self.refine2 = _conv(c8, c8), _conv(c4, c4), _conv(c2, c2)
        out = 2 * cfg.outputs if cfg.kind == "points" else cfg.outputs
        self.head = nn.Conv2d(c2, out, 1)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Encoder activations at strides 2, 4, 8 and 16."""
        s2 = self.stem(x)  # (B, c2, H/2, W/2)
        s4 = self.down4(s2)  # (B, c4, H/4, W/4)
        s8 = self.down8(s4)  # (B, c8, H/8, W/8)
        s16 = self.down16(s8)  # (B, c16, H/16, W/16)
        return s2, s4, s8, s16

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s2, s4, s8, s16 = self.encode(x)
        y = self.refine8(s8 + F.interpolate(self.lateral8(s16), size=s8.shape[-2:], mode="nearest"))
        y = self.refine4(s4 + F.interpolate(self.lateral4(y), size=s4.shape[-2:], mode="nearest"))
        y = self.refine2(s2 + F.interpolate(self.lateral2(y), size=s2.shape[-2:], mode="nearest"))
        return self.head(y)  # (B, O, H/2, W/2)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, c8 + c16) global average pools of the stride-8 and stride-16 encoder activations (for the FID)."""
        _, _, s8, s16 = self.encode(x)
        return torch.cat([s8.mean((-2, -1)), s16.mean((-2, -1))], dim=1)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


@dataclass
class Evaluator:
    """A trained evaluator network with its config and training info, ready to read frames of any size."""

    net: EvaluatorNet
    config: EvaluatorConfig
    info: dict[str, Any] = field(default_factory=dict)
    path: str = ""

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters(), torch.empty(0)).device

    def _fit(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [-1, 1] -> float on the network's device, resized to its training size."""
        x = images.to(self.device, torch.float32)
        size = (self.config.height, self.config.width)
        if tuple(x.shape[-2:]) != size:
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
        return x

    @torch.no_grad()
    def points(self, images: torch.Tensor) -> torch.Tensor:
        """(B, P, 3) [x, y, visibility probability] in pixels of the input images (B, 3, H, W) in [-1, 1]."""
        if self.config.kind != "points":
            raise UserError(f"{self.path}: is a {self.config.task} segmenter, not a point estimator")
        h, w = images.shape[-2:]
        out = self.net(self._fit(images))
        p = self.config.outputs
        xy = decode_heatmaps(out[:, :p], self.config.stride)
        xy = (xy + 0.5) * torch.tensor([w / self.config.width, h / self.config.height], device=xy.device) - 0.5
        visible = torch.sigmoid(out[:, p:].amax((-2, -1)))
        return torch.cat([xy, visible[..., None]], dim=-1).cpu()

    @torch.no_grad()
    def labels(self, images: torch.Tensor) -> torch.Tensor:
        """(B, H, W) int64 label maps of the input images (B, 3, H, W) in [-1, 1], at the input size."""
        if self.config.kind != "labels":
            raise UserError(f"{self.path}: is a {self.config.task} point estimator, not a segmenter")
        logits = self.net(self._fit(images))
        logits = F.interpolate(logits, size=images.shape[-2:], mode="bilinear", align_corners=False)
        return logits.argmax(1).cpu()

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> torch.Tensor:
        """(B, D) evaluator features of (B, 3, H, W) images in [-1, 1] (see :meth:`EvaluatorNet.features`)."""
        return self.net.features(self._fit(images)).cpu()


def save_evaluator(net: EvaluatorNet, out: Path | str, info: dict[str, Any] | None = None, half: bool = True) -> Path:
    """Write ``net`` (fp16 unless ``half`` is False) with its config and ``info`` in the header, atomically."""
    out = Path(out)
    if not out.parent.is_dir():
        raise UserError(f"{out}: its folder {out.parent} does not exist; create it or choose another --out")
    header = {"format": FORMAT, "task": net.cfg.task, "config": json.dumps(asdict(net.cfg)),
              "info": json.dumps(info or {})}
    return write_safetensors(out, net.state_dict(), header, half=half)


def load_evaluator(path: Path | str, task: str | None = None, device: str | torch.device = "cpu") -> Evaluator:
    """Read an evaluator file; one-line :class:`UserError` when it is missing, damaged, or made for another task."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such evaluator file; train one with `fsvid2vid evaluator train` or use "
                        "models/evaluators/<task>-64.safetensors")
    if read_safetensors_metadata(path).get("format") != FORMAT:
        raise UserError(f"{path}: not an fsvid2vid evaluator file")
    state, header = read_safetensors(path, hint="train it again or use models/evaluators/<task>-64.safetensors")
    try:
        config = EvaluatorConfig.from_dict(json.loads(header["config"]))
        info = json.loads(header.get("info", "{}"))
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{path}: damaged evaluator header ({exc!r}); train it again") from None
    if task is not None and config.task != task:
        raise UserError(f"{path}: is a {config.task} evaluator, the evaluation is of the {task} task; pass "
                        f"--evaluator models/evaluators/{task}-64.safetensors")
    net = EvaluatorNet(config)
    try:
        net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()}, strict=True)
    except RuntimeError as exc:
        raise UserError(f"{path}: weights do not fit its config ({str(exc).strip().splitlines()[0]})") from None
    return Evaluator(net.to(device).eval(), config, info, str(path))
