"""Data: the procedural benchmark, the clip-folder layout, drawing of semantic maps, and the PyTorch dataset."""
