#!/usr/bin/env bash
# The bundled model on music it never heard and nothing was tuned on: the soundtracks of other
# Debian games, made into a dataset as the training corpus was and scored as the test split is,
# per bitrate, with its worst clips.
#   (default)  hedgewars-data (26 tracks) and supertux-data (51): orchestral, rock, chiptune,
#              ambient; Ogg Vorbis at 44.1 and 48 kHz (~35 min)
#   more       extremetuxracer-data (10 tracks) and neverball-data (8): a third and a fourth,
#              looked at only after the model and every setting were fixed (~15 min)
# Usage: scripts/unseen-music.sh DATA_DIR OUT_DIR [more]   (root or sudo for apt-get)
set -euo pipefail
data=$1
out=$2
set_name=${3:-}
if [ "$set_name" = more ]; then
  packages=(extremetuxracer-data neverball-data)
  folders=(/usr/share/games/etr/music /usr/share/games/neverball/bgm)
else
  packages=(hedgewars-data supertux-data)
  folders=(/usr/share/games/hedgewars/Data/Music /usr/share/games/supertux2/music)
fi
bash "$(dirname "$0")/apt-install.sh" "${packages[@]}"
spectral-enhance dataset "${folders[@]}" \
  --out "$data" --sample-rate 44100 --bitrates 32,48,64,96,128 --channels 2 --lame-rate \
  --clips-per-track 4 --jobs 2
# Every split is unheard music; the training split, the largest, spreads over most tracks.
spectral-enhance evaluate "$data" --split train --limit 250 \
  --systems mp3 naive dsp oracle-high full-band --out "$out"
python "$(dirname "$0")/unseen_music.py" "$data" "$out/results.csv"
