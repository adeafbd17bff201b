"""The face task's renderer: the three random draws, then per frame the expression, landmarks, sketch and picture."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from fsvid2vid.data.draw.face import draw_face_sketch
from fsvid2vid.data.synth.common import BenchmarkRenderer, Frame, hsv_color, mix, shade
from fsvid2vid.data.synth.face.geometry import head_geometry
from fsvid2vid.data.synth.face.motion import HORIZON, MotionClock
from fsvid2vid.data.synth.face.params import (
    BACKGROUNDS,
    BEARD_WEIGHTS,
    BEARDS,
    CHEEK_MARKS,
    COLLARS,
    EARRING_COLORS,
    EARRINGS,
    GLASSES_COLORS,
    HAIR_COLOR_WEIGHTS,
    HAIR_COLORS,
    HAIR_STYLE_WEIGHTS,
    HAIR_STYLES,
    IRIS_COLORS,
    LIPSTICKS,
    LOCK_STYLES,
    RGB,
    SKIN_TONES,
    FaceAppearance,
    FaceMotion,
    FaceShape,
)
from fsvid2vid.data.synth.face.scene import FaceScene


class FaceRenderer(BenchmarkRenderer):
    """Talking heads with dlib-68 landmarks and their sketches (see :mod:`fsvid2vid.data.synth.face`)."""

    def __init__(self) -> None:
        super().__init__("face", task_id=2)

    # --- appearance ---------------------------------------------------------------------------------------------

    def sample_appearance(self, rng: np.random.Generator) -> FaceAppearance:
        """A person's look: skin, hair, eyes, lips, beard, glasses, shirt, background, lighting."""
        tone = rng.uniform(0.0, len(SKIN_TONES) - 1.0)
        i = min(int(tone), len(SKIN_TONES) - 2)
        skin = np.asarray(mix(SKIN_TONES[i], SKIN_TONES[i + 1], tone - i), np.float64)
        skin = skin * (1.0 + rng.normal(0.0, 0.025, 3)) * np.array([1.0, 1.0 - rng.uniform(0, 0.04), 1.0])
        skin_c = _rgb(skin)
        style = _pick(rng, HAIR_STYLES, HAIR_STYLE_WEIGHTS)
        hair_name = _pick(rng, tuple(HAIR_COLORS), HAIR_COLOR_WEIGHTS)
        if hair_name == "dyed":
            hair = hsv_color(float(rng.uniform(0.0, 1.0)), float(rng.uniform(0.5, 0.8)), float(rng.uniform(0.5, 0.85)))
        else:
            hair = _rgb(np.asarray(HAIR_COLORS[hair_name], np.float64) * rng.uniform(0.88, 1.12))
        natural = {"grey": (96, 90, 86), "dyed": (56, 40, 32), "blonde": (150, 118, 76)}
        brow = natural.get(hair_name, shade(hair, 0.9))
        brow = mix(brow, skin_c, 0.22)
        iris_name = str(rng.choice(tuple(IRIS_COLORS)))
        iris = _rgb(np.asarray(IRIS_COLORS[iris_name], np.float64) * rng.uniform(0.85, 1.15))
        if rng.random() < 0.15:
            lip = LIPSTICKS[int(rng.integers(len(LIPSTICKS)))]
        else:
            lip = mix(shade(skin_c, 0.8), (176, 74, 84), float(rng.uniform(0.22, 0.42)))
        beard = _pick(rng, BEARDS, BEARD_WEIGHTS) if rng.random() < 0.25 else "none"
        glasses = bool(rng.random() < 0.25)
        glasses_color = GLASSES_COLORS[int(rng.integers(len(GLASSES_COLORS)))]
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
            **_one_sided_features(rng, style, skin_c),
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
        """A talking performance: speech with syllables and pauses, blinks, brow raises, head turns.

        The head turns from side to side (``turn_*``): at t = 0 it is within 0.3 rad of phase of one side's peak and
        it passes the other side's peak by t = 0.93 s; a frame (15 fps) lies within 0.15 rad of phase of each peak,
        and ``turn_amplitude * cos(0.2) - yaw_max`` > 37 degrees, so the first 16 frames of every clip include one
        with yaw < -35 and one with yaw > +35 degrees. Yaw stays within +-48 degrees, where the far side of the face
        still fits inside the head outline.
        """
        def uni(a: float, b: float) -> float:
            return float(rng.uniform(a, b))

        yaw_max, pitch_max, roll_max = uni(1.5, 3.0), uni(4.0, 12.0), uni(2.0, 8.0)
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
            turn_amplitude=uni(41.0, 45.0), turn_period=uni(1.4, 1.7),
            turn_phase=(1.0 if rng.random() < 0.5 else -1.0) * 0.5 * math.pi + uni(-0.3, 0.2),
        )

    # --- frames -------------------------------------------------------------------------------------------------

    def render(self, appearance: FaceAppearance, shape: FaceShape, motion: FaceMotion, n_frames: int, height: int,
               width: int) -> Iterator[Frame]:
        """Yield ``n_frames`` frames at ``fps``; frame ``i`` shows time ``i / fps``."""
        clock = MotionClock(motion)
        scene = FaceScene(appearance, shape, height, width)
        for i in range(n_frames):
            geo = head_geometry(shape, clock.expression_at(i / self.fps), height, width)
            points = np.column_stack([geo.landmarks, np.ones(68)]).astype(np.float32)
            yield Frame(scene.paint(geo), {"sketch": draw_face_sketch(points, height, width)}, points,
                        view=float(geo.expression.yaw))


def _rgb(x: np.ndarray | tuple[float, ...]) -> RGB:
    a = np.clip(np.round(np.asarray(x, dtype=np.float64)), 0, 255).astype(int)
    return (int(a[0]), int(a[1]), int(a[2]))


def _one_sided_features(rng: np.random.Generator, style: str, skin: RGB) -> dict[str, object]:
    """The appearance fields of the one-sided features (see :class:`FaceAppearance`).

    Every person has at least one: a lock of hair over one side of the face (the styles in LOCK_STYLES), a cheek
    mark or an earring. With a lock, the mark and the earring are on the other side, where the hair is tucked away.
    """
    def side() -> int:
        return 1 if rng.random() < 0.5 else -1

    hair_side = side()
    lock = style in LOCK_STYLES
    hair_lock = float(rng.uniform(0.42, 0.6)) if lock else 0.0
    mark = _pick(rng, CHEEK_MARKS[1:], (0.4, 0.35, 0.25)) if rng.random() < 0.55 else "none"
    earring = _pick(rng, EARRINGS[1:], (0.3, 0.45, 0.25)) if rng.random() < 0.45 else "none"
    if not lock and mark == "none" and earring == "none":
        if rng.random() < 0.5:
            mark = _pick(rng, CHEEK_MARKS[1:], (0.4, 0.35, 0.25))
        else:
            earring = _pick(rng, EARRINGS[1:], (0.3, 0.45, 0.25))
    mark_side, earring_side = (-hair_side, -hair_side) if lock else (side(), side())
    size = {"mole": (0.075, 0.1), "birthmark": (0.15, 0.23), "scar": (0.17, 0.25), "none": (0.1, 0.1)}[mark]
    if mark == "mole":
        mark_color = mix(skin, (52, 32, 26), 0.8)
    elif mark == "birthmark":  # reddish or brown on light skin, darker than dark skin
        stain = ((150, 54, 72), (128, 74, 44))[int(rng.integers(2))] if sum(skin) > 450 else (44, 24, 20)
        mark_color = mix(skin, stain, float(rng.uniform(0.45, 0.6)))
    else:  # a scar is lighter than dark skin and redder than light skin
        mark_color = mix(skin, (150, 58, 58) if sum(skin) > 450 else (236, 196, 186), 0.5)
    return dict(
        hair_side=hair_side, hair_lock=hair_lock, cheek_mark=mark, cheek_mark_side=mark_side,
        cheek_mark_x=float(rng.uniform(0.5, 0.66)), cheek_mark_y=float(rng.uniform(0.24, 0.52)),
        cheek_mark_size=float(rng.uniform(*size)), cheek_mark_angle=float(rng.uniform(-0.9, 0.9)),
        cheek_mark_color=mark_color, earring=earring, earring_side=earring_side,
        earring_color=EARRING_COLORS[int(rng.integers(len(EARRING_COLORS)))],
    )


def _sinusoids(rng: np.random.Generator, total: float, n: int, fmin: float, fmax: float
               ) -> tuple[tuple[float, float, float], ...]:
    """``n`` sinusoid terms whose amplitudes sum to ``total`` (so the sum never exceeds it)."""
    w = rng.dirichlet(np.full(n, 2.0)) * total
    return tuple((float(w[i]), float(rng.uniform(fmin, fmax)), float(rng.uniform(0.0, 2.0 * math.pi)))
                 for i in range(n))


def _pick(rng: np.random.Generator, options: tuple[str, ...], weights: tuple[float, ...]) -> str:
    p = np.asarray(weights, dtype=np.float64)
    return options[int(rng.choice(len(options), p=p / p.sum()))]


RENDERER = FaceRenderer()
