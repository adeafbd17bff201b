#!/usr/bin/env bash
# `make demo`: render unseen (test-split) subjects of the three benchmark tasks, a contact sheet and a side-by-side
# mp4 for each, and print where they are.
set -euo pipefail
PY=${PY:-.venv/bin/python}
OUT=${DEMO_OUT:-outputs/demo}
mkdir -p "$OUT"
for task in dance face street; do
  "$PY" -m fsvid2vid data synth --task "$task" --split test --subjects 4 --clips-per-subject 1 --cross-identity 1 \
    --frames 45 --size 128 --out "$OUT/$task" --overwrite --quiet
  "$PY" -m fsvid2vid data sheet "$OUT/$task" --out "$OUT/$task-sheet.png" --subjects 4 --frames 4
  first=$(ls -d "$OUT/$task"/s*_c00 | head -n 1)
  "$PY" -m fsvid2vid data preview "$first" --out "$OUT/$task-preview.mp4"
done
echo
echo "Demo outputs (benchmark samples of unseen test subjects; the trained-model demo arrives with generate):"
ls -1 "$OUT"/*.png "$OUT"/*.mp4
