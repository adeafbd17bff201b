"""The dancer's skeleton at time ``t``: forward kinematics, turn, lean, projection, and the COCO-18 keypoints.

The skeleton is 3-D (units: standing height = 1), posed from the motion's sinusoids, turned about the vertical axis,
leaned in the image plane and projected orthographically onto the frame, standing on the floor line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fsvid2vid.data.draw.pose import COCO18_NAMES
from fsvid2vid.data.synth.dance.params import DanceMotion, DanceShape

#: Outward normals of the face points on the head sphere (body frame); they decide visibility after the turn.
FACE_NORMALS = {
    "nose": np.array([0.0, 0.15, 1.0]), "right_eye": np.array([-0.38, -0.12, 0.92]),
    "left_eye": np.array([0.38, -0.12, 0.92]), "right_ear": np.array([-1.0, 0.0, 0.05]),
    "left_ear": np.array([1.0, 0.0, 0.05]),
}
#: A face keypoint is visible when the depth component of its turned normal exceeds this.
_VISIBLE_ABOVE = {"nose": -0.1, "right_eye": 0.1, "left_eye": 0.1, "right_ear": -0.45, "left_ear": -0.45}
#: Joints keep at least this far (in frame heights) from the left and right sides of the frame.
_EDGE_MARGIN = 0.01


@dataclass
class Pose:
    """The skeleton of one frame.

    joints: name -> (3,) array [x_pixel, y_pixel, depth] (depth grows towards the camera, in standing heights) for
            the 18 COCO joints plus "head", "right_toe" and "left_toe".
    facing: cos of the yaw (1: facing the camera, -1: seen from behind).
    sideways: sin of the yaw (which side of the body faces the camera).
    face_normals: face point -> depth component of its outward normal after the turn (> 0: towards the camera).
    yaw: the turn in radians, wrapped to [-pi, pi) (0: facing the camera, +-pi: seen from behind, positive: turned
         to the dancer's own left); the clip's per-frame view.
    """

    joints: dict[str, np.ndarray]
    facing: float
    sideways: float
    face_normals: dict[str, float]
    yaw: float = 0.0


def yaw_at(motion: DanceMotion, t: float) -> float:
    """The dancer's turn about the vertical axis at time ``t`` (radians, not wrapped).

    A small wobble (``yaw0`` + ``yaw_amp`` sin, within +-0.6 rad) plus the turning: the "spin" style turns
    steadily at ``spin_speed`` (4 to 5.5 rad/s); the others make half turns of 180 degrees (smoothstep over
    ``turn_time``), the first starting at ``turn_start``, one every ``turn_time + turn_hold`` seconds, either always
    the same way round or back and forth. So every clip starts facing the camera (|yaw| < 45 degrees at t = 0) and
    shows the back (|yaw| > 135 degrees) before t = 1 s, its 16th frame at 15 fps.
    """
    wobble = motion.yaw0 + motion.yaw_amp * np.sin(2 * np.pi * motion.yaw_freq * t + motion.phase)
    if motion.spin_speed:
        return float(wobble + motion.spin_speed * t)
    since = t - motion.turn_start
    if since <= 0:
        return float(wobble)
    period = motion.turn_time + motion.turn_hold
    n = int(since // period)
    u = min(1.0, (since - n * period) / motion.turn_time)
    ease = u * u * (3 - 2 * u)
    if motion.turn == "around":
        halves = n + ease
    else:  # back and forth: out to the back on even half turns, back to the front on odd ones
        halves = ease if n % 2 == 0 else 1.0 - ease
    return float(wobble + motion.turn_direction * np.pi * halves)


def pose_at(shape: DanceShape, motion: DanceMotion, t: float, height: int, width: int) -> Pose:
    """The pose at time ``t`` seconds in a ``height`` x ``width`` frame."""
    angular_speed = 2 * np.pi * motion.tempo
    beat = angular_speed * t + motion.phase

    def wave(pair: tuple[float, float], offset: float = 0.0, harmonic: float = 0.3) -> float:
        base, amplitude = pair
        return base + amplitude * (np.sin(beat + offset) + harmonic * np.sin(2 * (beat + offset) + 1.0))

    # Body frame: x = person's left, y = down, z = towards the camera when yaw = 0; pelvis at the origin.
    joints: dict[str, np.ndarray] = {}
    joints["right_hip"] = np.array([-shape.hip_w / 2, 0.0, 0.0])
    joints["left_hip"] = np.array([shape.hip_w / 2, 0.0, 0.0])
    neck = np.array([0.0, -shape.torso, 0.0])
    joints["neck"] = neck
    joints["right_shoulder"] = neck + [-shape.shoulder_w / 2, 0.02, 0.0]
    joints["left_shoulder"] = neck + [shape.shoulder_w / 2, 0.02, 0.0]
    head = neck + [0.0, -shape.neck - shape.head_r, 0.0]
    joints["head"] = head

    for side, sign, offset in (("right", -1.0, 0.0), ("left", 1.0, motion.arm_phase)):
        abduct = wave(motion.arm_abduct, offset)
        flex = wave(motion.arm_flex, offset + 0.7)
        upper = np.array([sign * np.sin(abduct), np.cos(abduct) * np.cos(flex), np.cos(abduct) * np.sin(flex)])
        elbow = joints[f"{side}_shoulder"] + shape.upper_arm * upper
        bend = max(0.0, wave(motion.elbow, offset + 1.3, 0.0))
        lower = _bend(upper, np.array([0.0, -0.6, 0.8]), bend)
        joints[f"{side}_elbow"] = elbow
        joints[f"{side}_wrist"] = elbow + shape.forearm * lower

    for side, sign, offset in (("right", -1.0, 0.0), ("left", 1.0, motion.leg_phase)):
        flex = wave(motion.hip_flex, offset, 0.0)
        abduct = abs(wave(motion.hip_abduct, offset + 0.5, 0.0))
        thigh = np.array([sign * np.sin(abduct), np.cos(abduct) * np.cos(flex), np.cos(abduct) * np.sin(flex)])
        knee = joints[f"{side}_hip"] + shape.thigh * thigh
        bend = max(0.0, wave(motion.knee, offset + 0.4, 0.0))
        shin = _bend(thigh, np.array([0.0, 0.3, -1.0]), bend)
        ankle = knee + shape.shin * shin
        joints[f"{side}_knee"] = knee
        joints[f"{side}_ankle"] = ankle
        joints[f"{side}_toe"] = ankle + [sign * 0.01, 0.015, shape.foot]

    # Face points sit on the head sphere.
    for name, normal in FACE_NORMALS.items():
        joints[name] = head + shape.head_r * normal

    yaw = yaw_at(motion, t)
    cos_yaw, sin_yaw = np.cos(yaw), np.sin(yaw)
    turn = np.array([[cos_yaw, 0.0, sin_yaw], [0.0, 1.0, 0.0], [-sin_yaw, 0.0, cos_yaw]])
    lean = motion.lean * np.sin(beat * 0.5 + 0.3)
    cos_lean, sin_lean = np.cos(lean), np.sin(lean)
    pixels_per_unit = shape.height * height
    names = list(joints)
    turned = np.stack([joints[n] for n in names]) @ turn.T  # (J, 3)
    # Leaned in the image plane about the pelvis.
    leaned = turned[:, :2] @ np.array([[cos_lean, sin_lean], [-sin_lean, cos_lean]])
    # Stand on the floor: the lowest toe/ankle touches the floor line, minus a bounce.
    feet = [names.index(n) for n in ("right_ankle", "left_ankle", "right_toe", "left_toe")]
    floor = 0.93 - 0.02 * (1 - shape.height)
    lift = abs(np.sin(beat)) * motion.bounce
    origin_y = floor * height - (leaned[feet, 1].max() + 0.01) * pixels_per_unit - lift * height
    origin_x = (motion.center_x * width + (motion.sway * np.sin(beat * 0.5)
                                           + motion.wander * np.sin(2 * np.pi * motion.wander_freq * t
                                                                    + motion.wander_phase)) * height)
    # Near a side of the frame the dancer is moved in, so that every joint stays inside (arms stretched sideways
    # while turning would otherwise leave the narrow 3:4 frame).
    xs = origin_x + leaned[:, 0] * pixels_per_unit
    margin = _EDGE_MARGIN * height
    origin_x += max(0.0, margin - xs.min()) - max(0.0, xs.max() - (width - margin))
    projected = {n: np.array([origin_x + leaned[i, 0] * pixels_per_unit, origin_y + leaned[i, 1] * pixels_per_unit,
                              turned[i, 2]]) for i, n in enumerate(names)}
    face_normals = {n: (turn @ normal)[2] for n, normal in FACE_NORMALS.items()}
    wrapped = float((yaw + np.pi) % (2 * np.pi) - np.pi)
    return Pose(projected, cos_yaw, sin_yaw, face_normals, wrapped)


def keypoints(pose: Pose) -> np.ndarray:
    """(18, 3) COCO-18 keypoints [x, y, conf] of a pose; face points turned away from the camera get conf 0."""
    points = np.zeros((18, 3), np.float32)
    for i, name in enumerate(COCO18_NAMES):
        visible = pose.face_normals[name] > _VISIBLE_ABOVE[name] if name in pose.face_normals else True
        points[i] = (pose.joints[name][0], pose.joints[name][1], 1.0 if visible else 0.0)
    return points


def _bend(direction: np.ndarray, toward: np.ndarray, angle: float) -> np.ndarray:
    """Rotate unit vector ``direction`` by ``angle`` radians in the plane spanned by it and ``toward``."""
    u = toward - (toward @ direction) * direction
    n = float(np.linalg.norm(u))
    if n < 1e-6:
        return direction
    u = u / n
    return direction * np.cos(angle) + u * np.sin(angle)
