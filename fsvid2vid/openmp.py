"""How torch's OpenMP threads wait for each other between operations: spin briefly, then sleep.

Every parallel operation ends with its threads waiting for the slowest. GNU OpenMP (libgomp, the runtime of the PyPI
torch wheels) lets a waiting thread spin ``GOMP_SPINCOUNT`` times (about 100,000 spins per millisecond) before it
sleeps; the wake-up of a sleeping thread costs more than a short operation. Measured on this project's 2-core AMD EPYC
machines (``bench train`` of ``configs/dance-128.yaml`` in bf16 at T = 2, two torch threads; docs/performance.md,
2026-12-04): sleeping at once (``OMP_WAIT_POLICY=PASSIVE``) 0.766 s per step, 1,000 spins first 0.663 s (means of
four runs each); next to another process busy on one of the two cores, spin counts 0 / 1,000 / 2,000 / 20,000 gave
2.18 / 2.18 / 2.59 / 3.56 s, and spinning without end (``OMP_WAIT_POLICY=ACTIVE``) made a step 14x slower
(2026-11-25, docs/training.md).

So the command line asks for a short spin, and for passive waiting where the spin count does not apply (another
OpenMP runtime; libgomp's threads beyond the cores the process may use). Either variable set by the user wins:

    openmp_wait_briefly()      # before torch loads: libgomp reads its settings once, when it is loaded
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

#: libgomp's spins before a waiting thread sleeps (a few microseconds)
SPIN_COUNT = 1000


def openmp_wait_briefly(environ: MutableMapping[str, str] = os.environ) -> None:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` and ``GOMP_SPINCOUNT`` in ``environ`` unless the user set either: then only the
    policy's default (passive) is added where missing, and the spin count is left to the user's choice."""
    chosen = "OMP_WAIT_POLICY" in environ or "GOMP_SPINCOUNT" in environ
    environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if not chosen:
        environ["GOMP_SPINCOUNT"] = str(SPIN_COUNT)
