"""Conversions between stored frames (uint8 arrays) and network tensors.

RGB frames become (3, H, W) float tensors in [-1, 1]. Semantic layers are stacked along channels in the order of the
clip's ``layers``: ``color`` layers as 3 channels in [-1, 1], ``gray`` layers as 1 channel in [-1, 1], ``label``
layers one-hot with ``num_classes`` channels in {0, 1}.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from fsvid2vid.data.semantics import SemanticLayer


def semantic_channels(layers: Sequence[SemanticLayer]) -> int:
    """Number of channels of the stacked semantic tensor."""
    return sum(layer.channels for layer in layers)


def label_channel_slices(layers: Sequence[SemanticLayer]) -> list[slice]:
    """Where each ``label`` layer's one-hot channels sit in the stacked semantic tensor (in layer order)."""
    slices, start = [], 0
    for layer in layers:
        if layer.kind == "label":
            slices.append(slice(start, start + layer.channels))
        start += layer.channels
    return slices


def background_channel(layers: Sequence[SemanticLayer]) -> int | None:
    """The channel of the stacked semantic tensor that marks the background (a label layer's class named
    "background", e.g. the dance body-part map's 0), or None where no layer has one (face sketch, street labels)."""
    start = 0
    for layer in layers:
        if layer.kind == "label" and "background" in layer.class_names:
            return start + layer.class_names.index("background")
        start += layer.channels
    return None


def rgb_to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 -> (3, H, W) float32 in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).float().div_(127.5).sub_(1.0)


def tensor_to_rgb(tensor: torch.Tensor) -> np.ndarray:
    """(3, H, W) float in [-1, 1] -> (H, W, 3) uint8 (values outside the range are clipped; NaN becomes 0)."""
    x = torch.nan_to_num(tensor.detach().float().cpu(), nan=-1.0)
    x = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(1, 2, 0).numpy()


def semantic_to_tensor(arrays: dict[str, np.ndarray], layers: Sequence[SemanticLayer]) -> torch.Tensor:
    """Stack one frame's semantic layers into a (C, H, W) float32 tensor (see the module docstring)."""
    parts = []
    for layer in layers:
        a = arrays[layer.name]
        if layer.kind == "color":
            parts.append(rgb_to_tensor(a))
        elif layer.kind == "gray":
            parts.append(torch.from_numpy(np.ascontiguousarray(a)).float().div_(127.5).sub_(1.0)[None])
        else:
            labels = torch.from_numpy(np.ascontiguousarray(a)).long()
            parts.append(torch.nn.functional.one_hot(labels, layer.num_classes).permute(2, 0, 1).float())
    return torch.cat(parts, dim=0)


def semantic_preview(tensor: torch.Tensor, layers: Sequence[SemanticLayer]) -> np.ndarray:
    """(H, W, 3) uint8 picture of the first semantic layer of a stacked (C, H, W) tensor (for logs and sheets)."""
    from fsvid2vid.data.draw.labels import colorize_labels

    layer = layers[0]
    x = tensor.detach().float().cpu()
    if layer.kind == "color":
        return tensor_to_rgb(x[:3])
    if layer.kind == "gray":
        return tensor_to_rgb(x[:1].expand(3, -1, -1))
    return colorize_labels(x[: layer.num_classes].argmax(dim=0).numpy(), layer.num_classes)
