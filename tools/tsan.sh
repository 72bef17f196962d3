#!/usr/bin/env bash
# The concurrency tests under ThreadSanitizer, in a build of their own:
#   bash tools/tsan.sh            (BUILD_DIR default: build-tsan, JOBS default: all cores)
# Builds the runtime, the built-in plugins and the tests that run Plexus from
# many host threads (Session, the C API, the runtime's lifetime and thread
# budget) with -fsanitize=thread, runs them, and fails on any report.
# tests/tsan.supp lists the system libraries TSan cannot see into (libgomp,
# libdnnl, libtbb) and why. -U__SANITIZE_THREAD__ keeps protobuf's headers
# from switching to a TSan layout that Debian's uninstrumented libprotobuf
# does not share; PLEXUS_TSAN tells our own code instead (the optimizer keeps
# its update out of OpenMP regions, whose barriers TSan cannot see).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build-tsan}
jobs=${JOBS:-$(nproc)}
flags="-fsanitize=thread -g -O1 -U__SANITIZE_THREAD__ -DPLEXUS_TSAN=1"
tests=(session_test c_api_test runtime_lifetime_test)

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread \
  -DCMAKE_MODULE_LINKER_FLAGS=-fsanitize=thread
cmake --build "$build" -j "$jobs" --target "${tests[@]}" \
  plexus_layers plexus_activations plexus_losses plexus_optimizers

# history_size=7 (the largest): with the default, TSan sometimes cannot
# restore the stack of a TBB worker's earlier read, and then no suppression
# can match it (a parallel optimizer step read against the map freed after it).
export TSAN_OPTIONS="suppressions=$root/tests/tsan.supp halt_on_error=0 exitcode=66 history_size=7"
status=0
for t in "${tests[@]}"; do
  log="$build/$t.tsan.log"
  if "$build/bin/$t" >"$log" 2>&1; then
    echo "tsan: $t: clean ($(grep -c '^\[       OK \]' "$log") tests)"
  else
    status=1
    echo "tsan: $t: FAILED ($(grep -c 'WARNING: ThreadSanitizer' "$log") reports); see $log" >&2
    grep -A20 'WARNING: ThreadSanitizer\|FAILED' "$log" | head -60 >&2 || true
  fi
done
exit $status
