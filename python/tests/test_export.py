"""qgnn.export: what lands in the .qgnn file (read back with the generated bindings), BatchNorm folding,
load() round trip, and clear errors for what the format cannot express."""

import numpy as np
import pytest
import torch

import qgnn
from qgnn import nn as qnn
from qgnn.export_model import ExportError
from qgnn.io import FormatError, read_model, read_model_info
from qgnn.schema import qgnn_generated as fbm
from test_nn_semantics import random_graph


def randomise_batchnorms(model):
    g = torch.Generator().manual_seed(7)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g))
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            with torch.no_grad():
                m.weight.copy_(torch.randn(m.num_features, generator=g))
                m.bias.copy_(torch.randn(m.num_features, generator=g))


def every_layer_model():
    torch.manual_seed(0)
    model = qnn.GraphModel(
        qnn.GCNConv(4, 6),
        torch.nn.BatchNorm1d(6),  # folded into the GCN's Dense
        torch.nn.ReLU(),  # fused: conv1.activation = RELU
        torch.nn.Dropout(0.5),  # dropped
        # aggregate-first (auto would run this narrowing one transform-first, format version 6): the versions
        # asserted below are those of BatchNorm; test_transform_first_sage.py covers the other order
        qnn.SAGEConv(6, 5, reduce="mean", relu=True, order="aggregate-first"),
        qnn.SAGEConv(5, 5, reduce="max", root_weight=False),
        torch.nn.BatchNorm1d(5),  # folded, SAGE without root and with bias
        qnn.GINConv(torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.BatchNorm1d(7), torch.nn.ReLU(),
                                        torch.nn.Linear(7, 7), torch.nn.ReLU()), eps=0.5),
        qnn.GlobalPool("max"),
        qnn.Linear(7, 8, relu=True),
        torch.nn.Linear(8, 3),
    )
    randomise_batchnorms(model)
    return model.eval()


def test_written_file(tmp_path):
    path = tmp_path / "m.qgnn"
    model = every_layer_model()
    qgnn.export(model, path, name="every", description="test ✓", class_names=["a", "b", "c"])
    buf = path.read_bytes()
    assert buf[4:8] == b"QGNN"
    m = fbm.Model.GetRootAs(buf, 0)
    assert (m.Version(), m.Quantized(), m.Task(), m.Input().FeatureDim()) == (1, False, 0, 4)
    assert m.Name() == b"every" and m.Description().decode() == "test ✓"
    assert [m.ClassNames(i) for i in range(m.ClassNamesLength())] == [b"a", b"b", b"c"]
    L = fbm.LayerOptions
    kinds = [m.Layers(i).OptionsType() for i in range(m.LayersLength())]
    assert kinds == [L.GCNConvOptions, L.SAGEConvOptions, L.SAGEConvOptions, L.GINConvOptions,
                     L.GlobalPoolOptions, L.LinearOptions, L.LinearOptions]
    acts = [m.Layers(i).Activation() for i in range(m.LayersLength())]
    assert acts == [1, 1, 0, 1, 0, 1, 0]
    names = [m.Layers(i).Name().decode() for i in range(m.LayersLength())]
    assert names == ["conv1", "conv2", "conv3", "conv4", "pool", "fc1", "fc2"]
    for i in range(m.TensorsLength()):
        t = m.Tensors(i)
        assert t.Type() == fbm.TensorType.FLOAT32 and t.ScalesLength() == 0
        data = m.Buffers(t.Buffer()).DataAsNumpy()
        shape = t.ShapeAsNumpy().tolist()
        assert data.size == 4 * int(np.prod(shape))  # alignment: test_alignment_of_every_buffer

    def weights(dense):
        t = m.Tensors(dense.Weight())
        return np.frombuffer(m.Buffers(t.Buffer()).DataAsNumpy().tobytes(), "<f4").reshape(t.ShapeAsNumpy())

    # Linear fc2 is copied as is: [out, in] = torch's layout, bias [out].
    fc2 = fbm.LinearOptions()
    fc2.Init(m.Layers(6).Options().Bytes, m.Layers(6).Options().Pos)
    np.testing.assert_array_equal(weights(fc2.Dense()), model.layers[10].weight.detach().numpy())
    bias_t = m.Tensors(fc2.Dense().Bias())
    np.testing.assert_array_equal(bias_t.ShapeAsNumpy(), [3])
    # GIN: eps, two Dense ops, the hidden one with a fused ReLU.
    gin = fbm.GINConvOptions()
    gin.Init(m.Layers(3).Options().Bytes, m.Layers(3).Options().Pos)
    assert gin.Eps() == 0.5 and gin.MlpLength() == 2
    assert [gin.Mlp(k).Activation() for k in range(2)] == [1, 0]
    np.testing.assert_array_equal(weights(gin.Mlp(1)), model.layers[7].mlp[3].weight.detach().numpy())
    # SAGE: reduce, neighbour + root Dense, root without bias; the second has no root.
    sage = fbm.SAGEConvOptions()
    sage.Init(m.Layers(1).Options().Bytes, m.Layers(1).Options().Pos)
    assert sage.Reduce() == fbm.Reduce.MEAN and sage.Root() is not None and sage.Root().Bias() == -1
    sage_torch = model.layers[4]
    np.testing.assert_array_equal(weights(sage.Neighbor()), sage_torch.lin_neighbor.weight.detach().numpy())
    np.testing.assert_array_equal(weights(sage.Root()), sage_torch.lin_root.weight.detach().numpy())
    sage.Init(m.Layers(2).Options().Bytes, m.Layers(2).Options().Pos)
    assert sage.Reduce() == fbm.Reduce.MAX and sage.Root() is None
    pool = fbm.GlobalPoolOptions()
    pool.Init(m.Layers(4).Options().Bytes, m.Layers(4).Options().Pos)
    assert pool.Reduce() == fbm.Reduce.MAX


def test_alignment_of_every_buffer(tmp_path):
    path = tmp_path / "m.qgnn"
    qgnn.export(every_layer_model(), path)
    buf = path.read_bytes()
    m = fbm.Model.GetRootAs(buf, 0)
    for i in range(m.BuffersLength()):
        b = m.Buffers(i)
        o = b._tab.Offset(4)
        start = b._tab.Vector(o)  # absolute position of the first element in the file
        assert start % 16 == 0, f"buffer {i} data at {start}"
    assert len(buf) % 16 == 0


def test_load_round_trip_matches_model(tmp_path):
    model = every_layer_model()
    path = tmp_path / "m.qgnn"
    qgnn.export(model, path)
    loaded = qgnn.load(path)
    row_ptr, col_idx, graph_ptr, _ = random_graph(1)
    graph = qnn.Graph(row_ptr, col_idx, graph_ptr)
    x = torch.randn(graph.num_nodes, 4)
    with torch.no_grad():
        expect = model(x, graph)
        got = loaded(x, graph)
    torch.testing.assert_close(got, expect, rtol=1e-5, atol=1e-5)  # BatchNorm folding changes rounding only
    desc = read_model(path)
    assert [layer.kind for layer in desc.layers] == ["GCNConv", "SAGEConv", "SAGEConv", "GINConv", "GlobalPool",
                                                     "Linear", "Linear"]
    info = read_model_info(path)
    assert info["quantized"] is False and info["input_dim"] == 4 and info["num_layers"] == 7
    # Writing what was read reproduces the file byte for byte.
    qgnn.export(loaded, tmp_path / "again.qgnn")
    assert (tmp_path / "again.qgnn").read_bytes() == path.read_bytes()


def test_node_classification_model(tmp_path):
    model = qnn.GraphModel(qnn.GCNConv(3, 4, relu=True), qnn.GCNConv(4, 2))
    desc = qgnn.export(model, tmp_path / "n.qgnn")
    assert desc.task == 1 and read_model_info(tmp_path / "n.qgnn")["task"] == 1


@pytest.mark.parametrize("build, message", [
    (lambda: qnn.GraphModel(qnn.GCNConv(3, 4), torch.nn.Tanh()), "Tanh.*cannot be expressed"),
    (lambda: qnn.GraphModel(qnn.GCNConv(3, 4), torch.nn.LayerNorm(4)), "LayerNorm.*cannot be expressed"),
    (lambda: qnn.GraphModel(qnn.GCNConv(3, 4, relu=True), torch.nn.BatchNorm1d(4)),
     "BatchNorm1d after a ReLU"),
    (lambda: qnn.GraphModel(torch.nn.ReLU(), qnn.GCNConv(3, 4)), "must follow"),
    (lambda: qnn.GraphModel(qnn.GCNConv(3, 4), qnn.GlobalPool(), torch.nn.BatchNorm1d(4)), "must follow"),
    (lambda: qnn.GraphModel(qnn.GCNConv(3, 4), qnn.GCNConv(5, 2)), "does not take 4 inputs"),
    (lambda: qnn.GraphModel(qnn.GCNConv(3, 4), qnn.GlobalPool(), qnn.GCNConv(4, 2)), "only Linear layers"),
    (lambda: qnn.GraphModel(qnn.GINConv([torch.nn.ReLU(), torch.nn.Linear(3, 3)])), "ReLU before the first"),
    (lambda: qnn.GraphModel(qnn.GINConv([torch.nn.Linear(3, 3), torch.nn.ReLU(), torch.nn.BatchNorm1d(3)])),
     "must directly follow a Linear"),
    (lambda: qnn.GraphModel(qnn.GINConv([torch.nn.Linear(3, 3), torch.nn.Sigmoid()])), "Sigmoid"),
    (lambda: qnn.GraphModel(qnn.GCNConv(3, 4), torch.nn.BatchNorm1d(5)), r"BatchNorm1d\(5\) after 4"),
])
def test_unsupported_is_a_clear_error(tmp_path, build, message):
    path = tmp_path / "x.qgnn"
    with pytest.raises(ExportError, match=message):
        qgnn.export(build(), path)
    assert not path.exists()


def test_class_names_must_match_outputs(tmp_path):
    model = qnn.GraphModel(qnn.GCNConv(3, 4), qnn.GlobalPool(), qnn.Linear(4, 2))
    with pytest.raises(ExportError, match="3 class names for 2 outputs"):
        qgnn.export(model, tmp_path / "x.qgnn", class_names=["a", "b", "c"])


def test_reader_rejects_non_models(tmp_path):
    p = tmp_path / "x.qgnn"
    p.write_bytes(b"\x08\x00\x00\x00QGD1" + bytes(8))
    with pytest.raises(FormatError, match="identifier"):
        read_model(p)


def test_unfolded_batchnorm_is_written_read_and_runs_like_the_folded_model(tmp_path):
    model = every_layer_model()
    folded_path, bn_path = tmp_path / "folded.qgnn", tmp_path / "bn.qgnn"
    folded = qgnn.export(model, folded_path)
    unfolded = qgnn.export(model, bn_path, fold_batchnorm=False)
    # The three BatchNorm1d sit on the Dense they follow: GCN, the second SAGE's neighbour Dense, GIN mlp[0].
    m = fbm.Model.GetRootAs(bn_path.read_bytes(), 0)
    # Version 2: a runtime that predates Dense.batch_norm must reject the file rather than skip the BatchNorm.
    assert m.Version() == 2 and fbm.Model.GetRootAs(folded_path.read_bytes(), 0).Version() == 1

    def options(i, cls):
        o = cls()
        o.Init(m.Layers(i).Options().Bytes, m.Layers(i).Options().Pos)
        return o

    gcn_bn = options(0, fbm.GCNConvOptions).Dense().BatchNorm()
    bn0 = model.layers[1]
    np.testing.assert_array_equal(gcn_bn.MeanAsNumpy(), bn0.running_mean.numpy())
    np.testing.assert_array_equal(gcn_bn.VarAsNumpy(), bn0.running_var.numpy())
    np.testing.assert_array_equal(gcn_bn.GammaAsNumpy(), bn0.weight.detach().numpy())
    np.testing.assert_array_equal(gcn_bn.BetaAsNumpy(), bn0.bias.detach().numpy())
    assert gcn_bn.Eps() == np.float32(bn0.eps)
    assert options(1, fbm.SAGEConvOptions).Neighbor().BatchNorm() is None
    assert options(2, fbm.SAGEConvOptions).Neighbor().BatchNorm().MeanLength() == 5
    gin = options(3, fbm.GINConvOptions)
    assert gin.Mlp(0).BatchNorm().MeanLength() == 7 and gin.Mlp(1).BatchNorm() is None
    assert [m.Layers(i).Activation() for i in range(m.LayersLength())] == [1, 1, 0, 1, 0, 1, 0]
    # Unfolded weights are the module's own; folded ones differ.
    assert not np.array_equal(unfolded.layers[0].dense.weight, folded.layers[0].dense.weight)
    np.testing.assert_array_equal(unfolded.layers[0].dense.weight, model.layers[0].lin.weight.detach().numpy())

    desc = read_model(bn_path)
    assert desc.layers[0].dense.batch_norm is not None and desc.layers[3].mlp[0].batch_norm is not None
    loaded_bn, loaded_folded = qgnn.load(bn_path), qgnn.load(folded_path)
    assert any(isinstance(x, torch.nn.BatchNorm1d) for x in loaded_bn.modules())
    row_ptr, col_idx, graph_ptr, _ = random_graph(2)
    graph = qnn.Graph(row_ptr, col_idx, graph_ptr)
    x = torch.randn(graph.num_nodes, 4)
    with torch.no_grad():
        expect = model(x, graph)
        got_bn = loaded_bn(x, graph)
        got_folded = loaded_folded(x, graph)
    torch.testing.assert_close(got_bn, expect, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(got_bn, got_folded, rtol=1e-5, atol=1e-5)
    assert torch.equal(got_bn.argmax(1), got_folded.argmax(1))
    # Loaded and exported again (unfolded, or folded now): the same files.
    qgnn.export(loaded_bn, tmp_path / "again_bn.qgnn", fold_batchnorm=False)
    assert (tmp_path / "again_bn.qgnn").read_bytes() == bn_path.read_bytes()
    again = qgnn.export(loaded_bn, tmp_path / "again_folded.qgnn")
    np.testing.assert_allclose(again.layers[0].dense.weight, folded.layers[0].dense.weight, rtol=1e-6, atol=1e-7)


def test_model_file_checks_batchnorm_and_stored_ranges(tmp_path):
    from qgnn.model_file import BatchNormDesc, check_model, from_bytes, to_bytes

    desc = qgnn.export(every_layer_model(), tmp_path / "m.qgnn", fold_batchnorm=False)
    # Stored ranges: every activation or none; written and read back as float32.
    desc.input_range = (-1.5, 2.25)
    desc.ranges_source = "hand-made"
    for i, layer in enumerate(desc.layers):
        layer.output_range = (0.0, 1.0 + i / 3)
        if layer.kind in ("GCNConv", "SAGEConv", "GINConv"):
            layer.aggregation_range = (-0.5 - i, 0.5 + i)
        layer.hidden_ranges = [(0.0, 0.1)] if layer.kind == "GINConv" else []
    back = from_bytes(to_bytes(desc))
    assert back.input_range == (-1.5, 2.25) and back.ranges_source == "hand-made"
    for a, b in zip(desc.layers, back.layers):
        assert b.output_range == tuple(float(np.float32(v)) for v in a.output_range)
        assert (a.aggregation_range is None) == (b.aggregation_range is None)
        assert len(a.hidden_ranges) == len(b.hidden_ranges)
    assert back.layers[3].mlp[0].batch_norm.eps == np.float32(1e-5)

    def rejected(edit, message):
        bad = from_bytes(to_bytes(desc))
        edit(bad)
        with pytest.raises(FormatError, match=message):
            check_model(bad)

    rejected(lambda d: setattr(d.layers[2], "output_range", None), "layer 2 .*output range is missing")
    rejected(lambda d: setattr(d.layers[3], "hidden_ranges", []), "0 hidden ranges, expected 1")
    rejected(lambda d: setattr(d.layers[4], "aggregation_range", (0.0, 1.0)), "without aggregation")
    rejected(lambda d: setattr(d, "input_range", (1.0, -1.0)), "input range")
    rejected(lambda d: d.layers[0].dense.batch_norm.var.__setitem__(0, -1.0), "var has a negative")
    rejected(lambda d: setattr(d.layers[0].dense.batch_norm, "eps", 0.0), "eps")
    rejected(lambda d: setattr(d.layers[3].mlp[0].batch_norm, "gamma", np.ones(3, np.float32)), "gamma has 3")
    rejected(lambda d: setattr(d.layers[1].root, "batch_norm", BatchNormDesc(*[np.ones(5)] * 4)), "root Dense")
