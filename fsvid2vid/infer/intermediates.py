"""One generated frame's intermediate images side by side: what each network contributed to it.

    picture = intermediates_picture(result.output, semantic_preview(...))   # (H, W * columns, 3) uint8

Columns, left to right (eq. 2-5 and 11 of the paper):

    s_t | h_t | per warped example k: w_e(e_k), m_e,k, a_k | h'_t | w(x_{t-1}), m_t | x_t

s_t the driving semantic map (as previewed), h_t H's image, w_e(e_k) the warped example, m_e,k its mask (white: H's
pixel kept, black: the warped example's), a_k the example's share of h'_t (white: all of it; the attention warp mixes
the K examples by it, the argmax warp uses one example everywhere), h'_t their blend, w(x_{t-1}) the warped previous
frame and m_t its mask (white: h'_t kept, black: the warped previous frame), x_t the output. The first frame has no
previous frame: its two cells are grey. Without an example warp the example cells are left out.
"""

from __future__ import annotations

import numpy as np
import torch

from fsvid2vid.data.encode import tensor_to_rgb
from fsvid2vid.models.generator import FrameOutput

EMPTY = 128  # the grey of a cell with nothing to show


def _gray(mask: torch.Tensor) -> np.ndarray:
    """(1, H, W) in [0, 1] -> (H, W, 3) uint8."""
    values = (mask[0].float().clamp(0, 1) * 255).round().byte().cpu().numpy()
    return np.repeat(values[..., None], 3, axis=2)


def intermediates_columns(output: FrameOutput) -> list[str]:
    """The column names of :func:`intermediates_picture` for this output, left to right."""
    examples = 0 if output.warped_example is None else output.warped_example.shape[1]
    per_example = [name for k in range(examples) for name in (f"w_e(e_{k})", f"m_e{k}", f"a_{k}")]
    return ["s_t", "h_t", *per_example, "h'_t", "w(x_t-1)", "m_t", "x_t"]


def intermediates_picture(output: FrameOutput, semantic: np.ndarray, sample: int = 0) -> np.ndarray:
    """The intermediate images of ``output``'s sample ``sample`` in one row (module docstring); ``semantic``: the
    driving semantic map as an (H, W, 3) uint8 picture."""
    h, w = semantic.shape[:2]
    cells = [semantic, tensor_to_rgb(output.raw[sample])]
    if output.warped_example is not None:
        for k in range(output.warped_example.shape[1]):
            cells += [tensor_to_rgb(output.warped_example[sample, k]), _gray(output.mask_example[sample, k]),
                      _gray(output.example_share[sample, k])]
    cells.append(tensor_to_rgb(output.raw_prime[sample]))
    if output.warped_prev is None:
        cells += [np.full((h, w, 3), EMPTY, np.uint8)] * 2
    else:
        cells += [tensor_to_rgb(output.warped_prev[sample]), _gray(output.mask_prev[sample])]
    cells.append(tensor_to_rgb(output.frame[sample]))
    return np.concatenate(cells, axis=1)
