"""What the three random draws of a face clip decide: the person's look, the face geometry, the performance.

Field names are part of every clip's meta.json (``params``), so they stay as they are. Colours are RGB uint8 triples.
"""

from __future__ import annotations

from dataclasses import dataclass

RGB = tuple[int, int, int]

HAIR_STYLES = ("short", "side_part", "long", "bob", "bun", "curly", "shaved", "bald")
HAIR_STYLE_WEIGHTS = (0.17, 0.14, 0.17, 0.11, 0.1, 0.12, 0.09, 0.1)
HAIR_COLORS: dict[str, RGB] = {
    "black": (30, 26, 24),
    "dark_brown": (62, 42, 30),
    "brown": (108, 72, 46),
    "blonde": (208, 172, 112),
    "red": (160, 68, 34),
    "grey": (172, 169, 165),
    "dyed": (0, 0, 0),  # drawn from a random saturated hue
}
HAIR_COLOR_WEIGHTS = (0.27, 0.2, 0.17, 0.13, 0.07, 0.11, 0.05)
SKIN_TONES: tuple[RGB, ...] = (
    (255, 226, 204), (243, 200, 170), (228, 178, 140), (204, 150, 110),
    (170, 112, 76), (130, 84, 56), (96, 62, 44), (70, 46, 34),
)
IRIS_COLORS: dict[str, RGB] = {
    "dark_brown": (48, 30, 20), "brown": (86, 54, 30), "hazel": (120, 96, 50),
    "green": (78, 118, 72), "blue": (74, 114, 168), "grey": (118, 128, 138),
}
LIPSTICKS: tuple[RGB, ...] = ((176, 32, 50), (204, 86, 116), (118, 34, 62), (160, 66, 54))
GLASSES_COLORS: tuple[RGB, ...] = ((22, 22, 24), (92, 56, 30), (190, 160, 92), (172, 172, 178), (150, 32, 36),
                                   (32, 42, 92))
BEARDS = ("stubble", "mustache", "goatee", "full")
BEARD_WEIGHTS = (0.35, 0.15, 0.2, 0.3)
COLLARS = ("crew", "vneck", "collared")
BACKGROUNDS = ("solid", "gradient", "texture")
#: Hair styles with a lock that falls over one side of the face (see :class:`~.hair.SideLock`).
LOCK_STYLES = ("side_part", "long", "bob", "curly")
CHEEK_MARKS = ("none", "mole", "birthmark", "scar")
EARRINGS = ("none", "stud", "hoop", "drop")
EARRING_COLORS: tuple[RGB, ...] = ((212, 172, 60), (196, 198, 206), (240, 232, 212), (200, 30, 44), (40, 170, 170),
                                   (24, 24, 28))


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
    # One-sided features, seen only when their side of the head turns towards the camera. A side is -1 for the
    # person's right (the image left when facing the camera) and +1 for the person's left.
    hair_side: int  # the side a lock falls over (LOCK_STYLES) and the side_part fringe is swept to
    hair_lock: float  # how far the lock reaches over that side of the face (face units; 0: no lock)
    cheek_mark: str  # one of CHEEK_MARKS
    cheek_mark_side: int
    cheek_mark_x: float  # distance of the mark from the face's midline (fraction of the face half width)
    cheek_mark_y: float  # height below the eye line (face units)
    cheek_mark_size: float  # radius (mole, birthmark) or half length (scar), face units
    cheek_mark_angle: float  # scar direction (radians from horizontal)
    cheek_mark_color: RGB
    earring: str  # one of EARRINGS
    earring_side: int
    earring_color: RGB


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
    times lie in ``[0, HORIZON)`` (see :mod:`.motion`) and repeat with that period.
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
    # The head turns from side to side: ``turn_amplitude * sin(2 pi t / turn_period + turn_phase)`` degrees of yaw,
    # added to ``yaw_offset`` and ``yaw``; every clip starts near one side and reaches the other within a second.
    turn_amplitude: float
    turn_period: float  # seconds
    turn_phase: float  # radians
