"""The standard PyTorch formulation of a qgnn float model: the layers written as PyG users write them.

qgnn.nn (qgnn.load) reproduces the runtime's aggregate-first kernels; nobody runs GCN that way. This module
rebuilds the SAME network (same layer sizes, the weights copied from the qgnn.nn model) the way PyG's
convolutions compute it (torch_geometric/nn/conv/{gcn,sage,gin}_conv.py), with the graph held as precomputed
`torch.sparse` matrices:

  GCNConv   transform first: X·W (a bias-free torch.nn.Linear), then Â·(XW) with ONE sparse matrix
            Â = D^-1/2 (A + I) D^-1/2, then + b and the activation. qgnn's act(W · Σ_j x_j/sqrt(d_i d_j) + b) is
            the same function (matrix products associate); only the float summation order differs.
  SAGEConv  PyG aggregates first for every width: lin_l(mean_j x_j) + lin_r(x_i), the mean as a sparse product
            with the row-normalised adjacency (max: scatter_reduce, there is no sparse "max-product").
  GINConv   (1 + eps)·x + A·x (sum aggregation, sparse product), then the MLP.
  GlobalPool index_add_ (torch_scatter is not in Debian's torch; PyG's global_add_pool is the same scatter sum).

Every Linear is a plain torch.nn.Linear (with a separate ReLU), so torch.ao.quantization.quantize_dynamic
finds and swaps them. Features may be a sparse tensor where the first layer multiplies them by a weight before
aggregating (GCN, Linear): X_sparse·W is then torch.sparse.mm, as users with bag-of-words features write it.

A[i, j] counts the CSR entries j -> i (duplicates add, as the runtime's sum over the CSR row does), and the
GCN degree is d_i = in-degree + 1, the runtime's definition (docs/design.md); PyG's gcn_norm agrees on graphs
without explicit self-loops, which qgnn's importers drop.
"""

from __future__ import annotations

from typing import List, Optional

import torch
from torch import Tensor

from qgnn import nn as qnn

LAYOUTS = ("coo", "csr")


def _sparse(rows: Tensor, cols: Tensor, values: Tensor, n: int, m: int, layout: str) -> Tensor:
    a = torch.sparse_coo_tensor(torch.stack([rows, cols]), values, (n, m)).coalesce()
    if layout == "csr":
        return a.to_sparse_csr()
    if layout != "coo":
        raise ValueError(f"unknown sparse layout {layout!r} (one of {LAYOUTS})")
    return a


class Adjacency:
    """The sparse operators of one batch, built once before timing (as qgnn's setup is not timed)."""

    def __init__(self, graph: qnn.Graph, layout: str = "coo") -> None:
        n = graph.num_nodes
        dst, src = graph.dst, graph.col_idx
        ones = torch.ones(src.numel(), dtype=torch.float32)
        self.num_nodes = n
        self.sum = _sparse(dst, src, ones, n, n, layout)
        inv_deg = 1.0 / graph.degree.clamp(min=1).to(torch.float32)
        self.mean = _sparse(dst, src, inv_deg[dst], n, n, layout)
        inv_sqrt = (graph.degree + 1).to(torch.float32).rsqrt()
        loops = torch.arange(n)
        self.gcn = _sparse(torch.cat([dst, loops]), torch.cat([src, loops]),
                           torch.cat([inv_sqrt[dst] * inv_sqrt[src], inv_sqrt * inv_sqrt]), n, n, layout)
        self.graph_of_node = graph.graph_of_node
        self.num_graphs = graph.num_graphs
        self.graph_sizes = (graph.graph_ptr[1:] - graph.graph_ptr[:-1]).clamp(min=1).to(torch.float32)


def _is_sparse(x: Tensor) -> bool:
    return x.layout != torch.strided


def _transform(x: Tensor, lin: torch.nn.Module, weight_t: Tensor) -> Tensor:
    """x·W^T (+ b): torch.sparse.mm(x, W) for sparse features, else the (float or quantized) Linear itself.
    weight_t is W stored [in, out], as hand-written models hold it: torch.sparse.mm with a transposed view of
    Linear's [out, in] weight is about 1.4x slower on Cora, and the baseline should be PyTorch at its best."""
    if not _is_sparse(x):
        return lin(x)
    y = torch.sparse.mm(x, weight_t)
    return y if lin.bias is None else y + lin.bias


def _relu(y: Tensor, relu: bool) -> Tensor:
    return torch.relu(y) if relu else y


class GCN(torch.nn.Module):
    def __init__(self, weight: Tensor, bias: Optional[Tensor], relu: bool) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=False)
        self.bias = None if bias is None else torch.nn.Parameter(bias.detach().clone())
        self.relu = relu
        with torch.no_grad():
            self.lin.weight.copy_(weight)
        self.register_buffer("weight_t", weight.detach().t().contiguous())

    def forward(self, x: Tensor, adj: Adjacency, graph: qnn.Graph) -> Tensor:
        out = torch.sparse.mm(adj.gcn, _transform(x, self.lin, self.weight_t))
        if self.bias is not None:
            out = out + self.bias
        return _relu(out, self.relu)


class SAGE(torch.nn.Module):
    def __init__(self, src: qnn.SAGEConv) -> None:
        super().__init__()
        self.reduce = src.reduce
        self.lin_l = _plain_linear(src.lin_neighbor)
        self.lin_r = None if src.lin_root is None else _plain_linear(src.lin_root)
        self.relu = src.relu

    def forward(self, x: Tensor, adj: Adjacency, graph: qnn.Graph) -> Tensor:
        agg = torch.sparse.mm(adj.mean, x) if self.reduce == "mean" else qnn.aggregate(x, graph, "max")
        out = self.lin_l(agg)
        if self.lin_r is not None:
            out = out + self.lin_r(x)
        return _relu(out, self.relu)


class GIN(torch.nn.Module):
    def __init__(self, src: qnn.GINConv) -> None:
        super().__init__()
        self.mlp = torch.nn.Sequential(*_plain_members(src.mlp))
        self.register_buffer("eps", src.eps.detach().clone())
        self.relu = src.relu

    def forward(self, x: Tensor, adj: Adjacency, graph: qnn.Graph) -> Tensor:
        return _relu(self.mlp(torch.sparse.mm(adj.sum, x) + (1 + self.eps) * x), self.relu)


class Pool(torch.nn.Module):
    def __init__(self, reduce: str) -> None:
        super().__init__()
        self.reduce = reduce

    def forward(self, x: Tensor, adj: Adjacency, graph: qnn.Graph) -> Tensor:
        if self.reduce == "max":
            return qnn.global_pool(x, graph, "max")
        out = x.new_zeros(adj.num_graphs, x.shape[1]).index_add_(0, adj.graph_of_node, x)
        return out / adj.graph_sizes.unsqueeze(1) if self.reduce == "mean" else out


class FirstLinear(torch.nn.Module):
    """A leading Linear that may receive sparse features."""

    def __init__(self, lin: torch.nn.Linear, relu: bool) -> None:
        super().__init__()
        self.lin = lin
        self.relu = relu
        self.register_buffer("weight_t", lin.weight.detach().t().contiguous())

    def forward(self, x: Tensor) -> Tensor:
        return _relu(_transform(x, self.lin, self.weight_t), self.relu)


def _plain_linear(src: torch.nn.Linear) -> torch.nn.Linear:
    """A copy as an exact torch.nn.Linear: quantize_dynamic swaps by exact type, not qnn.Linear subclasses."""
    lin = torch.nn.Linear(src.in_features, src.out_features, bias=src.bias is not None)
    with torch.no_grad():
        lin.weight.copy_(src.weight)
        if src.bias is not None:
            lin.bias.copy_(src.bias)
    return lin


def _plain_members(mods) -> List[torch.nn.Module]:
    out: List[torch.nn.Module] = []
    for m in mods:
        if isinstance(m, torch.nn.Linear):
            out.append(_plain_linear(m))
            if getattr(m, "relu", False):
                out.append(torch.nn.ReLU())
        elif isinstance(m, (torch.nn.BatchNorm1d, torch.nn.ReLU, torch.nn.Dropout, torch.nn.Identity)):
            out.append(m)
        else:
            raise ValueError(f"no standard formulation for a {type(m).__name__} member")
    return out


class StandardModel(torch.nn.Module):
    """forward(x, adj, graph): graph layers take the batch's Adjacency (and its qgnn.nn.Graph for the max
    reductions), the others x alone."""

    def __init__(self, layers: List[torch.nn.Module], graph_layers: List[bool]) -> None:
        super().__init__()
        self.layers = torch.nn.ModuleList(layers)
        self.graph_layers = graph_layers

    def forward(self, x: Tensor, adj: Adjacency, graph: qnn.Graph) -> Tensor:
        for layer, needs_graph in zip(self.layers, self.graph_layers):
            x = layer(x, adj, graph) if needs_graph else layer(x)
        return x

    def takes_sparse_features(self) -> bool:
        """Whether the first layer multiplies the features by a weight before any aggregation, the only
        place sparse features go in the standard formulation (PyG's SAGEConv and GINConv gather raw rows)."""
        return bool(self.layers) and isinstance(self.layers[0], (GCN, FirstLinear))


def standard_from_qgnn(model: qnn.GraphModel) -> StandardModel:
    """The standard formulation of a qgnn.nn model (from qgnn.load), weights copied, eval mode."""
    layers: List[torch.nn.Module] = []
    graph_layers: List[bool] = []
    for m in model.layers:
        if isinstance(m, qnn.GCNConv):
            layers.append(GCN(m.lin.weight, m.lin.bias, m.relu))
        elif isinstance(m, qnn.SAGEConv):
            layers.append(SAGE(m))
        elif isinstance(m, qnn.GINConv):
            layers.append(GIN(m))
        elif isinstance(m, qnn.GlobalPool):
            layers.append(Pool(m.reduce))
        elif isinstance(m, torch.nn.Linear) and not layers:
            layers.append(FirstLinear(_plain_linear(m), getattr(m, "relu", False)))
        else:
            plain = _plain_members([m])
            layers += plain
            graph_layers += [False] * (len(plain) - 1)
        graph_layers.append(isinstance(layers[-1], (GCN, SAGE, GIN, Pool)))
    std = StandardModel(layers, graph_layers)
    std.eval()
    return std
