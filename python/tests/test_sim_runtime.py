"""qgnn.sim is bit-exact with the C++ runtime: the SHA-256 of all int8 logits computed by the simulator equals
`qgnn-run --json`'s `outputs_sha256`, for the bundled INT8 demo model, for random models of every layer kind
quantized by qgnn-convert at 8, 4 and mixed bits on random graphs with awkward shapes, for models
qgnn-convert never writes (INT8 input, int4 logits), and for a GCN on Cora.

Skipped, with the reason, when qgnn-run / qgnn-convert are not built (cmake --preset release &&
cmake --build --preset release)."""

import json
import subprocess
from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import REPO, find_tool, require_dir

import qgnn
from qgnn import nn as qnn
from qgnn import sim
from qgnn.io import GRAPH_CLASSIFICATION, NODE_CLASSIFICATION, GraphSet, read_qgd, write_qgd
from qgnn.quantized_model import quantized_model_to_bytes, read_quantized_model
from qgnn.sim.__main__ import main as sim_main

QGNN_RUN = find_tool("qgnn-run")
QGNN_CONVERT = find_tool("qgnn-convert")
needs_run = pytest.mark.skipif(QGNN_RUN is None, reason="qgnn-run is not built (cmake --preset release && "
                                                        "cmake --build --preset release)")
needs_convert = pytest.mark.skipif(QGNN_CONVERT is None, reason="qgnn-convert is not built (cmake --preset "
                                                                "release && cmake --build --preset release)")
DEMO_MODEL, DEMO_DATA = REPO / "models" / "mutag_gin_int8.qgnn", REPO / "models" / "mutag.qgd"


def run_tool(model, data, split="all", batch=1):
    r = subprocess.run([str(QGNN_RUN), str(model), str(data), "--json", "--split", split, "--batch", str(batch)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"qgnn-run failed: {r.stderr}"
    return json.loads(r.stdout)


def convert(float_model, data, out, *bits_args, split="all"):
    r = subprocess.run([str(QGNN_CONVERT), str(float_model), "--calib", str(data), "--calibration", "minmax",
                        "--split", split,
                        *bits_args, "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"qgnn-convert {' '.join(bits_args)} failed: {r.stderr}"
    return out


def assert_bit_exact(model, data, split="all", batches=(1,)):
    gs = read_qgd(data)
    for batch in batches:
        tool = run_tool(model, data, split, batch)
        mine = sim.evaluate(read_quantized_model(model), gs, split, batch)
        assert mine.outputs_sha256 == tool["outputs_sha256"], (model.name, split, batch)
        assert (mine.evaluated, mine.correct) == (tool["evaluated"], tool["correct"])
        assert (mine.graphs, mine.nodes) == (tool["graphs"], tool["nodes"])
    return tool


# ------------------------------------------------------------------------------------------ (a) demo model


@needs_run
def test_demo_int8_model_matches_qgnn_run():
    if not DEMO_MODEL.exists() or not DEMO_DATA.exists():
        pytest.skip("models/ not built (scripts/make_demo_models.sh)")
    gs = read_qgd(DEMO_DATA)
    qm = read_quantized_model(DEMO_MODEL)
    for batch in (1, 16):
        tool = run_tool(DEMO_MODEL, DEMO_DATA, "all", batch)
        mine = sim.evaluate(qm, gs, "all", batch)
        assert mine.outputs_sha256 == tool["outputs_sha256"]
        assert mine.accuracy == tool["accuracy"] and mine.correct == tool["correct"]
        assert mine.evaluated == tool["evaluated"] == gs.num_graphs
    assert_bit_exact(DEMO_MODEL, DEMO_DATA, "test", batches=(4,))


@needs_run
def test_cli_prints_the_same_hash(capsys):
    if not DEMO_MODEL.exists() or not DEMO_DATA.exists():
        pytest.skip("models/ not built (scripts/make_demo_models.sh)")
    tool = run_tool(DEMO_MODEL, DEMO_DATA, "test", 16)
    assert sim_main([str(DEMO_MODEL), str(DEMO_DATA), "--split", "test", "--batch", "16", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("outputs_sha256", "evaluated", "correct", "accuracy", "graphs", "nodes", "invokes"):
        assert out[key] == tool[key], key
    assert sim_main([str(DEMO_MODEL), str(DEMO_DATA), "--split", "test"]) == 0
    text = capsys.readouterr().out
    assert f"sha256 {tool['outputs_sha256']}" in text and "accuracy  " in text
    assert sim_main([str(DEMO_MODEL), str(REPO / "models" / "missing.qgd")]) == 1


# ------------------------------------------------------------------------------------------ random graphs


def random_graph_set(seed, task, feature_dim, num_classes):
    """Graphs with every awkward shape: empty graphs, isolated nodes, a hub of in-degree 46 (not a power of
    two), nodes of in-degree 3, 5, 6, 9, 12, 13, duplicate edges, explicit self-loops, single-node graphs;
    features of mixed magnitudes."""
    rng = np.random.default_rng(seed)
    sizes = [5, 0, 1, 46, 7, 3, 0, 14, 2] + [int(v) for v in rng.integers(1, 16, 28)]
    rows, gp, base = [], [0], 0
    for g, n in enumerate(sizes):
        nbrs = [[] for _ in range(n)]
        if n == 46:  # a star: node 0 receives from every other node, plus one duplicate
            nbrs[0] = list(range(1, 46)) + [1]
            for j in range(1, 46, 3):
                nbrs[j].append(0)
        elif n == 14:  # in-degrees 9, 13, 6, 3, 5, 12: mean rescales whose m_d rounds up or down
            for i, d in enumerate((9, 13, 6, 3, 5, 12)):
                nbrs[i] = [int(j) for j in rng.choice(np.delete(np.arange(14), i), d, replace=False)]
        elif n > 1:
            for _ in range(int(rng.integers(0, 2 * n))):
                i, j = rng.integers(0, n, 2)
                nbrs[i].append(int(j))  # may be a self-loop or a duplicate
            nbrs[int(rng.integers(0, n))] = []  # at least one node without in-edges
        rows += [sorted(base + j for j in r) for r in nbrs]
        base += n
        gp.append(base)
    row_ptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])])
    col_idx = np.array([j for r in rows for j in r], dtype=np.int32)
    n = base
    features = rng.normal(0, 1.5, (n, feature_dim)).astype(np.float32)
    features[rng.random((n, feature_dim)) < 0.3] = 0.0
    features[:, 0] = np.round(features[:, 0] * 4) / 4  # exact quarters: halves after scaling are likely
    features[min(3, n - 1), 1] = 9.0  # an outlier
    items = len(sizes) if task == GRAPH_CLASSIFICATION else n
    labels = rng.integers(0, num_classes, items)
    perm = rng.permutation(items)
    return GraphSet(name=f"random{seed}", task=task, graph_ptr=gp, row_ptr=row_ptr, col_idx=col_idx,
                    features=features, labels=labels, num_classes=num_classes,
                    train=np.sort(perm[: items // 2]), val=np.sort(perm[items // 2: 3 * items // 4]),
                    test=np.sort(perm[3 * items // 4:]))


BITS = {
    "int8": ["--bits", "8"],
    "int4": ["--bits", "4"],
    "w4a8": ["--bits", "*=8,*.w=4"],
    "w8a4": ["--bits", "*=4,*.w=8"],
    "w4o4": ["--bits", "*=4,*.agg=8,input=8"],
}


def graph_model(kind, pool, seed):
    """A short model whose `kind` layer feeds the pooling directly (so the logits stay sensitive to it), or
    "deep": every layer kind in one stack."""
    torch.manual_seed(seed)
    body = {
        "gcn": [qnn.GCNConv(6, 10, relu=True), qnn.GCNConv(10, 8)],
        "gcn_tf": [qnn.GCNConv(6, 10, relu=True), qnn.GCNConv(10, 8)],  # converted with --order transform-first
        "sage_mean_root": [qnn.SAGEConv(6, 8, reduce="mean", relu=True)],
        "sage_max": [qnn.SAGEConv(6, 8, reduce="max", root_weight=False)],
        "sage_max_root": [qnn.SAGEConv(6, 8, reduce="max", relu=True)],
        "sage_mean": [qnn.SAGEConv(6, 8, reduce="mean", root_weight=False)],
        # converted with --order transform-first: the widening 6 -> 10 too, with and without root
        "sage_tf": [qnn.SAGEConv(6, 10, reduce="mean", relu=True), qnn.SAGEConv(10, 8, root_weight=False)],
        "gin": [qnn.GINConv(qnn.gin_mlp([6, 11, 5, 8]), eps=0.3, relu=True)],
        "gin_neg_eps": [qnn.GINConv(qnn.gin_mlp([6, 8]), eps=-0.5)],
        # 3 concatenated heads of 4 (ReLU), then the mean of 2 heads of 8
        "gat": [qnn.GATConv(6, 4, heads=3, relu=True), qnn.GATConv(12, 8, heads=2, concat=False)],
        "deep": [qnn.GCNConv(6, 10, relu=True), qnn.SAGEConv(10, 9, reduce="mean", relu=True),
                 qnn.SAGEConv(9, 8, reduce="max", root_weight=False, relu=True),
                 qnn.GINConv(qnn.gin_mlp([8, 11, 8]), eps=0.3, relu=True)],
    }[kind]
    return qnn.GraphModel(*body, qnn.GlobalPool(pool), qnn.Linear(8, 6, relu=True), qnn.Linear(6, 3))


GRAPH_MODELS = [("gcn", "sum"), ("gcn_tf", "mean"), ("sage_mean_root", "mean"), ("sage_max", "max"), ("sage_max_root", "sum"),
                ("sage_mean", "max"), ("gin", "mean"), ("gin_neg_eps", "sum"), ("deep", "sum"),
                ("deep", "mean"), ("deep", "max"), ("sage_tf", "sum"), ("gat", "sum"),
                ("gat", "max")]  # appended: the index is the model's seed


@pytest.fixture(scope="module")
def graph_data(tmp_path_factory):
    path = tmp_path_factory.mktemp("sim") / "graphs.qgd"
    write_qgd(random_graph_set(11, GRAPH_CLASSIFICATION, 6, 3), path)
    return path


@needs_run
@needs_convert
@pytest.mark.parametrize("kind,pool", GRAPH_MODELS)
def test_random_graph_models_every_bit_width(tmp_path, graph_data, kind, pool):
    float_model = tmp_path / f"{kind}_{pool}.qgnn"
    qgnn.export(graph_model(kind, pool, GRAPH_MODELS.index((kind, pool))), float_model)
    # gcn_tf: every GCN transform-first, the widening one too (the auto rule gives gcn aggregate-first, then
    # transform-first for the narrowing 10 -> 8)
    order = ["--order", "transform-first"] if kind in ("gcn_tf", "sage_tf") else []
    for name, args in BITS.items():
        q = convert(float_model, graph_data, tmp_path / f"{kind}_{pool}_{name}.qgnn", *args, *order)
        if kind.startswith("gcn") or kind == "sage_tf":
            expected = ["transform-first"] * 2 if order else ["aggregate-first", "transform-first"]
            assert [l.order for l in read_quantized_model(q).layers[:2]] == expected
        if kind == "deep":  # the auto rule: the narrowing mean SAGEConv transform-first, the max one not
            assert [l.order for l in read_quantized_model(q).layers[1:3]] == ["transform-first", "aggregate-first"]
        assert_bit_exact(q, graph_data, "all", batches=(1, 7) if name == "int8" else (5,))
    assert_bit_exact(q, graph_data, "test", batches=(2,))


@needs_run
@needs_convert
def test_random_node_models_every_bit_width(tmp_path):
    gs = random_graph_set(12, NODE_CLASSIFICATION, 5, 4)
    data = tmp_path / "nodes.qgd"
    write_qgd(gs, data)
    torch.manual_seed(4)
    model = qnn.GraphModel(
        qnn.GCNConv(5, 9, relu=True),
        qnn.SAGEConv(9, 8, reduce="mean", root_weight=False, relu=True),
        qnn.SAGEConv(8, 8, reduce="max", relu=True),
        qnn.GINConv(qnn.gin_mlp([8, 6, 7]), eps=1.75, relu=True),
        qnn.GCNConv(7, 6),
        qnn.Linear(6, 4),
    )
    float_model = tmp_path / "node.qgnn"
    qgnn.export(model, float_model)
    for name, args in BITS.items():
        q = convert(float_model, data, tmp_path / f"node_{name}.qgnn", *args)
        assert_bit_exact(q, data, "all")
    assert_bit_exact(q, data, "val", batches=(7,))  # --batch is ignored for node tasks


@needs_run
@needs_convert
def test_random_node_gat_models_every_bit_width(tmp_path):
    """GATConv on node rows: explicit self-loops and duplicate edges (ordinary edges beside the added
    self-loop), isolated nodes (the self-loop alone: alpha 255), a hub of in-degree 46; concatenated heads, one
    head, the mean of 3 heads; 4-bit messages (the `agg` component, which a bare 4 leaves at 8) under m4;
    4-bit attention logits (the `att` component, [-8, 7]) on two of the layers under att4, everywhere under
    all4."""
    gs = random_graph_set(14, NODE_CLASSIFICATION, 5, 4)
    data = tmp_path / "nodes.qgd"
    write_qgd(gs, data)
    torch.manual_seed(6)
    model = qnn.GraphModel(qnn.GATConv(5, 3, heads=4, relu=True), qnn.GATConv(12, 7, relu=True),
                           qnn.GATConv(7, 4, heads=3, concat=False))
    float_model = tmp_path / "gat.qgnn"
    qgnn.export(model, float_model)
    logit_bits = {"att4": [4, 8, 4], "all4": [4, 4, 4]}
    for name, args in {**BITS, "m4": ["--bits", "*=4,*.agg=4"], "att4": ["--bits", "conv1.att=4,conv3.att=4"],
                       "all4": ["--bits", "*=4,*.agg=4,*.att=4"]}.items():
        q = convert(float_model, data, tmp_path / f"gat_{name}.qgnn", *args)
        qm = read_quantized_model(q)
        assert [l.kind for l in qm.layers] == ["GATConv"] * 3 and qm.layers[2].exp_table[0] == 32768
        assert [l.message.bits for l in qm.layers] == [4 if name in ("m4", "all4") else 8] * 3
        assert [l.logit.bits for l in qm.layers] == logit_bits.get(name, [8, 8, 8])
        assert all(-8 <= l.logit.zero_point <= 7 for l in qm.layers if l.logit.bits == 4)
        assert_bit_exact(q, data, "all")


@needs_run
@needs_convert
def test_int8_input_and_int4_logits(tmp_path):
    """Paths qgnn-convert never writes, built by rewriting a converted model: features handed over as int8
    (qgnn-run quantizes them with 8 bits), and 4-bit logits (unpacked to int8 values in [-8, 7])."""
    gs = random_graph_set(13, GRAPH_CLASSIFICATION, 6, 3)
    data = tmp_path / "graphs.qgd"
    write_qgd(gs, data)
    float_model = tmp_path / "f.qgnn"
    qgnn.export(graph_model("deep", "mean", 5), float_model)
    q = read_quantized_model(convert(float_model, data, tmp_path / "q.qgnn", *BITS["w4a8"]))
    q.input_int8 = True
    last = q.layers[-1]
    last.output = replace(last.output, bits=4, scale=last.output.scale * 16,
                          zero_point=int(np.clip(round(last.output.zero_point / 16), -8, 7)))
    last.dense.requant.shift = np.minimum(last.dense.requant.shift + 4, 62)
    path = tmp_path / "int8in_int4out.qgnn"
    path.write_bytes(quantized_model_to_bytes(q))
    assert_bit_exact(path, data, "all", batches=(1, 4))
    logits = []
    sim.evaluate(q, gs, "all", 4, logits_out=logits)
    allq = np.concatenate(logits)
    assert allq.dtype == np.int8 and allq.min() >= -8 and allq.max() <= 7


# ------------------------------------------------------------------------------------------ run() API


def test_run_api_on_a_hand_made_model():
    """sim.run on the two-node GCN example of docs/quantization.md, via the writer (no tools needed)."""
    from qgnn.quantized_model import QDense, QLayer, QuantizedModel, QuantParams, Requant

    one = Requant(np.array([1 << 30]), np.array([30]))
    dense = QDense(np.array([[2]], np.int8), 8, np.ones(1, np.float32), np.array([1], np.int32),
                   Requant(np.array([1 << 30]), np.array([31])), False)
    layer = QLayer("GCNConv", "conv1", False, QuantParams(8, np.float32(0.05), 0),
                   aggregation=QuantParams(8, np.float32(0.1), 0), aggregation_requant=one, dense=dense)
    qm = QuantizedModel(1, "tiny", "", "test", NODE_CLASSIFICATION, [], 1, False,
                        QuantParams(8, np.float32(0.1), -3), [layer], (0, 0, 0, 0))
    data = quantized_model_to_bytes(qm)
    res = sim.run(data, np.array([[1.0], [2.0]]), [0, 0, 1], [0])
    # aggregation 10, 17 (quantization.md); dense: (1 + 2 * agg) * 0.5 rounded half up = 11, 18 (17.5 -> 18)
    assert res.logits_q.tolist() == [[11], [18]]
    assert res.logits_q.dtype == np.int8
    assert res.logits_float.tolist() == [[np.float32(0.05) * np.float32(11)], [np.float32(0.05) * np.float32(18)]]
    assert res.argmax.tolist() == [0, 0]
    with pytest.raises(TypeError):
        sim.run(data, np.array([[1], [2]], np.int8), [0, 0, 1], [0])  # float-input model
    with pytest.raises(ValueError):
        sim.run(data, np.array([[1.0], [2.0]]), [0, 0, 1], [5])  # col_idx out of range


# ------------------------------------------------------------------------------------------ (c) Cora


@needs_run
@needs_convert
def test_cora_gcn_and_gat(tmp_path, datasets):
    pytest.importorskip("scipy")
    src = require_dir(datasets / "planetoid")
    if not (src / "ind.cora.x").exists():
        pytest.skip(f"{src}/ind.cora.* absent")
    data = tmp_path / "cora.qgd"
    r = subprocess.run(["/usr/bin/python3", "-m", "qgnn.data", "planetoid", str(src), "cora", "-o", str(data)],
                       capture_output=True, text=True, timeout=120,
                       env={"PYTHONPATH": str(REPO / "python"), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    torch.manual_seed(5)
    model = qnn.GraphModel(qnn.GCNConv(1433, 16, relu=True), qnn.GCNConv(16, 7))
    float_model = tmp_path / "cora_f32.qgnn"
    qgnn.export(model, float_model)
    q = convert(float_model, data, tmp_path / "cora_int8.qgnn", "--bits", "8", split="train")
    # the converter's auto rule: both layers narrow the features (1433 -> 16 -> 7), both run transform-first
    assert [l.order for l in read_quantized_model(q).layers] == ["transform-first"] * 2
    tool = assert_bit_exact(q, data, "test")
    assert tool["evaluated"] == 1000 and tool["nodes"] == 2708
    # GAT of the paper's shape: 8 heads of 8 (ReLU), then 1 head onto the classes; int8 and 4-bit
    torch.manual_seed(6)
    gat = qnn.GraphModel(qnn.GATConv(1433, 8, heads=8, relu=True), qnn.GATConv(64, 7))
    qgnn.export(gat, tmp_path / "cora_gat_f32.qgnn")
    for bits in ("8", "4"):
        q = convert(tmp_path / "cora_gat_f32.qgnn", data, tmp_path / f"cora_gat_{bits}.qgnn", "--bits", bits,
                    split="train")
        assert_bit_exact(q, data, "test")
