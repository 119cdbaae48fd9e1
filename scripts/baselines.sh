#!/usr/bin/env bash
# The paper's learned baselines (Table 1) on the same corpus and CPU budget as the shipped N = 1
# model: 21 minutes of one core each (the N = 1 run's wall time, validation included), the loss
# of their papers (MSE on the waveform), random 8,192-sample crops, batch 32, a constant Adam
# learning rate as in their papers (3e-4 for the U-Nets, 1e-3 for WaveNet). Each run is then
# exported to ONNX (fp32, fp16, int8) in OUT_DIR/exports/NAME; from that folder, `spectral-enhance
# evaluate` takes them as NAME@fp32 (docs/results.md has the command).
# Usage: scripts/baselines.sh DATASET OUT_DIR    (two runs side by side, then the third: ~45 min)
set -euo pipefail
data=$1
out=$2
mkdir -p "$out"
run() {
  local arch=$1 lr=$2
  OMP_NUM_THREADS=1 spectral-enhance train "$data" --out "$out/$arch" --arch "$arch" \
    --lr "$lr" --lr-floor "$lr" --epochs 200 --max-minutes 21 --val-clips 48 --threads 1 \
    > "$out/$arch.log" 2>&1
  spectral-enhance export "$out/$arch/best.pt" --out "$out/exports/$arch" --name "$arch"
}
run audiounet 3e-4 &
run wavenet 1e-3 &
wait
run tfilm 3e-4
