#!/usr/bin/env bash
# The bundled model on music it never heard and nothing was tuned on: the soundtracks of two
# other Debian games (hedgewars-data, 26 tracks; supertux-data, 51; orchestral, rock, chiptune,
# ambient; Ogg Vorbis at 44.1 and 48 kHz), made into a dataset as the training corpus was and
# scored as the test split is, per bitrate, with its worst clips.
# Usage: scripts/unseen-music.sh DATA_DIR OUT_DIR   (needs root or sudo for apt-get; ~35 min)
set -euo pipefail
data=$1
out=$2
bash "$(dirname "$0")/apt-install.sh" hedgewars-data supertux-data
spectral-enhance dataset /usr/share/games/hedgewars/Data/Music /usr/share/games/supertux2/music \
  --out "$data" --sample-rate 44100 --bitrates 32,48,64,96,128 --channels 2 --lame-rate \
  --clips-per-track 4 --jobs 2
# Every split is unheard music; the training split, the largest, spreads over 66 tracks.
spectral-enhance evaluate "$data" --split train --limit 250 \
  --systems mp3 naive dsp oracle-high full-band --out "$out"
python "$(dirname "$0")/unseen_music.py" "$data" "$out/results.csv"
