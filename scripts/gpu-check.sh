#!/usr/bin/env bash
# The GPU path, checked on a machine with CUDA (the project's CI has none): a short training run in bf16 and in fp32,
# and the inference and training benchmarks with --device cuda in both precisions. Writes its reports to $OUT.
# Usage: bash scripts/gpu-check.sh   (PY=.venv/bin/python, OUT=outputs/gpu-check)
set -euo pipefail
PY=${PY:-.venv/bin/python}
OUT=${OUT:-outputs/gpu-check}
mkdir -p "$OUT"
"$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else "gpu-check: this torch sees no CUDA device")'
"$PY" -m fsvid2vid data synth --task dance --split train --subjects 4 --clips-per-subject 2 --frames 12 --size 64 \
  --out "$OUT/data" --overwrite --quiet
for precision in bf16 fp32; do
  "$PY" -m fsvid2vid train --config configs/repro/dance-64.yaml --data "$OUT/data" --out "$OUT/run-$precision" \
    --steps 20 --device cuda --set run.precision=$precision --set schedule.single_frame_steps=10 --quiet
done
"$PY" -m fsvid2vid bench infer --checkpoint models/dance-128.safetensors --k 1 4 --precision fp32 bf16 \
  --device cuda --end-to-end --out "$OUT/infer.json" --overwrite --markdown
"$PY" -m fsvid2vid bench infer --preset paper --task face --k 1 4 --precision fp32 bf16 --device cuda \
  --out "$OUT/infer-paper.json" --overwrite --markdown
"$PY" -m fsvid2vid bench train --config configs/dance-128.yaml --T 2 --precision fp32 bf16 --device cuda \
  --out "$OUT/train.json" --overwrite --markdown
echo "gpu-check: ok ($OUT)"
