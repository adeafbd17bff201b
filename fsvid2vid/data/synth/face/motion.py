"""The face's expression and head pose at any time ``t``: a continuous function of ``t``, nothing drawn per frame.

:class:`~.params.FaceMotion` stores sums of sinusoids (head pose, translation, smile, gaze) and lists of event times
(speech segments, blinks, brow raises) over a :data:`HORIZON`-second period; events repeat every :data:`HORIZON`
seconds, so frame ``t`` never depends on the clip length. On top of small yaw wobbles the head turns from side to
side (``FaceMotion.turn_*``), far enough that one-sided features show on one side only. Syllables inside a speech
segment get their loudness and lip rounding from an integer hash of the syllable index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fsvid2vid.data.synth.face.params import FaceMotion

#: Seconds after which the event lists (speech, blinks, brow raises) repeat.
HORIZON = 64.0


@dataclass(frozen=True)
class Expression:
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


def smoothstep(x: np.ndarray | float) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _sum_of_sines(terms: tuple[tuple[float, float, float], ...], t: float) -> float:
    return float(sum(a * math.sin(2.0 * math.pi * f * t + p) for a, f, p in terms))


def _hash_to_unit(k: int, seed: int, salt: int) -> float:
    """Deterministic integer hash of (k, seed, salt) to [0, 1) (splitmix64 finaliser)."""
    z = (k * 0x9E3779B97F4A7C15 + seed * 0xBF58476D1CE4E5B9 + salt * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    z ^= z >> 31
    return (z >> 11) / float(1 << 53)


class MotionClock:
    """Evaluates a :class:`FaceMotion` at any time (arrays prepared once per clip)."""

    def __init__(self, motion: FaceMotion) -> None:
        self.motion = motion
        speech = np.asarray(motion.speech, dtype=np.float64).reshape(-1, 2)
        self.speech_start, self.speech_end = speech[:, 0], speech[:, 1]
        self.blinks = np.asarray(motion.blinks, dtype=np.float64)
        raises = np.asarray(motion.brow_raises, dtype=np.float64).reshape(-1, 3)
        self.raise_time, self.raise_duration, self.raise_height = raises[:, 0], raises[:, 1], raises[:, 2]

    @staticmethod
    def _wrapped(tau: float, times: np.ndarray) -> np.ndarray:
        """Signed distance from each event time to ``tau`` on the circle of length HORIZON."""
        return (tau - times + 0.5 * HORIZON) % HORIZON - 0.5 * HORIZON

    def speech_envelope(self, tau: float) -> float:
        if self.speech_start.size == 0:
            return 0.0
        ramp = 0.12
        w = smoothstep((tau - self.speech_start) / ramp) * smoothstep((self.speech_end - tau) / ramp)
        return float(np.clip(w.sum(), 0.0, 1.0))

    def eye_closure(self, tau: float) -> float:
        if self.blinks.size == 0:
            return 0.0
        speed = self.motion.blink_speed
        close, hold, opening = 0.07 / speed, 0.05 / speed, 0.15 / speed
        d = self._wrapped(tau, self.blinks)
        c = np.where(d < 0.0, smoothstep(1.0 + d / close),
                     np.where(d < hold, 1.0, 1.0 - smoothstep((d - hold) / opening)))
        return float(np.max(c))

    def brow_raise(self, tau: float) -> float:
        if self.raise_time.size == 0:
            return 0.0
        d = self._wrapped(tau, self.raise_time)
        x = np.clip(d / self.raise_duration + 0.5, 0.0, 1.0)
        return float(np.sum(self.raise_height * np.sin(math.pi * x) ** 2))

    def yaw_degrees(self, t: float) -> float:
        """The head's yaw at time ``t`` (degrees; positive: turned towards the person's own left)."""
        m = self.motion
        turn = m.turn_amplitude * math.sin(2.0 * math.pi * t / m.turn_period + m.turn_phase)
        return m.yaw_offset + _sum_of_sines(m.yaw, t) + turn

    def expression_at(self, t: float) -> Expression:
        m = self.motion
        tau = t % HORIZON
        envelope = self.speech_envelope(tau)
        phase = m.syllable_rate * t + m.syllable_jitter * m.syllable_rate / (2.0 * math.pi * m.syllable_mod_freq) \
            * math.sin(2.0 * math.pi * m.syllable_mod_freq * t + m.syllable_phase)
        syllable = int(math.floor(phase))
        within = phase - syllable
        loudness = 0.3 + 0.7 * _hash_to_unit(syllable, m.syllable_seed, 1)
        rounding = _hash_to_unit(syllable, m.syllable_seed, 2) ** 2
        opening = math.sin(math.pi * within) ** 1.5
        mouth_open = m.mouth_open * envelope * loudness * opening
        smile = float(np.clip(m.smile_base + _sum_of_sines(m.smile, t), 0.0, 1.0))
        rad = math.pi / 180.0
        return Expression(
            mouth_open=mouth_open,
            rounding=rounding * envelope,
            smile=smile,
            closure=self.eye_closure(tau),
            brow_raise=self.brow_raise(tau) + 0.025 * envelope * loudness * opening,
            yaw=self.yaw_degrees(t) * rad,
            pitch=(m.pitch_offset + _sum_of_sines(m.pitch, t)) * rad,
            roll=(m.roll_offset + _sum_of_sines(m.roll, t)) * rad,
            shift_x=_sum_of_sines(m.shift_x, t),
            shift_y=_sum_of_sines(m.shift_y, t),
            gaze_x=float(np.clip(_sum_of_sines(m.gaze_x, t), -1.0, 1.0)),
            gaze_y=float(np.clip(_sum_of_sines(m.gaze_y, t), -1.0, 1.0)),
        )
