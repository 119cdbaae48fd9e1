#!/usr/bin/env bash
# The short validation-split comparison behind the default model (docs/training.md): the paper's
# plain form against the residual form, with and without the per-bin input gain and the
# band-limited correction. Each run: N = 1, pixel + 0.5 SSIM, 3 epochs, one thread.
# Usage: scripts/ablation.sh DATASET OUT_DIR      (two runs at a time; about 15 minutes on 2 cores)
set -euo pipefail
data=$1
out=$2
mkdir -p "$out"
common=(--epochs 3 --val-clips 32 --threads 1)
run() {
  local name=$1
  shift
  spectral-enhance train "$data" --out "$out/$name" "${common[@]}" "$@" > "$out/$name.log" 2>&1
}
run plain --plain &
run residual --model-option input_gain=false --model-option correction_from_bin=0 &
wait
run residual-gain &
run residual-gain-band --model-option correction_from_bin=372 &
wait
python "$(dirname "$0")/summarize_runs.py" "$out"/plain "$out"/residual "$out"/residual-gain "$out"/residual-gain-band
