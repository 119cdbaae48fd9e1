#!/usr/bin/env bash
# The validation-split choice of the bundled models' guard band (docs/results.md): the same
# trained weights exported with the correction switched off below bin K (K = 0: the whole band;
# 232: below 5 kHz, which holds every band STOI scores; 372: below 8 kHz, the codec's band).
# The per-bin input gain applies over the whole band in every variant.
# Usage: scripts/guard.sh DATASET N1_CHECKPOINT N5_CHECKPOINT OUT_DIR      (about 10 minutes)
set -euo pipefail
data=$(realpath "$1")
n1=$2
n5=$3
out=$(realpath -m "$4")
mkdir -p "$out"
systems=(mp3)
for bin in 0 140 232 279 372; do
  spectral-enhance export "$n1" --out "$out/n1-from-$bin" --name "n1-from-$bin" \
    --precisions fp32 --model-option correction_from_bin=$bin > /dev/null
  systems+=("n1-from-$bin@fp32")
done
for bin in 0 232; do
  spectral-enhance export "$n5" --out "$out/n5-from-$bin" --name "n5-from-$bin" \
    --precisions fp32 --model-option correction_from_bin=$bin > /dev/null
  systems+=("n5-from-$bin@fp32")
done
cd "$out"
spectral-enhance evaluate "$data" --split val --systems "${systems[@]}" --out evaluation
