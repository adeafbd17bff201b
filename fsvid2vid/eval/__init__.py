"""Evaluation (docs/evaluation.md).

* ``metrics``: the metric functions (L1, PSNR, SSIM, Fréchet distance, point error, segmentation scores, warping
  error), each tested on known answers;
* ``heatmaps``: heatmap targets and their decoding into pixels;
* ``evaluator``: the evaluator networks (keypoints, landmarks, segmentation) and their files;
* ``training``: training the evaluators and measuring their own accuracy;
* ``pairs``: which clips evaluate an unseen subject (examples, driving, ground truth);
* ``inception``: the optional TorchScript Inception feature extractor of the standard FID;
* ``sheet``: contact sheets shared by generate, training reports and evaluate;
* ``evaluate``: the ``fsvid2vid evaluate`` command;
* ``command``: the command line of ``evaluate`` and ``evaluator train|score`` (arguments only; imports nothing heavy).
"""
