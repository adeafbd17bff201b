"""Inference: generator files, the streaming synthesizer, and the generate command."""
