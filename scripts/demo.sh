#!/usr/bin/env bash
# `make demo`: each bundled model (models/<task>-128.safetensors: dance, face, street) animates an unseen subject
# of its task (test split), from K = 2 example frames of it, with the motion of another unseen subject; the driving
# clip's own frames are the ground truth. A task without a bundled model gets benchmark samples instead.
# Prints where everything is.
set -euo pipefail
PY=${PY:-.venv/bin/python}
OUT=${DEMO_OUT:-outputs/demo}
MODELS=${MODELS:-models}  # the folder holding <task>-<size>.safetensors
FRAMES=${FRAMES:-30}
mkdir -p "$OUT"

shown=()
for task in dance face street; do
  model=""
  for size in 512 256 128 64; do  # the largest frame size bundled for the task
    [ -z "$model" ] && [ -f "$MODELS/$task-$size.safetensors" ] && model="$MODELS/$task-$size.safetensors"
  done
  if [ -z "$model" ]; then  # no bundled model: what the benchmark's subjects of this task look like
    "$PY" -m fsvid2vid data synth --task "$task" --split test --subjects 4 --clips-per-subject 1 --frames 30 \
      --size 128 --out "$OUT/$task-data" --overwrite --quiet
    "$PY" -m fsvid2vid data sheet "$OUT/$task-data" --out "$OUT/$task-data-sheet.png" --subjects 4 --frames 4 --overwrite
    first=$(ls -d "$OUT/$task-data"/s*_c00 | head -n 1)
    "$PY" -m fsvid2vid data preview "$first" --out "$OUT/$task-data-preview.mp4" --overwrite
    shown+=("  $OUT/$task-data-sheet.png, $OUT/$task-data-preview.mp4: benchmark samples ($task: no bundled model)")
    continue
  fi
  size=$(basename "$model" .safetensors | sed 's/.*-//')  # the frame height the model was trained at
  # Two unseen subjects (test split) at the model's size, and the first performing the second's motion.
  "$PY" -m fsvid2vid data synth --task "$task" --split test --subjects 2 --clips-per-subject 1 --cross-identity 1 \
    --frames "$FRAMES" --size "$size" --out "$OUT/$task-data" --overwrite --quiet
  own=$(ls -d "$OUT/$task-data"/s*_c00 | grep -v _x | head -n 1)  # the subject's own clip: its examples
  driving=$(ls -d "$(dirname "$own")/$(basename "$own" _c00)"_x*_c00 | head -n 1)  # it, with the other's motion
  # The two examples are chosen as `evaluate` chooses them (fsvid2vid.data.views): for a dancer its most frontal and
  # its most-behind frame, for a face the two farthest-apart turns.
  picked=$("$PY" -c 'import sys; from pathlib import Path; from fsvid2vid.eval.pairs import example_paths
print(*example_paths(Path(sys.argv[1]), 2), sep="\n")' "$own")
  mapfile -t examples <<< "$picked"
  "$PY" -m fsvid2vid generate --checkpoint "$model" --examples "${examples[@]}" \
    --driving "$driving" --out "$OUT/$task.mp4" --side-by-side \
    --sheet "$OUT/$task-sheet.png" --overwrite --quiet
  shown+=("  $OUT/$task.mp4, $OUT/$task-side-by-side.mp4 (semantic input | examples | generated | ground truth),"
          "    $OUT/$task-sheet.png (examples, then input | generated | ground truth): $(basename "$model"), an unseen"
          "    $task subject (2 examples) with another unseen subject's motion")
done
echo
echo "Demo outputs:"
printf '%s\n' "${shown[@]}"
echo
echo "Web app (docs/app.md): $PY -m fsvid2vid app (or make app), then open the address it prints"
