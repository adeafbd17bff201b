"""Loading mediapipe, an optional dependency (the ``real`` extra), with a one-line error when it is absent."""

from __future__ import annotations

import os
from types import ModuleType

from fsvid2vid.errors import UserError

#: The mediapipe release the index tables and tests were checked with.
MEDIAPIPE_VERSION = "0.10.14"


def mediapipe_solutions() -> ModuleType:
    """``mediapipe.solutions``, or a one-line :class:`UserError` saying how to install it."""
    os.environ.setdefault("GLOG_minloglevel", "2")  # mediapipe's C++ logging: warnings and errors only
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import mediapipe as mp
    except ImportError as exc:
        raise UserError(f"real footage needs mediapipe=={MEDIAPIPE_VERSION} ({exc}); install the extra with "
                        "`pip install -r requirements-real.lock` or re-run scripts/install.sh") from None
    return mp.solutions
