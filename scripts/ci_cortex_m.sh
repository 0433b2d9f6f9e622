#!/usr/bin/env bash
# Cortex-M firmware CI stage (examples/cortex-m, docs/embedded.md). Three firmwares, one per bundled model:
# qgnn-fw (the MUTAG GIN, models/mutag_gin_int8.qgnn), qgnn-fw-gcn (the transform-first MUTAG GCN,
# models/mutag_gcn_int8.qgnn: streamed input, message aggregation with bias + ReLU) and qgnn-fw-gat (the
# random-weight MUTAG GAT, models/mutag_gat_int8.qgnn: integer attention, concat and mean of heads). The stage
#   1. builds them for Cortex-M4 (qemu mps2-an386) and Cortex-M55 (qemu mps3-an547) at -Os, and their host
#      twins (qgnn-fw-host, qgnn-fw-gcn-host, qgnn-fw-gat-host) against the host runtime;
#   2. runs the six firmwares under qemu-system-arm (semihosting, with a timeout) and requires their "graph"
#      and "reject" lines to be identical to their host twin's under every host ISA (reference, avx2, avx512
#      where the CPU has them);
#   3. prints the budgets and fails when one is exceeded, per model: .text of everything the M4 firmware links
#      from libqgnn.a + libqgnn_kernels.a <= 26 KB, each firmware listing only its model's ops in its op
#      resolver (the firmware presets build the integer-only runtime without error messages,
#      QGNN_FLOAT_MODELS=OFF and QGNN_ERROR_MESSAGES=OFF, so nothing is left out of the count; the same
#      program with every op is measured and printed too), the planner's arena <= 16 KB, no malloc in the image.
# Usage: scripts/ci_cortex_m.sh   QGNN_JOBS=N: build parallelism (default 2); QGNN_FW_BUILD_PREFIX: where the
#        three build trees go (default build/, i.e. build/<preset> as the presets say).
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${QGNN_JOBS:-2}
prefix=${QGNN_FW_BUILD_PREFIX:-build/}
text_budget=26624  # 26 KB
arena_budget=16384
qemu_timeout=60
export PYTHONPATH="$PWD/python"

# arm-none-eabi, qemu-system-arm, and Debian's numpy + flatbuffers for scripts/embed_model.py.
if [ "${QGNN_SKIP_DEPS:-0}" != 1 ]; then scripts/install_deps.sh; fi

for preset in cortex-m4-firmware cortex-m55-firmware firmware-host; do
  echo "--- build $preset"
  cmake --preset "$preset" -B "$prefix$preset" >/dev/null
  targets="qgnn-fw qgnn-fw-gcn qgnn-fw-gat"
  [ "$preset" = cortex-m4-firmware ] && targets="qgnn-fw qgnn-fw-gcn qgnn-fw-gat qgnn-fw-all-ops"
  [ "$preset" = firmware-host ] && targets="qgnn-fw-host qgnn-fw-gcn-host qgnn-fw-gat-host"
  cmake --build "$prefix$preset" -j "$jobs" --target $targets
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The models: name, firmware, host twin, the ops its resolver lists (examples/cortex-m/src/ops_mutag_*.cc).
# One .text budget for all three: the GAT fits it (measured 26,268 B) since the bare-metal kernel table no
# longer links the message aggregation into every firmware and the reference GAT kernel shares one loop
# between concat and mean (docs/embedded.md, "Budgets").
models=(
  "gin qgnn-fw qgnn-fw-host GINConv,GlobalPool,Linear"
  "gcn qgnn-fw-gcn qgnn-fw-gcn-host GCNConv(transform-first),GlobalPool,Linear"
  "gat qgnn-fw-gat qgnn-fw-gat-host GATConv,GlobalPool,Linear"
)

# The lines that must match: per-graph int8 logits and the statuses of the hostile inputs.
# The arena line also names the buffer each side was given, which differs by design.
compared() { grep -E '^(graph|reject|model|arena needed) ' "$1" | sed 's/ given [0-9]*$//'; }

# Host twins: Release (-O2) and Debug (-O0) with ASan + UBSan, every ISA this CPU runs, 1 and 2 threads; all
# must print the same lines (the determinism promise), and the devices must print them too. The -O0 twin is
# also integer-only (QGNN_FLOAT_MODELS=OFF, like the firmware), so the comparison covers both runtime builds.
echo "--- build firmware-host at -O0 with ASan + UBSan, integer-only runtime (QGNN_FLOAT_MODELS=OFF)"
cmake --preset firmware-host -B "${prefix}firmware-host-O0-asan" -DCMAKE_BUILD_TYPE=Debug -DQGNN_SANITIZE=ON \
  -DQGNN_FLOAT_MODELS=OFF >/dev/null
cmake --build "${prefix}firmware-host-O0-asan" -j "$jobs" --target qgnn-fw-host qgnn-fw-gcn-host qgnn-fw-gat-host \
  qgnn-fw-float-refused
# The integer-only runtime refuses a float model at create, with its status and message, and loads the INT8 one.
echo "--- integer-only runtime: float models refused, quantized models load"
for m in gin gcn gat; do
  "${prefix}firmware-host-O0-asan/examples/cortex-m/qgnn-fw-float-refused" "models/mutag_${m}_f32.qgnn" \
    "models/mutag_${m}_int8.qgnn"
done
for entry in "${models[@]}"; do
  read -r model fw host_twin ops <<<"$entry"
  "${prefix}firmware-host/examples/cortex-m/$host_twin" reference 1 >"$work/host-reference-$model.txt"
  echo "--- $host_twin (Release, reference kernels, 1 thread)"
  cat "$work/host-reference-$model.txt"
  runs=0
  for build in firmware-host firmware-host-O0-asan; do
    host=${prefix}$build/examples/cortex-m/$host_twin
    for isa in reference avx2 avx512 neon neondot default; do
      for threads in 1 2; do
        out=$work/$model-$build-$isa-$threads.txt
        if ! "$host" "$isa" "$threads" >"$out" 2>&1; then
          # An ISA this build or CPU lacks is refused at interpreter creation: skip it, fail on anything else.
          if grep -qE '^error (interpreter|arena_size) QGNN_INVALID_ARGUMENT' "$out"; then continue; fi
          cat "$out"
          echo "ci_cortex_m: $host_twin ($build) $isa $threads threads failed" >&2
          exit 1
        fi
        if ! diff <(compared "$work/host-reference-$model.txt") <(compared "$out"); then
          echo "ci_cortex_m: $host_twin ($build, isa $isa, $threads threads) differs from Release reference" >&2
          exit 1
        fi
        runs=$((runs + 1))
        echo "host $model $build isa $(awk '$1 == "isa" {print $2}' "$out") threads $threads: identical"
      done
    done
  done
  echo "host twins $model: $runs runs (build types x ISAs x threads), identical logits"
done

fail=0
for board in "cortex-m4-firmware mps2-an386 cortex-m4" "cortex-m55-firmware mps3-an547 cortex-m55"; do
  read -r preset machine cpu <<<"$board"
  for entry in "${models[@]}"; do
    read -r model fw host_twin ops <<<"$entry"
    elf=$prefix$preset/examples/cortex-m/$fw.elf
    out=$work/$preset-$model.txt
    echo "--- qemu-system-arm -M $machine -cpu $cpu: $elf"
    status=0
    timeout "$qemu_timeout" qemu-system-arm -M "$machine" -cpu "$cpu" -display none -monitor none -serial null \
      -semihosting-config enable=on,target=native -kernel "$elf" >"$out" 2>&1 || status=$?
    cat "$out"
    if [ "$status" -ne 0 ]; then
      echo "ci_cortex_m: $preset $fw exited with status $status" >&2
      fail=1
      continue
    fi
    if diff <(compared "$work/host-reference-$model.txt") <(compared "$out"); then
      echo "$preset $fw ($model): $(grep -c '^graph ' "$out") graphs, logits identical to the host runtime"
    else
      echo "ci_cortex_m: $preset $fw ($model) logits differ from the host runtime (diff above)" >&2
      fail=1
    fi
  done
done

echo "--- budgets (Cortex-M4F, -Os, linked with --gc-sections)"
fwdir=${prefix}cortex-m4-firmware/examples/cortex-m
for lib in ${prefix}cortex-m4-firmware/runtime/libqgnn.a ${prefix}cortex-m4-firmware/kernels/libqgnn_kernels.a; do
  echo "arm-none-eabi-size -t $lib (every function, linked or not): $(arm-none-eabi-size -t "$lib" | tail -1 | awk '{print $1}') B text"
done
# The same program with qgnn_model_create (every op linked) shows what the op resolvers save.
all_ops=$(/usr/bin/python3 examples/cortex-m/tools/linked_size.py "$fwdir/qgnn-fw-all-ops.map" libqgnn.a \
  libqgnn_kernels.a | awk '$1 == "(total)" {print $2}')
echo "runtime + kernels .text with every op (qgnn_model_create): $all_ops B"
for entry in "${models[@]}"; do
  read -r model fw host_twin ops <<<"$entry"
  map=$fwdir/$fw.map
  elf=$fwdir/$fw.elf
  echo "--- $fw ($model)"
  arm-none-eabi-size "$elf"
  /usr/bin/python3 examples/cortex-m/tools/linked_size.py "$map" libqgnn.a libqgnn_kernels.a libc_nano.a libgcc.a
  # The budget counts every section the firmware links from the two archives, nothing left out: the firmware
  # presets build the integer-only runtime (QGNN_FLOAT_MODELS=OFF), so float execution is compiled out and
  # --gc-sections drops the float kernels. Sections named like float execution (*F32*, *_f32*, *Fp32*) must
  # therefore be absent: one showing up means a float path is referenced again.
  /usr/bin/python3 examples/cortex-m/tools/linked_size.py --exclude '(F32|_f32|[Ff]p32)' "$map" libqgnn.a \
    libqgnn_kernels.a >"$work/integer-$model.txt"
  linked=$(/usr/bin/python3 examples/cortex-m/tools/linked_size.py "$map" libqgnn.a libqgnn_kernels.a |
    awk '$1 == "(total)" {print $2}')
  float_path=$(awk '$1 == "(excluded)" {print $2}' "$work/integer-$model.txt")
  echo "float execution linked in $fw (sections named *F32*, *_f32*, *Fp32*): ${float_path:-?} B (expected 0)"
  [ "${float_path:-1}" -eq 0 ] || { echo "ci_cortex_m: $fw links float execution" >&2; fail=1; }
  echo "BUDGET $model: runtime + kernels .text with the op resolver ($ops): $linked B (limit $text_budget B)"
  [ "$linked" -le "$text_budget" ] || { echo "ci_cortex_m: $fw .text budget exceeded" >&2; fail=1; }

  arena=$(awk '$1 == "arena" && $2 == "needed" {print $3; exit}' "$work/cortex-m4-firmware-$model.txt")
  echo "BUDGET $model: arena (largest MUTAG graph, planner on the device): ${arena:-?} B (limit $arena_budget B)"
  [ -n "$arena" ] && [ "$arena" -le "$arena_budget" ] || { echo "ci_cortex_m: $fw arena budget exceeded" >&2; fail=1; }

  if grep -qE '^ *\.text\.(_?malloc|_malloc_r|_sbrk)' "$map" || arm-none-eabi-nm "$elf" | grep -qE ' T (malloc|_malloc_r|_sbrk)$'; then
    echo "ci_cortex_m: $fw links a heap (malloc/_sbrk)" >&2
    fail=1
  else
    echo "BUDGET $model: heap none (no malloc or _sbrk in the image; handles come from a $(awk '$1 == "device" {print $3}' "$work/cortex-m4-firmware-$model.txt") B static pool)"
  fi
done

# What the library itself may call: no stdio, no malloc family, no exception or RTTI machinery. (Its handles
# come from operator new(std::nothrow) at create time, which the firmware serves from a static pool.)
forbidden='printf|puts|putchar|fopen|fwrite|fputs|stdout|stderr|malloc|calloc|realloc|free|__cxa_|_ZTI|_ZTS|__gxx_personality|_Unwind|abort'
libs_undefined=$(arm-none-eabi-nm -u "${prefix}cortex-m4-firmware/runtime/libqgnn.a" "${prefix}cortex-m4-firmware/kernels/libqgnn_kernels.a" |
  awk '$1 == "U" {print $2}' | sort -u)
if bad=$(grep -E "^_?($forbidden)" <<<"$libs_undefined"); then
  echo "ci_cortex_m: the library references forbidden symbols:" $bad >&2
  fail=1
else
  echo "BUDGET library imports: no stdio, no malloc/free, no exceptions, no RTTI (arm-none-eabi-nm -u)"
fi

exit "$fail"
