#!/usr/bin/env bash
# Installs the Debian packages qgnn needs. Idempotent: asks dpkg which packages are missing and only then
# runs apt-get update + install (through sudo when not root).
#
# Usage: scripts/install_deps.sh [--no-python] [--no-embedded] [--no-cross] [--fuzz]
#   --no-python    skip the Python set (python3-torch is large); the demo does not need it, the tests do.
#   --no-embedded  skip the arm-none-eabi toolchain and qemu-system-arm (Cortex-M presets and firmware).
#   --no-cross     skip the arm64 cross compiler and qemu-user (scripts/ci_aarch64.sh).
#   --fuzz         also install clang and its libFuzzer runtime (the `fuzz` preset, scripts/ci_fuzz.sh).
# The same switches as environment variables: QGNN_DEPS_NO_PYTHON=1, QGNN_DEPS_NO_EMBEDDED=1, QGNN_DEPS_FUZZ=1,
# QGNN_DEPS_NO_CROSS=1.
set -euo pipefail

no_python=${QGNN_DEPS_NO_PYTHON:-0}
no_embedded=${QGNN_DEPS_NO_EMBEDDED:-0}
no_cross=${QGNN_DEPS_NO_CROSS:-0}
with_fuzz=${QGNN_DEPS_FUZZ:-0}
for arg in "$@"; do
  case "$arg" in
    --no-python) no_python=1 ;;
    --no-embedded) no_embedded=1 ;;
    --no-cross) no_cross=1 ;;
    --fuzz) with_fuzz=1 ;;
    -h | --help)
      sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "install_deps.sh: unknown argument '$arg'" >&2
      exit 2
      ;;
  esac
done

packages=(
  # Build
  build-essential cmake ninja-build pkg-config git clang-format
  # Libraries
  libflatbuffers-dev flatbuffers-compiler libeigen3-dev libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev libxnnpack-dev libpthreadpool-dev libcpuinfo-dev
  # Benchmarks and tooling: SuiteSparse:GraphBLAS, the aggregation peer of qgnn-bench-peers (bench/peers,
  # scripts/bench-report). Optional for the build: without it that benchmark is not built and its test skips.
  libgraphblas-dev
)
if [ "$no_embedded" != 1 ]; then
  packages+=(gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib binutils-arm-none-eabi)
  # Runs the Cortex-M4 / M55 firmware example under emulation (scripts/ci_cortex_m.sh).
  packages+=(qemu-system-arm)
fi
if [ "$no_cross" != 1 ]; then
  # arm64 Linux cross build tested under user-mode qemu (scripts/ci_aarch64.sh). Its arm64 libraries are never
  # installed here: that script unpacks them into a private sysroot.
  packages+=(g++-aarch64-linux-gnu qemu-user)
fi
if [ "$with_fuzz" = 1 ]; then
  # libFuzzer targets (fuzz/, scripts/ci_fuzz.sh): clang and its runtime libraries (libFuzzer, ASan, UBSan).
  packages+=(clang libclang-rt-14-dev)
fi
if [ "$no_python" != 1 ]; then
  # Always used through /usr/bin/python3: these are Debian's modules, not a pyenv/venv's.
  packages+=(python3 python3-numpy python3-scipy python3-flatbuffers python3-pytest python3-torch libopenblas0-pthread)
  # Fashion-MNIST IDX files in /usr/share/datasets/fashion-mnist (python3 -m qgnn.data fashion-mnist; a test).
  packages+=(dataset-fashion-mnist)
  # Plots of docs/performance.md (scripts/bench-report).
  packages+=(python3-matplotlib)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install_deps: installing ${#missing[@]} missing package(s): ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "install_deps: not root and no sudo; install these packages by hand: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install_deps: done"
