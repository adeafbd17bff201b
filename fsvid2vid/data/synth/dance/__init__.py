"""The dance task: an articulated 2-D dancer with COCO-18 keypoints, a body-part map and a per-subject look.

Geometry is a small 3-D skeleton (units: standing height = 1) posed by forward kinematics, turned about the vertical
axis, leaned, and projected orthographically onto the frame; body parts are drawn far to near so limbs occlude each
other correctly. The semantic inputs are the OpenPose-style skeleton image (:func:`draw_openpose`, the same function
that draws real detected poses) and a body-part index map (the role DensePose plays in the paper). Both depend only
on the shape (body proportions, limb widths) and the motion; garments, hair, skin, shoes and the room come from the
appearance and change only the RGB frames.

Benchmark version 2 (issue 14): every dance makes half turns (or spins) so that each clip shows the dancer's front
and back within its first 16 frames, and the top looks different from the two sides (a chest print in front, a back
of another colour with its own print, for some dancers a backpack); each frame carries the dancer's yaw
(``Frame.view``).

Modules:

* :mod:`.params`: what the three random draws decide (:class:`DanceAppearance`, :class:`DanceShape`,
  :class:`DanceMotion`).
* :mod:`.skeleton`: the turn (:func:`~.skeleton.yaw_at`), the pose at time ``t`` and its COCO-18 keypoints.
* :mod:`.body`: the body as drawable pieces with part labels, and the ``parts`` label map.
* :mod:`.painting`: the RGB frame (room, garments, patterns, shading, face, hair), painted at twice the resolution
  and area-downsampled, which anti-aliases every edge.
* :mod:`.garment`: what differs between the front and the back of the top (prints, back colour, backpack).
* :mod:`.renderer`: :class:`DanceRenderer` (the random draws and the frames) and ``RENDERER``.
"""

from fsvid2vid.data.semantics import DANCE_PART_NAMES as PART_NAMES
from fsvid2vid.data.synth.dance.body import PART_FLIP
from fsvid2vid.data.synth.dance.params import DanceAppearance, DanceMotion, DanceShape
from fsvid2vid.data.synth.dance.renderer import RENDERER, DanceRenderer

__all__ = ["PART_FLIP", "PART_NAMES", "RENDERER", "DanceAppearance", "DanceMotion", "DanceRenderer", "DanceShape"]
