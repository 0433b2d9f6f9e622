"""qgnn.nn models <-> float .qgnn models. `export` writes the model's eval-mode function: BatchNorm1d is
folded into the preceding Dense with its running statistics (or, with fold_batchnorm=False, written unfolded
as the Dense's BatchNorm table, for a converter to fold), Dropout/Identity are dropped, a ReLU is fused into
the layer before it."""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch

from . import nn as qnn
from ._atomic import PathLike
from .model_file import (GAT_CONV, GCN_CONV, GIN_CONV, GLOBAL_POOL, LINEAR, SAGE_CONV, BatchNormDesc, DenseDesc,
                         LayerDesc, ModelDesc, read_model, write_model)
from .qgd import GRAPH_CLASSIFICATION, NODE_CLASSIFICATION

_SKIPPED = (torch.nn.Dropout, torch.nn.Identity)
_SUPPORTED = ("qgnn.nn.GCNConv, SAGEConv, GINConv, GATConv, GlobalPool, Linear; torch.nn.Linear; torch.nn.ReLU, "
              "BatchNorm1d after a Dense, Dropout, Identity")


class ExportError(ValueError):
    """The model holds something the .qgnn format cannot express."""


def _np(t: Optional[torch.Tensor]) -> Optional[np.ndarray]:
    return None if t is None else t.detach().cpu().to(torch.float64).numpy()


def _dense(lin: torch.nn.Linear) -> DenseDesc:
    return DenseDesc(_np(lin.weight), _np(lin.bias))


def _bn_desc(bn: torch.nn.BatchNorm1d, where: str) -> BatchNormDesc:
    """The inference form of a BatchNorm1d (running statistics)."""
    if not isinstance(bn, torch.nn.BatchNorm1d):
        raise ExportError(f"{where}: {type(bn).__name__} is not supported (only BatchNorm1d)")
    if bn.running_mean is None or bn.running_var is None:
        raise ExportError(f"{where}: BatchNorm1d without running statistics cannot be exported")
    gamma = _np(bn.weight) if bn.weight is not None else np.ones(bn.num_features)
    beta = _np(bn.bias) if bn.bias is not None else np.zeros(bn.num_features)
    return BatchNormDesc(_np(bn.running_mean), _np(bn.running_var), gamma, beta, eps=float(bn.eps))


def _bn_scale_shift(bn: torch.nn.BatchNorm1d, where: str) -> Tuple[np.ndarray, np.ndarray]:
    if not isinstance(bn, torch.nn.BatchNorm1d):
        raise ExportError(f"{where}: {type(bn).__name__} is not supported (only BatchNorm1d folds)")
    if bn.running_mean is None or bn.running_var is None:
        raise ExportError(f"{where}: BatchNorm1d without running statistics cannot be folded")
    gamma = _np(bn.weight) if bn.weight is not None else np.ones(bn.num_features)
    beta = _np(bn.bias) if bn.bias is not None else np.zeros(bn.num_features)
    scale = gamma / np.sqrt(_np(bn.running_var) + bn.eps)
    return scale, beta - _np(bn.running_mean) * scale


def _apply_bn(denses: Sequence[DenseDesc], bn: torch.nn.BatchNorm1d, where: str, fold: bool) -> None:
    """Fold `bn` into `denses` (all summed into one result), or attach it unfolded to the first Dense (the
    SAGE neighbour Dense, whose BatchNorm normalises the layer's whole sum)."""
    if fold:
        _fold_bn(denses, bn, where)
        return
    desc = _bn_desc(bn, where)
    if desc.mean.shape[0] != denses[0].out_features:
        raise ExportError(f"{where}: BatchNorm1d({desc.mean.shape[0]}) after {denses[0].out_features} features")
    if denses[0].batch_norm is not None:
        raise ExportError(f"{where}: a second BatchNorm1d on the same Dense cannot be written unfolded")
    denses[0].batch_norm = desc


def _fold_bn(denses: Sequence[DenseDesc], bn: torch.nn.BatchNorm1d, where: str) -> None:
    """BN(sum_k W_k x_k + b) = sum_k (s W_k) x_k + (s b + t): scale every Dense, shift the first's bias."""
    scale, shift = _bn_scale_shift(bn, where)
    if scale.shape[0] != denses[0].out_features:
        raise ExportError(f"{where}: BatchNorm1d({scale.shape[0]}) after {denses[0].out_features} features")
    if denses[0].batch_norm is not None:
        raise ExportError(f"{where}: a BatchNorm1d after an unfolded one cannot be folded")
    for k, d in enumerate(denses):
        w = d.weight.astype(np.float64) * scale[:, None]
        b = d.bias.astype(np.float64) * scale if d.bias is not None else None
        if k == 0:
            b = (b if b is not None else 0.0) + shift
        d.weight, d.bias = w.astype(np.float32), (b.astype(np.float32) if b is not None else None)


def _gin_mlp(mlp: torch.nn.Module, where: str, fold_batchnorm: bool = True) -> Tuple[List[DenseDesc], bool]:
    """Dense ops of a GIN MLP and whether it ends with a ReLU (-> the layer's activation)."""
    mods = list(mlp.children()) if isinstance(mlp, (torch.nn.Sequential, torch.nn.ModuleList)) else [mlp]
    denses: List[DenseDesc] = []
    last = None  # "dense", "relu"
    for m in mods:
        w = f"{where}, MLP member {type(m).__name__}"
        if isinstance(m, _SKIPPED):
            continue
        if isinstance(m, torch.nn.Linear):
            denses.append(_dense(m))
            last = "dense"
            if isinstance(m, qnn.Linear) and m.relu:
                denses[-1].relu, last = True, "relu"
        elif isinstance(m, torch.nn.ReLU):
            if last is None:
                raise ExportError(f"{w}: a ReLU before the first Linear cannot be expressed")
            denses[-1].relu, last = True, "relu"
        elif isinstance(m, torch.nn.BatchNorm1d):
            if last != "dense":
                raise ExportError(f"{w}: BatchNorm1d must directly follow a Linear to be folded")
            _apply_bn(denses[-1:], m, w, fold_batchnorm)
        else:
            raise ExportError(f"{w}: not supported in a GIN MLP (Linear, BatchNorm1d, ReLU, Dropout)")
    if not denses:
        raise ExportError(f"{where}: the GIN MLP holds no Linear")
    trailing_relu = denses[-1].relu
    denses[-1].relu = False  # the layer's own activation applies after the last Dense
    return denses, trailing_relu


_MODULE_KINDS = ((torch.nn.Linear, LINEAR), (qnn.GCNConv, GCN_CONV), (qnn.SAGEConv, SAGE_CONV),
                 (qnn.GINConv, GIN_CONV), (qnn.GATConv, GAT_CONV), (qnn.GlobalPool, GLOBAL_POOL))


def layer_kind(m: torch.nn.Module) -> Optional[str]:
    """The layer kind a module exports as (None: not a layer; ReLU, BatchNorm1d, Dropout fuse or vanish)."""
    return next((kind for cls, kind in _MODULE_KINDS if isinstance(m, cls)), None)


def _layer(m: torch.nn.Module, name: str, fold_batchnorm: bool = True) -> LayerDesc:
    where = f"layer {name} ({type(m).__name__})"
    kind = layer_kind(m)
    if kind == LINEAR:
        return LayerDesc(LINEAR, name, relu=isinstance(m, qnn.Linear) and m.relu, dense=_dense(m))
    if kind == GCN_CONV:
        return LayerDesc(GCN_CONV, name, relu=m.relu, dense=_dense(m.lin), order=m.resolved_order)
    if kind == SAGE_CONV:
        root = _dense(m.lin_root) if m.lin_root is not None else None
        return LayerDesc(SAGE_CONV, name, relu=m.relu, dense=_dense(m.lin_neighbor), root=root, reduce=m.reduce,
                         order=m.resolved_order)
    if kind == GIN_CONV:
        mlp, trailing_relu = _gin_mlp(m.mlp, where, fold_batchnorm)
        eps = float(m.eps.detach().reshape(-1)[0])
        return LayerDesc(GIN_CONV, name, relu=m.relu or trailing_relu, mlp=mlp, eps=eps)
    if kind == GAT_CONV:  # the attention dropout is training only: dropped
        return LayerDesc(GAT_CONV, name, relu=m.relu, dense=DenseDesc(_np(m.lin.weight), None), heads=m.heads,
                         head_dim=m.head_dim, concat=m.concat, att_src=_np(m.att_src).reshape(-1),
                         att_dst=_np(m.att_dst).reshape(-1), output_bias=_np(m.bias))
    if kind == GLOBAL_POOL:
        return LayerDesc(GLOBAL_POOL, name, reduce=m.reduce)
    raise ExportError(f"{where}: cannot be expressed in a .qgnn model; supported: {_SUPPORTED}")


def to_desc(model: torch.nn.Module, *, name: str = "model", description: str = "",
            task: Optional[int] = None, class_names: Sequence[str] = (), input_dim: Optional[int] = None,
            limits: Tuple[int, int, int, int] = (0, 0, 0, 0), producer: Optional[str] = None,
            fold_batchnorm: bool = True) -> ModelDesc:
    """Translate a qgnn.nn.GraphModel (or a single layer) into a float ModelDesc. fold_batchnorm=False keeps
    each BatchNorm1d as the BatchNorm of the Dense it follows instead of folding it."""
    members = list(model.layers) if isinstance(model, qnn.GraphModel) else [model]
    layers: List[LayerDesc] = []
    for i, m in enumerate(members):
        if isinstance(m, _SKIPPED):
            continue
        if isinstance(m, (torch.nn.ReLU, torch.nn.BatchNorm1d)):
            prev = layers[-1] if layers else None
            what = f"layer {i} ({type(m).__name__})"
            if prev is None or prev.kind == GLOBAL_POOL:
                raise ExportError(f"{what}: must follow a Linear, GCNConv, SAGEConv, GINConv or GATConv layer")
            if isinstance(m, torch.nn.ReLU):
                prev.relu = True
                continue
            if prev.relu:
                raise ExportError(f"{what}: a BatchNorm1d after a ReLU cannot be folded")
            if prev.kind == GAT_CONV:  # scaling W would scale the attention logits too
                raise ExportError(f"{what}: a BatchNorm1d after a GATConv cannot be folded (its W also feeds "
                                  "the attention logits)")
            denses = prev.mlp[-1:] if prev.kind == GIN_CONV else [prev.dense] + ([prev.root] if prev.root else [])
            _apply_bn(denses, m, what, fold_batchnorm)
            continue
        layers.append(_layer(m, str(i), fold_batchnorm))
    for layer, layer_name in zip(layers, _names(layers)):  # conv1, conv2, ..., pool, fc1, ...
        layer.name = layer_name
    if not layers:
        raise ExportError("the model has no layers")
    first = layers[0].mlp[0] if layers[0].kind == GIN_CONV else layers[0].dense
    if first is None:
        raise ExportError("the first layer must take node features (not a GlobalPool)")
    if input_dim is not None and input_dim != first.in_features:
        raise ExportError(f"input_dim {input_dim} != the first layer's {first.in_features} inputs")
    if task is None:
        task = GRAPH_CLASSIFICATION if any(l.kind == GLOBAL_POOL for l in layers) else NODE_CLASSIFICATION
    desc = ModelDesc(input_dim=first.in_features, layers=layers, name=name, description=description,
                     task=task, class_names=list(class_names), limits=tuple(limits))
    if producer:
        desc.producer = producer
    try:
        desc.output_dim()
    except ValueError as exc:
        raise ExportError(str(exc)) from None
    return desc


def _names(layers: Sequence[LayerDesc]) -> List[str]:
    names, convs, fcs = [], 0, 0
    for layer in layers:
        if layer.kind == GLOBAL_POOL:
            names.append("pool")
        elif layer.kind == LINEAR:
            fcs += 1
            names.append(f"fc{fcs}")
        else:
            convs += 1
            names.append(f"conv{convs}")
    return names


def export(model: torch.nn.Module, path: PathLike, *, fold_batchnorm: bool = True, **kwargs) -> ModelDesc:
    """Write `model` as a float .qgnn file (atomically); returns the written description.
    fold_batchnorm=False writes each BatchNorm1d unfolded (the Dense's BatchNorm table; qgnn-convert folds it).
    Keyword arguments: name, description, task, class_names, input_dim, limits, producer (see to_desc)."""
    desc = to_desc(model, fold_batchnorm=fold_batchnorm, **kwargs)
    write_model(desc, path)
    return desc


def _linear(d: DenseDesc, extra_bias: Optional[np.ndarray] = None, relu: bool = False) -> qnn.Linear:
    lin = qnn.Linear(d.in_features, d.out_features, bias=d.bias is not None or extra_bias is not None,
                     relu=relu)
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(d.weight))
        if lin.bias is not None:
            b = np.zeros(d.out_features, np.float32) if d.bias is None else d.bias
            lin.bias.copy_(torch.from_numpy(b + (0 if extra_bias is None else extra_bias)))
    return lin


def _batch_norm(bn: BatchNormDesc) -> torch.nn.BatchNorm1d:
    """An eval-mode BatchNorm1d computing `bn` (running statistics, affine)."""
    m = torch.nn.BatchNorm1d(bn.mean.shape[0], eps=bn.eps)
    with torch.no_grad():
        m.running_mean.copy_(torch.from_numpy(bn.mean))
        m.running_var.copy_(torch.from_numpy(bn.var))
        m.weight.copy_(torch.from_numpy(bn.gamma))
        m.bias.copy_(torch.from_numpy(bn.beta))
    return m


def _with_bn(layer_module: torch.nn.Module, layer: LayerDesc, bn: Optional[BatchNormDesc]) -> List[torch.nn.Module]:
    """A layer followed by its BatchNorm; the layer's ReLU then moves after the BatchNorm."""
    if bn is None:
        return [layer_module]
    layer_module.relu = False
    return [layer_module, _batch_norm(bn)] + ([torch.nn.ReLU()] if layer.relu else [])


def _gin_members(layer: LayerDesc) -> List[torch.nn.Module]:
    mods: List[torch.nn.Module] = []
    for k, d in enumerate(layer.mlp):
        hidden_relu = d.relu and k < len(layer.mlp) - 1
        if d.batch_norm is None:
            mods.append(_linear(d, relu=hidden_relu))
        else:
            mods += [_linear(d), _batch_norm(d.batch_norm)] + ([torch.nn.ReLU()] if hidden_relu else [])
    return mods


def _gat(layer: LayerDesc) -> qnn.GATConv:
    conv = qnn.GATConv(layer.dense.in_features, layer.head_dim, heads=layer.heads, concat=layer.concat,
                       bias=layer.output_bias is not None, relu=layer.relu)
    with torch.no_grad():
        conv.lin.weight.copy_(torch.from_numpy(layer.dense.weight))
        shape = (layer.heads, layer.head_dim)
        conv.att_src.copy_(torch.from_numpy(np.asarray(layer.att_src, np.float32).reshape(shape)))
        conv.att_dst.copy_(torch.from_numpy(np.asarray(layer.att_dst, np.float32).reshape(shape)))
        if conv.bias is not None:
            conv.bias.copy_(torch.from_numpy(np.asarray(layer.output_bias, np.float32)))
    return conv


def from_desc(desc: ModelDesc) -> qnn.GraphModel:
    """Build the qgnn.nn model a float ModelDesc describes (the inverse of to_desc). Folded BatchNorm stays
    folded; an unfolded one becomes a BatchNorm1d module (eval mode) after its Dense. A model whose layers list
    their inputs (skip connections, format version 3) is refused: GraphModel runs its members as a chain."""
    listed = [i for i, layer in enumerate(desc.layers) if len(layer.inputs)]
    if listed:
        raise ExportError(f"layer {listed[0]} lists its inputs (explicit dataflow, format version 3): qgnn.nn."
                          "GraphModel runs its layers as a chain and cannot express a skip connection; run the "
                          "model with qgnn-convert and the runtime, or quantized with qgnn.sim")
    mods: List[torch.nn.Module] = []
    for layer in desc.layers:
        if layer.kind == LINEAR:
            mods += _with_bn(_linear(layer.dense, relu=layer.relu), layer, layer.dense.batch_norm)
        elif layer.kind == GCN_CONV:
            conv = qnn.GCNConv(layer.dense.in_features, layer.dense.out_features, relu=layer.relu,
                               order=layer.order)
            conv.lin = _linear(layer.dense)
            mods += _with_bn(conv, layer, layer.dense.batch_norm)
        elif layer.kind == SAGE_CONV:
            conv = qnn.SAGEConv(layer.dense.in_features, layer.dense.out_features, reduce=layer.reduce,
                                root_weight=layer.root is not None, relu=layer.relu, order=layer.order)
            root_bias = layer.root.bias if layer.root is not None else None
            conv.lin_neighbor = _linear(layer.dense, extra_bias=root_bias)  # b_n + b_r: same function
            if layer.root is not None:
                conv.lin_root = _linear(DenseDesc(layer.root.weight, None))
            mods += _with_bn(conv, layer, layer.dense.batch_norm)
        elif layer.kind == GIN_CONV:
            mods.append(qnn.GINConv(_gin_members(layer), eps=layer.eps, relu=layer.relu))
        elif layer.kind == GAT_CONV:
            mods.append(_gat(layer))
        elif layer.kind == GLOBAL_POOL:
            mods.append(qnn.GlobalPool(layer.reduce))
    model = qnn.GraphModel(*mods)
    model.eval()
    return model


def load(path: PathLike) -> qnn.GraphModel:
    """Read a float .qgnn file into a qgnn.nn.GraphModel (eval mode)."""
    return from_desc(read_model(path))
