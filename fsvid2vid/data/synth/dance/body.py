"""The dancer's body as drawable pieces (capsules, a torso polygon, a head ellipse) with their part label and depth.

The same pieces give the ``parts`` label map (drawn hard-edged at the frame's size) and the RGB body (drawn at the
supersampled size and painted piece by piece, far to near, so limbs occlude each other correctly).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fsvid2vid.data.synth.common import fill_circle, fill_ellipse, fill_polygon
from fsvid2vid.data.synth.dance.params import DanceShape
from fsvid2vid.data.synth.dance.skeleton import Pose

#: Label permutation that swaps left and right parts (for horizontal flips).
PART_FLIP = (0, 1, 2, 6, 7, 8, 3, 4, 5, 12, 13, 14, 9, 10, 11)


@dataclass
class BodyPiece:
    """One drawable body part: a capsule (p0, p1, half-width), a polygon, or an ellipse."""

    name: str
    label: int  # index into DANCE_PART_NAMES
    depth: float
    capsule: tuple[np.ndarray, np.ndarray, float] | None = None
    polygon: np.ndarray | None = None
    ellipse: tuple[np.ndarray, tuple[float, float], float] | None = None
    axis: tuple[np.ndarray, np.ndarray] | None = None  # own coordinate axis of a polygon or ellipse piece
    half_width: float = 0.0

    def draw(self, canvas: np.ndarray, value: int, antialias: bool) -> None:
        if self.capsule is not None:
            p0, p1, half = self.capsule
            direction = p1 - p0
            norm = float(np.linalg.norm(direction))
            if norm > 1e-6:
                normal = np.array([-direction[1], direction[0]]) / norm * half
                fill_polygon(canvas, np.array([p0 + normal, p1 + normal, p1 - normal, p0 - normal]), value, antialias)
            fill_circle(canvas, p0, half, value, antialias)
            fill_circle(canvas, p1, half, value, antialias)
        elif self.polygon is not None:
            fill_polygon(canvas, self.polygon, value, antialias)
        elif self.ellipse is not None:
            center, axes, angle = self.ellipse
            fill_ellipse(canvas, center, axes, angle, value, antialias)

    def frame(self) -> tuple[np.ndarray, np.ndarray, float]:
        """(start, end, half-width) of the piece's own coordinate axis, for patterns and shading."""
        if self.capsule is not None:
            p0, p1, half = self.capsule
            if np.linalg.norm(p1 - p0) < 1e-3:
                return p0, p0 + np.array([0.0, 1.0]), half
            return p0, p1, half
        assert self.axis is not None
        return self.axis[0], self.axis[1], self.half_width


def body_pieces(shape: DanceShape, pose: Pose, scale: float, height: int) -> list[BodyPiece]:
    """The body's pieces, sorted far to near, drawn at ``scale`` times the frame's ``height``."""

    def at(name: str) -> np.ndarray:
        return pose.joints[name][:2] * scale

    def depth(*names: str) -> float:
        return float(np.mean([pose.joints[n][2] for n in names]))

    unit = shape.height * height * scale  # pixels per standing height (in the drawing's resolution)
    pieces = []
    # Torso: shoulders to hips, at least as wide as the body is deep when seen from the side.
    half = max(abs(pose.facing), 0.45)
    l_shoulder, r_shoulder, l_hip, r_hip = at("left_shoulder"), at("right_shoulder"), at("left_hip"), at("right_hip")
    mid_shoulders, mid_hips = (l_shoulder + r_shoulder) / 2, (l_hip + r_hip) / 2
    if np.linalg.norm(l_shoulder - r_shoulder) > 1e-3:
        across = _unit(l_shoulder - r_shoulder)
    else:
        across = np.array([1.0, 0.0])
    shoulder_half = (max(np.linalg.norm(l_shoulder - r_shoulder) / 2, 0.45 * shape.shoulder_w / 2 * unit)
                     + shape.arm_w * unit * 0.6 * half)
    hip_half = max(np.linalg.norm(l_hip - r_hip) / 2 + shape.thigh_w * unit * 0.5, shape.waist_w * unit * half)
    waist = mid_hips + _unit(mid_hips - mid_shoulders) * shape.thigh_w * unit * 0.5
    torso = np.array([mid_shoulders - across * shoulder_half, mid_shoulders + across * shoulder_half,
                      waist + across * hip_half, waist - across * hip_half])
    neck_top = at("neck") + (at("head") - at("neck")) * 0.4
    pieces.append(BodyPiece("neck", 2, depth("neck") - 0.002,
                            capsule=(at("neck"), neck_top, shape.arm_w * unit * 0.9)))
    pieces.append(BodyPiece("torso", 2, depth("neck", "left_hip", "right_hip"), polygon=torso,
                            axis=(mid_shoulders, mid_hips), half_width=max(shoulder_half, hip_half)))
    head_r = shape.head_r * unit
    pieces.append(BodyPiece("head", 1, depth("head") + 0.001,
                            ellipse=(at("head"), (head_r * 0.86, head_r * 1.02), 0.0),
                            axis=(at("head") - [0, head_r], at("head") + [0, head_r]), half_width=head_r))
    for side, first_label in (("right", 3), ("left", 6)):
        shoulder, elbow, wrist = at(f"{side}_shoulder"), at(f"{side}_elbow"), at(f"{side}_wrist")
        pieces.append(BodyPiece(f"{side}_upper_arm", first_label, depth(f"{side}_shoulder", f"{side}_elbow"),
                                capsule=(shoulder, elbow, shape.arm_w * unit)))
        pieces.append(BodyPiece(f"{side}_lower_arm", first_label + 1, depth(f"{side}_elbow", f"{side}_wrist"),
                                capsule=(elbow, wrist, shape.forearm_w * unit)))
        hand_end = wrist + _unit(wrist - elbow) * shape.forearm_w * unit * 1.4
        pieces.append(BodyPiece(f"{side}_hand", first_label + 2, depth(f"{side}_wrist") + 0.001,
                                capsule=(wrist, hand_end, shape.forearm_w * unit * 1.1)))
    for side, first_label in (("right", 9), ("left", 12)):
        hip, knee, ankle = at(f"{side}_hip"), at(f"{side}_knee"), at(f"{side}_ankle")
        pieces.append(BodyPiece(f"{side}_upper_leg", first_label, depth(f"{side}_hip", f"{side}_knee") - 0.001,
                                capsule=(hip, knee, shape.thigh_w * unit)))
        pieces.append(BodyPiece(f"{side}_lower_leg", first_label + 1, depth(f"{side}_knee", f"{side}_ankle"),
                                capsule=(knee, ankle, shape.shin_w * unit)))
        # The foot points along the body's forward axis: mostly sideways in the image when seen in profile.
        toe = ankle + np.array([pose.sideways * shape.foot * unit,
                                (0.6 - 0.25 * abs(pose.sideways)) * shape.shin_w * unit])
        pieces.append(BodyPiece(f"{side}_foot", first_label + 2, depth(f"{side}_ankle", f"{side}_toe") + 0.001,
                                capsule=(ankle, toe, shape.shin_w * unit * 0.85)))
    pieces.sort(key=lambda piece: piece.depth)
    return pieces


def part_map(shape: DanceShape, pose: Pose, height: int, width: int) -> np.ndarray:
    """(height, width) uint8 body-part labels, drawn hard-edged far to near."""
    parts = np.zeros((height, width), np.uint8)
    for piece in body_pieces(shape, pose, 1.0, height):
        piece.draw(parts, piece.label, antialias=False)
    return parts


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 else np.array([0.0, 1.0])
