"""What the three random draws of a dance clip decide: the dancer's look and room, the body's proportions, the dance.

Field names are part of every clip's meta.json (``params``), so they stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

PATTERNS = ("solid", "stripes", "checks", "dots")
SLEEVES = ("none", "short", "long")
BOTTOMS = ("trousers", "shorts", "skirt")
HAIR_STYLES = ("short", "long", "bun", "ponytail", "bald", "curly")
FLOORS = ("plain", "planks", "tiles")
STYLES = ("groove", "arms", "steps", "spin")
#: Benchmark version 2: the top looks different from the front and from behind.
FRONT_PRINTS = ("disc", "panel", "band", "diamond")  # a large chest shape, always present
BACK_PRINTS = ("none", "stripe", "block", "yoke")  # on the back, which has a colour of its own
BAGS = ("none", "backpack")  # a backpack shows from behind and in profile; its straps from the front
TURNS = ("around", "back_and_forth")  # half turns keep going the same way, or alternate

HAIR_COLORS = {
    "black": (25, 22, 22), "dark_brown": (60, 38, 25), "brown": (110, 70, 40), "blonde": (205, 170, 100),
    "red": (150, 60, 30), "grey": (165, 160, 155), "blue": (40, 80, 170), "pink": (215, 110, 160),
}


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
    # Benchmark version 2: what the top shows from the front and from behind (see .garment).
    front_print: str  # one of FRONT_PRINTS, on the chest
    print_color: tuple[int, int, int]
    back_color: tuple[int, int, int]  # the back of the top (the front is top_color with its pattern)
    back_print: str  # one of BACK_PRINTS
    back_print_color: tuple[int, int, int]
    bag: str  # one of BAGS
    bag_color: tuple[int, int, int]


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
    """A procedural dance: sinusoids of time with per-clip tempo, style and amplitudes, and half turns (the yaw is
    :func:`.skeleton.yaw_at`)."""

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
    # Benchmark version 2: half turns (180 degrees) that show the back; the "spin" style turns by spin_speed instead.
    turn_start: float  # seconds to the first half turn
    turn_time: float  # seconds a half turn takes
    turn_hold: float  # seconds between half turns
    turn_direction: float  # +1: the first half turn goes to the dancer's own left, -1: to its right
    turn: str  # one of TURNS
