#!/usr/bin/env bash
# Install the training corpus (Debian's freely licensed game soundtracks) and print its folders.
# Usage: scripts/get-corpus.sh      (needs root or sudo for apt-get)
set -euo pipefail
packages=(wesnoth-1.16-music warzone2100-music)
bash "$(dirname "$0")/apt-install.sh" "${packages[@]}"
for p in "${packages[@]}"; do
  dpkg -L "$p" | grep -E '\.(ogg|opus|flac|wav|mp3)$' | xargs -r -n1 dirname
done | sort -u | awk 'NR==1 || index($0, prev "/") != 1 { print; prev = $0 }'
