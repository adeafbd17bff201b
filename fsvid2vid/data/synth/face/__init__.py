"""The procedural "talking face" task: a head and shoulders that talks, blinks, raises its brows and turns.

Stand-in for the paper's FaceForensics task (semantic input: a sketch drawn from dlib-68 landmarks). Landmarks and
sketch depend only on (shape, motion, time, size); the RGB frame also uses the appearance (skin, hair style and
colour, eyes, lips, beard, glasses, shirt, background, lighting, and one-sided features: a lock of hair over one side
of the face, a cheek mark, an earring). Every clip turns the head past 35 degrees both ways within its first second,
so a person's frames differ by view; ``Frame.view`` is the yaw of each frame.

Modules:

* :mod:`.params`: what the three random draws decide (:class:`FaceAppearance`, :class:`FaceShape`,
  :class:`FaceMotion`).
* :mod:`.motion`: the expression and head pose at any time (speech, blinks, brow raises, head turns).
* :mod:`.geometry`: the 68 landmarks in face units and their projection into the frame.
* :mod:`.hair`: the skull outline, the hairline, each hair style as 3-D polygons, and the lock over one side.
* :mod:`.scene`: what is fixed for a clip (background, torso, hair texture) and the painting of a frame.
* :mod:`.features`: skin shading, beard, brows, nostrils, eyes, mouth, glasses.
* :mod:`.marks`: the one-sided cheek mark and earring, seen only when their side faces the camera.
* :mod:`.raster`: pixel helpers (boxes, masked blending, curve normals).
* :mod:`.renderer`: :class:`FaceRenderer` (the random draws and the frames) and ``RENDERER``.
"""

from fsvid2vid.data.synth.face.params import FaceAppearance, FaceMotion, FaceShape
from fsvid2vid.data.synth.face.renderer import RENDERER, FaceRenderer

__all__ = ["RENDERER", "FaceAppearance", "FaceMotion", "FaceRenderer", "FaceShape"]
