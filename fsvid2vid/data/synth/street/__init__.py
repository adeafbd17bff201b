"""Street scenes: a camera driving down a procedural city street, labelled with ten Cityscapes-like classes.

The scene is a true pinhole-camera view of a flat ground plane; the camera moves forward along the street axis ``z``;
``x`` points to the right and ``y`` up. The three random draws:

* :class:`StreetShape` (the city's geometry, which the label maps depend on): number and width of lanes, parking
  strips, sidewalks, grass verges, building setbacks, heights and frontages, the density of trees, poles, signs and
  cars, the road markings' geometry, and the camera's height and pitch.
* :class:`StreetMotion` (one drive): speed, speed wobble, lateral sway, the lane driven in, the bend of the street and
  a ``world_seed`` from which the objects along the street are expanded at render time, so the label map is a
  function of (shape, motion, t, height, width) only.
* :class:`StreetAppearance` (the city's style): facade palette and texture, windows, asphalt, markings, sidewalks,
  vegetation, sky, light, cars and poles, plus a ``texture_seed`` for the static textures. Textures are attached to
  the world (road and sidewalk textures to ground coordinates, facade textures to facade coordinates), so they move
  with the scene instead of flickering.

Modules:

* :mod:`.params`: what the three random draws decide.
* :mod:`.world`: the city along one drive (:func:`build_world`).
* :mod:`.camera`: the camera's path and the pinhole projection.
* :mod:`.drawing`: the label ids and the draw list that renders polygons into the label map and the RGB frame.
* :mod:`.filtering`: box-filtered patterns and texture tiles.
* :mod:`.ground`, :mod:`.buildings`, :mod:`.objects`: the ground; the facades; trees, poles, signs and cars.
* :mod:`.clip`: :class:`StreetClip`, what is computed once per clip, and its frames.
* :mod:`.renderer`: :class:`StreetRenderer` (the random draws and the frames) and ``RENDERER``.
"""

from fsvid2vid.data.synth.street.clip import StreetClip
from fsvid2vid.data.synth.street.drawing import CLASSES
from fsvid2vid.data.synth.street.params import StreetAppearance, StreetMotion, StreetShape
from fsvid2vid.data.synth.street.renderer import RENDERER, StreetRenderer
from fsvid2vid.data.synth.street.world import build_world

__all__ = ["CLASSES", "RENDERER", "StreetAppearance", "StreetClip", "StreetMotion", "StreetRenderer", "StreetShape",
           "build_world"]
