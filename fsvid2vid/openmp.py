"""How torch's OpenMP threads wait for each other between operations: spin briefly, then sleep.

Every parallel operation ends with its threads waiting for the slowest. GNU OpenMP (libgomp, the runtime of the PyPI
torch wheels) lets a waiting thread spin ``GOMP_SPINCOUNT`` times (about 100,000 spins per millisecond) before it
sleeps; the wake-up of a sleeping thread costs more than a short operation. Measured on this project's 2-core AMD EPYC
machines (a bf16 training step of ``configs/dance-128.yaml`` at T = 2, two torch threads; docs/performance.md,
2026-12-04):

* sleeping at once (``OMP_WAIT_POLICY=PASSIVE``): 0.54-0.60 s at K = 1, 0.64-0.77 s at K = 4;
* spinning 1,000 times first (what the command line sets): 0.49-0.51 s and 0.59 s;
* with another process busy on one of the two cores: passive 2.47-2.52 s / 3.34-3.37 s; 1,000 spins 2.58 / 3.42;
  2,000 spins 2.71-2.75 / 3.51-3.55; 20,000 spins 4.94 / 6.00; spinning without end (``OMP_WAIT_POLICY=ACTIVE``)
  20.9 / 17.2 s.

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
