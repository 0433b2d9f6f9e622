#!/usr/bin/env bash
# arm64 CI stage: cross-builds the `aarch64` preset (NEON and NEON dot-product kernel twins) with Debian's
# g++-aarch64-linux-gnu and runs the kernel and runtime tests under qemu-aarch64 (user mode):
#
#   -cpu max        (has the dot product): QGNN_ISA=neondot, neon and reference
#   -cpu cortex-a53 (no dot product):      QGNN_ISA=neon and reference, and neondot must be refused
#
# Every twin is compared with the reference byte for byte by the kernel tests; the runtime tests check the
# end-to-end numerics through the table QGNN_ISA forces. Timings under qemu mean nothing and are not taken.
#
# The arm64 libraries (GoogleTest, FlatBuffers, Eigen, nlohmann_json, cpuinfo, pthreadpool) are NOT installed
# as multiarch packages: libpthreadpool-dev:arm64 and friends are Multi-Arch: no, and installing them would
# remove the amd64 ones. They are fetched with `apt-get download` into build/aarch64-debs and unpacked with
# `dpkg-deb -x` into build/aarch64-sysroot (cmake/toolchains/aarch64-linux-gnu.cmake reads it). Both are
# kept between runs: nothing is downloaded or unpacked again while the package list is unchanged.
#
# Environment: QGNN_JOBS (build jobs, default 2), QGNN_SKIP_DEPS=1 (no apt at all: everything is present).
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${QGNN_JOBS:-2}
debs=$PWD/build/aarch64-debs
export QGNN_AARCH64_SYSROOT=${QGNN_AARCH64_SYSROOT:-$PWD/build/aarch64-sysroot}
bin=build/aarch64

# Libraries of the target: the -dev packages and the shared libraries they link to. XNNPACK is left out:
# without it the build keeps its reference FP32 path, and its arm64 int8 requantization is not bit-exact
# with the x86 one anyway.
# Architecture: all packages (headers only) have no :arm64 flavour.
arm64_packages=(libgtest-dev libgmock-dev libflatbuffers-dev libflatbuffers2 libcpuinfo-dev libcpuinfo0
  libpthreadpool-dev libpthreadpool0)
all_packages=(libeigen3-dev nlohmann-json3-dev)
target_packages=("${arm64_packages[@]}" "${all_packages[@]}")

step() {
  local name=$1
  shift
  local start=$SECONDS
  echo "=== $name"
  "$@"
  echo "=== $name: $((SECONDS - start)) s"
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "ci_aarch64: not root and no sudo: cannot run '$*'" >&2
    return 1
  fi
}

host_packages() {
  # The cross group of install_deps.sh: g++-aarch64-linux-gnu and qemu-user.
  scripts/install_deps.sh --no-python --no-embedded
}

sysroot() {
  local stamp=$QGNN_AARCH64_SYSROOT/.qgnn-packages
  local wanted="${target_packages[*]}"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
    echo "sysroot: $QGNN_AARCH64_SYSROOT is up to date"
    return 0
  fi
  mkdir -p "$debs"
  local missing=() p
  for p in "${target_packages[@]}"; do
    compgen -G "$debs/${p}_*.deb" >/dev/null || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    # apt-get download needs the arm64 package lists. Adding the architecture installs nothing by itself.
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
      as_root dpkg --add-architecture arm64
      as_root apt-get update -q
    fi
    local arch_names=()
    for p in "${missing[@]}"; do
      if [[ " ${all_packages[*]} " == *" $p "* ]]; then
        arch_names+=("$p")
      else
        arch_names+=("$p:arm64")
      fi
    done
    echo "sysroot: downloading ${arch_names[*]}"
    # apt's _apt user may not be able to write here; apt then downloads as root (a warning, not an error).
    (cd "$debs" && apt-get download -q "${arch_names[@]}")
  fi
  rm -rf "$QGNN_AARCH64_SYSROOT"
  mkdir -p "$QGNN_AARCH64_SYSROOT"
  for p in "${target_packages[@]}"; do
    local deb
    deb=$(compgen -G "$debs/${p}_*.deb" | sort | tail -n 1)
    dpkg-deb -x "$deb" "$QGNN_AARCH64_SYSROOT"
  done
  echo "$wanted" >"$stamp"
  echo "sysroot: unpacked ${#target_packages[@]} packages into $QGNN_AARCH64_SYSROOT"
}

# qemu-aarch64 with the cross libc, unless libc6:arm64 is installed as a multiarch package: then the loader is
# /lib/ld-linux-aarch64.so.1 and -L would mix two glibc builds (every pthread_create hangs).
qemu=(qemu-aarch64)
if [ ! -e /lib/ld-linux-aarch64.so.1 ]; then
  qemu+=(-L /usr/aarch64-linux-gnu)
fi

# run_tests CPU ISA EXPECT BINARY [gtest args...]: one test binary under an emulated CPU with QGNN_ISA forced.
# QGNN_TEST_EXPECT_ISA tells kernel_table_test whether the ISA must be selected or refused on that CPU.
run_tests() {
  local cpu=$1 isa=$2 expect=$3 binary=$4
  shift 4
  echo "--- qemu-aarch64 -cpu $cpu, QGNN_ISA=$isa: $(basename "$binary") $*"
  QEMU_CPU=$cpu QGNN_ISA=$isa QGNN_TEST_EXPECT_ISA=$expect "${qemu[@]}" "$bin/$binary" --gtest_brief=1 "$@"
}


tests_max() {
  # Reference kernels (no ISA involved) once; every twin against the reference (all tables this CPU runs),
  # with the override check for both arm64 names.
  run_tests max reference available tests/kernels/qgnn_kernels_tests
  run_tests max neondot available tests/kernels/qgnn_kernels_simd_tests
  run_tests max neon available tests/kernels/qgnn_kernels_simd_tests --gtest_filter='KernelTable.*'
  local isa
  for isa in neondot neon reference; do
    run_tests max "$isa" available tests/runtime/qgnn_runtime_tests
  done
  run_tests max neondot available tests/runtime/qgnn_runtime_heap_tests
}

tests_a53() {
  run_tests cortex-a53 neon available tests/kernels/qgnn_kernels_simd_tests
  # No dot product on this core: QGNN_ISA=neondot must fail with the CPU message, not fall back.
  run_tests cortex-a53 neondot refused tests/kernels/qgnn_kernels_simd_tests --gtest_filter='KernelTable.*'
  local isa
  for isa in neon reference; do
    run_tests cortex-a53 "$isa" available tests/runtime/qgnn_runtime_tests
  done
}

if [ "${QGNN_SKIP_DEPS:-0}" != 1 ]; then
  step "host packages (cross compiler, qemu-user)" host_packages
  step "arm64 sysroot" sysroot
fi
step "configure (aarch64)" cmake --preset aarch64
step "build (aarch64: kernel and runtime tests)" cmake --build --preset aarch64 -j "$jobs"
step "tests under qemu-aarch64 -cpu max (dot product)" tests_max
step "tests under qemu-aarch64 -cpu cortex-a53 (no dot product)" tests_a53
