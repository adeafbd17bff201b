"""Colourisation of label maps for people to look at (contact sheets, side-by-side videos)."""

from __future__ import annotations

import numpy as np

from fsvid2vid.data.synth.common import hsv_color


def label_palette(num_classes: int) -> np.ndarray:
    """(num_classes, 3) uint8 RGB palette: class 0 dark grey, the others spread around the hue circle."""
    palette = np.zeros((max(num_classes, 1), 3), np.uint8)
    palette[0] = (40, 40, 40)
    for i in range(1, num_classes):
        palette[i] = hsv_color((i * 0.618034) % 1.0, 0.75, 0.95 if i % 2 else 0.7)
    return palette


def colorize_labels(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(H, W) integer labels -> (H, W, 3) uint8 RGB."""
    return label_palette(num_classes)[np.clip(labels, 0, num_classes - 1)]
