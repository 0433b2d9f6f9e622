#!/usr/bin/env python3
"""Write the bundled float MUTAG GAT, models/mutag_gat_f32.qgnn: random weights, no training.

The model is there to run the integer GAT (GATConv) on the Cortex-M firmware and under the fuzzers, where what
matters is that every numeric step runs on real shapes (both head modes, several heads, LeakyReLU's two sides,
a softmax over rows of different degrees), not accuracy. qgnn-convert quantizes it with MUTAG calibration into
models/mutag_gat_int8.qgnn (scripts/make_demo_models.sh runs both steps). Deterministic: a fixed seed, so the
committed file is what this writes.

    7 -> GATConv(2 heads x 8, concat, ReLU) -> GATConv(2 heads x 8, mean, ReLU) -> sum pool -> Linear(8 -> 2)

Usage: PYTHONPATH=python /usr/bin/python3 scripts/make_gat_model.py -o models/mutag_gat_f32.qgnn
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

from qgnn.model_file import DenseDesc, LayerDesc, ModelDesc, write_model  # noqa: E402

INPUT_DIM = 7  # MUTAG's one-hot atom types
HEADS, HEAD_DIM, CLASSES = 2, 8, 2


def gat_layer(rng: np.random.Generator, name: str, in_dim: int, concat: bool) -> LayerDesc:
    cols = HEADS * HEAD_DIM
    # Glorot-like weights keep the messages around unit scale; attention vectors of +-1 give logits that span
    # both signs, so LeakyReLU's negative slope and a non-trivial softmax are exercised.
    limit = np.sqrt(6.0 / (in_dim + cols))
    out = cols if concat else HEAD_DIM
    return LayerDesc("GATConv", name=name, relu=True, heads=HEADS, head_dim=HEAD_DIM, concat=concat,
                     dense=DenseDesc(weight=rng.uniform(-limit, limit, (cols, in_dim)).astype(np.float32)),
                     att_src=rng.uniform(-1.0, 1.0, cols).astype(np.float32),
                     att_dst=rng.uniform(-1.0, 1.0, cols).astype(np.float32),
                     output_bias=rng.uniform(-0.1, 0.1, out).astype(np.float32))


def gat_model() -> ModelDesc:
    rng = np.random.default_rng(16)  # issue 16
    conv1 = gat_layer(rng, "gat1", INPUT_DIM, concat=True)
    conv2 = gat_layer(rng, "gat2", HEADS * HEAD_DIM, concat=False)
    head = DenseDesc(weight=rng.uniform(-0.5, 0.5, (CLASSES, HEAD_DIM)).astype(np.float32),
                     bias=np.zeros(CLASSES, np.float32))
    layers = [conv1, conv2, LayerDesc("GlobalPool", name="pool", reduce="sum"),
              LayerDesc("Linear", name="out", dense=head)]
    return ModelDesc(input_dim=INPUT_DIM, layers=layers, name="mutag_gat",
                     description="scripts/make_gat_model.py: random-weight MUTAG GAT (seed 16), untrained: its logits are not predictions",
                     class_names=["-1", "1"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", required=True, help="the .qgnn file to write (atomically)")
    args = ap.parse_args()
    write_model(gat_model(), args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
