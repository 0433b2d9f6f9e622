#!/usr/bin/env bash
# The test command: installs the dependencies, builds the `release` preset and runs every test —
# the C++ suite through CTest and the Python tests with Debian's /usr/bin/python3.
#
# Environment: QGNN_JOBS (parallel build/test jobs, default 2), QGNN_SKIP_DEPS=1 (do not run
# scripts/install_deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${QGNN_JOBS:-2}

step() {
  local name=$1
  shift
  local start=$SECONDS
  echo "=== $name"
  "$@"
  echo "=== $name: $((SECONDS - start)) s"
}

if [ "${QGNN_SKIP_DEPS:-0}" != 1 ]; then
  step "install dependencies" scripts/install_deps.sh
fi
step "configure (release)" cmake --preset release
step "build (release)" cmake --build --preset release -j "$jobs"
step "C++ tests (ctest)" ctest --preset release -j "$jobs"

python_tests() {
  # Python tests may use the tools of this build.
  export QGNN_BUILD="$PWD/build/release"
  local rc=0
  PYTHONPATH=python /usr/bin/python3 -m pytest -q python/tests || rc=$?
  if [ "$rc" -eq 5 ]; then
    echo "python/tests: no tests collected"
    return 0
  fi
  return "$rc"
}
if [ -d python/tests ]; then
  step "Python tests (pytest)" python_tests
else
  echo "=== Python tests: python/tests does not exist, skipped"
fi
