"""The standard FID's feature extractor, loaded from a TorchScript file the user has on disk.

torchvision (which ships the usual Inception-v3 weights) cannot be installed next to the torch this project pins,
and nothing is downloaded at run time, so the standard FID is computed only when ``--inception PATH`` names a
TorchScript module with this calling convention:

    features = module(x)   # x: (B, 3, 299, 299) float32 RGB in [0, 255]; features: (B, D) or (B, D, 1, 1)

For the usual numbers D = 2048 (the pool3 features of Inception-v3). docs/evaluation.md shows how to wrap a model
with another convention. Frames are resized to 299 x 299 bilinearly (antialiased when shrinking) before the call.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
import torch.nn.functional as F

from fsvid2vid.errors import UserError

INPUT_SIZE = 299


class InceptionFeatures:
    """A TorchScript feature extractor with the convention of the module docstring."""

    def __init__(self, path: Path | str, device: str | torch.device = "cpu"):
        path = Path(path)
        if not path.is_file():
            raise UserError(f"{path}: no such TorchScript Inception file (see docs/evaluation.md)")
        try:
            with warnings.catch_warnings():  # torch 2.13 deprecates TorchScript; it still loads, and is the format
                warnings.simplefilter("ignore", DeprecationWarning)
                self.module = torch.jit.load(str(path), map_location=device).eval()
        except (RuntimeError, ValueError) as exc:
            raise UserError(f"{path}: not a TorchScript module ({str(exc).strip().splitlines()[0]})") from None
        self.path, self.device = str(path), torch.device(device)

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """(B, D) features of (B, 3, H, W) images in [-1, 1]."""
        x = (images.to(self.device, torch.float32) + 1) * 127.5
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False,
                          antialias=min(images.shape[-2:]) > INPUT_SIZE)
        try:
            out = self.module(x)
        except RuntimeError as exc:
            raise UserError(f"{self.path}: failed on a (B, 3, 299, 299) batch in [0, 255] "
                            f"({str(exc).strip().splitlines()[0]}); see docs/evaluation.md") from None
        if isinstance(out, (tuple, list)):
            out = out[0]
        if out.dim() == 4 and out.shape[-2:] == (1, 1):
            out = out.flatten(1)
        if out.dim() != 2 or out.shape[0] != len(images):
            raise UserError(f"{self.path}: returned shape {tuple(out.shape)}, expected (B, D) features")
        return out.float().cpu()
