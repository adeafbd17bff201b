"""The dance task: an articulated 2-D dancer with COCO-18 keypoints, a body-part map and a per-subject look.

Geometry is a small 3-D skeleton (units: standing height = 1) posed by forward kinematics, turned about the vertical
axis, leaned, and projected orthographically onto the frame; body parts are drawn far to near so limbs occlude each
other correctly. The semantic inputs are the OpenPose-style skeleton image (:func:`draw_openpose`, the same function
that draws real detected poses) and a body-part index map (the role DensePose plays in the paper). Both depend only
on the shape (body proportions, limb widths) and the motion; garments, hair, skin, shoes and the room come from the
appearance and change only the RGB frames.

The RGB frame is composed at twice the resolution and area-downsampled, which anti-aliases every edge.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from fsvid2vid.data.draw.pose import draw_openpose
from fsvid2vid.data.semantics import DANCE_PART_NAMES, task_aspect, task_layers
from fsvid2vid.data.synth.common import (
    Frame,
    fill_circle,
    fill_ellipse,
    fill_polygon,
    hsv_color,
    mix,
    shade,
    value_noise,
)

#: Body-part labels of the ``parts`` layer (index = label id).
PART_NAMES = DANCE_PART_NAMES
#: Label permutation that swaps left and right parts (for horizontal flips).
PART_FLIP = (0, 1, 2, 6, 7, 8, 3, 4, 5, 12, 13, 14, 9, 10, 11)

PATTERNS = ("solid", "stripes", "checks", "dots")
SLEEVES = ("none", "short", "long")
BOTTOMS = ("trousers", "shorts", "skirt")
HAIR_STYLES = ("short", "long", "bun", "ponytail", "bald", "curly")
FLOORS = ("plain", "planks", "tiles")
STYLES = ("groove", "arms", "steps", "spin")

_HAIR_COLORS = {
    "black": (25, 22, 22), "dark_brown": (60, 38, 25), "brown": (110, 70, 40), "blonde": (205, 170, 100),
    "red": (150, 60, 30), "grey": (165, 160, 155), "blue": (40, 80, 170), "pink": (215, 110, 160),
}

_SUPERSAMPLE = 2


@dataclass(frozen=True)
class DanceAppearance:
    """What a dancer and their room look like (RGB only; never changes the semantic maps)."""

    skin: tuple[int, int, int]
    hair_style: str
    hair_color: str
    top_pattern: str
    top_color: tuple[int, int, int]
    top_color2: tuple[int, int, int]
    pattern_scale: float  # pattern period in body heights
    sleeves: str
    bottom: str
    bottom_color: tuple[int, int, int]
    shoe_color: tuple[int, int, int]
    wall_top: tuple[int, int, int]
    wall_bottom: tuple[int, int, int]
    floor_color: tuple[int, int, int]
    floor: str
    decor: tuple[tuple[float, float, float, float, int, int, int], ...]  # x0, y0, w, h (fractions), RGB
    texture_seed: int


@dataclass(frozen=True)
class DanceShape:
    """Body proportions (in standing heights) and placement; the semantic maps depend on these."""

    height: float  # standing height as a fraction of the frame height
    head_r: float
    neck: float
    torso: float
    shoulder_w: float
    hip_w: float
    upper_arm: float
    forearm: float
    thigh: float
    shin: float
    foot: float
    arm_w: float  # half-widths
    forearm_w: float
    thigh_w: float
    shin_w: float
    waist_w: float  # half-width of the torso at the hips


@dataclass(frozen=True)
class DanceMotion:
    """A procedural dance: sinusoids of time with per-clip tempo, style and amplitudes."""

    style: str
    tempo: float  # beats per second
    phase: float
    arm_abduct: tuple[float, float]  # base, amplitude (radians)
    arm_flex: tuple[float, float]
    elbow: tuple[float, float]
    arm_phase: float  # phase offset between the two arms
    hip_flex: tuple[float, float]
    hip_abduct: tuple[float, float]
    knee: tuple[float, float]
    leg_phase: float
    yaw0: float
    yaw_amp: float
    yaw_freq: float
    spin_speed: float  # radians per second (non-zero for the "spin" style)
    sway: float  # horizontal amplitudes, in frame heights
    wander: float
    wander_freq: float
    wander_phase: float
    bounce: float
    lean: float
    center_x: float  # mean horizontal position, in frame widths


def _jitter(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _random_color(rng: np.random.Generator, s: tuple[float, float] = (0.3, 0.9),
                  v: tuple[float, float] = (0.25, 0.95)) -> tuple[int, int, int]:
    return hsv_color(rng.random(), _jitter(rng, *s), _jitter(rng, *v))


class DanceRenderer:
    """Renderer of the dance task (see the module docstring)."""

    name = "dance"
    task_id = 1
    aspect = task_aspect("dance")
    fps = 15
    layers = task_layers("dance")
    points_name = "keypoints"
    points_format = "coco18"

    # -- sampling ---------------------------------------------------------------------------------------------------

    def sample_appearance(self, rng: np.random.Generator) -> DanceAppearance:
        tone = rng.random()
        skin = hsv_color(0.055 + 0.03 * rng.random(), 0.25 + 0.35 * tone, 0.95 - 0.6 * tone)
        decor = []
        for _ in range(int(rng.integers(0, 4))):
            color = _random_color(rng, (0.1, 0.7), (0.3, 0.9))
            decor.append((round(_jitter(rng, 0.0, 0.85), 4), round(_jitter(rng, 0.05, 0.45), 4),
                          round(_jitter(rng, 0.1, 0.3), 4), round(_jitter(rng, 0.08, 0.25), 4), *color))
        wall = _random_color(rng, (0.05, 0.45), (0.45, 0.95))
        return DanceAppearance(
            skin=skin,
            hair_style=HAIR_STYLES[int(rng.integers(len(HAIR_STYLES)))],
            hair_color=list(_HAIR_COLORS)[int(rng.integers(len(_HAIR_COLORS)))],
            top_pattern=PATTERNS[int(rng.integers(len(PATTERNS)))],
            top_color=_random_color(rng),
            top_color2=_random_color(rng, (0.0, 0.9), (0.2, 1.0)),
            pattern_scale=round(_jitter(rng, 0.035, 0.07), 4),
            sleeves=SLEEVES[int(rng.integers(len(SLEEVES)))],
            bottom=BOTTOMS[int(rng.integers(len(BOTTOMS)))],
            bottom_color=_random_color(rng, (0.2, 0.8), (0.15, 0.8)),
            shoe_color=_random_color(rng, (0.0, 0.6), (0.1, 0.9)),
            wall_top=wall,
            wall_bottom=shade(wall, _jitter(rng, 0.7, 1.0)),
            floor_color=_random_color(rng, (0.1, 0.6), (0.2, 0.7)),
            floor=FLOORS[int(rng.integers(len(FLOORS)))],
            decor=tuple(decor),
            texture_seed=int(rng.integers(2**31)),
        )

    def is_held_out(self, appearance: DanceAppearance) -> bool:
        """Checked tops with a skirt never occur in train (about 8 % of draws)."""
        return appearance.top_pattern == "checks" and appearance.bottom == "skirt"

    def sample_shape(self, rng: np.random.Generator) -> DanceShape:
        build = _jitter(rng, 0.8, 1.25)  # slim .. broad
        return DanceShape(
            height=_jitter(rng, 0.66, 0.78),
            head_r=_jitter(rng, 0.058, 0.07),
            neck=_jitter(rng, 0.03, 0.05),
            torso=_jitter(rng, 0.27, 0.32),
            shoulder_w=_jitter(rng, 0.2, 0.26) * (0.9 + 0.1 * build),
            hip_w=_jitter(rng, 0.1, 0.15) * build,
            upper_arm=_jitter(rng, 0.16, 0.2),
            forearm=_jitter(rng, 0.14, 0.17),
            thigh=_jitter(rng, 0.23, 0.27),
            shin=_jitter(rng, 0.22, 0.26),
            foot=_jitter(rng, 0.05, 0.07),
            arm_w=_jitter(rng, 0.022, 0.03) * build,
            forearm_w=_jitter(rng, 0.017, 0.023) * build,
            thigh_w=_jitter(rng, 0.035, 0.045) * build,
            shin_w=_jitter(rng, 0.025, 0.033) * build,
            waist_w=_jitter(rng, 0.065, 0.09) * build,
        )

    def sample_motion(self, rng: np.random.Generator) -> DanceMotion:
        style = STYLES[int(rng.integers(len(STYLES)))]
        arms = 1.6 if style == "arms" else 1.0
        legs = 1.6 if style == "steps" else 1.0
        return DanceMotion(
            style=style,
            tempo=_jitter(rng, 0.7, 1.6),
            phase=_jitter(rng, 0, 2 * np.pi),
            arm_abduct=(_jitter(rng, 0.2, 1.2), _jitter(rng, 0.2, 0.6) * arms),
            arm_flex=(_jitter(rng, -0.2, 0.6), _jitter(rng, 0.1, 0.5) * arms),
            elbow=(_jitter(rng, 0.2, 1.2), _jitter(rng, 0.1, 0.6) * arms),
            arm_phase=float(rng.choice([0.0, np.pi, np.pi / 2])),
            hip_flex=(_jitter(rng, -0.05, 0.15), _jitter(rng, 0.05, 0.3) * legs),
            hip_abduct=(_jitter(rng, 0.0, 0.2), _jitter(rng, 0.0, 0.12) * legs),
            knee=(_jitter(rng, 0.05, 0.3), _jitter(rng, 0.05, 0.35) * legs),
            leg_phase=float(rng.choice([np.pi, np.pi / 2])),
            yaw0=_jitter(rng, -0.5, 0.5),
            yaw_amp=_jitter(rng, 0.1, 0.9),
            yaw_freq=_jitter(rng, 0.1, 0.35),
            spin_speed=float(rng.choice([-1, 1]) * _jitter(rng, 1.2, 2.5)) if style == "spin" else 0.0,
            sway=_jitter(rng, 0.005, 0.02),
            wander=_jitter(rng, 0.02, 0.08),
            wander_freq=_jitter(rng, 0.05, 0.2),
            wander_phase=_jitter(rng, 0, 2 * np.pi),
            bounce=_jitter(rng, 0.0, 0.015) * (1.5 if style == "groove" else 1.0),
            lean=_jitter(rng, 0.0, 0.12),
            center_x=_jitter(rng, 0.42, 0.58),
        )

    # -- geometry ---------------------------------------------------------------------------------------------------

    def pose(self, shape: DanceShape, motion: DanceMotion, t: float, height: int, width: int) -> dict[str, np.ndarray]:
        """Joint positions at time ``t`` seconds.

        Returns a dict of name -> (3,) array [x_pixel, y_pixel, depth] (depth grows towards the camera, in standing
        heights) for the 18 COCO joints plus "head", "right_toe", "left_toe", and "_facing" (cos of the yaw, sin of
        the yaw, 0).
        """
        s, m = shape, motion
        w = 2 * np.pi * m.tempo
        beat = w * t + m.phase

        def wave(pair: tuple[float, float], offset: float = 0.0, harmonic: float = 0.3) -> float:
            base, amp = pair
            return base + amp * (np.sin(beat + offset) + harmonic * np.sin(2 * (beat + offset) + 1.0))

        # Body frame: x = person's left, y = down, z = towards the camera when yaw = 0; pelvis at the origin.
        joints: dict[str, np.ndarray] = {}
        joints["right_hip"] = np.array([-s.hip_w / 2, 0.0, 0.0])
        joints["left_hip"] = np.array([s.hip_w / 2, 0.0, 0.0])
        neck = np.array([0.0, -s.torso, 0.0])
        joints["neck"] = neck
        joints["right_shoulder"] = neck + [-s.shoulder_w / 2, 0.02, 0.0]
        joints["left_shoulder"] = neck + [s.shoulder_w / 2, 0.02, 0.0]
        head = neck + [0.0, -s.neck - s.head_r, 0.0]
        joints["head"] = head

        for side, sign, offset in (("right", -1.0, 0.0), ("left", 1.0, m.arm_phase)):
            abduct = wave(m.arm_abduct, offset)
            flex = wave(m.arm_flex, offset + 0.7)
            d = np.array([sign * np.sin(abduct), np.cos(abduct) * np.cos(flex), np.cos(abduct) * np.sin(flex)])
            elbow = joints[f"{side}_shoulder"] + s.upper_arm * d
            bend = max(0.0, wave(m.elbow, offset + 1.3, 0.0))
            fore = _bend(d, np.array([0.0, -0.6, 0.8]), bend)
            joints[f"{side}_elbow"] = elbow
            joints[f"{side}_wrist"] = elbow + s.forearm * fore

        for side, sign, offset in (("right", -1.0, 0.0), ("left", 1.0, m.leg_phase)):
            flex = wave(m.hip_flex, offset, 0.0)
            abduct = abs(wave(m.hip_abduct, offset + 0.5, 0.0))
            d = np.array([sign * np.sin(abduct), np.cos(abduct) * np.cos(flex), np.cos(abduct) * np.sin(flex)])
            knee = joints[f"{side}_hip"] + s.thigh * d
            bend = max(0.0, wave(m.knee, offset + 0.4, 0.0))
            shin = _bend(d, np.array([0.0, 0.3, -1.0]), bend)
            ankle = knee + s.shin * shin
            joints[f"{side}_knee"] = knee
            joints[f"{side}_ankle"] = ankle
            joints[f"{side}_toe"] = ankle + [sign * 0.01, 0.015, s.foot]

        # Face points sit on the head sphere; their outward normals decide visibility after the turn.
        r = s.head_r
        face = {
            "nose": np.array([0.0, 0.15, 1.0]), "right_eye": np.array([-0.38, -0.12, 0.92]),
            "left_eye": np.array([0.38, -0.12, 0.92]), "right_ear": np.array([-1.0, 0.0, 0.05]),
            "left_ear": np.array([1.0, 0.0, 0.05]),
        }
        for name, normal in face.items():
            joints[name] = head + r * normal

        yaw = m.yaw0 + m.yaw_amp * np.sin(2 * np.pi * m.yaw_freq * t + m.phase) + m.spin_speed * t
        c, sn = np.cos(yaw), np.sin(yaw)
        rot = np.array([[c, 0.0, sn], [0.0, 1.0, 0.0], [-sn, 0.0, c]])
        lean = m.lean * np.sin(beat * 0.5 + 0.3)
        cl, sl = np.cos(lean), np.sin(lean)
        scale = s.height * height
        names = list(joints)
        pts = np.stack([joints[n] for n in names]) @ rot.T  # (J, 3) turned
        xy = pts[:, :2] @ np.array([[cl, sl], [-sl, cl]])  # leaned in the image plane about the pelvis
        # Stand on the floor: the lowest toe/ankle touches the floor line, minus a bounce.
        feet = [names.index(n) for n in ("right_ankle", "left_ankle", "right_toe", "left_toe")]
        floor = 0.93 - 0.02 * (1 - s.height)
        lift = abs(np.sin(beat)) * m.bounce
        y0 = floor * height - (xy[feet, 1].max() + 0.01) * scale - lift * height
        x0 = (m.center_x * width + (m.sway * np.sin(beat * 0.5) + m.wander * np.sin(2 * np.pi * m.wander_freq * t
                                                                                    + m.wander_phase)) * height)
        out = {n: np.array([x0 + xy[i, 0] * scale, y0 + xy[i, 1] * scale, pts[i, 2]]) for i, n in enumerate(names)}
        out["_facing"] = np.array([c, sn, 0.0])
        out["_visible_normals"] = np.array([(rot @ face[n])[2] for n in ("nose", "right_eye", "left_eye",
                                                                         "right_ear", "left_ear")])
        return out

    def keypoints(self, joints: dict[str, np.ndarray]) -> np.ndarray:
        """(18, 3) COCO-18 keypoints [x, y, conf] from :meth:`pose`'s joints; hidden face points get conf 0."""
        from fsvid2vid.data.draw.pose import COCO18_NAMES

        kp = np.zeros((18, 3), np.float32)
        normals = dict(zip(("nose", "right_eye", "left_eye", "right_ear", "left_ear"), joints["_visible_normals"]))
        thresholds = {"nose": -0.1, "right_eye": 0.1, "left_eye": 0.1, "right_ear": -0.45, "left_ear": -0.45}
        for i, name in enumerate(COCO18_NAMES):
            visible = normals[name] > thresholds[name] if name in normals else True
            kp[i] = (joints[name][0], joints[name][1], 1.0 if visible else 0.0)
        return kp

    # -- drawing ----------------------------------------------------------------------------------------------------

    def _pieces(self, shape: DanceShape, joints: dict[str, np.ndarray], px: float, height: int) -> list[_Piece]:
        """Body parts as capsules/polygons with their part label and depth (far first after sorting)."""
        s = shape

        def p(name: str) -> np.ndarray:
            return joints[name][:2] * px

        def z(*names: str) -> float:
            return float(np.mean([joints[n][2] for n in names]))

        unit = s.height * height * px  # pixels per standing height (in the drawing's resolution)
        facing, side = joints["_facing"][0], joints["_facing"][1]
        pieces = []
        # Torso: shoulders to hips, at least as wide as the body is deep when seen from the side.
        half = max(abs(facing), 0.45)
        ls, rs, lh, rh = p("left_shoulder"), p("right_shoulder"), p("left_hip"), p("right_hip")
        mid_s, mid_h = (ls + rs) / 2, (lh + rh) / 2
        across = _unit(ls - rs) if np.linalg.norm(ls - rs) > 1e-3 else np.array([1.0, 0.0])
        sh_half = max(np.linalg.norm(ls - rs) / 2, 0.45 * s.shoulder_w / 2 * unit) + s.arm_w * unit * 0.6 * half
        hip_half = max(np.linalg.norm(lh - rh) / 2 + s.thigh_w * unit * 0.5, s.waist_w * unit * half)
        waist = mid_h + across * 0 + _unit(mid_h - mid_s) * s.thigh_w * unit * 0.5
        torso_poly = np.array([mid_s - across * sh_half, mid_s + across * sh_half, waist + across * hip_half,
                               waist - across * hip_half])
        neck_top = p("neck") + (p("head") - p("neck")) * 0.4
        pieces.append(_Piece("neck", 2, z("neck") - 0.002, capsule=(p("neck"), neck_top, s.arm_w * unit * 0.9)))
        pieces.append(_Piece("torso", 2, z("neck", "left_hip", "right_hip"), polygon=torso_poly,
                             axis=(mid_s, mid_h), half_width=max(sh_half, hip_half)))
        hr = s.head_r * unit
        pieces.append(_Piece("head", 1, z("head") + 0.001, ellipse=(p("head"), (hr * 0.86, hr * 1.02), 0.0),
                             axis=(p("head") - [0, hr], p("head") + [0, hr]), half_width=hr))
        for sd, base in (("right", 3), ("left", 6)):
            sh, el, wr = p(f"{sd}_shoulder"), p(f"{sd}_elbow"), p(f"{sd}_wrist")
            pieces.append(_Piece(f"{sd}_upper_arm", base, z(f"{sd}_shoulder", f"{sd}_elbow"),
                                 capsule=(sh, el, s.arm_w * unit)))
            pieces.append(_Piece(f"{sd}_lower_arm", base + 1, z(f"{sd}_elbow", f"{sd}_wrist"),
                                 capsule=(el, wr, s.forearm_w * unit)))
            hand_end = wr + _unit(wr - el) * s.forearm_w * unit * 1.4
            pieces.append(_Piece(f"{sd}_hand", base + 2, z(f"{sd}_wrist") + 0.001,
                                 capsule=(wr, hand_end, s.forearm_w * unit * 1.1)))
        for sd, base in (("right", 9), ("left", 12)):
            hp, kn, an = p(f"{sd}_hip"), p(f"{sd}_knee"), p(f"{sd}_ankle")
            pieces.append(_Piece(f"{sd}_upper_leg", base, z(f"{sd}_hip", f"{sd}_knee") - 0.001,
                                 capsule=(hp, kn, s.thigh_w * unit)))
            pieces.append(_Piece(f"{sd}_lower_leg", base + 1, z(f"{sd}_knee", f"{sd}_ankle"),
                                 capsule=(kn, an, s.shin_w * unit)))
            # The foot points along the body's forward axis: mostly sideways in the image when seen in profile.
            toe_xy = an + np.array([side * s.foot * unit, (0.6 - 0.25 * abs(side)) * s.shin_w * unit])
            pieces.append(_Piece(f"{sd}_foot", base + 2, z(f"{sd}_ankle", f"{sd}_toe") + 0.001,
                                 capsule=(an, toe_xy, s.shin_w * unit * 0.85)))
        pieces.sort(key=lambda pc: pc.depth)
        return pieces

    def render(self, appearance: DanceAppearance, shape: DanceShape, motion: DanceMotion, n_frames: int,
               height: int, width: int) -> Iterator[Frame]:
        a = appearance
        ss = _SUPERSAMPLE
        background = self._background(a, height * ss, width * ss)
        hair = _HAIR_COLORS[a.hair_color]
        for index in range(n_frames):
            joints = self.pose(shape, motion, index / self.fps, height, width)
            keypoints = self.keypoints(joints)
            pieces_1x = self._pieces(shape, joints, 1.0, height)
            parts = np.zeros((height, width), np.uint8)
            for piece in pieces_1x:
                piece.draw(parts, piece.label, antialias=False)
            pose_img = draw_openpose(keypoints, height, width)

            pieces = self._pieces(shape, joints, float(ss), height)
            rgb = background.copy()
            self._shadow(rgb, joints, shape, ss, height)
            facing = joints["_facing"][0]
            head_piece = next(pc for pc in pieces if pc.name == "head")
            if a.hair_style in ("long", "ponytail") or facing < 0:
                self._hair(rgb, a, head_piece, facing, joints, ss, behind=True, color=hair)
            ids = np.zeros((height * ss, width * ss), np.uint8)
            for number, piece in enumerate(pieces, start=1):
                piece.draw(ids, number, antialias=False)
            for number, piece in enumerate(pieces, start=1):
                self._paint(rgb, ids == number, piece, a, shape, joints, ss)
                if piece.name == "head":
                    self._face(rgb, a, piece, joints, ss, hair)
                if a.bottom == "skirt" and piece.name == "torso":
                    self._skirt(rgb, a, joints, shape, ss)
            if a.bottom == "skirt":  # legs in front of the body are drawn after the torso; keep the skirt on top
                self._skirt(rgb, a, joints, shape, ss)
            rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
            yield Frame(rgb=rgb, layers={"pose": pose_img, "parts": parts}, points=keypoints)

    # -- painting helpers -------------------------------------------------------------------------------------------

    def _background(self, a: DanceAppearance, height: int, width: int) -> np.ndarray:
        rng = np.random.default_rng(a.texture_seed)
        horizon = int(round(0.72 * height))
        img = np.empty((height, width, 3), np.float32)
        t = np.linspace(0, 1, horizon, dtype=np.float32)[:, None, None]
        img[:horizon] = (1 - t) * np.float32(a.wall_top) + t * np.float32(a.wall_bottom)
        noise = value_noise(rng, height, width, 12)[..., None]
        img[:horizon] *= 0.92 + 0.08 * noise[:horizon]
        for x0, y0, w, h, r, g, b in a.decor:
            x1, y1 = int(x0 * width), int(y0 * height)
            x2, y2 = int((x0 + w) * width), min(horizon - 2, int((y0 + h) * height))
            if y2 > y1:
                img[y1:y2, x1:x2] = shade((r, g, b), 0.7)
                img[y1 + 2:y2 - 2, x1 + 2:x2 - 2] = (r, g, b)
        # Floor with perspective: rows get brighter towards the viewer, planks/tiles converge to a vanishing point.
        rows = height - horizon
        depth = np.linspace(0.0, 1.0, rows, dtype=np.float32)[:, None, None]
        floor = np.float32(a.floor_color) * (0.75 + 0.35 * depth)
        img[horizon:] = floor
        if a.floor != "plain":
            ys, xs = np.mgrid[0:rows, 0:width].astype(np.float32)
            zinv = (ys + rows * 0.25) / (rows * 1.25)  # ~ 1/distance
            u = (xs - width / 2) / (zinv * width)
            lines = np.abs(((u * 6.0) % 1.0) - 0.5) > 0.46
            if a.floor == "tiles":
                v = 1.0 / zinv
                lines |= np.abs(((v * 3.0) % 1.0) - 0.5) > 0.46
            img[horizon:][lines] *= 0.8
        img[horizon:horizon + max(1, height // 128)] *= 0.6  # skirting line
        return np.clip(img, 0, 255).astype(np.uint8)

    def _shadow(self, rgb: np.ndarray, joints: dict[str, np.ndarray], shape: DanceShape, ss: int,
                height: int) -> None:
        feet = np.array([joints["right_ankle"][:2], joints["left_ankle"][:2]]) * ss
        center = feet.mean(axis=0) + [0, shape.shin_w * shape.height * height * ss * 0.6]
        spread = abs(feet[0, 0] - feet[1, 0]) / 2 + shape.hip_w * shape.height * height * ss
        overlay = rgb.copy()
        fill_ellipse(overlay, center, (spread, spread * 0.18), 0.0, (0, 0, 0))
        cv2.addWeighted(overlay, 0.25, rgb, 0.75, 0, dst=rgb)

    def _paint(self, rgb: np.ndarray, mask: np.ndarray, piece: _Piece, a: DanceAppearance, shape: DanceShape,
               joints: dict[str, np.ndarray], ss: int) -> None:
        """Colour one body piece: garment or skin, pattern in body coordinates, cylindrical shading."""
        if not mask.any():
            return
        ys, xs = np.nonzero(mask)
        pts = np.stack([xs, ys], axis=1).astype(np.float32) + 0.5
        p0, p1, half = piece.frame()
        axis = p1 - p0
        length = max(float(np.linalg.norm(axis)), 1e-3)
        along_dir = axis / length
        rel = pts - p0
        along = rel @ along_dir  # pixels along the limb
        across = rel @ np.array([-along_dir[1], along_dir[0]])
        unit = shape.height * rgb.shape[0] / 1.0  # pixels per standing height at this resolution
        color = np.empty((len(xs), 3), np.float32)
        base, second, patterned = self._material(piece.name, a, along / length)
        color[:] = base
        if patterned and a.top_pattern != "solid":
            u, v = across / unit / a.pattern_scale, along / unit / a.pattern_scale
            if a.top_pattern == "stripes":
                on = (v % 1.0) < 0.45
            elif a.top_pattern == "checks":
                on = ((np.floor(u) + np.floor(v)) % 2) == 0
            else:
                on = ((u % 1.0 - 0.5) ** 2 + (v % 1.0 - 0.5) ** 2) < 0.09
            color[on] = second
        k = np.clip(np.abs(across) / max(half, 1e-3), 0, 1)
        light = 1.05 - 0.3 * k**2
        if piece.name.startswith(("left", "right")):
            facing_side = joints["_facing"][1]
            far = (piece.name.startswith("left") and facing_side < 0) or (piece.name.startswith("right")
                                                                            and facing_side > 0)
            light *= 0.9 if far else 1.0
        rgb[ys, xs] = np.clip(color * light[:, None], 0, 255).astype(np.uint8)

    def _material(self, name: str, a: DanceAppearance, along: np.ndarray):
        """(base colour, pattern colour, patterned?) of a body piece; ``along`` in [0, 1] from its first joint."""
        skin = np.float32(a.skin)
        top, top2 = np.float32(a.top_color), np.float32(a.top_color2)
        bottom = np.float32(a.bottom_color)
        if name in ("torso",):
            # Trousers/shorts cover the lowest part of the torso; a skirt is painted separately.
            col = np.where((along > 0.86)[:, None] & (a.bottom != "skirt"), bottom, top)
            return col, top2, True
        if name.endswith("upper_arm"):
            if a.sleeves == "none":
                return skin, skin, False
            return top, top2, True
        if name.endswith("lower_arm"):
            if a.sleeves == "long":
                return top, top2, True
            return skin, skin, False
        if name.endswith("upper_leg"):
            if a.bottom == "skirt":
                return skin, skin, False
            return bottom, bottom, False
        if name.endswith("lower_leg"):
            if a.bottom == "trousers":
                return bottom, bottom, False
            return skin, skin, False
        if name.endswith("foot"):
            return np.float32(a.shoe_color), np.float32(a.shoe_color), False
        return skin, skin, False

    def _face(self, rgb: np.ndarray, a: DanceAppearance, head: _Piece, joints: dict[str, np.ndarray], ss: int,
              hair: tuple[int, int, int]) -> None:
        center, axes, _ = head.ellipse
        facing, side = joints["_facing"][0], joints["_facing"][1]
        r = axes[1]
        if facing < 0 and a.hair_style != "bald":  # seen from behind: the hair covers the back of the head
            fill_ellipse(rgb, (center[0], center[1] - axes[1] * 0.05), (axes[0] * 1.05, axes[1] * 1.02), 0.0, hair)
        self._hair(rgb, a, head, facing, joints, ss, behind=False, color=hair)
        for name in ("right_eye", "left_eye"):
            normal = dict(zip(("nose", "right_eye", "left_eye", "right_ear", "left_ear"),
                              joints["_visible_normals"]))[name]
            if normal > 0.1:
                eye = joints[name][:2] * ss
                fill_circle(rgb, eye, max(1.0, r * 0.1), (30, 25, 25))
        if facing > 0.2:
            mouth = np.array(center) + [side * r * 0.5, r * 0.5]
            fill_ellipse(rgb, mouth, (r * 0.22 * facing, max(1.0, r * 0.06)), 0.0, shade(a.skin, 0.6))

    def _hair(self, rgb: np.ndarray, a: DanceAppearance, head: _Piece, facing: float, joints: dict[str, np.ndarray],
              ss: int, behind: bool, color: tuple[int, int, int]) -> None:
        center, axes, _ = head.ellipse
        cx, cy = center
        rx, ry = axes
        side = joints["_facing"][1]
        style = a.hair_style
        if style == "bald":
            return
        if behind:
            if style == "long":
                poly = np.array([[cx - rx * 1.1, cy - ry * 0.3], [cx + rx * 1.1, cy - ry * 0.3],
                                 [cx + rx * 1.25, cy + ry * 2.2], [cx - rx * 1.25, cy + ry * 2.2]])
                fill_polygon(rgb, poly, shade(color, 0.85))
            elif style == "ponytail":
                tail = np.array([cx - side * rx * 1.1, cy + ry * 0.2])
                fill_ellipse(rgb, tail, (rx * 0.45, ry * 1.0), 15.0 * side, shade(color, 0.85))
            return
        # In front: a cap of hair on top of the head, shifted with the turn; a bun or curls on top.
        shift = -side * rx * 0.15
        cap = (cx + shift, cy - ry * 0.35)
        volume = 1.3 if style == "curly" else 1.05
        overlay = np.zeros(rgb.shape[:2], np.uint8)
        fill_ellipse(overlay, cap, (rx * volume, ry * 0.75 * volume), 0.0, 255)
        keep = np.zeros_like(overlay)
        fill_ellipse(keep, (cx + shift * 0.5, cy + ry * 0.25), (rx * 0.82, ry * 0.78), 0.0, 255)
        if facing < 0:
            keep[:] = 0
        alpha = (overlay.astype(np.float32) * (1 - keep.astype(np.float32) / 255))[..., None] / 255.0
        rgb[:] = (rgb * (1 - alpha) + np.float32(color) * alpha).astype(np.uint8)
        if style == "bun":
            fill_circle(rgb, (cx - side * rx * 0.3, cy - ry * 1.05), rx * 0.45, mix(color, (0, 0, 0), 0.1))

    def _skirt(self, rgb: np.ndarray, a: DanceAppearance, joints: dict[str, np.ndarray], shape: DanceShape,
               ss: int) -> None:
        lh, rh = joints["left_hip"][:2] * ss, joints["right_hip"][:2] * ss
        lk, rk = joints["left_knee"][:2] * ss, joints["right_knee"][:2] * ss
        unit = shape.height * rgb.shape[0]
        waist = (lh + rh) / 2
        half = max(abs(lh[0] - rh[0]) / 2, shape.waist_w * unit * 0.6) + shape.thigh_w * unit * 0.6
        hem_y = max(lk[1], rk[1]) - shape.thigh_w * unit * 0.3
        hem_l = min(lk[0], rk[0], waist[0] - half) - shape.thigh_w * unit * 0.9
        hem_r = max(lk[0], rk[0], waist[0] + half) + shape.thigh_w * unit * 0.9
        top_y = waist[1] - shape.thigh_w * unit * 0.2
        poly = np.array([[waist[0] - half, top_y], [waist[0] + half, top_y], [hem_r, hem_y], [hem_l, hem_y]])
        fill_polygon(rgb, poly, a.bottom_color)
        fold = shade(a.bottom_color, 0.8)
        for f in (0.3, 0.5, 0.7):
            x_top = waist[0] - half + 2 * half * f
            x_hem = hem_l + (hem_r - hem_l) * f
            cv2.line(rgb, (int(x_top), int(top_y + (hem_y - top_y) * 0.3)), (int(x_hem), int(hem_y)), fold,
                     max(1, ss), cv2.LINE_AA)


@dataclass
class _Piece:
    """One drawable body part: a capsule (p0, p1, half-width), a polygon, or an ellipse."""

    name: str
    label: int
    depth: float
    capsule: tuple[np.ndarray, np.ndarray, float] | None = None
    polygon: np.ndarray | None = None
    ellipse: tuple[np.ndarray, tuple[float, float], float] | None = None
    axis: tuple[np.ndarray, np.ndarray] | None = None
    half_width: float = 0.0

    def draw(self, canvas: np.ndarray, value: int, antialias: bool) -> None:
        if self.capsule is not None:
            p0, p1, half = self.capsule
            direction = p1 - p0
            norm = float(np.linalg.norm(direction))
            if norm > 1e-6:
                n = np.array([-direction[1], direction[0]]) / norm * half
                fill_polygon(canvas, np.array([p0 + n, p1 + n, p1 - n, p0 - n]), value, antialias)
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


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 else np.array([0.0, 1.0])


def _bend(d: np.ndarray, toward: np.ndarray, angle: float) -> np.ndarray:
    """Rotate unit vector ``d`` by ``angle`` radians in the plane spanned by ``d`` and ``toward``."""
    u = toward - (toward @ d) * d
    n = float(np.linalg.norm(u))
    if n < 1e-6:
        return d
    u = u / n
    return d * np.cos(angle) + u * np.sin(angle)


RENDERER = DanceRenderer()
