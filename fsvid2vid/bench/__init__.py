"""``fsvid2vid bench``: how fast inference and training run on this machine, and why (docs/performance.md).

    fsvid2vid bench infer --checkpoint models/dance-128.safetensors --k 1 2 --precision fp32 bf16 --out infer.json
    fsvid2vid bench infer --preset paper --task street --height 256 --k 1 4 --frames 5
    fsvid2vid bench train --config configs/dance-128.yaml --T 2 --steps 5 --precision fp32 bf16 --out train.json
    fsvid2vid bench params --markdown          # parameter counts of every preset (docs/model.md)

Every run also measures this machine's fp32 and bf16 matmul rates, so its numbers can be read as ratios on a shared
machine. Modules: :mod:`~fsvid2vid.bench.measure` (timing, memory, FLOPs, profiles, the machine, tables),
:mod:`~fsvid2vid.bench.infer`, :mod:`~fsvid2vid.bench.train`, :mod:`~fsvid2vid.bench.params`, and
:mod:`~fsvid2vid.bench.command` (the command line). Built on ``infer`` and ``train``; only ``fsvid2vid.cli`` imports it.
"""

from fsvid2vid.bench.command import add_command, run  # light: argparse only, the rest is imported when it runs

__all__ = ["add_command", "run"]
