"""The procedural "talking face" task: a head and shoulders that talks, blinks, raises its brows and turns.

Stand-in for the paper's FaceForensics task (semantic input: a sketch drawn from dlib-68 landmarks).

Geometry. A head is a set of 3-D points in *face units* (x right, y down, z towards the camera; origin between the
eyes; the face is about two units wide): the 68 dlib landmarks, built from the per-person :class:`FaceShape` and the
expression of the moment (mouth opening, lip rounding, smile, eye closure, brow raise), plus rigid helper points
(skull outline, hairline, ears, glasses). Every frame the points are rotated (yaw, pitch, roll about a pivot inside
the head), projected orthographically, scaled by ``FaceShape.scale`` (frame heights per face unit) and placed in the
frame; a pixel coordinate is ``fraction_of_height * height``, so one seed gives the same scene at every size.

Motion. :class:`FaceMotion` stores sums of sinusoids (head pose, translation, smile, gaze) and lists of event times
(speech segments, blinks, brow raises) over a :data:`HORIZON`-second period; the expression at time ``t`` is a
continuous function of ``t`` (events repeat every :data:`HORIZON` seconds), so frame ``t`` never depends on the
clip length and nothing is drawn at random per frame. Syllables inside a speech segment get their loudness and
lip rounding from an integer hash of the syllable index.

Pictures. Landmarks and sketch depend only on (shape, motion, time, size); the RGB frame also uses the
:class:`FaceAppearance` (skin, hair style and colour, eyes, lips, beard, glasses, shirt, background, lighting).
Static textures (hair strands, stubble, background) come from ``FaceAppearance.texture_seed`` and are attached to
the head (warped with it every frame), so nothing flickers.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from fsvid2vid.data.draw.face import catmull_rom, draw_face_sketch
from fsvid2vid.data.semantics import task_aspect, task_layers
from fsvid2vid.data.synth.common import (
    Frame,
    draw_polyline,
    fill_circle,
    fill_ellipse,
    fill_polygon,
    hsv_color,
    mix,
    shade,
    vertical_gradient,
)

RGB = tuple[int, int, int]

#: Seconds after which the event lists (speech, blinks, brow raises) repeat.
HORIZON = 64.0
#: Depth of the rotation pivot (face units; the face surface is near z = 0, the skull outline at this depth).
_ZC = -0.75
_PIVOT = np.array([0.0, 0.35, _ZC])
#: Outline weight of each landmark (see ``_Geometry.project``): the jaw contour slides, the rest is rigid.
_OUTLINE_WEIGHT = np.concatenate([np.abs(np.cos(np.linspace(0.0, math.pi, 17))) ** 0.7, np.zeros(51)])

HAIR_STYLES = ("short", "side_part", "long", "bob", "bun", "curly", "shaved", "bald")
_HAIR_STYLE_WEIGHTS = (0.17, 0.14, 0.17, 0.11, 0.1, 0.12, 0.09, 0.1)
HAIR_COLORS: dict[str, RGB] = {
    "black": (30, 26, 24),
    "dark_brown": (62, 42, 30),
    "brown": (108, 72, 46),
    "blonde": (208, 172, 112),
    "red": (160, 68, 34),
    "grey": (172, 169, 165),
    "dyed": (0, 0, 0),  # drawn from a random saturated hue
}
_HAIR_COLOR_WEIGHTS = (0.27, 0.2, 0.17, 0.13, 0.07, 0.11, 0.05)
_SKIN_TONES: tuple[RGB, ...] = (
    (255, 226, 204), (243, 200, 170), (228, 178, 140), (204, 150, 110),
    (170, 112, 76), (130, 84, 56), (96, 62, 44), (70, 46, 34),
)
_IRIS_COLORS: dict[str, RGB] = {
    "dark_brown": (48, 30, 20), "brown": (86, 54, 30), "hazel": (120, 96, 50),
    "green": (78, 118, 72), "blue": (74, 114, 168), "grey": (118, 128, 138),
}
_LIPSTICKS: tuple[RGB, ...] = ((176, 32, 50), (204, 86, 116), (118, 34, 62), (160, 66, 54))
_GLASSES_COLORS: tuple[RGB, ...] = ((22, 22, 24), (92, 56, 30), (190, 160, 92), (172, 172, 178), (150, 32, 36),
                                    (32, 42, 92))
BEARDS = ("stubble", "mustache", "goatee", "full")
_BEARD_WEIGHTS = (0.35, 0.15, 0.2, 0.3)
COLLARS = ("crew", "vneck", "collared")
BACKGROUNDS = ("solid", "gradient", "texture")


# ----------------------------------------------------------------------------------------------------------------
# Drawn parameters
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaceAppearance:
    """Who the person is, apart from the face geometry. Colours are RGB uint8 triples."""

    skin: RGB
    hair_style: str  # one of HAIR_STYLES
    hair_color_name: str  # key of HAIR_COLORS
    hair_color: RGB
    brow_color: RGB
    iris_color_name: str
    iris_color: RGB
    lip_color: RGB
    beard: str  # "none" or one of BEARDS
    glasses: bool
    glasses_color: RGB
    glasses_round: bool
    shirt_color: RGB
    collar: str  # one of COLLARS
    background: str  # one of BACKGROUNDS
    background_a: RGB
    background_b: RGB
    light_side: float  # -1 (key light from the image left) .. 1 (from the right)
    texture_seed: int


@dataclass(frozen=True)
class FaceShape:
    """Face geometry in face units (except ``scale``, ``center_dx``, ``eye_y``: fractions of the frame height)."""

    scale: float  # frame heights per face unit
    center_dx: float  # horizontal offset of the face centre from the frame centre
    eye_y: float  # height of the eye line in the frame
    face_width: float  # half width at the temples (jaw points 0 / 16)
    jaw_top: float  # y of jaw points 0 / 16
    chin_y: float
    jaw_square: float  # superellipse exponent of the jaw (2 round .. 4 square)
    chin_point: float  # narrowing of the chin
    jaw_taper: float  # narrowing of the lower jaw
    cranium_width: float  # skull width relative to face_width
    cranium_height: float  # from jaw_top to the top of the skull
    hairline_y: float
    brow_y: float
    brow_arch: float
    brow_length: float
    brow_inner: float  # x of the inner brow ends
    brow_thickness: float
    brow_tilt: float  # outer end lower (>0) or higher (<0)
    eye_spacing: float  # x of the eye centres
    eye_width: float  # half width of an eye
    eye_height: float  # opening above the eye centre
    eye_tilt: float  # radians, outer corners up
    nose_length: float  # y of the nose tip
    nose_width: float  # half width of the nostrils
    nose_depth: float  # z of the nose tip
    mouth_y: float
    mouth_width: float  # half width
    upper_lip: float
    lower_lip: float
    lip_bow: float  # depth of the cupid's bow
    ear_y: float
    ear_size: float
    neck_width: float  # half width


@dataclass(frozen=True)
class FaceMotion:
    """A talking-head performance; every field is a plain number or a tuple of them.

    Sinusoid terms are ``(amplitude, frequency_hz, phase)``; angles in degrees, shifts in frame heights. Event
    times lie in ``[0, HORIZON)`` and repeat with that period.
    """

    yaw_offset: float
    yaw: tuple[tuple[float, float, float], ...]
    pitch_offset: float
    pitch: tuple[tuple[float, float, float], ...]
    roll_offset: float
    roll: tuple[tuple[float, float, float], ...]
    shift_x: tuple[tuple[float, float, float], ...]
    shift_y: tuple[tuple[float, float, float], ...]
    speech: tuple[tuple[float, float], ...]  # (start, end) seconds of talking
    syllable_rate: float  # syllables per second
    syllable_jitter: float  # relative modulation depth of the rate
    syllable_mod_freq: float
    syllable_phase: float
    syllable_seed: int  # hashes per-syllable loudness and rounding
    mouth_open: float  # largest lip gap, face units
    blinks: tuple[float, ...]  # blink times (seconds)
    blink_speed: float
    brow_raises: tuple[tuple[float, float, float], ...]  # (time, duration, height in face units)
    smile_base: float
    smile: tuple[tuple[float, float, float], ...]
    gaze_x: tuple[tuple[float, float, float], ...]
    gaze_y: tuple[tuple[float, float, float], ...]


@dataclass(frozen=True)
class _State:
    """Expression and pose at one instant."""

    mouth_open: float
    rounding: float
    smile: float
    closure: float
    brow_raise: float
    yaw: float  # radians
    pitch: float
    roll: float
    shift_x: float  # frame heights
    shift_y: float
    gaze_x: float  # -1 .. 1
    gaze_y: float


# ----------------------------------------------------------------------------------------------------------------
# Small numeric helpers
# ----------------------------------------------------------------------------------------------------------------


def _smoothstep(x: np.ndarray | float) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _sines(terms: tuple[tuple[float, float, float], ...], t: float) -> float:
    return float(sum(a * math.sin(2.0 * math.pi * f * t + p) for a, f, p in terms))


def _hash01(k: int, seed: int, salt: int) -> float:
    """Deterministic integer hash of (k, seed, salt) to [0, 1) (splitmix64 finaliser)."""
    z = (k * 0x9E3779B97F4A7C15 + seed * 0xBF58476D1CE4E5B9 + salt * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    z ^= z >> 31
    return (z >> 11) / float(1 << 53)


def _rgb(x: np.ndarray | tuple[float, ...]) -> RGB:
    a = np.clip(np.round(np.asarray(x, dtype=np.float64)), 0, 255).astype(int)
    return (int(a[0]), int(a[1]), int(a[2]))


def _sinusoids(rng: np.random.Generator, total: float, n: int, fmin: float, fmax: float
               ) -> tuple[tuple[float, float, float], ...]:
    """``n`` sinusoid terms whose amplitudes sum to ``total`` (so the sum never exceeds it)."""
    w = rng.dirichlet(np.full(n, 2.0)) * total
    return tuple((float(w[i]), float(rng.uniform(fmin, fmax)), float(rng.uniform(0.0, 2.0 * math.pi)))
                 for i in range(n))


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    cy, sy = math.cos(yaw), math.sin(yaw)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cr, sr = math.cos(roll), math.sin(roll)
    ry = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cp, -sp], [0.0, sp, cp]])
    rz = np.array([[cr, -sr, 0.0], [sr, cr, 0.0], [0.0, 0.0, 1.0]])
    return rz @ rx @ ry


# ----------------------------------------------------------------------------------------------------------------
# Motion evaluation
# ----------------------------------------------------------------------------------------------------------------


class _MotionClock:
    """Evaluates a :class:`FaceMotion` at any time (arrays prepared once per clip)."""

    def __init__(self, m: FaceMotion) -> None:
        self.m = m
        sp = np.asarray(m.speech, dtype=np.float64).reshape(-1, 2)
        self.sp_start, self.sp_end = sp[:, 0], sp[:, 1]
        self.blinks = np.asarray(m.blinks, dtype=np.float64)
        br = np.asarray(m.brow_raises, dtype=np.float64).reshape(-1, 3)
        self.br_t, self.br_d, self.br_a = br[:, 0], br[:, 1], br[:, 2]

    @staticmethod
    def _wrapped(tau: float, times: np.ndarray) -> np.ndarray:
        """Signed distance from each event time to ``tau`` on the circle of length HORIZON."""
        return (tau - times + 0.5 * HORIZON) % HORIZON - 0.5 * HORIZON

    def speech_envelope(self, tau: float) -> float:
        if self.sp_start.size == 0:
            return 0.0
        ramp = 0.12
        w = _smoothstep((tau - self.sp_start) / ramp) * _smoothstep((self.sp_end - tau) / ramp)
        return float(np.clip(w.sum(), 0.0, 1.0))

    def closure(self, tau: float) -> float:
        if self.blinks.size == 0:
            return 0.0
        s = self.m.blink_speed
        close, hold, opening = 0.07 / s, 0.05 / s, 0.15 / s
        d = self._wrapped(tau, self.blinks)
        c = np.where(d < 0.0, _smoothstep(1.0 + d / close),
                     np.where(d < hold, 1.0, 1.0 - _smoothstep((d - hold) / opening)))
        return float(np.max(c))

    def brow(self, tau: float) -> float:
        if self.br_t.size == 0:
            return 0.0
        d = self._wrapped(tau, self.br_t)
        x = np.clip(d / self.br_d + 0.5, 0.0, 1.0)
        return float(np.sum(self.br_a * np.sin(math.pi * x) ** 2))

    def state(self, t: float) -> _State:
        m = self.m
        tau = t % HORIZON
        env = self.speech_envelope(tau)
        phase = m.syllable_rate * t + m.syllable_jitter * m.syllable_rate / (2.0 * math.pi * m.syllable_mod_freq) \
            * math.sin(2.0 * math.pi * m.syllable_mod_freq * t + m.syllable_phase)
        k = int(math.floor(phase))
        frac = phase - k
        loud = 0.3 + 0.7 * _hash01(k, m.syllable_seed, 1)
        rounding = _hash01(k, m.syllable_seed, 2) ** 2
        syl = math.sin(math.pi * frac) ** 1.5
        mouth_open = m.mouth_open * env * loud * syl
        smile = float(np.clip(m.smile_base + _sines(m.smile, t), 0.0, 1.0))
        rad = math.pi / 180.0
        return _State(
            mouth_open=mouth_open,
            rounding=rounding * env,
            smile=smile,
            closure=self.closure(tau),
            brow_raise=self.brow(tau) + 0.025 * env * loud * syl,
            yaw=(m.yaw_offset + _sines(m.yaw, t)) * rad,
            pitch=(m.pitch_offset + _sines(m.pitch, t)) * rad,
            roll=(m.roll_offset + _sines(m.roll, t)) * rad,
            shift_x=_sines(m.shift_x, t),
            shift_y=_sines(m.shift_y, t),
            gaze_x=float(np.clip(_sines(m.gaze_x, t), -1.0, 1.0)),
            gaze_y=float(np.clip(_sines(m.gaze_y, t), -1.0, 1.0)),
        )


# ----------------------------------------------------------------------------------------------------------------
# 3-D landmark template
# ----------------------------------------------------------------------------------------------------------------


def _eye_points(sh: FaceShape, side: int, openness: float) -> np.ndarray:
    """(6, 3) eye landmarks in dlib order for the right (side=-1, image left) or left (side=+1) eye."""
    ew, eh = sh.eye_width, sh.eye_height
    y_up = (1.0 - openness) * 0.42 * eh - openness * eh
    y_lo = (1.0 - openness) * 0.44 * eh + openness * 0.62 * eh
    # Local x runs from the outer corner (-ew) to the inner corner (+ew).
    local = np.array([
        [-ew, 0.0], [-0.36 * ew, y_up], [0.34 * ew, 0.94 * y_up + 0.06 * y_lo], [ew, 0.03 * eh],
        [0.34 * ew, 0.96 * y_lo], [-0.36 * ew, y_lo],
    ])
    c, s = math.cos(sh.eye_tilt), math.sin(sh.eye_tilt)
    rot = np.array([[c, -s], [s, c]])
    xy = local @ rot.T
    if side < 0:  # right eye (image left): outer corner at smaller x; order 36 outer, 37, 38, 39 inner, 40, 41
        pts = np.column_stack([-sh.eye_spacing + xy[:, 0], xy[:, 1]])
        order = [0, 1, 2, 3, 4, 5]
    else:  # left eye: 42 inner, 43, 44, 45 outer, 46, 47 -> mirror, then reorder
        pts = np.column_stack([sh.eye_spacing - xy[:, 0], xy[:, 1]])
        order = [3, 2, 1, 0, 5, 4]
    pts = pts[order]
    z = np.array([-0.14, 0.04, 0.06, -0.02, 0.02, 0.0])[order] if side < 0 else \
        np.array([-0.02, 0.06, 0.04, -0.14, 0.0, 0.02])
    return np.column_stack([pts, z])


def landmarks_3d(sh: FaceShape, st: _State) -> np.ndarray:
    """The 68 dlib landmarks in face units (x right, y down, z towards the camera) for one expression."""
    p = np.zeros((68, 3))
    o = st.mouth_open
    # Jaw 0..16: a superellipse from the right temple (image left) around the chin.
    a = np.linspace(0.0, math.pi, 17)
    c, s = np.cos(a), np.sin(a)
    e = 2.0 / sh.jaw_square
    x = -sh.face_width * np.sign(c) * np.abs(c) ** e * (1.0 - sh.jaw_taper * s ** 2 - sh.chin_point * s ** 6)
    y = sh.jaw_top + (sh.chin_y - sh.jaw_top) * s ** e + 0.88 * o * s ** 4
    z = _ZC + (0.22 - _ZC) * s ** 2.5
    p[0:17] = np.column_stack([x, y, z])
    # Brows 17..21 (right, outer -> inner) and 22..26 (left, inner -> outer).
    u = np.linspace(0.0, 1.0, 5)  # 0 = outer end, 1 = inner end
    bx = sh.brow_inner + sh.brow_length * (1.0 - u)
    by = sh.brow_y - sh.brow_arch * (1.0 - ((u - 0.4) / 0.6) ** 2) + sh.brow_tilt * (0.5 - u) \
        - st.brow_raise * (0.55 + 0.45 * u)
    bz = -0.3 + 0.44 * u
    p[17:22] = np.column_stack([-bx, by, bz])
    p[22:27] = np.column_stack([bx, by, bz])[::-1]
    # Nose bridge 27..30 and lower nose 31..35.
    ny = -0.12 + (sh.nose_length + 0.12) * np.array([0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0])
    nz = np.array([0.16, 0.16 + 0.35 * (sh.nose_depth - 0.16), 0.16 + 0.7 * (sh.nose_depth - 0.16), sh.nose_depth])
    p[27:31] = np.column_stack([np.zeros(4), ny, nz])
    nw = sh.nose_width
    p[31:36] = np.column_stack([
        np.array([-1.0, -0.5, 0.0, 0.5, 1.0]) * nw,
        sh.nose_length + np.array([0.04, 0.085, 0.105, 0.085, 0.04]),
        np.array([0.1, 0.24, 0.3, 0.24, 0.1]) + 0.4 * (sh.nose_depth - 0.5),
    ])
    # Eyes 36..41 and 42..47.
    openness = float(np.clip((1.0 - st.closure) * (1.0 - 0.22 * st.smile), 0.0, 1.0))
    p[36:42] = _eye_points(sh, -1, openness)
    p[42:48] = _eye_points(sh, 1, openness)
    # Mouth: outer 48..59, inner 60..67.
    yc, ul, ll, bow = sh.mouth_y, sh.upper_lip, sh.lower_lip, sh.lip_bow
    mw = sh.mouth_width * (1.0 + 0.14 * st.smile) * (1.0 - 0.24 * st.rounding * min(1.0, o / 0.08))
    cy = yc - 0.06 * st.smile + 0.4 * o
    up = -0.14 * o  # the upper lip lifts a little when the mouth opens
    lo = 0.86 * o
    sx = np.array([-1.0, -0.58, -0.22, 0.0, 0.22, 0.58, 1.0])
    p[48:55] = np.column_stack([
        sx * mw,
        np.array([cy, yc - 0.8 * ul + up, yc - ul - 0.4 * bow + up, yc - ul + bow + up, yc - ul - 0.4 * bow + up,
                  yc - 0.8 * ul + up, cy]),
        np.array([-0.05, 0.16, 0.23, 0.26, 0.23, 0.16, -0.05]),
    ])
    lx = np.array([0.58, 0.22, 0.0, -0.22, -0.58])
    p[55:60] = np.column_stack([
        lx * mw,
        yc + np.array([0.82, 0.98, 1.02, 0.98, 0.82]) * ll + lo,
        np.array([0.13, 0.19, 0.21, 0.19, 0.13]),
    ])
    ix = np.array([-0.84, -0.38, 0.0, 0.38, 0.84, 0.38, 0.0, -0.38])
    iy_closed = yc + np.array([0.0, -0.012, -0.014, -0.012, 0.0, -0.012, -0.014, -0.012]) + 0.5 * (cy - yc) * \
        np.array([1.0, 0.3, 0.0, 0.3, 1.0, 0.3, 0.0, 0.3])
    gap = np.array([0.0, up * 0.85, up, up * 0.85, 0.0, lo * 0.85, lo, lo * 0.85])
    p[60:68] = np.column_stack([ix * mw, iy_closed + gap, np.array([0.0, 0.16, 0.19, 0.16, 0.0, 0.15, 0.18, 0.15])])
    return p


# ----------------------------------------------------------------------------------------------------------------
# Per-frame geometry (landmarks only depend on shape, motion, time and size)
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class _Geometry:
    """Landmarks and the projection of one frame."""

    landmarks: np.ndarray  # (68, 2) float64 pixels
    rot: np.ndarray  # (3, 3)
    origin: np.ndarray  # pixel position of face-unit (0, 0, 0) before rotation about the pivot
    unit: float  # pixels per face unit
    state: _State

    def project(self, pts: np.ndarray) -> np.ndarray:
        """(N, 3) or (N, 4) face-unit points to (N, 2) pixels.

        The optional 4th column is an *outline weight* w in [0, 1]. Outline points (the jaw line, the skull and
        hair silhouettes) are not rigid: like the visible contour of a real head they slide around it when it
        turns, so that with weight 1 a point keeps its frontal distance from the head's vertical axis
        (x -> x cos(yaw), z -> z + x sin(yaw) before the rotation).
        """
        p = np.array(pts, dtype=np.float64)
        if p.shape[1] == 4:
            w = p[:, 3]
            p = p[:, :3]
            cy, sy = math.cos(self.state.yaw), math.sin(self.state.yaw)
            x = p[:, 0].copy()
            p[:, 0] = x * (1.0 - w + w * cy)
            p[:, 2] += w * x * sy
        q = (p - _PIVOT) @ self.rot.T + _PIVOT
        return self.origin + self.unit * q[:, :2]


def _geometry(sh: FaceShape, st: _State, height: int, width: int) -> _Geometry:
    rot = _rotation(st.yaw, st.pitch, st.roll)
    origin = np.array([0.5 * width + (sh.center_dx + st.shift_x) * height, (sh.eye_y + st.shift_y) * height])
    g = _Geometry(np.zeros((68, 2)), rot, origin, sh.scale * height, st)
    g.landmarks = g.project(np.column_stack([landmarks_3d(sh, st), _OUTLINE_WEIGHT]))
    return g


# ----------------------------------------------------------------------------------------------------------------
# Appearance helpers
# ----------------------------------------------------------------------------------------------------------------


def _noise(rng: np.random.Generator, height: int, width: int, gy: int, gx: int) -> np.ndarray:
    """(H, W) float32 smooth noise in [0, 1] from a (gy, gx) random grid, bicubically upsampled."""
    grid = rng.random((max(2, gy), max(2, gx))).astype(np.float32)
    return np.clip(cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC), 0.0, 1.0)


def _ring(sh: FaceShape, vx: float, vt: float, b0: float = 0.0, b1: float = math.pi, n: int = 25,
          bump: float = 0.0, bumps: int = 9, z: float = _ZC) -> np.ndarray:
    """Skull outline (enlarged by ``vx`` sideways and ``vt`` on top) from angle ``b0`` (image right) to ``b1``.

    A superellipse through the temples (jaw points 0 / 16) and the top of the skull; angles outside [0, pi]
    continue below the temples. ``bump`` > 0 makes the outline wavy (curly hair). Returns (n, 4) points
    [x, y, z, outline weight 1] (see ``_Geometry.project``).
    """
    b = np.linspace(b0, b1, n)
    c, s = np.cos(b), np.sin(b)
    e = 2.0 / 2.7
    r = 1.0 + bump * np.abs(np.sin(bumps * b))
    x = (sh.face_width + vx) * np.sign(c) * np.abs(c) ** e * (1.0 + (sh.cranium_width - 1.0) * np.abs(s)) * r
    y = sh.jaw_top - (sh.cranium_height + vt) * np.sign(s) * np.abs(s) ** e * r
    return np.column_stack([x, y, np.full(n, z), np.ones(n)])


def _forehead_z(x: np.ndarray, sh: FaceShape) -> np.ndarray:
    return np.maximum(0.12 - 0.85 * (x / sh.face_width) ** 2, _ZC + 0.08)


def _hairline(sh: FaceShape, style: str, part_side: float) -> np.ndarray:
    """(N, 4) hairline [x, y, z, outline weight 0] from the image-left temple to the image-right temple."""
    w, h = sh.face_width, sh.hairline_y
    if style == "bob":
        fringe = sh.brow_y - 0.16
        half = np.array([[0.0, fringe], [0.45 * w, fringe + 0.01], [0.78 * w, fringe - 0.04], [0.93 * w, -0.1],
                         [0.96 * w, 0.35], [0.99 * w, 0.62]])
    else:
        sideburn = sh.jaw_top + (0.12 if style != "bun" else 0.0)
        half = np.array([[0.0, h], [0.38 * w, h + 0.03], [0.68 * w, h + 0.12], [0.86 * w, h + 0.32],
                         [0.9 * w, -0.42], [0.95 * w, -0.12], [0.98 * w, sideburn]])
    left = half[::-1] * np.array([-1.0, 1.0])
    xy = np.concatenate([left, half[1:]], axis=0)
    if style == "side_part":
        # A fringe swept from the parting (side ``part_side``) down over the other side of the forehead.
        u = xy[:, 0] / w * -part_side
        drop = 0.38 * _smoothstep((u + 0.25) / 1.0) * (np.abs(xy[:, 0]) < 0.9 * w)
        xy = xy + np.column_stack([np.zeros(len(xy)), drop])
    if style == "curly":
        xy = catmull_rom(xy, False, 6)
        xy[:, 1] += 0.05 * np.abs(np.sin(np.linspace(0.0, 11.0 * math.pi, len(xy)))) - 0.05
    return np.column_stack([xy, _forehead_z(xy[:, 0], sh), np.zeros(len(xy))])


@dataclass
class _HairPolys:
    """Hair of one style as 3-D polygons (face units) to project every frame."""

    back: list[np.ndarray]  # drawn behind the head
    back_circles: list[tuple[np.ndarray, float]]  # (centre, radius) discs behind the head (a bun)
    front: list[np.ndarray]  # drawn over the forehead
    front_alpha: float
    show_ears: bool
    part_line: np.ndarray | None  # parting of the side-part style


def _mirror(points: np.ndarray) -> np.ndarray:
    return points * np.array([-1.0, 1.0, 1.0, 1.0])


def _at_zc(xy: np.ndarray) -> np.ndarray:
    """(N, 2) outline points to (N, 4) [x, y, z = _ZC, outline weight 1]."""
    return np.column_stack([xy, np.full(len(xy), _ZC), np.ones(len(xy))])


def _hair_polygons(sh: FaceShape, ap: FaceAppearance) -> _HairPolys:
    style = ap.hair_style
    w, chin = sh.face_width, sh.chin_y
    part = 1.0 if ap.texture_seed % 2 else -1.0
    hl = _hairline(sh, style, part)
    if style == "bald":
        return _HairPolys([], [], [], 1.0, True, None)
    if style == "shaved":
        return _HairPolys([], [], [np.concatenate([_ring(sh, 0.012, 0.015), hl])], 0.5, True, None)
    if style == "short":
        return _HairPolys([], [], [np.concatenate([_ring(sh, 0.06, 0.13), hl])], 1.0, True, None)
    if style == "side_part":
        top = sh.jaw_top - sh.cranium_height - 0.2
        line = np.array([[part * 0.42 * w, sh.hairline_y + 0.02, 0.0, 0.0], [part * 0.38 * w, -1.3, -0.3, 0.5],
                         [part * 0.3 * w, top + 0.05, _ZC, 1.0]])
        return _HairPolys([], [], [np.concatenate([_ring(sh, 0.1, 0.2), hl])], 1.0, True, line)
    if style == "bun":
        ring = _ring(sh, 0.035, 0.05)
        centre = np.array([0.0, sh.jaw_top - sh.cranium_height - 0.12, _ZC - 0.1])
        return _HairPolys([], [(centre, 0.42)], [np.concatenate([ring, hl])], 1.0, True, None)
    if style == "long":
        ring = _ring(sh, 0.13, 0.17)
        side = _at_zc(np.array([[w + 0.22, 0.6], [w + 0.32, chin + 0.3], [w + 0.36, chin + 1.6],
                                [0.4 * w, chin + 1.7]]))
        back = np.concatenate([ring, _mirror(side), side[::-1]])
        return _HairPolys([back], [], [np.concatenate([ring, hl])], 1.0, False, None)
    if style == "bob":
        ring = _ring(sh, 0.17, 0.16)
        side = _at_zc(np.array([[w + 0.22, 0.55], [w + 0.2, chin - 0.3], [0.75 * w, chin - 0.05]]))
        back = np.concatenate([ring, _mirror(side), side[::-1]])
        lock = _at_zc(np.array([[w + 0.2, 0.3], [w + 0.12, 0.78]]))
        # hairline (image left -> right), right lock upwards, over the top, left lock downwards
        front = np.concatenate([hl, lock[::-1], ring, _mirror(lock)])
        return _HairPolys([back], [], [front], 1.0, False, None)
    # curly / afro: a bumpy volume around the whole head, down to the jaw
    blob = _ring(sh, 0.5, 0.45, -0.32 * math.pi, 1.32 * math.pi, 73, 0.045, 15)
    ring = _ring(sh, 0.26, 0.32, -0.04, math.pi + 0.04, 41, 0.045, 11)
    return _HairPolys([blob], [], [np.concatenate([ring, hl])], 1.0, False, None)


# ----------------------------------------------------------------------------------------------------------------
# Painting
# ----------------------------------------------------------------------------------------------------------------


def _bbox(points: np.ndarray, height: int, width: int, pad: float) -> tuple[int, int, int, int] | None:
    """Clipped integer box (x0, y0, x1, y1) around points, or None when it is empty."""
    if len(points) == 0:
        return None
    lo = np.floor(points.min(axis=0) - pad).astype(int)
    hi = np.ceil(points.max(axis=0) + pad).astype(int) + 1
    x0, y0 = max(0, int(lo[0])), max(0, int(lo[1]))
    x1, y1 = min(width, int(hi[0])), min(height, int(hi[1]))
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def _blend_color(img: np.ndarray, mask: np.ndarray, color: np.ndarray | RGB, box: tuple[int, int, int, int],
                 alpha: float = 1.0) -> None:
    """img[box] <- img + (color - img) * alpha * mask / 255, in place; ``color`` is RGB or an image of the box."""
    x0, y0, x1, y1 = box
    m = mask[y0:y1, x0:x1].astype(np.float32) * (alpha / 255.0)
    roi = img[y0:y1, x0:x1].astype(np.float32)
    col = np.asarray(color, dtype=np.float32)
    roi += (col - roi) * m[..., None]
    img[y0:y1, x0:x1] = np.clip(roi + 0.5, 0, 255).astype(np.uint8)


def _normals(curve: np.ndarray) -> np.ndarray:
    """Unit normals (tangent rotated by +90 degrees) of a polyline."""
    tan = np.gradient(curve, axis=0)
    n = np.column_stack([-tan[:, 1], tan[:, 0]])
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-9)


class _Scene:
    """Everything that is fixed for one clip: colours, background, torso layer, head texture."""

    def __init__(self, ap: FaceAppearance, sh: FaceShape, height: int, width: int) -> None:
        self.ap, self.sh, self.h, self.w = ap, sh, height, width
        self.unit = sh.scale * height
        rng = np.random.default_rng(ap.texture_seed)
        self.bg = self._background(rng)
        self.hair = _hair_polygons(sh, ap)
        self.skull = _ring(sh, 0.0, 0.0, 0.0, math.pi, 29)[1:-1]
        # Head texture in face units [-3.2, 3.2] x [-3.2, 4.2] at the frame's pixel density.
        self.tex_origin = (-3.2, -3.2)
        tw, th = int(math.ceil(6.4 * self.unit)) + 2, int(math.ceil(7.4 * self.unit)) + 2
        if ap.hair_style == "curly":
            strands = 0.55 * _noise(rng, th, tw, 52, 45) + 0.45 * _noise(rng, th, tw, 100, 86)
        else:
            strands = 0.3 * _noise(rng, th, tw, 6, 60) + 0.45 * _noise(rng, th, tw, 20, 160) \
                + 0.25 * _noise(rng, th, tw, 60, 52)
        grain = _noise(rng, th, tw, 230, 200)
        stubble = np.clip((grain - 0.25) * 2.0, 0.0, 1.0)
        # a soft sheen band across the top of the head (face units -> texture pixels)
        xs = (np.arange(tw, dtype=np.float32) + 0.5) / self.unit + self.tex_origin[0]
        ys = (np.arange(th, dtype=np.float32) + 0.5) / self.unit + self.tex_origin[1]
        y_sheen = sh.jaw_top - 0.62 * sh.cranium_height
        sheen = np.exp(-((ys[:, None] - y_sheen) / 0.28) ** 2) * np.exp(-(xs[None, :] / (0.75 * sh.face_width)) ** 2)
        self.tex = np.dstack([strands, stubble, sheen * (0.6 + 0.8 * strands)]).astype(np.float32)
        self.skin = np.asarray(ap.skin, dtype=np.float32)
        self.neck_color = shade(ap.skin, 0.84)
        self.beard_color = ap.hair_color if ap.hair_color_name != "dyed" else ap.brow_color
        self._torso_layer()

    # --- static layers ------------------------------------------------------------------------------------------

    def _background(self, rng: np.random.Generator) -> np.ndarray:
        ap, h, w = self.ap, self.h, self.w
        if ap.background == "solid":
            img = np.empty((h, w, 3), np.uint8)
            img[:] = ap.background_a
        elif ap.background == "gradient":
            img = vertical_gradient(h, w, ap.background_a, ap.background_b).copy()
        else:
            n = _noise(rng, h, w, 5, 5)
            n2 = _noise(rng, h, w, 14, 14)
            t = np.clip(0.75 * n + 0.25 * n2, 0.0, 1.0)[..., None]
            img = ((1 - t) * np.asarray(ap.background_a, np.float32) + t * np.asarray(ap.background_b, np.float32))
            img = np.clip(img + 0.5, 0, 255).astype(np.uint8)
        # a soft vignette
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        r2 = ((xx - 0.5 * w) / (0.75 * h)) ** 2 + ((yy - 0.45 * h) / (0.75 * h)) ** 2
        img = np.clip(img.astype(np.float32) * (1.0 - 0.22 * np.clip(r2, 0.0, 1.0))[..., None] + 0.5, 0, 255)
        return img.astype(np.uint8)

    def _to_px(self, xy: np.ndarray) -> np.ndarray:
        """Face units in the neutral pose to pixels (for the static torso)."""
        sh = self.sh
        origin = np.array([0.5 * self.w + sh.center_dx * self.h, sh.eye_y * self.h])
        return origin + self.unit * np.asarray(xy, dtype=np.float64)

    def _torso_layer(self) -> None:
        sh, ap = self.sh, self.ap
        h, w = self.h, self.w
        nw, fw = sh.neck_width, sh.face_width
        base = sh.chin_y + 0.5
        self.neck_base = self._to_px(np.array([[-nw * 1.06, base + 0.8], [nw * 1.06, base + 0.8]]))
        half = np.array([[nw + 0.2, base + 0.06], [fw * 1.75, base + 0.32], [fw * 2.45, base + 0.62],
                         [fw * 2.85, base + 1.2], [fw * 3.0, base + 3.0]])
        outline = np.concatenate([half[::-1] * np.array([-1.0, 1.0]), half])
        torso = self._to_px(catmull_rom(outline, False, 8))
        layer = np.zeros((h, w, 3), np.uint8)
        alpha = np.zeros((h, w), np.uint8)
        shirt = ap.shirt_color
        fill_polygon(layer, torso, shirt)
        fill_polygon(alpha, torso, 255)
        # shoulder shading: darker towards the arms and the bottom
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        cx = 0.5 * w + sh.center_dx * h
        fall = 1.0 - 0.28 * np.clip(np.abs(xx - cx) / (fw * 2.8 * self.unit), 0.0, 1.0) ** 2 \
            - 0.1 * np.clip((yy - self.neck_base[0, 1]) / (1.5 * self.unit), 0.0, 1.0)
        layer = np.clip(layer.astype(np.float32) * fall[..., None] + 0.5, 0, 255).astype(np.uint8)
        collar_col = shade(shirt, 0.72) if sum(shirt) > 200 else shade(mix(shirt, (255, 255, 255), 0.25), 1.0)
        th = max(1, int(round(0.07 * self.unit)))
        if ap.collar == "vneck":
            v = np.array([[-(nw + 0.06), base - 0.1], [0.0, base + 0.7], [nw + 0.06, base - 0.1]])
            fill_polygon(alpha, self._to_px(v), 0)  # the neck drawn every frame shows through
            draw_polyline(layer, self._to_px(v), collar_col, th)
            draw_polyline(alpha, self._to_px(v), 255, th)
        else:
            arc = np.array([[-(nw + 0.1), base - 0.1], [-(nw + 0.05), base + 0.1], [-0.5 * nw, base + 0.26],
                            [0.0, base + 0.29], [0.5 * nw, base + 0.26], [nw + 0.05, base + 0.1],
                            [nw + 0.1, base - 0.1]])
            curve = self._to_px(catmull_rom(arc, False, 6))
            fill_polygon(alpha, curve, 0)
            if ap.collar == "crew":
                draw_polyline(layer, curve, collar_col, th)
                draw_polyline(alpha, curve, 255, th)
            else:
                flap = mix(shirt, (255, 255, 255), 0.2)
                for sgn in (-1.0, 1.0):
                    f = np.array([[sgn * (nw + 0.12), base - 0.2], [sgn * (nw + 0.5), base + 0.3],
                                  [sgn * 0.12, base + 0.36], [sgn * 0.02, base + 0.3]])
                    fill_polygon(layer, self._to_px(f), flap)
                    fill_polygon(alpha, self._to_px(f), 255)
                    draw_polyline(layer, self._to_px(f), shade(flap, 0.7), 1, closed=True)
        rows = np.nonzero(alpha.max(axis=1))[0]
        self.torso_y0 = int(rows[0]) if rows.size else h
        self.torso = layer[self.torso_y0:].astype(np.float32)
        self.torso_a = (alpha[self.torso_y0:].astype(np.float32) / 255.0)[..., None]

    # --- per frame ----------------------------------------------------------------------------------------------

    def _head_texture(self, g: _Geometry) -> np.ndarray:
        x0, y0 = self.tex_origin
        p = g.project(np.array([[x0, y0, _ZC, 1.0], [x0 + 1.0, y0, _ZC, 1.0], [x0, y0 + 1.0, _ZC, 1.0]]))
        m = np.column_stack([(p[1] - p[0]) / self.unit, (p[2] - p[0]) / self.unit, p[0]]).astype(np.float64)
        return cv2.warpAffine(self.tex, m, (self.w, self.h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)

    def _paint_hair(self, img: np.ndarray, polys: list[np.ndarray], g: _Geometry, tex: np.ndarray,
                    brightness: float, alpha: float, circles: list[tuple[np.ndarray, float]] | None = None) -> None:
        if not polys and not circles:
            return
        mask = np.zeros((self.h, self.w), np.uint8)
        pts_all = []
        for poly in polys:
            pts = g.project(poly)
            fill_polygon(mask, pts, 255)
            pts_all.append(pts)
        for centre, radius in circles or []:
            c = g.project(centre[None])[0]
            r = radius * g.unit
            fill_circle(mask, c, r, 255)
            pts_all.append(np.array([c - r, c + r]))
        box = _bbox(np.concatenate(pts_all), self.h, self.w, 2.0)
        if box is None:
            return
        x0, y0, x1, y1 = box
        strands = tex[y0:y1, x0:x1, 0]
        base = np.asarray(self.ap.hair_color, np.float32) * brightness
        if self.ap.hair_style == "shaved":
            col = base[None, None] * (0.8 + 0.4 * tex[y0:y1, x0:x1, 1:2])
        else:
            sheen = tex[y0:y1, x0:x1, 2:3] * 0.22
            col = base[None, None] * (0.7 + 0.45 * strands[..., None]) + 10.0 * strands[..., None]
            col = col + sheen * (255.0 - col)
        _blend_color(img, mask, col, box, alpha)

    def paint(self, g: _Geometry) -> np.ndarray:
        ap, sh, h = self.ap, self.sh, self.h
        u = g.unit
        lm = g.landmarks
        st = g.state
        img = self.bg.copy()
        tex = self._head_texture(g)
        hair = self.hair
        self._paint_hair(img, hair.back, g, tex, 0.72, 1.0, hair.back_circles)
        # neck, then the static torso over its base
        neck_top = g.project(np.array([[-sh.neck_width, 0.75, _ZC + 0.3], [sh.neck_width, 0.75, _ZC + 0.3]]))
        neck = np.concatenate([neck_top, self.neck_base[::-1]])
        fill_polygon(img, neck, self.neck_color)
        # ears (the head covers their inner half)
        if hair.show_ears:
            for sgn in (-1.0, 1.0):
                c = g.project(np.array([[sgn * (sh.face_width + 0.01), sh.ear_y, _ZC - 0.3, 1.0]]))[0]
                ang = math.degrees(st.roll) + sgn * 8.0
                ax = (0.12 * sh.ear_size * u, 0.21 * sh.ear_size * u)
                fill_ellipse(img, c, ax, ang, shade(ap.skin, 0.92))
                off = np.array([sgn * 0.03 * u, 0.0])
                fill_ellipse(img, c + off, (ax[0] * 0.5, ax[1] * 0.62), ang, shade(ap.skin, 0.72))
        # head
        head = np.concatenate([lm[0:17], g.project(self.skull)])
        fill_polygon(img, head, ap.skin)
        self._shade(img, g, head, neck)
        y0 = self.torso_y0  # the static torso, in front of the neck
        if y0 < h:
            roi = img[y0:].astype(np.float32)
            img[y0:] = np.clip(roi + (self.torso - roi) * self.torso_a + 0.5, 0, 255).astype(np.uint8)
        if ap.beard != "none":
            self._beard(img, g, tex)
        self._brows(img, g)
        self._nose(img, g)
        for sgn in (-1, 1):
            self._eye(img, g, sgn)
        self._mouth(img, g)
        self._paint_hair(img, hair.front, g, tex, 1.0, hair.front_alpha)
        if hair.part_line is not None:
            draw_polyline(img, catmull_rom(g.project(hair.part_line)[:, :2], False, 6), shade(ap.hair_color, 0.55),
                          max(1, int(round(0.025 * u))))
        if ap.glasses:
            self._glasses(img, g, head)
        return img

    def _shade(self, img: np.ndarray, g: _Geometry, head: np.ndarray, neck: np.ndarray) -> None:
        """Soft shading of the skin: darker rim, shadows under the chin / nose / lip, highlights, side light."""
        ap, sh, h, w = self.ap, self.sh, self.h, self.w
        u, lm = g.unit, g.landmarks
        box = _bbox(np.concatenate([head, neck]), h, w, 0.3 * u)
        if box is None:
            return
        x0, y0, x1, y1 = box
        off = np.array([x0, y0], np.float64)
        bh, bw = y1 - y0, x1 - x0
        face = np.zeros((bh, bw), np.uint8)
        fill_polygon(face, head - off, 255)
        skin = face.copy()
        fill_polygon(skin, neck - off, 255)
        down = g.rot[:2, 1]  # screen direction of the head's +y
        side = g.rot[:2, 0]
        dark = np.zeros((bh, bw), np.uint8)
        light = np.zeros((bh, bw), np.uint8)
        # shadow cast by the jaw on the neck
        fill_polygon(dark, lm[2:15] - off + down * 0.2 * u, 230)
        fill_polygon(dark, head - off, 0)
        # eye sockets
        for a, b in ((19, 37), (24, 44)):
            c = 0.5 * (lm[a] + lm[b]) - off
            fill_ellipse(dark, c, (1.3 * sh.eye_width * u, 0.13 * u), math.degrees(g.state.roll), 70)
        # nose: side shadow opposite the light, under the nose, wings
        s_off = -ap.light_side * 0.085 * u * side
        draw_polyline(dark, lm[27:31] - off + s_off, 105, max(1, int(round(0.09 * u))))
        draw_polyline(dark, lm[31:36] - off + down * 0.035 * u, 75, max(1, int(round(0.05 * u))))
        for i in (31, 35):
            fill_circle(dark, lm[i] - off, 0.05 * u, 110)
        # nasolabial folds, under the lower lip
        fold = 30 + int(60 * g.state.smile)
        for a, b in ((31, 48), (35, 54)):
            p = np.array([lm[a] + (lm[a] - lm[33]) * 0.6, lm[b] + (lm[b] - lm[51]) * 0.12 + down * 0.02 * u])
            draw_polyline(dark, p - off, fold, max(1, int(round(0.04 * u))))
        fill_ellipse(dark, lm[57] - off + down * 0.08 * u, (0.4 * sh.mouth_width * u, 0.05 * u),
                     math.degrees(g.state.roll), 80)
        # highlights: forehead, nose bridge and tip, cheekbones, chin
        fh = 0.5 * (lm[21] + lm[22]) - off - down * 0.32 * u
        fill_ellipse(light, fh, (0.42 * u, 0.17 * u), math.degrees(g.state.roll), 120)
        draw_polyline(light, lm[28:31] - off, 110, max(1, int(round(0.05 * u))))
        fill_circle(light, lm[30] - off, 0.05 * u, 150)
        for a, b in ((41, 2), (46, 14)):
            c = 0.6 * lm[a] + 0.4 * lm[b] + down * 0.1 * u - off
            fill_ellipse(light, c, (0.16 * u, 0.08 * u), math.degrees(g.state.roll), 70)
        fill_ellipse(light, lm[8] - off - down * 0.13 * u, (0.14 * u, 0.06 * u), math.degrees(g.state.roll), 60)
        sig = max(0.6, 0.06 * u)
        dark_b = cv2.GaussianBlur(dark, (0, 0), sig).astype(np.float32) / 255.0
        light_b = cv2.GaussianBlur(light, (0, 0), sig).astype(np.float32) / 255.0
        rim = 1.0 - cv2.GaussianBlur(face, (0, 0), max(0.8, 0.2 * u)).astype(np.float32) / 255.0
        facef = face.astype(np.float32) / 255.0
        skinf = skin.astype(np.float32) / 255.0
        xs = (np.arange(x0, x1, dtype=np.float32) - float(lm[27, 0])) / (sh.face_width * u)
        grad = ap.light_side * 0.13 * np.clip(xs, -1.4, 1.4)[None, :]
        factor = 1.0 - 0.32 * rim * facef - 0.5 * dark_b + grad * skinf
        roi = img[y0:y1, x0:x1].astype(np.float32)
        roi = roi * factor[..., None] + (0.2 * light_b * facef)[..., None] * (255.0 - roi)
        img[y0:y1, x0:x1] = np.clip(roi + 0.5, 0, 255).astype(np.uint8)

    def _beard(self, img: np.ndarray, g: _Geometry, tex: np.ndarray) -> None:
        ap, h, w = self.ap, self.h, self.w
        u, lm = g.unit, g.landmarks
        down = g.rot[:2, 1]
        centre = lm[30]
        jaw = lm[0:17]
        outward = jaw - centre
        outward /= np.maximum(np.linalg.norm(outward, axis=1, keepdims=True), 1e-9)

        def lerp(a: int, b: int, t: float) -> np.ndarray:
            return (1.0 - t) * lm[a] + t * lm[b]

        must = [lerp(35, 53, 0.25), lerp(33, 51, 0.22), lerp(31, 49, 0.25)]  # image right -> left
        if ap.beard in ("full", "stubble"):
            poly = np.concatenate([jaw[2:15] + outward[2:15] * (0.07 if ap.beard == "full" else 0.01) * u,
                                   np.array([lerp(14, 54, 0.4), lerp(54, 35, 0.4)] + must
                                            + [lerp(48, 31, 0.4), lerp(2, 48, 0.4)])])
        elif ap.beard == "goatee":
            poly = np.concatenate([jaw[5:12] + outward[5:12] * 0.05 * u,
                                   np.array([lerp(11, 54, 0.6), lm[54] + (lm[54] - lm[51]) * 0.18] + must
                                            + [lm[48] + (lm[48] - lm[51]) * 0.18, lerp(5, 48, 0.6)])])
        else:  # mustache
            r = lm[54] + (lm[54] - lm[51]) * 0.15 + down * 0.06 * u
            left = lm[48] + (lm[48] - lm[51]) * 0.15 + down * 0.06 * u
            poly = np.array([left] + must[::-1] + [r, lm[64], lm[62], lm[60]])
        mask = np.zeros((h, w), np.uint8)
        fill_polygon(mask, poly, 255)
        box = _bbox(poly, h, w, 2.0)
        if box is None:
            return
        x0, y0, x1, y1 = box
        base = np.asarray(self.beard_color, np.float32)
        if ap.beard == "stubble":
            dots = tex[y0:y1, x0:x1, 1:2]
            col = base[None, None] * 0.8
            mask = cv2.GaussianBlur(mask, (0, 0), max(0.5, 0.04 * u))
            m2 = (mask[y0:y1, x0:x1].astype(np.float32) * (0.3 + 0.25 * dots[..., 0])).astype(np.uint8)
            sub = np.zeros_like(mask)
            sub[y0:y1, x0:x1] = m2
            _blend_color(img, sub, col, box, 1.0)
        else:
            mask = cv2.GaussianBlur(mask, (0, 0), max(0.4, 0.02 * u))
            strands = tex[y0:y1, x0:x1, 0:1]
            col = base[None, None] * (0.72 + 0.45 * strands) + 8.0 * strands
            _blend_color(img, mask, col, box, 0.95)

    def _brows(self, img: np.ndarray, g: _Geometry) -> None:
        sh, lm, u = self.sh, g.landmarks, g.unit
        for idx in (range(17, 22), range(26, 21, -1)):  # both from the outer to the inner end
            c = catmull_rom(lm[list(idx)], False, 6)
            n = _normals(c)
            t = np.linspace(0.0, 1.0, len(c))
            half = 0.5 * sh.brow_thickness * u * (0.45 + 0.55 * _smoothstep(t * 1.8))
            up = np.sign(np.sum(n * -g.rot[:2, 1], axis=1, keepdims=True))  # normal pointing up the head
            n = n * up
            poly = np.concatenate([c + n * half[:, None] * 1.1, (c - n * half[:, None] * 0.9)[::-1]])
            fill_polygon(img, poly, self.ap.brow_color)

    def _nose(self, img: np.ndarray, g: _Geometry) -> None:
        lm, u = g.landmarks, g.unit
        col = shade(self.ap.skin, 0.52)
        ang = math.degrees(g.state.roll)
        up = -g.rot[:2, 1]
        for a, b in ((32, 31), (34, 35)):
            c = 0.7 * lm[a] + 0.3 * lm[b] + up * 0.015 * u
            fill_ellipse(img, c, (0.05 * u, 0.026 * u), ang, col)

    def _eye(self, img: np.ndarray, g: _Geometry, sgn: int) -> None:
        ap, sh, lm, u, st = self.ap, self.sh, g.landmarks, g.unit, g.state
        idx = list(range(36, 42)) if sgn < 0 else list(range(42, 48))
        eye = lm[idx]
        upper = lm[idx[:4]]
        lower = np.concatenate([lm[idx[3:]], lm[idx[:1]]])
        skin = ap.skin
        height = float(np.linalg.norm(0.5 * (eye[1] + eye[2]) - 0.5 * (eye[4] + eye[5])))
        if height > 0.35:
            poly = catmull_rom(eye, True, 5)
            box = _bbox(poly, self.h, self.w, 1.0)
            if box is not None:
                x0, y0, x1, y1 = box
                off = np.array([x0, y0], np.float64)
                patch = np.empty((y1 - y0, x1 - x0, 3), np.uint8)
                patch[:] = mix((236, 232, 226), skin, 0.18)
                centre3 = np.array([[sgn * sh.eye_spacing + st.gaze_x * 0.28 * sh.eye_width,
                                     0.12 * sh.eye_height + st.gaze_y * 0.25 * sh.eye_height, 0.05]])
                c = g.project(centre3)[0] - off
                r = 0.5 * sh.eye_width * u
                fill_circle(patch, c, r, shade(ap.iris_color, 0.6))
                fill_circle(patch, c, 0.8 * r, ap.iris_color)
                fill_circle(patch, c, 0.4 * r, (14, 10, 10))
                if r > 2.5:
                    fill_circle(patch, c + np.array([-0.3, -0.35]) * r, 0.16 * r, (250, 250, 250))
                draw_polyline(patch, catmull_rom(upper, False, 6) - off, mix((60, 40, 40), skin, 0.5),
                              max(1, int(round(0.05 * u))))
                mask = np.zeros((self.h, self.w), np.uint8)
                fill_polygon(mask, poly, 255)
                _blend_color(img, mask, patch.astype(np.float32), box)
        lash = mix((28, 18, 18), skin, 0.15)
        th = max(1, int(round(0.035 * u)))
        draw_polyline(img, catmull_rom(upper, False, 6), lash, th)
        draw_polyline(img, catmull_rom(lower, False, 6), shade(skin, 0.72), 1)
        crease = catmull_rom(upper[1:3], False, 4) - g.rot[:2, 1] * 0.07 * u
        crease = np.concatenate([upper[:1] - g.rot[:2, 1] * 0.03 * u, crease, upper[3:] - g.rot[:2, 1] * 0.02 * u])
        draw_polyline(img, catmull_rom(crease, False, 5), shade(skin, 0.8), 1)

    def _mouth(self, img: np.ndarray, g: _Geometry) -> None:
        ap, lm, u = self.ap, g.landmarks, g.unit
        lip = ap.lip_color
        outer = catmull_rom(lm[48:60], True, 5)
        fill_polygon(img, outer, lip)
        upper = np.concatenate([catmull_rom(lm[48:55], False, 5), catmull_rom(lm[[64, 63, 62, 61, 60]], False, 5)])
        fill_polygon(img, upper, shade(lip, 0.86))
        hl = 0.5 * (lm[57] + lm[66])
        fill_ellipse(img, hl, (0.12 * u, 0.025 * u), math.degrees(g.state.roll), mix(lip, (255, 255, 255), 0.2))
        gap = float(np.linalg.norm(lm[66] - lm[62]))
        if gap > 0.6:
            inner = catmull_rom(lm[60:68], True, 5)
            box = _bbox(inner, self.h, self.w, 1.0)
            if box is not None:
                x0, y0, x1, y1 = box
                off = np.array([x0, y0], np.float64)
                patch = np.empty((y1 - y0, x1 - x0, 3), np.uint8)
                patch[:] = (58, 20, 24)
                down = g.rot[:2, 1]
                half_w = 0.5 * float(np.linalg.norm(lm[64] - lm[60]))
                ang = math.degrees(math.atan2(lm[64, 1] - lm[60, 1], lm[64, 0] - lm[60, 0]))
                fill_ellipse(patch, lm[66] - off + down * 0.01 * u, (0.55 * half_w, 0.07 * u), ang, (150, 64, 72))
                fill_ellipse(patch, lm[62] - off, (0.72 * half_w, 0.06 * u), ang, (236, 230, 216))
                mask = np.zeros((self.h, self.w), np.uint8)
                fill_polygon(mask, inner, 255)
                _blend_color(img, mask, patch.astype(np.float32), box)
        draw_polyline(img, catmull_rom(lm[60:65], False, 5), shade(lip, 0.45), 1)

    def _glasses(self, img: np.ndarray, g: _Geometry, head: np.ndarray) -> None:
        ap, sh, u = self.ap, self.sh, g.unit
        col = ap.glasses_color
        th = max(1, int(round(0.04 * u)))
        b = np.linspace(0.0, 2.0 * math.pi, 33)[:-1]
        rx, ry = sh.eye_width + 0.12, sh.eye_height + 0.13
        e = 2.0 if ap.glasses_round else 0.5  # superellipse exponent of the rim (0.5: rounded rectangle)
        cx = np.sign(np.cos(b)) * np.abs(np.cos(b)) ** e * rx
        cy = np.sign(np.sin(b)) * np.abs(np.sin(b)) ** e * ry
        if ap.glasses_round:
            cx, cy = np.cos(b) * 0.5 * (rx + ry), np.sin(b) * 0.5 * (rx + ry)
        for sgn in (-1.0, 1.0):
            ring = np.column_stack([sgn * sh.eye_spacing + cx, 0.02 + cy, np.full(len(b), 0.42)])
            pts = g.project(ring)
            mask = np.zeros((self.h, self.w), np.uint8)
            fill_polygon(mask, pts, 255)
            box = _bbox(pts, self.h, self.w, 1.0)
            if box is not None:
                _blend_color(img, mask, (215, 228, 240), box, 0.14)
            draw_polyline(img, pts, col, th, closed=True)
            outer = np.array([[sgn * (sh.eye_spacing + rx), -0.02, 0.38, 0.0],
                              [sgn * (sh.face_width + 0.02), 0.05, _ZC - 0.3, 1.0]])
            arm = g.project(outer)
            if cv2.pointPolygonTest(head.astype(np.float32).reshape(-1, 1, 2), (float(arm[1, 0]), float(arm[1, 1])),
                                    False) < 0:
                draw_polyline(img, arm, col, th)
        inner = sh.eye_spacing - (rx if not ap.glasses_round else 0.5 * (rx + ry))
        bridge = np.array([[-inner, -0.02, 0.42], [0.0, -0.08, 0.46], [inner, -0.02, 0.42]])
        draw_polyline(img, catmull_rom(g.project(bridge), False, 6), col, th)


# ----------------------------------------------------------------------------------------------------------------
# The renderer
# ----------------------------------------------------------------------------------------------------------------


def _pick(rng: np.random.Generator, options: tuple[str, ...], weights: tuple[float, ...]) -> str:
    p = np.asarray(weights, dtype=np.float64)
    return options[int(rng.choice(len(options), p=p / p.sum()))]


class FaceRenderer:
    """Talking heads with dlib-68 landmarks and their sketches (see the module docstring)."""

    name = "face"
    task_id = 2
    aspect = task_aspect("face")
    fps = 15
    layers = task_layers("face")
    points_name = "landmarks"
    points_format = "dlib68"

    # --- appearance ---------------------------------------------------------------------------------------------

    def sample_appearance(self, rng: np.random.Generator) -> FaceAppearance:
        """A person's look: skin, hair, eyes, lips, beard, glasses, shirt, background, lighting."""
        tone = rng.uniform(0.0, len(_SKIN_TONES) - 1.0)
        i = min(int(tone), len(_SKIN_TONES) - 2)
        skin = np.asarray(mix(_SKIN_TONES[i], _SKIN_TONES[i + 1], tone - i), np.float64)
        skin = skin * (1.0 + rng.normal(0.0, 0.025, 3)) * np.array([1.0, 1.0 - rng.uniform(0, 0.04), 1.0])
        skin_c = _rgb(skin)
        style = _pick(rng, HAIR_STYLES, _HAIR_STYLE_WEIGHTS)
        hair_name = _pick(rng, tuple(HAIR_COLORS), _HAIR_COLOR_WEIGHTS)
        if hair_name == "dyed":
            hair = hsv_color(float(rng.uniform(0.0, 1.0)), float(rng.uniform(0.5, 0.8)), float(rng.uniform(0.5, 0.85)))
        else:
            hair = _rgb(np.asarray(HAIR_COLORS[hair_name], np.float64) * rng.uniform(0.88, 1.12))
        natural = {"grey": (96, 90, 86), "dyed": (56, 40, 32), "blonde": (150, 118, 76)}
        brow = natural.get(hair_name, shade(hair, 0.9))
        brow = mix(brow, skin_c, 0.22)
        iris_name = str(rng.choice(tuple(_IRIS_COLORS)))
        iris = _rgb(np.asarray(_IRIS_COLORS[iris_name], np.float64) * rng.uniform(0.85, 1.15))
        if rng.random() < 0.15:
            lip = _LIPSTICKS[int(rng.integers(len(_LIPSTICKS)))]
        else:
            lip = mix(shade(skin_c, 0.8), (176, 74, 84), float(rng.uniform(0.22, 0.42)))
        beard = _pick(rng, BEARDS, _BEARD_WEIGHTS) if rng.random() < 0.25 else "none"
        glasses = bool(rng.random() < 0.25)
        glasses_color = _GLASSES_COLORS[int(rng.integers(len(_GLASSES_COLORS)))]
        glasses_round = bool(rng.random() < 0.4)
        r = rng.random()
        if r < 0.15:
            shirt = hsv_color(0.0, 0.0, float(rng.uniform(0.82, 0.95)))
        elif r < 0.28:
            shirt = hsv_color(0.0, 0.0, float(rng.uniform(0.08, 0.3)))
        else:
            shirt = hsv_color(float(rng.uniform()), float(rng.uniform(0.3, 0.8)), float(rng.uniform(0.3, 0.85)))
        collar = str(rng.choice(COLLARS))
        background = str(rng.choice(BACKGROUNDS))
        hue = float(rng.uniform())
        val = float(rng.uniform(0.3, 0.92))
        bg_a = hsv_color(hue, float(rng.uniform(0.05, 0.45)), val)
        bg_b = hsv_color(hue + float(rng.uniform(-0.12, 0.12)), float(rng.uniform(0.05, 0.5)),
                         float(np.clip(val + rng.uniform(-0.35, 0.25), 0.15, 0.95)))
        return FaceAppearance(
            skin=skin_c, hair_style=style, hair_color_name=hair_name, hair_color=hair, brow_color=brow,
            iris_color_name=iris_name, iris_color=iris, lip_color=lip, beard=beard, glasses=glasses,
            glasses_color=glasses_color, glasses_round=glasses_round, shirt_color=shirt, collar=collar,
            background=background, background_a=bg_a, background_b=bg_b,
            light_side=float(rng.uniform(-1.0, 1.0)), texture_seed=int(rng.integers(0, 2**31 - 1)),
        )

    def is_held_out(self, appearance: FaceAppearance) -> bool:
        """Held-out combinations (never in train): glasses together with any beard (about 6 % of draws), or grey
        hair worn in a bun (about 1 %); together about 7-8 % of draws."""
        a = appearance
        return (a.glasses and a.beard != "none") or (a.hair_color_name == "grey" and a.hair_style == "bun")

    # --- shape --------------------------------------------------------------------------------------------------

    def sample_shape(self, rng: np.random.Generator) -> FaceShape:
        """Per-person face geometry (all landmark positions depend on it)."""
        def uni(a: float, b: float) -> float:
            return float(rng.uniform(a, b))

        nose_length = uni(0.55, 0.72)
        mouth_y = nose_length + uni(0.27, 0.38)
        lower_lip = uni(0.06, 0.14)
        chin_y = mouth_y + lower_lip + uni(0.34, 0.5)
        eye_spacing = uni(0.37, 0.45)
        return FaceShape(
            scale=uni(0.18, 0.22), center_dx=uni(-0.035, 0.035), eye_y=uni(0.39, 0.44),
            face_width=uni(0.86, 1.1), jaw_top=uni(0.0, 0.14), chin_y=chin_y, jaw_square=uni(1.8, 4.0),
            chin_point=uni(0.0, 0.4), jaw_taper=uni(0.0, 0.24), cranium_width=uni(1.02, 1.1),
            cranium_height=uni(1.35, 1.55), hairline_y=uni(-1.08, -0.88),
            brow_y=uni(-0.42, -0.3), brow_arch=uni(0.0, 0.12), brow_length=uni(0.38, 0.52), brow_inner=uni(0.1, 0.18),
            brow_thickness=uni(0.05, 0.11), brow_tilt=uni(-0.04, 0.06),
            eye_spacing=eye_spacing, eye_width=uni(0.14, min(0.21, eye_spacing - 0.17)), eye_height=uni(0.065, 0.1),
            eye_tilt=uni(-0.06, 0.14),
            nose_length=nose_length, nose_width=uni(0.13, 0.24), nose_depth=uni(0.42, 0.62),
            mouth_y=mouth_y, mouth_width=uni(0.28, 0.44), upper_lip=uni(0.04, 0.11), lower_lip=lower_lip,
            lip_bow=uni(0.0, 0.03), ear_y=uni(0.15, 0.3), ear_size=uni(0.85, 1.15), neck_width=uni(0.5, 0.68),
        )

    # --- motion -------------------------------------------------------------------------------------------------

    def sample_motion(self, rng: np.random.Generator) -> FaceMotion:
        """A talking performance: speech with syllables and pauses, blinks, brow raises, head turns."""
        def uni(a: float, b: float) -> float:
            return float(rng.uniform(a, b))

        yaw_max, pitch_max, roll_max = uni(8.0, 25.0), uni(4.0, 12.0), uni(2.0, 8.0)
        yaw_off, pitch_off, roll_off = (uni(-0.35, 0.35) * yaw_max, uni(-0.3, 0.3) * pitch_max,
                                        uni(-0.4, 0.4) * roll_max)
        yaw = _sinusoids(rng, yaw_max - abs(yaw_off), 3, 0.04, 0.35)
        pitch = _sinusoids(rng, pitch_max - abs(pitch_off), 3, 0.06, 0.5)
        roll = _sinusoids(rng, roll_max - abs(roll_off), 2, 0.04, 0.3)
        shift_x = _sinusoids(rng, uni(0.004, 0.022), 2, 0.03, 0.25)
        shift_y = _sinusoids(rng, uni(0.003, 0.014), 2, 0.05, 0.35)
        speech: list[tuple[float, float]] = []
        t = uni(0.0, 0.4)
        while t < HORIZON - 1.0:
            end = min(t + uni(1.2, 5.0), HORIZON - 0.6)
            speech.append((round(t, 4), round(end, 4)))
            t = end + uni(0.25, 1.4)
        blinks: list[float] = []
        t = uni(0.3, 2.5)
        while t < HORIZON - 0.5:
            blinks.append(round(t, 4))
            t += uni(1.5, 6.0)
        raises: list[tuple[float, float, float]] = []
        t = uni(0.5, 4.0)
        while t < HORIZON - 1.5:
            raises.append((round(t, 4), uni(0.5, 1.2), uni(0.04, 0.1)))
            t += uni(2.0, 9.0)
        return FaceMotion(
            yaw_offset=yaw_off, yaw=yaw, pitch_offset=pitch_off, pitch=pitch, roll_offset=roll_off, roll=roll,
            shift_x=shift_x, shift_y=shift_y, speech=tuple(speech), syllable_rate=uni(2.8, 4.6),
            syllable_jitter=uni(0.1, 0.35), syllable_mod_freq=uni(0.15, 0.5), syllable_phase=uni(0.0, 2 * math.pi),
            syllable_seed=int(rng.integers(0, 2**31 - 1)), mouth_open=uni(0.12, 0.26), blinks=tuple(blinks),
            blink_speed=uni(0.8, 1.25), brow_raises=tuple(raises), smile_base=uni(0.0, 0.45),
            smile=_sinusoids(rng, uni(0.0, 0.4), 2, 0.03, 0.15),
            gaze_x=_sinusoids(rng, uni(0.1, 0.6), 2, 0.05, 0.4), gaze_y=_sinusoids(rng, uni(0.0, 0.3), 1, 0.05, 0.3),
        )

    # --- frames -------------------------------------------------------------------------------------------------

    def landmarks(self, shape: FaceShape, motion: FaceMotion, t: float, height: int, width: int) -> np.ndarray:
        """(68, 3) float32 landmarks [x, y, 1] in pixels at time ``t`` seconds (no picture)."""
        g = _geometry(shape, _MotionClock(motion).state(t), height, width)
        return np.column_stack([g.landmarks, np.ones(68)]).astype(np.float32)

    def render(self, appearance: FaceAppearance, shape: FaceShape, motion: FaceMotion, n_frames: int, height: int,
               width: int) -> Iterator[Frame]:
        """Yield ``n_frames`` frames at ``fps``; frame ``i`` shows time ``i / fps``."""
        clock = _MotionClock(motion)
        scene = _Scene(appearance, shape, height, width)
        for i in range(n_frames):
            g = _geometry(shape, clock.state(i / self.fps), height, width)
            points = np.column_stack([g.landmarks, np.ones(68)]).astype(np.float32)
            sketch = draw_face_sketch(points, height, width)
            yield Frame(scene.paint(g), {"sketch": sketch}, points)


RENDERER = FaceRenderer()
