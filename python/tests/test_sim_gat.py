"""qgnn.sim's GATConv step against the worked example of docs/quantization.md ("GAT attention (kernels)"):
terms, logits, the table softmax, alpha and the output of each node, computed by hand there. The runtime
parity of the whole step is in test_sim_runtime.py (random models) and test_model_file_gat.py."""

import math

import numpy as np

from qgnn.model_file import GAT_CONV, LayerDesc, QuantParams, Requant
from qgnn.sim import kernels as K
from qgnn.sim.layers import GraphBatch, step


def example_layer(concat=True, heads=1, bias=None):
    table = np.array([round(32768 * math.exp(-0.1 * k)) for k in range(256)], np.uint16)
    return LayerDesc(GAT_CONV, "gat", False, heads=heads, head_dim=2, concat=concat,
                     att_src=np.tile(np.array([3, 1], np.int8), heads),
                     att_dst=np.tile(np.array([-2, 5], np.int8), heads),
                     message=QuantParams(8, np.float32(1.0), 0), logit=QuantParams(8, np.float32(0.1), -10),
                     logit_requant=Requant(np.array([1 << 30]), np.array([32])),
                     logit_negative_requant=Requant(np.array([1717986918]), np.array([35])), exp_table=table,
                     output=QuantParams(8, np.float32(1.0), 0), output_bias=bias,
                     output_requant=Requant(np.full(2 * heads if concat else 2, 1 << 30),
                                            np.full(2 * heads if concat else 2, 38)))


GRAPH = GraphBatch(np.array([0, 1, 1]), np.array([1]), np.array([0, 2]))  # the edge 1 -> 0
MESSAGES = np.array([[10, -4], [20, 6]], np.int64)


def test_the_documented_example_step_by_step():
    layer = example_layer()
    st = step(GAT_CONV)
    src, dst = K.gat_attention_terms(MESSAGES, 0, 1, layer.att_src, layer.att_dst)
    assert src[:, 0].tolist() == [26, 66] and dst[:, 0].tolist() == [-40, -10]
    att = st.attention(layer, MESSAGES, GRAPH)
    # rows: node 0 (self-loop, edge from 1), node 1 (self-loop)
    assert att.source.tolist() == [0, 1, 1] and att.dest.tolist() == [0, 0, 1] and att.starts.tolist() == [0, 2, 3]
    assert att.logits[:2, 0].tolist() == [-11, -3]
    assert att.alpha[:, 0].tolist() == [79, 177, 255]
    out = st.combine(layer, att, MESSAGES)
    assert out.tolist() == [[17, 3], [20, 6]]


def test_mean_of_heads_and_bias():
    """Two identical heads averaged: the sum over heads is twice one head's, the rescale halves it (factor
    1/512), so the output equals one head's; a bias of 256 * 2 accumulator steps adds exactly 1."""
    one = step(GAT_CONV).combine(example_layer(), step(GAT_CONV).attention(example_layer(), MESSAGES, GRAPH),
                                 MESSAGES)
    layer = example_layer(concat=False, heads=2, bias=np.array([512, -512], np.int32))
    layer.output_requant = Requant(np.full(2, 1 << 30), np.full(2, 39))
    m2 = np.concatenate([MESSAGES, MESSAGES], axis=1)
    out = step(GAT_CONV).combine(layer, step(GAT_CONV).attention(layer, m2, GRAPH), m2)
    assert out.tolist() == (one + np.array([1, -1])).tolist()


def test_explicit_self_loop_counts_twice_and_relu_clamps():
    """An explicit self-loop edge is an ordinary edge: row 1 then holds the added self-loop and the edge 1 -> 1,
    two equal logits, alpha 128 each (t = 2^15 twice: inv = 2^31, (2^15 2^31 + 2^38) >> 39 = 128)."""
    g = GraphBatch(np.array([0, 1, 2]), np.array([1, 1]), np.array([0, 2]))
    layer = example_layer()
    att = step(GAT_CONV).attention(layer, MESSAGES, g)
    assert att.source.tolist() == [0, 1, 1, 1] and att.alpha[2:, 0].tolist() == [128, 128]
    layer.relu = True
    layer.output = QuantParams(8, np.float32(1.0), 5)
    out = step(GAT_CONV).combine(layer, att, -MESSAGES)
    assert out.min() == 5  # every output is negative before the ReLU: clamped at the zero point
