#!/usr/bin/env bash
# The full-band model (issue 12), from the corpus to the bundled export, as it was made.
# Usage: scripts/full-band.sh DATA_DIR RUNS_DIR      (about 2 hours on 2 cores)
#   1. the corpus at 44.1 kHz stereo, five bitrates at LAME's own rate, 24 clips per track;
#   2. the STFT chosen on validation: 2,048 points with hop 512 (the paper's 21.5 Hz / 11.6 ms)
#      against hop 1,024 (half the work), 20 minutes each, side by side on one thread each;
#   3. the chosen one trained on, resumed with both threads (RESUME_MINUTES, default 40).
set -euo pipefail
data=$1
runs=$2
mkdir -p "$runs"
# shellcheck disable=SC2046
spectral-enhance dataset $(bash "$(dirname "$0")/get-corpus.sh") --out "$data" \
  --sample-rate 44100 --bitrates 32,48,64,96,128 --channels 2 --lame-rate \
  --clips-per-track 24 --jobs 2
common=(--arch band --batch-size 32 --val-clips 60 --max-minutes 20 --threads 1)
spectral-enhance train "$data" --out "$runs/hop512" "${common[@]}" --crop-frames 128 \
  > "$runs/hop512.log" 2>&1 &
spectral-enhance train "$data" --out "$runs/hop1024" "${common[@]}" --crop-frames 64 \
  --model-option hop_length=1024 > "$runs/hop1024.log" 2>&1 &
wait
python "$(dirname "$0")/summarize_runs.py" "$runs/hop512" "$runs/hop1024"
# 3. the chosen STFT's run continued on both threads (its folder and minutes as arguments)
chosen=${CHOSEN:-hop512}
spectral-enhance train "$data" --out "$runs/$chosen" --resume --max-minutes "${RESUME_MINUTES:-40}" \
  > "$runs/$chosen-resumed.log" 2>&1
python "$(dirname "$0")/summarize_runs.py" "$runs/$chosen"
# 4. export (int8 bundled) and the test split, per bitrate, beside the oracles and dsp
spectral-enhance export "$runs/$chosen/best.pt" --out "$runs/full-band" --name full-band \
  --training-data "wesnoth-1.16-music + warzone2100-music, 44.1 kHz stereo, 32-128 kbps"
spectral-enhance evaluate "$data" --split test --limit 250 --out "$runs/test" \
  --systems mp3 dsp oracle-high oracle-low "$runs/full-band@int8"
spectral-enhance plot spectrograms "$data" --model "$runs/full-band" --out "$runs/spectrograms-48k.png" \
  --clip "${FIGURE_CLIP:?the 48 kbps test clip to draw}"
