#!/usr/bin/env bash
# Installs the Debian 12 packages Plexus builds against, only those missing.
# Harmless when everything is present: it then runs no apt-get at all.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libdnnl-dev libtbb-dev
  libboost-dev libboost-program-options-dev libboost-filesystem-dev
  libprotobuf-dev protobuf-compiler
  googletest libgtest-dev
  zlib1g-dev
  python3
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "plexus setup: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
