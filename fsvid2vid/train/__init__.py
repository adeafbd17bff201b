"""Training: configuration, checkpoints and the trainer."""
