#!/usr/bin/env bash
# The paper's Table 1 and Figure 7(a) at CPU scale (docs/results.md): every method and every training-set size gets the
# same config (configs/repro/<task>-64.yaml) and budget, on dance, street and face. Safe to rerun: a finished run is
# skipped, an interrupted one resumes exactly. STEPS=N changes every run's budget (runs in runs/repro-N/, plots
# docs/img/results-N-*.png).
# Run it in the background, e.g.  nohup scripts/reproduce.sh train > runs/repro.log 2>&1 &
#
#   scripts/reproduce.sh train      render the data (once) and train every run into runs/repro/
#   scripts/reproduce.sh evaluate   evaluate every finished run into runs/repro/eval/, then write the tables and plots
#   scripts/reproduce.sh all        both
set -euo pipefail
cd "$(dirname "$0")/.."
FS=${FS:-.venv/bin/fsvid2vid}
PY=${PY:-.venv/bin/python}
export OMP_WAIT_POLICY=PASSIVE
STAGE=${1:-all}
STEPS=${STEPS:-2000}  # the budget of every run (configs/repro: 2000); another budget gets its own folders
if [ "$STEPS" = 2000 ]; then  # RUNS and PLOTS_PREFIX (docs/img/<prefix>-fig7b.png) can be given too
  RUNS=${RUNS:-runs/repro} PLOTS_PREFIX=${PLOTS_PREFIX:-results}
else
  RUNS=${RUNS:-runs/repro-$STEPS} PLOTS_PREFIX=${PLOTS_PREFIX:-results-$STEPS}
fi
# A subset of the runs: e.g. TASKS=street METHODS="concat_style adain" scripts/reproduce.sh train
read -ra METHODS <<< "${METHODS:-ours encoder concat_style adain}"
read -ra TASKS <<< "${TASKS:-dance street face}"
read -ra SUBJECTS <<< "${SUBJECTS-5 20}"  # Figure 7(a): ours on fewer subjects (150, the Table 1 run, is the last point)
# TRAIN_SET="KEY=VALUE ..." adds --set KEY=VALUE to every training run, e.g. TRAIN_SET="loss.example_share=0" for the
# recipe before the share loss (docs/results.md).
# Training seeds of the Table 1 runs: seed 0 is <task>-<method>, seed N <task>-<method>-seedN (the seed table of
# eval/results.py shows each method's mean and spread), e.g. SEEDS="0 1 2" METHODS="ours adain" TASKS=dance
read -ra SEEDS <<< "${SEEDS:-0}"

render() {  # render TASK SUBJECTS OUT (the marker names the benchmark version: older data is rendered again)
  local marker
  marker="$3/.complete-v$("$PY" -c "from fsvid2vid.data.synth.version import oldest_current as v; print(v('$1'))")"
  [ -f "$marker" ] && return
  "$FS" data synth --task "$1" --split train --subjects "$2" --clips-per-subject 3 --frames 24 --size 64 --out "$3" \
    --quiet --overwrite
  touch "$marker"
}

train_run() {  # train_run NAME CONFIG [--set ...]
  local out=$RUNS/$1 config=$2
  shift 2
  local resume=() extra=()
  [ -f "$out/checkpoints/latest.json" ] && resume=(--resume)
  for setting in ${TRAIN_SET-}; do extra+=(--set "$setting"); done  # TRAIN_SET="KEY=VALUE ...": every run
  echo "== $out ($(date -u +%FT%TZ))"
  "$FS" train --config "$config" --out "$out" --quiet --steps "$STEPS" "${resume[@]}" "$@" ${extra[@]+"${extra[@]}"}
}

if [ "$STAGE" = train ] || [ "$STAGE" = all ]; then
  for task in "${TASKS[@]}"; do
    render "$task" 150 "data/$task-train-64"
    for seed in "${SEEDS[@]}"; do
      suffix=""
      [ "$seed" = 0 ] || suffix="-seed$seed"
      for method in "${METHODS[@]}"; do
        warp=()  # the baselines have no E_A to mix the examples' warps or carry their look: they warp the one
        #          nearest example (eq. 11), and H reads s_t alone
        [ "$method" = ours ] || warp=(--set model.generator.example_warp=argmax --set model.generator.example_aligned=false)
        train_run "$task-$method$suffix" "configs/repro/$task-64.yaml" --set "model.generator.conditioning=$method" \
          --set "run.seed=$seed" "${warp[@]}"
      done
    done
    if [ "$task" = dance ]; then  # Figure 7(a) before the (slower, 2x wider) street runs
      for n in ${SUBJECTS[@]+"${SUBJECTS[@]}"}; do
        render dance "$n" "data/dance-train-64-s$n"
        train_run "dance-ours-s$n" configs/repro/dance-64.yaml --data "data/dance-train-64-s$n"
      done
    fi
  done
fi

if [ "$STAGE" = evaluate ] || [ "$STAGE" = all ]; then
  mkdir -p "$RUNS/eval"
  for run in "$RUNS"/*/; do
    name=$(basename "$run")
    [ -f "$run/checkpoints/latest.json" ] || continue
    ckpt=$(.venv/bin/python - "$run" <<'PY'
import json, sys, yaml
from pathlib import Path
run = Path(sys.argv[1])
latest = json.loads((run / "checkpoints" / "latest.json").read_text())
steps = yaml.safe_load((run / "config.yaml").read_text())["schedule"]["steps"]
print(run / "checkpoints" / f"{latest['stem']}.safetensors" if latest["step"] >= steps else "")
PY
)
    if [ -z "$ckpt" ]; then echo "== $name: not finished, skipped"; continue; fi
    [ "$name" = eval ] && continue
    [ -f "$RUNS/eval/$name.json" ] && continue
    echo "== evaluate $name ($(date -u +%FT%TZ))"
    "$FS" evaluate --checkpoint "$ckpt" --task "${name%%-*}" --split test --k 1 2 4 8 --max-clips 16 --frames 24 \
      --out "$RUNS/eval/$name.json" --quiet
  done
  .venv/bin/python -m fsvid2vid.eval.results "$RUNS/eval" --plots docs/img --prefix "$PLOTS_PREFIX" \
    | tee "$RUNS/eval/tables.md"
fi
