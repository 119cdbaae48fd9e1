#!/usr/bin/env bash
# Figure 2, the paper's visual guide to loss selection: N = 1 models trained with each loss for
# the same budget (2 epochs, one thread each, two at a time), then the spectrograms each makes of
# one test clip. The models are the band-limited form (correction above 8 kHz), the default when
# docs/results.md's figure was made. Usage: scripts/loss-figure.sh DATASET OUT_DIR [CLIP]   (~20 minutes on 2 cores)
set -euo pipefail
data=$1
out=$2
clip=${3:-casualties_of_war-e0c6dd22-0025}
mkdir -p "$out"
losses=(pixel ssim "pixel+0.5*ssim" mse mae kl log_spectral)
names=(pixel ssim pixel-ssim mse mae kl log-spectral)
pids=()
for i in "${!losses[@]}"; do
  spectral-enhance train "$data" --out "$out/${names[$i]}" --loss "${losses[$i]}" --epochs 2 \
    --val-clips 16 --threads 1 --model-option correction_from_bin=372 > "$out/${names[$i]}.log" 2>&1 &
  pids+=($!)
  if [ ${#pids[@]} -eq 2 ]; then wait "${pids[@]}"; pids=(); fi
done
wait
checkpoints=()
for name in "${names[@]}"; do checkpoints+=("$out/$name/last.pt"); done
spectral-enhance plot losses "$data" --clip "$clip" --checkpoints "${checkpoints[@]}" \
  --out "$out/losses.png"
python "$(dirname "$0")/summarize_runs.py" "${checkpoints[@]%/last.pt}"
