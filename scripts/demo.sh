#!/usr/bin/env bash
# The demo: builds the tools (`release` preset) and runs the bundled MUTAG models —
#   models/mutag_gin_int8.qgnn  (INT8 GIN, the default model)
#   models/mutag_gin_f32.qgnn   (the float model it was quantized from, for comparison)
# on the bundled data set models/mutag.qgd: what the model is (qgnn-inspect), then accuracy and latency
# (qgnn-run) on the test split and on every graph.
#
# Environment: QGNN_JOBS (build jobs, default 2), QGNN_SKIP_DEPS=1 (skip scripts/install_deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${QGNN_JOBS:-2}
build=build/release
model=models/mutag_gin_int8.qgnn
float_model=models/mutag_gin_f32.qgnn
data=models/mutag.qgd

run() {
  echo
  echo "\$ $*"
  "$@"
}

if [ "${QGNN_SKIP_DEPS:-0}" != 1 ]; then
  # The demo itself needs neither Python nor the Cortex-M toolchain.
  scripts/install_deps.sh --no-python --no-embedded --no-cross
fi

echo "=== building the tools (cmake --preset release)"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs" --target qgnn-inspect qgnn-run

for f in "$model" "$float_model" "$data"; do
  if [ ! -f "$f" ]; then
    echo "demo: $f is missing; scripts/make_demo_models.sh makes the demo models (needs the Python set of" >&2
    echo "      scripts/install_deps.sh and ../shared/datasets)" >&2
    exit 1
  fi
done

echo
echo "=== the default model"
run "$build/qgnn-inspect" "$model"

echo
echo "=== accuracy and latency, test split (one graph per invoke, 1 thread)"
run "$build/qgnn-run" "$model" "$data" --split test --repeat 20
run "$build/qgnn-run" "$float_model" "$data" --split test --repeat 20

echo
echo "=== every graph of the data set, 16 graphs per invoke"
run "$build/qgnn-run" "$model" "$data" --split all --batch 16 --repeat 20
run "$build/qgnn-run" "$float_model" "$data" --split all --batch 16 --repeat 20
