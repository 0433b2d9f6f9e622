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
  GATConv   PyG's GATConv (torch_geometric/nn/conv/gat_conv.py) as torch 1.13 runs it without torch_scatter: the
            messages X·W by a bias-free Linear, the per-node terms (h · a_src, h · a_dst), edge-wise logits by
            index_select over the edges plus a self-loop per node, LeakyReLU(0.2), PyG's softmax
            (torch_geometric/utils/softmax.py: scatter max by scatter_reduce_("amax"), exp of the difference,
            scatter_add_ of the exps, divide), the messages weighted per edge and summed by index_add_, heads
            concatenated or averaged, + b, activation. Float GAT files are read with qgnn.model_file (qgnn.nn
            has no GATConv): standard_gat_from_file.

Every Linear is a plain torch.nn.Linear (with a separate ReLU), so torch.ao.quantization.quantize_dynamic
finds and swaps them. Features may be a sparse tensor where the first layer multiplies them by a weight before
aggregating (GCN, Linear): X_sparse·W is then torch.sparse.mm, as users with bag-of-words features write it.

A[i, j] counts the CSR entries j -> i (duplicates add, as the runtime's sum over the CSR row does), and the
GCN degree is d_i = in-degree + 1, the runtime's definition (docs/design.md); PyG's gcn_norm agrees on graphs
without explicit self-loops, which qgnn's importers drop.
"""

from __future__ import annotations

import warnings
from typing import List, Optional

import torch
from torch import Tensor

from qgnn import nn as qnn

LAYOUTS = ("coo", "csr")
# torch 1.13 warns once that scatter_reduce is beta; PyG's softmax calls it the same way.
warnings.filterwarnings("ignore", message=r"scatter_reduce\(\) is in beta")


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
        # GAT's edge list with a self-loop per node (PyG's add_self_loops, done here once: the graph is fixed,
        # as qgnn's setup is not timed either), and the destination index broadcast per head count.
        self.gat_src = torch.cat([src, loops])
        self.gat_dst = torch.cat([dst, loops])
        self._gat_index = {}

    def gat_index(self, heads: int) -> Tensor:
        """The destinations as a [edges, heads] index for scatter_reduce_ / scatter_add_ (PyG's broadcast)."""
        if heads not in self._gat_index:
            self._gat_index[heads] = self.gat_dst.view(-1, 1).expand(-1, heads).contiguous()
        return self._gat_index[heads]


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


class GAT(torch.nn.Module):
    """PyG's GATConv forward (see the module docstring), weights from a float GATConv layer."""

    def __init__(self, weight: Tensor, att_src: Tensor, att_dst: Tensor, bias: Optional[Tensor], heads: int,
                 head_dim: int, concat: bool, relu: bool) -> None:
        super().__init__()
        self.heads, self.head_dim, self.concat, self.relu = heads, head_dim, concat, relu
        self.lin = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=False)
        with torch.no_grad():
            self.lin.weight.copy_(weight)
        self.register_buffer("weight_t", weight.detach().t().contiguous())
        self.att_src = torch.nn.Parameter(att_src.detach().reshape(1, heads, head_dim).clone())
        self.att_dst = torch.nn.Parameter(att_dst.detach().reshape(1, heads, head_dim).clone())
        self.bias = None if bias is None else torch.nn.Parameter(bias.detach().clone())

    def forward(self, x: Tensor, adj: Adjacency, graph: qnn.Graph) -> Tensor:
        n, heads = adj.num_nodes, self.heads
        h = _transform(x, self.lin, self.weight_t).view(-1, heads, self.head_dim)
        alpha_src = (h * self.att_src).sum(dim=-1)
        alpha_dst = (h * self.att_dst).sum(dim=-1)
        src, dst, index = adj.gat_src, adj.gat_dst, adj.gat_index(heads)
        e = torch.nn.functional.leaky_relu(alpha_src.index_select(0, src) + alpha_dst.index_select(0, dst), 0.2)
        e_max = e.new_zeros(n, heads).scatter_reduce_(0, index, e, reduce="amax", include_self=False)
        p = (e - e_max.index_select(0, dst)).exp()
        denominator = p.new_zeros(n, heads).scatter_add_(0, index, p) + 1e-16
        alpha = p / denominator.index_select(0, dst)
        out = h.new_zeros(n, heads, self.head_dim).index_add_(0, dst, h.index_select(0, src) * alpha.unsqueeze(-1))
        out = out.reshape(n, heads * self.head_dim) if self.concat else out.mean(dim=1)
        if self.bias is not None:
            out = out + self.bias
        return _relu(out, self.relu)


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
        return bool(self.layers) and isinstance(self.layers[0], (GCN, GAT, FirstLinear))


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


def is_gat_file(desc) -> bool:
    """Whether a qgnn.model_file.ModelDesc has a GATConv (run through standard_gat_from_file, not qgnn.load)."""
    from qgnn import model_file

    return any(layer.kind == model_file.GAT_CONV for layer in desc.layers)


def standard_gat_from_file(desc) -> StandardModel:
    """The standard formulation of a float GAT model read with qgnn.model_file.read_model: GATConv layers, and
    Linear layers (a leading one may take sparse features); eval mode."""
    from qgnn import model_file

    layers: List[torch.nn.Module] = []
    graph_layers: List[bool] = []
    for i, layer in enumerate(desc.layers):
        if model_file.input_of(desc, i) != i - 1:
            raise ValueError(f"layer {i} ({layer.name}) reads layer {model_file.input_of(desc, i)}: skip connections "
                             "have no standard formulation here")
        if layer.kind == model_file.GAT_CONV:
            bias = None if layer.output_bias is None else torch.from_numpy(layer.output_bias)
            layers.append(GAT(torch.from_numpy(layer.dense.weight), torch.from_numpy(layer.att_src),
                              torch.from_numpy(layer.att_dst), bias, layer.heads, layer.head_dim, layer.concat,
                              layer.relu))
            graph_layers.append(True)
        elif layer.kind == model_file.LINEAR:
            lin = torch.nn.Linear(layer.dense.in_features, layer.dense.out_features, bias=layer.dense.bias is not None)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(layer.dense.weight))
                if layer.dense.bias is not None:
                    lin.bias.copy_(torch.from_numpy(layer.dense.bias))
            layers.append(FirstLinear(lin, layer.relu) if not layers else lin)
            graph_layers.append(False)
            if layers[-1] is lin and layer.relu:
                layers.append(torch.nn.ReLU())
                graph_layers.append(False)
        else:
            raise ValueError(f"layer {i} ({layer.name}) is a {layer.kind}: a GAT model here holds GATConv and Linear "
                             "layers only")
    std = StandardModel(layers, graph_layers)
    std.eval()
    return std


def gat_dense_reference(desc, x: Tensor, graph: qnn.Graph) -> Tensor:
    """The GAT model straight from its definition (docs/quantization.md, "GATConv"), float64, one dense
    [nodes, nodes] attention matrix per head: alpha_ij = c_ij exp(e_ij) / sum_k c_ik exp(e_ik) over the CSR
    entries j -> i (c_ij counts them, duplicates as the runtime's sum over the row) plus one self-loop. An
    independent check of the scatter formulation; O(nodes^2) memory, so for graphs of a few thousand nodes."""
    from qgnn import model_file

    n = graph.num_nodes
    counts = torch.zeros(n, n, dtype=torch.float64)
    counts.index_put_((graph.dst, graph.col_idx), torch.ones(graph.col_idx.numel(), dtype=torch.float64),
                      accumulate=True)
    counts += torch.eye(n, dtype=torch.float64)
    present = counts > 0
    h_in = x.to_dense().to(torch.float64) if _is_sparse(x) else x.to(torch.float64)
    for layer in desc.layers:
        w = torch.from_numpy(layer.dense.weight).to(torch.float64)
        if layer.kind == model_file.LINEAR:
            out = h_in @ w.t()
            if layer.dense.bias is not None:
                out = out + torch.from_numpy(layer.dense.bias).to(torch.float64)
        else:
            f = layer.head_dim
            m = h_in @ w.t()
            a_src = torch.from_numpy(layer.att_src).to(torch.float64)
            a_dst = torch.from_numpy(layer.att_dst).to(torch.float64)
            heads = []
            for k in range(layer.heads):
                mk = m[:, k * f:(k + 1) * f]
                e = torch.nn.functional.leaky_relu((mk @ a_dst[k * f:(k + 1) * f]).unsqueeze(1)
                                                   + (mk @ a_src[k * f:(k + 1) * f]).unsqueeze(0), 0.2)
                e = e.masked_fill(~present, float("-inf"))
                weights = counts * (e - e.max(dim=1, keepdim=True).values).exp()
                heads.append((weights / weights.sum(dim=1, keepdim=True)) @ mk)
            out = torch.cat(heads, dim=1) if layer.concat else torch.stack(heads).mean(dim=0)
            if layer.output_bias is not None:
                out = out + torch.from_numpy(layer.output_bias).to(torch.float64)
        h_in = torch.relu(out) if layer.relu else out
    return h_in
