"""An optional VGG19 perceptual loss, its weights read from a safetensors file with torchvision-style keys.

The network is defined here in plain torch with exactly the layout of torchvision's ``vgg19().features``, so a file
holding ``features.{i}.weight`` / ``features.{i}.bias`` for its 16 convolutions (i = 0, 2, 5, 7, 10, 12, 14, 16, 19,
21, 23, 25, 28, 30, 32, 34) loads strictly. Files are read with safetensors only (never pickle).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import Tensor, nn

from fsvid2vid.errors import UserError

__all__ = ["VGG19_CONFIG", "VGGPerceptualLoss", "load_vgg19", "vgg19_features"]

# Output channels of each 3x3 convolution (ReLU after each); "M" = 2x2 max-pooling.
VGG19_CONFIG: tuple[int | str, ...] = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
                                       512, 512, 512, 512, "M", 512, 512, 512, 512, "M")
# Indices in ``features`` of relu1_1, relu2_1, relu3_1, relu4_1, relu5_1, and their loss weights.
LAYERS = (1, 6, 11, 20, 29)
LAYER_WEIGHTS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Keys of a whole torchvision VGG19 state dict that the loss does not use, and that a file may therefore contain.
_IGNORED_PREFIXES = ("classifier.",)


def vgg19_features() -> nn.Sequential:
    """The randomly initialised VGG19 convolutional stack (37 modules, the same indices as torchvision's)."""
    layers: list[nn.Module] = []
    channels = 3
    for item in VGG19_CONFIG:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(channels, int(item), kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            channels = int(item)
    return nn.Sequential(*layers)


class VGGPerceptualLoss(nn.Module):
    """Weighted L1 between VGG19 features of a generated and a real image; frozen, always in eval mode.

    loss = sum_l w_l * mean |phi_l(pred) - phi_l(target)| over relu1_1 … relu5_1 with w = 1/32, 1/16, 1/8, 1/4, 1
    (the official weights). Unlike the official code, inputs are mapped from [-1, 1] to ImageNet's normalisation, the
    statistics the network was trained with.
    """

    def __init__(self, features: nn.Sequential):
        """features: a full :func:`vgg19_features` stack, weights loaded; only the part up to relu5_1 is kept."""
        super().__init__()
        self.features = features[: LAYERS[-1] + 1]
        for module in self.features:
            if isinstance(module, nn.ReLU):
                module.inplace = False  # the features at the tapped ReLUs are kept, so nothing may overwrite them
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> VGGPerceptualLoss:
        """Stays in eval mode whatever ``mode`` (the loss is a fixed function)."""
        return super().train(False)

    def extract(self, x: Tensor) -> list[Tensor]:
        """x: (B, 3, H, W) RGB in [-1, 1] -> the 5 feature maps relu1_1 (B, 64, H, W) … relu5_1 (B, 512, H/16, W/16)."""
        x = ((x + 1) / 2 - self.mean) / self.std
        taps = []
        for i, module in enumerate(self.features):
            x = module(x)
            if i in LAYERS:
                taps.append(x)
        return taps

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """pred, target: (B, 3, H, W) RGB in [-1, 1]; the target is detached. Returns a scalar."""
        with torch.no_grad():
            target_features = self.extract(target.detach())
        pred_features = self.extract(pred)
        return sum(weight * F.l1_loss(p, t)
                   for weight, p, t in zip(LAYER_WEIGHTS, pred_features, target_features, strict=True))


def load_vgg19(path: str | Path) -> VGGPerceptualLoss:
    """The perceptual loss with VGG19 weights from the safetensors file ``path`` (on the CPU; move it with ``.to``).

    The file must hold exactly the 32 tensors ``features.{i}.weight`` / ``features.{i}.bias`` of torchvision's
    VGG19 with their shapes (``classifier.*`` tensors of a whole-model export are allowed and ignored). Any other
    problem (missing, unreadable, not safetensors, missing/unexpected keys, wrong shapes) raises a one-line
    :class:`UserError` naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: VGG19 weights not found (a safetensors file with torchvision keys features.N.*)")
    try:
        tensors = load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types, OSError, or ValueError
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise UserError(f"{path}: not a readable safetensors file ({reason})") from exc
    features = vgg19_features()
    expected = {f"features.{key}": value.shape for key, value in features.state_dict().items()}
    found = {key: value for key, value in tensors.items() if not key.startswith(_IGNORED_PREFIXES)}
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    if missing or unexpected:
        parts = ([f"missing {', '.join(missing[:4])}{' …' if len(missing) > 4 else ''}"] if missing else []) + \
                ([f"unexpected {', '.join(unexpected[:4])}{' …' if len(unexpected) > 4 else ''}"] if unexpected else [])
        raise UserError(f"{path}: not VGG19 weights with torchvision keys ({'; '.join(parts)})")
    for key, shape in expected.items():
        if tuple(found[key].shape) != tuple(shape):
            raise UserError(f"{path}: {key} has shape {tuple(found[key].shape)}, VGG19 needs {tuple(shape)}")
        if not found[key].is_floating_point():
            raise UserError(f"{path}: {key} has dtype {found[key].dtype}, VGG19 needs floating-point weights")
    state = {key.removeprefix("features."): found[key].float() for key in expected}
    features.load_state_dict(state, strict=True)
    return VGGPerceptualLoss(features)
