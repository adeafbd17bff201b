"""Ground-truth optical flow (OpenCV, CPU) and the flow, warp and occlusion-mask losses of the generator.

Conventions (those of ``fsvid2vid.models.layers.warp``):

* a flow is a BACKWARD flow (B, 2, H, W) in pixels, channel 0 = dx (right), channel 1 = dy (down):
  ``warp(source, flow)[p] = source[p + flow[p]]``, so the flow "from target to source" makes the source look like
  the target;
* the occlusion mask m (B, 1, H, W) in [0, 1] blends as in eq. 2 of the paper, ``x = (1 - m) * warped + m * h``:
  **m = 1 keeps the synthesised image h, m = 0 keeps the warped image**.

Images are (B, C, H, W) in [-1, 1]. The official code takes its ground truth from FlowNet2, which needs CUDA; here
it comes from OpenCV's DIS optical flow (or Farneback), with a confidence from a forward-backward consistency check.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["FLOW_METHODS", "flow_loss", "ground_truth_flow", "mask_loss", "masked_l1", "warp_confidence", "warp_loss"]

FLOW_METHODS = ("dis", "farneback")

# Forward-backward consistency (Sundaram et al. 2010): with a = flow target->source at p and b = flow source->target
# at p + a, a point is consistent when |a + b|^2 < FB_ALPHA * (|a|^2 + |b|^2) + FB_BETA (pixels^2).
FB_ALPHA = 0.01
FB_BETA = 0.5
# Default photometric check: mean over channels of |warp(source, flow) - target| in [-1, 1] units (0.1 ~ 13/255).
PHOTOMETRIC_THRESHOLD = 0.1
# mask_loss: a warp error (mean over channels, [-1, 1] units) of MASK_ERROR_SCALE or more means "warp is wrong".
MASK_ERROR_SCALE = 0.5
# ITU-R BT.601 luma weights (what cv2.COLOR_RGB2GRAY uses), for RGB inputs.
_LUMA = (0.299, 0.587, 0.114)


def _to_gray_uint8(images: np.ndarray) -> np.ndarray:
    """(B, H, W, C) float32 in [-1, 1], C = 3 (RGB) or 1 -> (B, H, W) uint8 grayscale."""
    x = images @ np.asarray(_LUMA, np.float32) if images.shape[-1] == 3 else images[..., 0]
    return np.clip(np.rint((x + 1) * 127.5), 0, 255).astype(np.uint8)


def _dis_flow() -> cv2.DISOpticalFlow:
    """A DIS optical flow instance, preset MEDIUM (see :func:`ground_truth_flow` for why)."""
    return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)


def _farneback(prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
    """Farneback flow (H, W, 2) with prev[p] ~ nxt[p + flow[p]]; the usual parameters (pyramid 0.5, 4 levels, 15 px)."""
    return cv2.calcOpticalFlowFarneback(prev, nxt, None, pyr_scale=0.5, levels=4, winsize=15, iterations=3, poly_n=5,
                                        poly_sigma=1.2, flags=0)


def ground_truth_flow(target: Tensor, source: Tensor, method: str = "dis", *,
                      photometric_threshold: float | None = PHOTOMETRIC_THRESHOLD) -> tuple[Tensor, Tensor]:
    """The backward flow that warps ``source`` onto ``target``, and where it can be trusted.

    target, source: (B, 3, H, W) RGB (or (B, 1, H, W)) in [-1, 1], on any device; nothing is differentiated.
    Returns ``flow`` (B, 2, H, W) float32 in pixels with ``warp(source, flow) ~ target``, and ``confidence``
    (B, 1, H, W) float32 in {0, 1}, both on the input's device.

    The flow is computed on the CPU with OpenCV on 8-bit grayscale images, one pair at a time:

    * ``method="dis"`` (default): dense inverse search, preset MEDIUM. MEDIUM rather than FAST: on smooth synthetic
      motion (rotation + scale + shift) its median end-point error is 0.07 / 0.13 px at 128x96 / 256x192 against
      FAST's 0.20 / 0.22 px, at a cost (1-4 ms per direction up to 256x192) negligible next to a training step.
      Below 64 px on the short side the finest scale is set to 0 (full resolution): at 64x48 the preset's half
      resolution leaves twice the error for ~1 ms.
    * ``method="farneback"``: cv2.calcOpticalFlowFarneback with the usual parameters; less accurate on large motion.

    A pixel p is confident (1) when all of these hold, else 0 (occluded, out of view, or unreliable):

    * forward-backward consistency: with a = flow(target -> source) at p and b = flow(source -> target) sampled
      bilinearly at p + a, ``|a + b|^2 < 0.01 (|a|^2 + |b|^2) + 0.5`` (pixels^2; Sundaram et al. 2010);
    * p + a lies inside the source image (0.5 px tolerance);
    * unless ``photometric_threshold`` is None: the mean over channels of ``|warp(source, a) - target|`` is below it
      (default 0.1 in [-1, 1] units, ~13/255). The consistency check alone passes much of a region whose content
      changed (no correspondence at all) when DIS smooths the flow over it; the official code uses a photometric
      check alone.

    Everything runs in OpenCV / NumPy (cv2.remap samples like ``warp``: bilinear, border-replicated), so it does not
    depend on torch's CPU thread pool. Pairs of identical images get zero flow and full confidence without running
    OpenCV. DIS and Farneback are deterministic: the same input gives the same output bit for bit, whatever
    cv2.getNumThreads() (checked for 1, 2 and 8 threads), so the global OpenCV thread setting is left alone.
    Cost per pair (both directions and the checks, 2-core CPU): ~3 ms at 64x48, ~4 ms at 128x96, ~17 ms at 256x192.
    """
    if method not in FLOW_METHODS:
        raise ValueError(f"unknown flow method {method!r}; choose one of {', '.join(FLOW_METHODS)}")
    if target.shape != source.shape or target.dim() != 4 or target.shape[1] not in (1, 3):
        raise ValueError(f"target and source must both be (B, 3 or 1, H, W); got {tuple(target.shape)} and "
                         f"{tuple(source.shape)}")
    b, _, h, w = target.shape
    # One copy to the CPU, then NumPy / OpenCV only (small torch CPU ops are slow when the cores are contended).
    images_t = np.ascontiguousarray(target.detach().to("cpu", torch.float32).permute(0, 2, 3, 1).numpy())  # B,H,W,C
    images_s = np.ascontiguousarray(source.detach().to("cpu", torch.float32).permute(0, 2, 3, 1).numpy())
    gray_t, gray_s = _to_gray_uint8(images_t), _to_gray_uint8(images_s)  # (B, H, W) uint8

    flow = np.zeros((b, h, w, 2), np.float32)
    confidence = np.ones((b, h, w), np.float32)
    grid = np.stack(np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)), -1)  # (H, W, 2)
    dis = None
    for i in range(b):
        if np.array_equal(images_t[i], images_s[i]):
            continue  # zero flow, full confidence
        if method == "dis":
            if dis is None:
                dis = _dis_flow()
                if min(h, w) < 64:
                    dis.setFinestScale(0)
            forward = dis.calc(gray_t[i], gray_s[i], None)  # target -> source: target[p] ~ source[p + forward[p]]
            backward = dis.calc(gray_s[i], gray_t[i], None)  # source -> target
        else:
            forward = _farneback(gray_t[i], gray_s[i])
            backward = _farneback(gray_s[i], gray_t[i])
        flow[i] = forward
        confidence[i] = _confidence(forward, backward, grid, images_t[i], images_s[i], photometric_threshold)
    flow_t = torch.from_numpy(np.ascontiguousarray(flow.transpose(0, 3, 1, 2)))  # (B, 2, H, W)
    return flow_t.to(target.device), torch.from_numpy(confidence[:, None]).to(target.device)


def _remap(image: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """``image[coords]`` bilinearly, border-replicated (the sampling of ``warp``); coords (H, W, 2) in pixels (x, y)."""
    return cv2.remap(image, coords[..., 0], coords[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _confidence(forward: np.ndarray, backward: np.ndarray, grid: np.ndarray, target: np.ndarray, source: np.ndarray,
                photometric_threshold: float | None) -> np.ndarray:
    """The checks of :func:`ground_truth_flow` for one pair -> (H, W) float32 in {0, 1}.

    forward, backward: (H, W, 2) flows; grid: (H, W, 2) pixel coordinates (x, y); target, source: (H, W, C).
    """
    h, w = forward.shape[:2]
    coords = grid + forward  # p + a, (H, W, 2)
    backward_at = _remap(backward, coords)  # b at p + a
    error = np.square(forward + backward_at).sum(-1)
    bound = FB_ALPHA * (np.square(forward).sum(-1) + np.square(backward_at).sum(-1)) + FB_BETA
    confident = error < bound
    x, y = coords[..., 0], coords[..., 1]
    confident &= (x >= -0.5) & (x <= w - 0.5) & (y >= -0.5) & (y <= h - 0.5)
    if photometric_threshold is not None:
        warped = _remap(source, coords).reshape(target.shape)  # cv2 drops a single channel axis
        confident &= np.abs(warped - target).mean(-1) < photometric_threshold
    return confident.astype(np.float32)


def masked_l1(pred: Tensor, target: Tensor | float, mask: Tensor) -> Tensor:
    """L1 between ``pred`` and ``target`` weighted by ``mask`` and normalised by the mask's area.

    pred: (B, C, H, W); target: broadcastable to pred (a tensor or a number); mask: (B, 1, H, W) or (B, C, H, W),
    weights >= 0. Returns the scalar ``sum(mask * |pred - target|) / sum(mask expanded to pred's shape)``: e.g. a
    binary mask covering half of the image gives the mean L1 over that half (over all C channels). The denominator is
    at least 1, so an empty (or almost empty) mask gives 0 (still connected to the graph, with zero gradient) instead
    of dividing by zero. Unlike the official code, the loss does not shrink with the mask's coverage.
    """
    diff = (pred - target).abs()
    weight = mask.expand_as(diff)
    return (weight * diff).sum() / weight.sum().clamp_min(1.0)


def flow_loss(pred_flow: Tensor, gt_flow: Tensor, confidence: Tensor) -> Tensor:
    """Masked L1 (pixels) between a predicted flow and the ground truth where the ground truth is confident.

    pred_flow, gt_flow: (B, 2, H, W); confidence: (B, 1, H, W) in [0, 1] (see :func:`ground_truth_flow`).
    The ground truth and the confidence are detached. Returns a scalar.
    """
    return masked_l1(pred_flow, gt_flow.detach(), confidence.detach())


def warp_loss(warped: Tensor, target: Tensor) -> Tensor:
    """Mean L1 between a warped image (B, C, H, W) and the target frame (B, C, H, W); the target is detached."""
    return F.l1_loss(warped, target.detach())


def warp_confidence(warped: Tensor, target: Tensor) -> Tensor:
    """How right a warp is, per pixel: ``clamp(1 - mean_c |warped - target| / 0.5, 0, 1)``, detached.

    warped, target: (B, C, H, W) in [-1, 1] -> (B, 1, H, W): 1 for a perfect warp, falling linearly to 0 at a mean
    error of 0.5 (a quarter of the value range) or more.
    """
    error = (warped.detach() - target.detach()).abs().mean(1, keepdim=True)
    return (1 - error / MASK_ERROR_SCALE).clamp(0, 1)


def mask_loss(mask: Tensor, warped: Tensor, target: Tensor) -> Tensor:
    """Supervision of the soft occlusion mask m from how right the warped image is.

    mask: (B, 1, H, W) in [0, 1], with the generator's convention x = (1 - m) * warped + m * h: **1 = keep the
    synthesised image, 0 = keep the warped image**. warped, target: (B, C, H, W) in [-1, 1].
    With conf = :func:`warp_confidence` (1 where the warp is right, 0 where its error is >= 0.5), returns the scalar
    ``masked_l1(m, 0, conf) + masked_l1(m, 1, 1 - conf)``: use the warp where it is right, synthesise elsewhere.
    """
    conf = warp_confidence(warped, target)
    return masked_l1(mask, 0.0, conf) + masked_l1(mask, 1.0, 1 - conf)


def label_warp_losses(warped_labels: Tensor, target_labels: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """Warp and mask terms for an example warp, from one-hot part/label maps (the official pose terms, made generic).

    warped_labels: (B, C, H, W) an example's one-hot label map warped by the example flow; target_labels:
    (B, C, H, W) the frame's one-hot label map; mask: (B, 1, H, W) the example mask m_e (1 = keep h_t).
    Returns ``(warp, mask)``:
    - warp: mean L1 between the warped and the target label maps, which supervises the example flow with the parts
      (the image warp alone cannot tell two limbs of the same colour apart);
    - mask: ``masked_l1(m_e, 1, disagree)`` with disagree = half the L1 between the two maps per pixel, in [0, 1]:
      synthesise wherever the warped example shows a different part (or body where the frame has background), which
      keeps the example's own pose from showing through as a ghost.
    """
    target = target_labels.detach()
    disagree = (0.5 * (warped_labels.detach() - target).abs().sum(1, keepdim=True)).clamp(0, 1)
    return F.l1_loss(warped_labels, target), masked_l1(mask, 1.0, disagree)
