#!/usr/bin/env bash
# Install the training corpus (Debian's freely licensed game soundtracks) and print its folders.
# Usage: scripts/get-corpus.sh      (needs root or sudo for apt-get)
set -euo pipefail
packages=(wesnoth-1.16-music warzone2100-music)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
fi
for p in "${packages[@]}"; do
  dpkg -L "$p" | grep -E '\.(ogg|opus|flac|wav|mp3)$' | xargs -r -n1 dirname
done | sort -u | awk 'NR==1 || index($0, prev "/") != 1 { print; prev = $0 }'
