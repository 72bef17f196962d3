#!/usr/bin/env bash
# The README's quick start:
#   bash tools/quickstart.sh train   install what is missing, build, train the default model
#   bash tools/quickstart.sh test    install what is missing, build, run the whole test suite
# BUILD_DIR (default: build) and JOBS (default: all cores) may be set.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
jobs=${JOBS:-$(nproc)}
what=${1:-train}

bash "$root/tools/install-deps.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j "$jobs"

case "$what" in
  train)
    shift || true
    exec "$build/bin/plexus" train "$root/models/mnist_mlp.pbtxt" "$@"
    ;;
  test)
    cd "$build"
    exec ctest --output-on-failure -j "$jobs"
    ;;
  *)
    echo "usage: bash tools/quickstart.sh train|test" >&2
    exit 2
    ;;
esac
