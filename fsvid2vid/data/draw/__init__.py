"""Drawing of semantic inputs from points: OpenPose-style skeletons, face sketches, label colourisation."""
