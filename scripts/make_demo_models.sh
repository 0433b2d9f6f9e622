#!/usr/bin/env bash
# Rebuild the bundled demo artifacts in models/ (docs/python.md, "Demo models"):
#   models/mutag.qgd            MUTAG imported from ../shared/datasets/tu/MUTAG
#   models/mutag_gin_f32.qgnn   small GIN trained in PyTorch (float)
#   models/mutag_gin_int8.qgnn  the same, quantized by qgnn-convert (only when that tool is built)
#   models/mutag_gcn_f32.qgnn   small GCN (2 x GCNConv, hidden 16) trained by qgnn.train (float)
#   models/mutag_gcn_int8.qgnn  the same, quantized with both GCN layers transform-first (only when qgnn-convert is
#                               built): the firmware example's second model (docs/embedded.md)
#   models/mutag_gat_f32.qgnn   small GAT with random weights, untrained (scripts/make_gat_model.py): 2 x GATConv
#                               (2 heads x 8, concat then mean), sum pooling, Linear
#   models/mutag_gat_int8.qgnn  the same, quantized (only when qgnn-convert is built): the firmware example's third
#                               model and a fuzz seed (docs/embedded.md, docs/reliability.md)
#   models/cora_gcn_f32.qgnn    2-layer GCN trained on Cora's public split (float; Cora itself, 15 MB as .qgd,
#                               is not bundled: tests and the README import it from ../shared/datasets)
# Environment: PYTHON (default /usr/bin/python3), QGNN_DATASETS (default ../shared/datasets, relative to the
# repository root), QGNN_BUILD (default build/release: where qgnn-convert / qgnn-run are looked up).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-/usr/bin/python3}
DATASETS=${QGNN_DATASETS:-../shared/datasets}
BUILD=${QGNN_BUILD:-build/release}
export PYTHONPATH="python${PYTHONPATH:+:$PYTHONPATH}"
export OMP_NUM_THREADS=1

run() { echo "+ $*"; "$@"; }

run "$PY" -m qgnn.data tu "$DATASETS/tu/MUTAG" -o models/mutag.qgd
run "$PY" scripts/train_demo_model.py --data models/mutag.qgd -o models/mutag_gin_f32.qgnn --seed 0
# The smallest GCN of qgnn.train's graph-classification family (2 layers, hidden 16, sum pooling): a model that
# fits a microcontroller with room to spare and exercises the transform-first GCNConv once quantized.
run "$PY" -m qgnn.train --data models/mutag.qgd --model gcn --hidden 16 --layers 2 --seed 0 -o models/mutag_gcn_f32.qgnn
# Random weights, not trained: the GAT is there to run the integer attention on the firmware and under the
# fuzzers (qgnn.train has no GAT yet), so its logits are checked for bit-exactness, not accuracy.
run "$PY" scripts/make_gat_model.py -o models/mutag_gat_f32.qgnn
CORA_QGD=$(mktemp --suffix=.qgd)
trap 'rm -f "$CORA_QGD"' EXIT
run "$PY" -m qgnn.data planetoid "$DATASETS/planetoid" cora -o "$CORA_QGD"
run "$PY" -m qgnn.train --data "$CORA_QGD" --model gcn --seed 0 -o models/cora_gcn_f32.qgnn

# The release preset builds every tool at the top of its build directory.
tool() {
  if [ -x "$BUILD/$1" ] && [ -f "$BUILD/$1" ]; then echo "$BUILD/$1"; return 0; fi
  return 1
}

if CONVERT=$(tool qgnn-convert); then
  run "$CONVERT" models/mutag_gin_f32.qgnn --calib models/mutag.qgd --split train --calibration minmax -o models/mutag_gin_int8.qgnn
  # Forced transform-first (auto keeps aggregate-first where the Dense does not narrow, 7 -> 16 and 16 -> 16):
  # the first layer then reads the float input through its Dense (streamed, quantized 8 rows at a time) and
  # both layers aggregate their messages with bias + ReLU, the paths the firmware CI must cover on the device.
  run "$CONVERT" models/mutag_gcn_f32.qgnn --calib models/mutag.qgd --split train --calibration minmax \
    --order transform-first -o models/mutag_gcn_int8.qgnn
  run "$CONVERT" models/mutag_gat_f32.qgnn --calib models/mutag.qgd --split train --calibration minmax \
    -o models/mutag_gat_int8.qgnn
  if QGNN_RUN=$(tool qgnn-run); then
    for m in models/mutag_gin_f32.qgnn models/mutag_gin_int8.qgnn models/mutag_gcn_f32.qgnn models/mutag_gcn_int8.qgnn \
      models/mutag_gat_f32.qgnn models/mutag_gat_int8.qgnn; do
      run "$QGNN_RUN" "$m" models/mutag.qgd --split test
    done
  fi
else
  echo "note: qgnn-convert is not built under $BUILD; models/mutag_{gin,gcn,gat}_int8.qgnn not (re)made" >&2
fi
ls -l models/
