"""Real footage in, dataset layout out: detection (mediapipe), tracking, smoothing, body-part maps, retargeting.

One concept per module:

* :mod:`.mp` -- loading mediapipe (an optional extra) with a one-line error when it is missing;
* :mod:`.pose` -- mediapipe Pose -> COCO-18 keypoints and a person mask;
* :mod:`.face` -- mediapipe FaceMesh -> dlib-68 landmarks;
* :mod:`.parts` -- the 15-class body-part map of the dance task from keypoints (and a silhouette);
* :mod:`.track` -- following one person or face through a video;
* :mod:`.smooth` -- gap filling and temporal smoothing of point tracks;
* :mod:`.crop` -- the crop box around a person or a face, and cutting it out;
* :mod:`.retarget` -- mapping a driving pose / face to the example subject's proportions and placement;
* :mod:`.prepare` -- videos and photos -> clip folders and example sets (the ``prepare`` command).
"""
