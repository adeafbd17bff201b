"""The facts of the three tasks that every part of fsvid2vid shares: names, semantic layers, frame shape.

A task's semantic input is a tuple of :class:`SemanticLayer` (what the clip folders store per frame and what the
networks read as channels). The renderers of the procedural benchmark (:mod:`fsvid2vid.data.synth`), real-footage
preparation, the models and the evaluators all take these facts from here, so none of them needs a renderer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fsvid2vid.errors import UserError

LayerKind = Literal["color", "gray", "label"]

TASKS = ("dance", "face", "street")


@dataclass(frozen=True)
class SemanticLayer:
    """One semantic input stored per frame as a PNG in the clip folder ``<name>/``.

    kind ``color``: an (H, W, 3) uint8 drawing (e.g. the OpenPose-style skeleton).
    kind ``gray``: an (H, W) uint8 drawing (e.g. the face sketch).
    kind ``label``: an (H, W) uint8 index map with values in [0, num_classes).
    """

    name: str
    kind: LayerKind
    num_classes: int = 0
    class_names: tuple[str, ...] = ()

    @property
    def channels(self) -> int:
        """Channels this layer contributes to the network input (labels are one-hot)."""
        return {"color": 3, "gray": 1}.get(self.kind, self.num_classes)


#: Body-part labels of the dance task's ``parts`` layer (index = label id).
DANCE_PART_NAMES = (
    "background", "head", "torso",
    "right_upper_arm", "right_lower_arm", "right_hand",
    "left_upper_arm", "left_lower_arm", "left_hand",
    "right_upper_leg", "right_lower_leg", "right_foot",
    "left_upper_leg", "left_lower_leg", "left_foot",
)

#: The body's tree over those labels: the part each part hangs from (-1: none, the background and the torso). Part
#: alignment (fsvid2vid.models.alignment) orients each part away from its parent.
DANCE_PART_PARENTS = (-1, 2, -1, 2, 3, 4, 2, 6, 7, 2, 9, 10, 2, 12, 13)

#: Which side of the body each of those labels is on: +1 the subject's left, -1 its right, 0 the midline (background,
#: head, torso). Where the left parts lie right of the right ones in the image, the subject faces the camera; the
#: midline parts are the ones whose front and back differ (fsvid2vid.models.alignment.facing).
DANCE_PART_SIDES = (0, 0, 0, -1, -1, -1, 1, 1, 1, -1, -1, -1, 1, 1, 1)

#: Classes of the street task's ``labels`` layer (index = label id), Cityscapes-like.
STREET_CLASSES = ("sky", "road", "lane_marking", "sidewalk", "building", "vegetation", "pole", "car", "traffic_sign",
                  "terrain")

_LAYERS: dict[str, tuple[SemanticLayer, ...]] = {
    # the OpenPose-style skeleton image and a body-part index map (the role DensePose plays in the paper)
    "dance": (
        SemanticLayer("pose", "color"),
        SemanticLayer("parts", "label", num_classes=len(DANCE_PART_NAMES), class_names=DANCE_PART_NAMES),
    ),
    # the sketch drawn from dlib-68 landmarks
    "face": (SemanticLayer("sketch", "gray"),),
    # a Cityscapes-like label map
    "street": (SemanticLayer("labels", "label", num_classes=len(STREET_CLASSES), class_names=STREET_CLASSES),),
}

#: Frame width / height of each task.
_ASPECTS: dict[str, float] = {"dance": 0.75, "face": 1.0, "street": 2.0}

#: Per-frame points of each task: the JSON file stem in a clip folder and the point format.
_POINTS: dict[str, tuple[str | None, str | None]] = {
    "dance": ("keypoints", "coco18"),
    "face": ("landmarks", "dlib68"),
    "street": (None, None),
}


def check_task(task: str) -> str:
    """``task`` itself, or a one-line :class:`UserError` naming the tasks when it is not one of them."""
    if task not in TASKS:
        raise UserError(f"unknown task {task!r}: choose one of {', '.join(TASKS)}")
    return task


def task_layers(task: str) -> tuple[SemanticLayer, ...]:
    """The semantic layers of ``task``, in the order the networks stack their channels."""
    return _LAYERS[check_task(task)]


def task_aspect(task: str) -> float:
    """Frame width / height of ``task``."""
    return _ASPECTS[check_task(task)]


def task_points(task: str) -> tuple[str | None, str | None]:
    """(JSON file stem, format) of the per-frame points of ``task`` in a clip folder, or (None, None) for none."""
    return _POINTS[check_task(task)]


def has_points(task: str) -> bool:
    """Whether ``task`` has per-frame points (keypoints or landmarks) that its semantic maps are drawn from."""
    return task_points(task)[0] is not None


def frame_size(task: str, size: int) -> tuple[int, int]:
    """(height, width) of a ``size``-px frame: height = size, width = size * aspect rounded to a multiple of 8."""
    return size, max(8, int(round(size * task_aspect(task) / 8.0)) * 8)
