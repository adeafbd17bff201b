"""Metric functions of the evaluation suite, each a plain function of arrays or tensors with a known answer on
simple cases (tests/test_metrics.py).

Images are (..., 3, H, W) tensors in [-1, 1]; keypoints (..., P, 3) arrays of [x, y, confidence]; label maps integer
arrays of the same shape.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from fsvid2vid.models import warp


def l1(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean absolute difference (in [-1, 1] units)."""
    return float((a.float() - b.float()).abs().mean())


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """Peak signal-to-noise ratio in dB over all pixels, for images in [-1, 1] (peak-to-peak 2); inf if equal."""
    mse = float(((a.float() - b.float()) ** 2).mean())
    return float("inf") if mse == 0 else 10.0 * np.log10(4.0 / mse)


def ssim_map(a: torch.Tensor, b: torch.Tensor, window: int = 7, sigma: float = 1.5) -> torch.Tensor:
    """Structural similarity per window position and channel (Gaussian window, the usual constants for a dynamic
    range of 2): (N, C, H - window + 1, W - window + 1). a, b: (N, C, H, W) or (C, H, W) in [-1, 1]."""
    x, y = a.float(), b.float()
    if x.dim() == 3:
        x, y = x[None], y[None]
    c = x.shape[1]
    coords = torch.arange(window, dtype=torch.float32) - (window - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = (g / g.sum())[:, None] @ (g / g.sum())[None, :]
    kernel = g.expand(c, 1, window, window).contiguous()

    def blur(z: torch.Tensor) -> torch.Tensor:
        return F.conv2d(z, kernel, groups=c)

    c1, c2 = (0.01 * 2) ** 2, (0.03 * 2) ** 2
    mx, my = blur(x), blur(y)
    vx, vy, cov = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
    return ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))


def ssim(a: torch.Tensor, b: torch.Tensor, window: int = 7, sigma: float = 1.5) -> float:
    """Mean structural similarity over all windows and channels. a, b: (N, C, H, W) or (C, H, W) in [-1, 1]; 1 for
    identical images."""
    return float(ssim_map(a, b, window, sigma).mean())


def masked_l1(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> float | None:
    """Mean absolute difference over the pixels where ``mask`` (..., H, W) is true; None without any."""
    m = mask.float()[..., None, :, :].expand_as(a)
    count = float(m.sum())
    return None if count == 0 else float(((a.float() - b.float()).abs() * m).sum() / count)


def masked_psnr(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> float | None:
    """PSNR in dB over the pixels where ``mask`` is true (images in [-1, 1]); None without any, inf if equal."""
    m = mask.float()[..., None, :, :].expand_as(a)
    count = float(m.sum())
    if count == 0:
        return None
    mse = float(((a.float() - b.float()) ** 2 * m).sum() / count)
    return float("inf") if mse == 0 else 10.0 * np.log10(4.0 / mse)


def masked_ssim(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor, window: int = 7) -> float | None:
    """Mean SSIM over the windows centred on pixels where ``mask`` (H, W) is true; None without any."""
    s = ssim_map(a, b, window)  # (N, C, H - window + 1, W - window + 1)
    r = window // 2
    m = mask.bool()[..., r:mask.shape[-2] - r, r:mask.shape[-1] - r]
    m = m.reshape(1, 1, *m.shape[-2:]).expand_as(s) if m.dim() == 2 else m[:, None].expand_as(s)
    return float(s[m].mean()) if bool(m.any()) else None


def color_distance(a_pixels: np.ndarray, b_pixels: np.ndarray, bins: int = 8) -> float | None:
    """Appearance, not shape: the Hellinger distance between the CIELAB colour histograms of two pixel sets.

    a_pixels, b_pixels: (N, 3) uint8 RGB, any N (e.g. a subject's pixels over a clip). ``bins`` per channel. 0 for the
    same colour distribution, 1 for disjoint ones; None if either set is empty. Unlike the keypoint evaluator's
    features, which ignore colour by design, a red top where a checked blue one belongs scores badly.
    """
    import cv2

    if len(a_pixels) == 0 or len(b_pixels) == 0:
        return None

    def histogram(pixels: np.ndarray) -> np.ndarray:
        lab = cv2.cvtColor(np.ascontiguousarray(pixels, np.uint8).reshape(-1, 1, 3), cv2.COLOR_RGB2LAB).reshape(-1, 3)
        counts, _ = np.histogramdd(lab.astype(np.float64), bins=bins, range=[(0, 256)] * 3)
        return counts.ravel() / counts.sum()

    overlap = float(np.sqrt(histogram(a_pixels) * histogram(b_pixels)).sum())
    return float(np.sqrt(max(0.0, 1.0 - overlap)))


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (N, D): the FID formula.

    ||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)); the trace of the square root is the sum of the square
    roots of the eigenvalues of S_a S_b (real and non-negative for covariance matrices, up to rounding).
    """
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"need two (N >= 2, D) feature sets of equal D, got {a.shape} and {b.shape}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    eig = np.linalg.eigvals(s_a @ s_b)
    trace_sqrt = float(np.sqrt(np.clip(eig.real, 0, None)).sum())
    value = float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * trace_sqrt)
    return max(value, 0.0)


def keypoint_error(predicted: np.ndarray, target: np.ndarray, min_confidence: float = 0.0) -> float:
    """Mean pixel distance between predicted and target keypoints, over points visible in both (the pose error).

    predicted, target: (..., P, 3) [x, y, confidence]. NaN when no point is visible in both.
    """
    p, t = np.asarray(predicted, np.float64), np.asarray(target, np.float64)
    if p.shape != t.shape or p.shape[-1] != 3:
        raise ValueError(f"keypoint arrays must match and end in [x, y, confidence], got {p.shape} and {t.shape}")
    visible = (p[..., 2] > min_confidence) & (t[..., 2] > min_confidence)
    if not visible.any():
        return float("nan")
    return float(np.linalg.norm(p[..., :2] - t[..., :2], axis=-1)[visible].mean())


def _confusion(predicted: np.ndarray, target: np.ndarray, num_classes: int) -> np.ndarray:
    """(num_classes, num_classes) pixel counts, rows = target class, columns = predicted class."""
    p, t = np.asarray(predicted).ravel(), np.asarray(target).ravel()
    if p.shape != t.shape:
        raise ValueError(f"label maps differ in size: {np.shape(predicted)} vs {np.shape(target)}")
    return np.bincount(t * num_classes + p, minlength=num_classes**2).reshape(num_classes, num_classes)


def class_iou(predicted: np.ndarray, target: np.ndarray, num_classes: int) -> np.ndarray:
    """(num_classes,) intersection-over-union per class; NaN for a class in neither the prediction nor the target."""
    confusion = _confusion(predicted, target, num_classes)
    intersection = np.diag(confusion).astype(np.float64)
    union = confusion.sum(0) + confusion.sum(1) - intersection
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, intersection / np.maximum(union, 1), np.nan)


def segmentation_scores(predicted: np.ndarray, target: np.ndarray, num_classes: int) -> dict[str, float]:
    """Pixel accuracy and mean intersection-over-union over the classes present in the prediction or the target."""
    confusion = _confusion(predicted, target, num_classes)
    iou = class_iou(predicted, target, num_classes)
    present = ~np.isnan(iou)
    return {"pixel_accuracy": float(np.trace(confusion) / max(1, confusion.sum())),
            "mean_iou": float(iou[present].mean()) if present.any() else float("nan")}


def warping_error(frames: torch.Tensor, flows: torch.Tensor, confidence: torch.Tensor | None = None) -> float:
    """Temporal consistency: mean |warp(x_{t-1}, flow_t) - x_t| over consecutive frames under the given motion.

    frames: (T, 3, H, W); flows: (T - 1, 2, H, W) backward flows (pixels) with warp(x_{t-1}, flow_t) ≈ x_t for the
    ground truth; confidence: optional (T - 1, 1, H, W) weights (e.g. from a consistency check).
    """
    if len(frames) < 2:
        raise ValueError("need at least 2 frames for a warping error")
    err = (warp(frames[:-1].float(), flows.float()) - frames[1:].float()).abs().mean(dim=1, keepdim=True)
    if confidence is None:
        return float(err.mean())
    return float((err * confidence).sum() / confidence.sum().clamp_min(1e-8))
