"""Explicit dataflow (LayerDesc.inputs, format version 3): skip connections through the Python reader and
writer, check_model, the simulator, qgnn.qat's quantizer and qgnn-convert.

The reference for a skip model is its chain equivalent: the same layers without the branch nothing reads, as a
plain chain. Every pass must give it the same numbers as the skip model (the same layers reading the same
activations), and a model listing exactly its previous layers must run as the chain it describes."""

from __future__ import annotations

import copy
import subprocess
import zlib

import numpy as np
import pytest
from conftest import find_tool
from test_sim_runtime import random_graph_set

from qgnn import sim
from qgnn.export_model import ExportError, from_desc
from qgnn.io import GRAPH_CLASSIFICATION, write_qgd
from qgnn.model_file import (DATAFLOW_FORMAT_VERSION, GCN_CONV, GIN_CONV, GLOBAL_POOL, LINEAR, MODEL_INPUT,
                             SAGE_CONV, DenseDesc, FormatError, LayerDesc, ModelDesc, check_model, from_bytes,
                             input_of, read_quantized_model, to_bytes, write_model)
from qgnn.qat.quantizer import ComponentBits, LayerRanges, quantize_desc
from qgnn.schema import qgnn_generated as fbm

SHARED = [0, 2, 3, 4]  # chain-equivalent layer k is skip-model layer SHARED[k]


def dense(rng, out, inp, bias=True, relu=False):
    bound = 1.0 / np.sqrt(inp)
    return DenseDesc(rng.uniform(-bound, bound, (out, inp)).astype(np.float32),
                     rng.uniform(-0.1, 0.1, out).astype(np.float32) if bias else None, relu=relu)


def skip_model(seed=0) -> ModelDesc:
    """tests/converter/test_models.cc skip_connection_float_model's structure: gcn (5 -> 8); sage (max, root)
    reading the model input (5 -> 6, read by nothing); gin reading gcn (8 -> 9 -> 7); pool listing gin, its
    previous layer; linear (7 -> 3) listing nothing."""
    rng = np.random.default_rng(seed)
    layers = [
        LayerDesc(GCN_CONV, "gcn", True, dense=dense(rng, 8, 5)),
        LayerDesc(SAGE_CONV, "sage", True, dense=dense(rng, 6, 5), root=dense(rng, 6, 5, bias=False), reduce="max",
                  inputs=[MODEL_INPUT]),
        LayerDesc(GIN_CONV, "gin", True, mlp=[dense(rng, 9, 8, relu=True), dense(rng, 7, 9)], eps=0.5, inputs=[0]),
        LayerDesc(GLOBAL_POOL, "pool", reduce="mean", inputs=[2]),
        LayerDesc(LINEAR, "linear", dense=dense(rng, 3, 7)),
    ]
    return ModelDesc(input_dim=5, layers=layers, name="skip", task=GRAPH_CLASSIFICATION, class_names=["a", "b", "c"],
                     limits=(2048, 8192, 64, 64))


def chain_equivalent(m: ModelDesc) -> ModelDesc:
    chain = copy.deepcopy(m)
    del chain.layers[1]
    for layer in chain.layers:
        layer.inputs = []
    return chain


def layer_table(buf: bytes, i: int):
    return fbm.Model.GetRootAs(buf, 0).Layers(i)


def test_input_of_follows_the_list_or_the_previous_layer():
    m = skip_model()
    assert [input_of(m, i) for i in range(5)] == [MODEL_INPUT, MODEL_INPUT, 0, 2, 3]
    assert check_model(m) == 3


def test_skip_model_round_trips_as_version_3():
    m = skip_model()
    buf = to_bytes(m)
    assert fbm.Model.GetRootAs(buf, 0).Version() == DATAFLOW_FORMAT_VERSION
    assert [list(layer_table(buf, i).InputsAsNumpy()) if not layer_table(buf, i).InputsIsNone() else None
            for i in range(5)] == [None, [-1], [0], [2], None]
    back = from_bytes(buf)
    assert back.version == DATAFLOW_FORMAT_VERSION
    assert [layer.inputs for layer in back.layers] == [layer.inputs for layer in m.layers]
    assert to_bytes(back) == buf


def test_only_listed_inputs_change_the_file():
    chain = chain_equivalent(skip_model())
    buf = to_bytes(chain)
    assert fbm.Model.GetRootAs(buf, 0).Version() == 1
    assert all(layer_table(buf, i).InputsIsNone() for i in range(len(chain.layers)))
    listed = copy.deepcopy(chain)
    for i, layer in enumerate(listed.layers):
        layer.inputs = [i - 1]
    listed_buf = to_bytes(listed)
    assert fbm.Model.GetRootAs(listed_buf, 0).Version() == DATAFLOW_FORMAT_VERSION
    back = from_bytes(listed_buf)
    assert [input_of(back, i) for i in range(4)] == [input_of(chain, i) for i in range(4)]


def test_batch_norm_and_inputs_are_version_3():
    from qgnn.model_file import BatchNormDesc
    m = skip_model()
    m.layers[4].dense.batch_norm = BatchNormDesc([0.1, 0.2, 0.3], [1, 2, 0.5], [1, 1, 2], [0, 0.5, -0.5])
    assert fbm.Model.GetRootAs(to_bytes(m), 0).Version() == DATAFLOW_FORMAT_VERSION


@pytest.mark.parametrize("layer,inputs,message", [
    (2, [2], "layer 2 (gin): input 2 is neither the model input (-1) nor an earlier layer"),
    (0, [3], "layer 0 (gcn): input 3 is neither"),
    (3, [-2], "layer 3 (pool): input -2 is neither"),
    (4, [3, 3], "layer 4 (linear): Linear reads 1 input, 2 listed"),
    (2, [MODEL_INPUT], "layer 2 (gin): weight shape (9, 8) does not take 5 inputs"),  # dims from the producer
    (4, [1], "layer 4 (linear): weight shape (3, 7) does not take 6 inputs"),
    (4, [2], "needs a global pooling layer"),  # the last layer reads node rows: the output is not per graph
])
def test_check_model_rejects_bad_inputs(layer, inputs, message):
    m = skip_model()
    m.layers[layer].inputs = inputs
    with pytest.raises(FormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_model(m)
    with pytest.raises(FormatError):
        to_bytes(m)


def test_rows_follow_the_declared_inputs():
    rng = np.random.default_rng(1)
    m = skip_model()
    m.layers.append(LayerDesc(GCN_CONV, "late", dense=dense(rng, 3, 7), inputs=[3]))  # reads the pool's rows
    with pytest.raises(FormatError, match="only Linear layers may follow the global pooling"):
        check_model(m)
    m = skip_model()
    m.layers += [LayerDesc(GLOBAL_POOL, "again", inputs=[3]), LayerDesc(LINEAR, "fc", dense=dense(rng, 3, 7))]
    with pytest.raises(FormatError, match="a second global pooling"):
        check_model(m)
    # Node classification: a layer after the GIN reading its node rows is fine, a pool on any branch is not.
    m = skip_model()
    m.task = 1
    m.layers[4].inputs = [2]
    with pytest.raises(FormatError, match="node classification model cannot contain a global pooling"):
        check_model(m)
    del m.layers[3]
    assert check_model(m) == 3


def test_qgnn_nn_refuses_a_model_with_listed_inputs():
    with pytest.raises(ExportError, match="layer 1 lists its inputs"):
        from_desc(skip_model())
    from_desc(chain_equivalent(skip_model()))  # the chain is a GraphModel


def ranges_for(m: ModelDesc, seed: int):
    """Arbitrary but fixed ranges per layer (keyed by layer name, so shared layers get the same)."""
    out = []
    for layer in m.layers:
        rng = np.random.default_rng(zlib.crc32(layer.name.encode()) + seed)
        lo, hi = -float(rng.uniform(0.5, 2)), float(rng.uniform(1, 4))
        hidden = [(0.0, float(rng.uniform(1, 3)))] * (len(layer.mlp) - 1) if layer.kind == GIN_CONV else []
        out.append(LayerRanges(aggregation=(lo, hi), hidden=hidden, output=(0.0 if layer.relu else lo, hi)))
    return out


def quantized(m: ModelDesc, seed=3) -> ModelDesc:
    bits = [ComponentBits() for _ in m.layers]
    return quantize_desc(m, (-3.0, 3.0), ranges_for(m, seed), 8, bits)


def test_qat_quantizer_rescales_from_the_producer():
    skip, chain = quantized(skip_model()), quantized(chain_equivalent(skip_model()))
    assert [layer.inputs for layer in skip.layers] == [layer.inputs for layer in skip_model().layers]
    # sage reads the model input: its aggregation requant rescales from the input scale; gin reads gcn.
    from qgnn.qat.quantizer import scalar_requant
    sage, gin = skip.layers[1], skip.layers[2]
    assert np.array_equal(sage.aggregation_requant.multiplier,
                          scalar_requant(skip.input_quant.scale, sage.aggregation).multiplier)
    assert np.array_equal(gin.aggregation_requant.multiplier,
                          scalar_requant(skip.layers[0].output.scale, gin.aggregation).multiplier)
    assert skip.layers[0].output.scale != sage.output.scale
    for k, i in enumerate(SHARED):
        a, b = skip.layers[i], chain.layers[k]
        assert a.output == b.output
        for da, db in zip(a.denses(), b.denses()):
            assert np.array_equal(da.weight, db.weight) and np.array_equal(da.requant.multiplier, db.requant.multiplier)
    # Written and read back (the quantized reader checks dims and rows from the producer too).
    back = from_bytes(to_bytes(skip))
    assert back.version == DATAFLOW_FORMAT_VERSION
    assert [layer.inputs for layer in back.layers] == [layer.inputs for layer in skip.layers]


def test_quantized_reader_refuses_bad_inputs():
    q = quantized(skip_model())
    q.layers[3].inputs = [4]
    with pytest.raises(FormatError, match=r"layer 3 \(pool\): input 4 is neither"):
        to_bytes(q)
    q.layers[3].inputs = [1, 2]
    with pytest.raises(FormatError, match="GlobalPool reads 1 input, 2 listed"):
        to_bytes(q)
    q.layers[3].inputs = [0]  # a pool of the GCN: 8 features, the linear takes 7
    with pytest.raises(FormatError, match="weight takes 7 inputs, the layer input has 8"):
        to_bytes(q)


def batch_of(seed=4):
    gs = random_graph_set(seed, GRAPH_CLASSIFICATION, 5, 3)
    return gs, (gs.features, gs.row_ptr, gs.col_idx, gs.graph_ptr)


def test_sim_runs_the_skip_model_as_its_chain_equivalent():
    _, args = batch_of()
    skip, chain = quantized(skip_model()), quantized(chain_equivalent(skip_model()))
    a, b = sim.run(skip, *args, keep_intermediates=True), sim.run(chain, *args)
    assert a.logits_q.shape == (len(args[3]) - 1, 3)
    assert np.array_equal(a.logits_q, b.logits_q)
    # The SAGE branch ran on the model input (its output is among the intermediates, then ignored).
    assert any(t.shape == (len(args[0]), 6) for t in a.intermediates)


def test_sim_listing_the_previous_layers_is_the_chain():
    _, args = batch_of(5)
    chain = quantized(chain_equivalent(skip_model()))
    listed = copy.deepcopy(chain)
    for i, layer in enumerate(listed.layers):
        layer.inputs = [i - 1]
    listed = from_bytes(to_bytes(listed))
    assert listed.version == DATAFLOW_FORMAT_VERSION
    assert np.array_equal(sim.run(listed, *args).logits_q, sim.run(chain, *args).logits_q)


CONVERT = find_tool("qgnn-convert")


@pytest.mark.skipif(CONVERT is None, reason="qgnn-convert is not built (cmake --build build/release)")
def test_qgnn_convert_keeps_the_inputs_and_quantizes_like_the_chain(tmp_path):
    """Python writes the float skip model, qgnn-convert (the C++ reader, quantizer and writer) quantizes it,
    Python reads the result: the inputs survive both ways and the simulator gives the chain equivalent's
    logits, since calibration sees the same activations for the layers they share."""
    gs, args = batch_of(6)
    data = tmp_path / "d.qgd"
    write_qgd(gs, data)
    logits = []
    for name, m in (("skip", skip_model()), ("chain", chain_equivalent(skip_model()))):
        write_model(m, tmp_path / f"{name}_f32.qgnn")
        out = subprocess.run([str(CONVERT), str(tmp_path / f"{name}_f32.qgnn"), "--calib", str(data), "--split",
                              "all", "-o", str(tmp_path / f"{name}.qgnn")], capture_output=True, text=True,
                             timeout=300)
        assert out.returncode == 0, out.stderr
        q = read_quantized_model(tmp_path / f"{name}.qgnn")
        assert [layer.inputs for layer in q.layers] == [layer.inputs for layer in m.layers]
        assert q.version == (DATAFLOW_FORMAT_VERSION if name == "skip" else 1)
        # What C++ wrote, Python rewrites and reads back unchanged.
        again = from_bytes(to_bytes(q))
        assert [layer.inputs for layer in again.layers] == [layer.inputs for layer in q.layers]
        assert np.array_equal(sim.run(again, *args).logits_q, sim.run(q, *args).logits_q)
        logits.append(sim.run(q, *args).logits_q)
    assert np.array_equal(logits[0], logits[1])


def test_runtime_runs_the_converted_skip_model_like_the_simulator(tmp_path):
    """The C++ runtime routes each layer to the output it lists exactly as the simulator does: qgnn-run's
    outputs_sha256 of the converted skip model equals the simulator's, batch after batch."""
    from test_sim_runtime import assert_bit_exact, convert
    gs, _ = batch_of(6)
    data = tmp_path / "d.qgd"
    write_qgd(gs, data)
    write_model(skip_model(), tmp_path / "skip_f32.qgnn")
    for bits in ("8", "4"):
        model = convert(tmp_path / "skip_f32.qgnn", data, tmp_path / f"skip{bits}.qgnn", "--bits", bits)
        assert read_quantized_model(model).version == DATAFLOW_FORMAT_VERSION
        assert_bit_exact(model, data, batches=(1, 3))


def test_qgnn_inspect_shows_the_inputs(tmp_path):
    """qgnn-inspect takes each layer's input width from the layer it lists, and prints the list."""
    import json
    inspect = find_tool("qgnn-inspect")
    assert inspect is not None, "qgnn-inspect is not built"
    m = skip_model()
    write_model(m, tmp_path / "skip_f32.qgnn")
    r = subprocess.run([str(inspect), str(tmp_path / "skip_f32.qgnn"), "--json"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    layers = json.loads(r.stdout)["layers"]
    assert [layer["inputs"] for layer in layers] == [list(layer.inputs) for layer in m.layers]
    for i, layer in enumerate(layers):
        producer = (m.layers[i].inputs or [i - 1])[0]
        expected = m.input_dim if producer == MODEL_INPUT else layers[producer]["out_features"]
        assert layer["in_features"] == expected, (i, layer)
