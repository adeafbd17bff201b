"""Loading mediapipe, an optional dependency (the ``real`` extra), with a one-line error when it is absent."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from fsvid2vid.errors import UserError

#: The mediapipe release the index tables and tests were checked with.
MEDIAPIPE_VERSION = "0.10.14"


def mediapipe_solutions() -> ModuleType:
    """``mediapipe.solutions``, or a one-line :class:`UserError` saying how to install it."""
    os.environ.setdefault("GLOG_minloglevel", "2")  # mediapipe's C++ logging: warnings and errors only
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"SymbolDatabase\.GetPrototype", category=UserWarning)
            import mediapipe as mp
    except ImportError as exc:
        raise UserError(f"real footage needs mediapipe=={MEDIAPIPE_VERSION} ({exc}); install the extra with "
                        "`pip install -r requirements-real.lock` or re-run scripts/install.sh") from None
    warnings.filterwarnings("ignore", message=r"SymbolDatabase\.GetPrototype", category=UserWarning)
    return mp.solutions


@contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null inside the block.

    mediapipe's TFLite and absl print INFO/WARNING lines straight to fd 2 from C++ ("Created TensorFlow Lite XNNPACK
    delegate", "Feedback manager requires a model with a single signature"), which no log level turns off before
    absl is initialised. Python exceptions still propagate; wrap only the mediapipe calls, never progress output.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
