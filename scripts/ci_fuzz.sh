#!/usr/bin/env bash
# Fuzzing CI stage (fuzz/, docs/reliability.md): builds the libFuzzer targets with clang + ASan + UBSan (`fuzz`
# preset), replays every saved regression input, then fuzzes each target for a fixed time from the seed
# corpora (bundled models, MUTAG graphs). Any crash, leak, sanitizer report or broken invariant fails the stage
# and leaves the input under <build>/artifacts/ (turn it into a test in tests/runtime and a file in
# fuzz/regressions/<target>/).
# Usage: scripts/ci_fuzz.sh    QGNN_FUZZ_SECONDS: per target (default 60); QGNN_FUZZ_BUILD_DIR (default
#        build/fuzz); QGNN_JOBS (default 2); QGNN_SKIP_DEPS=1 skips scripts/install_deps.sh --fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${QGNN_FUZZ_SECONDS:-60}
build=${QGNN_FUZZ_BUILD_DIR:-build/fuzz}
jobs=${QGNN_JOBS:-2}
if [ "${QGNN_SKIP_DEPS:-0}" != 1 ]; then scripts/install_deps.sh --fuzz; fi

cmake --preset fuzz -B "$build" >/dev/null
cmake --build "$build" -j "$jobs" --target fuzz_model_load fuzz_graph_invoke

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
PYTHONPATH="$PWD/python" /usr/bin/python3 fuzz/make_seeds.py "$work/seeds"
mkdir -p "$build/artifacts"

status=0
for target in model_load graph_invoke; do
  bin=$build/fuzz/fuzz_$target
  max_len=8192
  [ "$target" = model_load ] && max_len=131072
  regressions=(fuzz/regressions/$target/*)
  if [ -e "${regressions[0]}" ]; then
    echo "--- fuzz_$target: replaying ${#regressions[@]} regression input(s)"
    "$bin" -rss_limit_mb=2048 "${regressions[@]}" >"$work/replay-$target.log" 2>&1 ||
      { tail -40 "$work/replay-$target.log"; status=1; }
  fi
  echo "--- fuzz_$target: ${seconds} s from $(ls "$work/seeds/$target" | wc -l) seeds"
  mkdir -p "$work/corpus-$target"
  if "$bin" -max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$target-" "$work/corpus-$target" "$work/seeds/$target" \
    >"$work/$target.log" 2>&1; then
    grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' \
      "$work/$target.log" || true
    echo "fuzz_$target: corpus $(ls "$work/corpus-$target" | wc -l) inputs, no findings"
  else
    tail -60 "$work/$target.log"
    echo "ci_fuzz: fuzz_$target found a failure; inputs in $build/artifacts/" >&2
    status=1
  fi
done
exit "$status"
