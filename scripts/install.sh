#!/usr/bin/env bash
# Create the virtual environment $VENV (default .venv) and install fsvid2vid with its pinned dependencies.
#
# torch: if the Python that creates the venv can already import torch (for example a CUDA build), the venv sees it
# through --system-site-packages and it is kept. Otherwise $TORCH_SPEC (default torch==2.13.0, the CPU wheel) is
# installed first; set PIP_TORCH_ARGS to pass pip extra arguments for it (for example PyTorch's CPU index URL).
# Nothing installed afterwards may replace torch or add torchvision: the check at the end fails the install if so.
# FSVID2VID_EXTRAS (default "real,ui") picks the optional extras, each with its requirements-<extra>.lock; set it
# empty to skip them all (mediapipe for real footage, gradio for the web app).
set -euo pipefail

VENV=${VENV:-.venv}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
PIP_TORCH_ARGS=${PIP_TORCH_ARGS:-}
# Optional extras, comma-separated; default "real,ui": real = mediapipe for real footage (~0.9 GB), ui = gradio for
# the web app (`fsvid2vid app`, ~200 MB) and selenium for its browser test (~40 MB). FSVID2VID_EXTRAS= skips both.
EXTRAS=${FSVID2VID_EXTRAS-real,ui}
if [ -z "${PYTHON:-}" ]; then
  PYTHON=$(command -v python3.11 || command -v python3 || true)
fi
if [ -z "$PYTHON" ] || ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "install: error: need Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi

if [ ! -x "$VENV/bin/python" ]; then
  if "$PYTHON" -c 'import torch' >/dev/null 2>&1; then
    echo "install: keeping the torch that $PYTHON already has ($("$PYTHON" -c 'import torch; print(torch.__version__)'))"
    "$PYTHON" -m venv --system-site-packages "$VENV"
  else
    "$PYTHON" -m venv "$VENV"
  fi
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)

if ! "$VENV/bin/python" -c 'import torch' >/dev/null 2>&1; then
  # shellcheck disable=SC2086
  "${PIP[@]}" install $PIP_TORCH_ARGS "$TORCH_SPEC"
fi
torch_before=$("$VENV/bin/python" -c 'import torch; print(torch.__version__)')

"${PIP[@]}" install -r requirements.lock
locks=()
for extra in ${EXTRAS//,/ }; do
  if [ -f "requirements-$extra.lock" ]; then locks+=(-r "requirements-$extra.lock"); fi
done
if [ ${#locks[@]} -gt 0 ]; then
  "${PIP[@]}" install -r requirements.lock "${locks[@]}"
fi
"${PIP[@]}" install --no-deps -e ".[dev${EXTRAS:+,$EXTRAS}]"

torch_after=$("$VENV/bin/python" -c 'import torch; print(torch.__version__)')
if [ "$torch_before" != "$torch_after" ]; then
  echo "install: error: a dependency replaced torch $torch_before with $torch_after" >&2
  exit 1
fi
if "$VENV/bin/python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("torchvision") is None)'; then
  echo "install: error: torchvision got installed; fsvid2vid must not depend on it" >&2
  exit 1
fi
if "$VENV/bin/python" -m pip --disable-pip-version-check list 2>/dev/null | grep -qiE '^opencv-python(-headless)? '; then
  echo "install: error: opencv-python(-headless) got installed next to opencv-contrib-python (both own cv2/)" >&2
  exit 1
fi
"${PIP[@]}" check >/dev/null || { "${PIP[@]}" check >&2; exit 1; }
echo "install: ok ($VENV, torch $torch_after)"
