#!/usr/bin/env bash
# `make demo`: the bundled dance model animates an unseen (test-split) dancer, from K = 2 example frames (its front
# and its back), with the motion of another unseen dancer; then benchmark samples of the face and street tasks.
# Prints where everything is.
set -euo pipefail
PY=${PY:-.venv/bin/python}
OUT=${DEMO_OUT:-outputs/demo}
MODEL=${MODEL:-models/dance-128.safetensors}
SIZE=${SIZE:-$(basename "$MODEL" .safetensors | sed 's/.*-//')}  # frame height the model was trained at
mkdir -p "$OUT"

# Two unseen dancers (test split) at the model's size, and dancer 1000000 performing dancer 1000001's motion: the
# driving clip's RGB frames are the ground truth of what the model should produce.
"$PY" -m fsvid2vid data synth --task dance --split test --subjects 2 --clips-per-subject 1 --cross-identity 1 \
  --frames 45 --size "$SIZE" --out "$OUT/dance-data" --overwrite --quiet
# The two examples are chosen as `evaluate` chooses them (fsvid2vid.data.views): the most frontal and the
# most-behind frame of the dancer's own clip.
PICKED=$("$PY" -c 'import sys; from pathlib import Path; from fsvid2vid.eval.pairs import example_paths
print(*example_paths(Path(sys.argv[1]), 2), sep="\n")' "$OUT/dance-data/s1000000_c00")
mapfile -t EXAMPLES <<< "$PICKED"
"$PY" -m fsvid2vid generate --checkpoint "$MODEL" --examples "${EXAMPLES[@]}" \
  --driving "$OUT/dance-data/s1000000_x1000001_c00" --out "$OUT/dance.mp4" --side-by-side --sheet "$OUT/dance-sheet.png" --overwrite --quiet


for task in face street; do
  "$PY" -m fsvid2vid data synth --task "$task" --split test --subjects 4 --clips-per-subject 1 --frames 30 \
    --size 128 --out "$OUT/$task-data" --overwrite --quiet
  "$PY" -m fsvid2vid data sheet "$OUT/$task-data" --out "$OUT/$task-data-sheet.png" --subjects 4 --frames 4 --overwrite
  first=$(ls -d "$OUT/$task-data"/s*_c00 | head -n 1)
  "$PY" -m fsvid2vid data preview "$first" --out "$OUT/$task-data-preview.mp4" --overwrite
done
echo
echo "Demo outputs:"
echo "  $OUT/dance.mp4                 the bundled model: unseen dancer 1000000 (2 examples) with dancer 1000001's motion"
echo "  $OUT/dance-side-by-side.mp4    skeleton | examples | generated | ground truth"
echo "  $OUT/dance-sheet.png           contact sheet: examples, then skeleton | generated | ground truth"
echo "  $OUT/face-data-sheet.png, $OUT/street-data-sheet.png and *-preview.mp4: benchmark samples (no bundled model yet)"
echo
echo "Web app (docs/app.md): $PY -m fsvid2vid app (or make app), then open the address it prints"
