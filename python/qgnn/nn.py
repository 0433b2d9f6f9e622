"""Float PyTorch modules with exactly the qgnn runtime's layer semantics (kernels/.../reference.h).

Graphs are CSR: row i of (row_ptr, col_idx) lists the in-neighbours j of the edges j -> i; graph_ptr cuts
the nodes into graphs (a batch is one block-diagonal CSR). Layers take (x, graph) with x [num_nodes, F].

  GCNConv   y_i = act(W · sum_{j in N(i) ∪ {i}} x_j / sqrt(d_i d_j) + b),  d = in-degree + 1
            (order: aggregate-first as written, or transform-first: sum_j (W x_j) / sqrt(d_i d_j) + b)
  SAGEConv  y_i = act(W_n · reduce_{j in N(i)} x_j + b + W_r · x_i),   reduce mean or max, degree 0 -> 0
            (order, mean only: aggregate-first as written, or transform-first: mean_j (W_n x_j) + b + W_r x_i)
  GINConv   y_i = act(MLP((1 + eps) x_i + sum_{j in N(i)} x_j)),  MLP = Linear [BatchNorm1d] [ReLU] ...
  GATConv   per head h: m = W x, e_ij = LeakyReLU_0.2(a_src[h]·m_j[h] + a_dst[h]·m_i[h]),
            alpha = softmax of e_i. over j in N(i) ∪ {i} (the self-loop always added, on top of an explicit
            self-loop edge), y_i[h] = sum_j alpha_ij m_j[h]; heads concatenated or averaged; y = act(y + b)
  GlobalPool one row per graph: sum / mean / max over its nodes, an empty graph -> 0
  Linear    y = act(x W^T + b)
`relu=True` is the activation fused at the end of a layer. qgnn.export writes these as a .qgnn model.
"""

from __future__ import annotations

import warnings
from typing import Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from .model_file import ORDERS, TRANSFORM_FIRST, auto_order

REDUCES = ("sum", "mean", "max")


class Graph:
    """A CSR graph batch plus the index tensors the layers need (computed once per batch)."""

    def __init__(self, row_ptr, col_idx, graph_ptr=None) -> None:
        self.row_ptr = torch.as_tensor(row_ptr, dtype=torch.long)
        self.col_idx = torch.as_tensor(col_idx, dtype=torch.long)
        self.num_nodes = int(self.row_ptr.numel()) - 1
        if graph_ptr is None:
            graph_ptr = [0, self.num_nodes]
        self.graph_ptr = torch.as_tensor(graph_ptr, dtype=torch.long)
        self.num_graphs = int(self.graph_ptr.numel()) - 1
        self.degree = self.row_ptr[1:] - self.row_ptr[:-1]
        if int(self.row_ptr[-1]) != self.col_idx.numel():
            raise ValueError(f"row_ptr ends at {int(self.row_ptr[-1])}, col_idx has {self.col_idx.numel()}")
        self.dst = torch.repeat_interleave(torch.arange(self.num_nodes), self.degree)
        self.graph_of_node = torch.repeat_interleave(torch.arange(self.num_graphs),
                                                     self.graph_ptr[1:] - self.graph_ptr[:-1])


def _scatter_max(src: Tensor, index: Tensor, rows: int) -> Tensor:
    """Row-wise max of src into `rows` rows; rows that receive nothing are 0."""
    out = src.new_zeros(rows, src.shape[1])
    idx = index.unsqueeze(1).expand(-1, src.shape[1])
    with warnings.catch_warnings():  # torch 1.13: "scatter_reduce() is in beta"
        warnings.simplefilter("ignore", UserWarning)
        return out.scatter_reduce(0, idx, src, reduce="amax", include_self=False)


def aggregate(x: Tensor, graph: Graph, reduce: str) -> Tensor:
    """sum / mean / max of the in-neighbours' rows (no self term); degree 0 gives 0."""
    msgs = x.index_select(0, graph.col_idx)
    if reduce == "max":
        return _scatter_max(msgs, graph.dst, graph.num_nodes)
    out = x.new_zeros(graph.num_nodes, x.shape[1]).index_add_(0, graph.dst, msgs)
    if reduce == "mean":
        out = out / graph.degree.clamp(min=1).unsqueeze(1).to(x.dtype)
    elif reduce != "sum":
        raise ValueError(f"unknown reduce {reduce!r}")
    return out


def gcn_aggregate(x: Tensor, graph: Graph) -> Tensor:
    """sum_{j in N(i) ∪ {i}} x_j / sqrt(d_i d_j), d = in-degree + 1."""
    inv = (graph.degree + 1).to(x.dtype).rsqrt().unsqueeze(1)
    scaled = x * inv
    agg = scaled.clone().index_add_(0, graph.dst, scaled.index_select(0, graph.col_idx))
    return agg * inv


def global_pool(x: Tensor, graph: Graph, reduce: str) -> Tensor:
    if reduce == "max":
        return _scatter_max(x, graph.graph_of_node, graph.num_graphs)
    out = x.new_zeros(graph.num_graphs, x.shape[1]).index_add_(0, graph.graph_of_node, x)
    if reduce == "mean":
        counts = (graph.graph_ptr[1:] - graph.graph_ptr[:-1]).clamp(min=1)
        out = out / counts.unsqueeze(1).to(x.dtype)
    elif reduce != "sum":
        raise ValueError(f"unknown reduce {reduce!r}")
    return out


def _act(y: Tensor, relu: bool) -> Tensor:
    return torch.relu(y) if relu else y


class GraphLayer(torch.nn.Module):
    """Base of the layers that need the graph: forward(x, graph)."""


class Linear(torch.nn.Linear):
    """torch.nn.Linear with the fused ReLU flag of the runtime's Linear layer."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, relu: bool = False) -> None:
        super().__init__(in_features, out_features, bias=bias)
        self.relu = relu

    def forward(self, x: Tensor) -> Tensor:
        return _act(super().forward(x), self.relu)


class GCNConv(GraphLayer):
    """order: "auto" (transform-first when the layer narrows the features, as the converter and qgnn.qat
    choose), "aggregate-first" or "transform-first". The two compute the same function; in float they differ
    only by rounding, and transform-first aggregates out_features columns instead of in_features."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, relu: bool = False,
                 order: str = "auto") -> None:
        super().__init__()
        self.lin = torch.nn.Linear(in_features, out_features, bias=bias)
        self.relu = relu
        if order != "auto" and order not in ORDERS:
            raise ValueError(f"unknown GCNConv order {order!r} (auto, {', '.join(ORDERS)})")
        self.order = order

    @property
    def resolved_order(self) -> str:
        """The order this layer runs and exports: "auto" resolved by qgnn.model_file.auto_order."""
        return auto_order(self.lin.in_features, self.lin.out_features) if self.order == "auto" else self.order

    def forward(self, x: Tensor, graph: Graph) -> Tensor:
        if self.resolved_order == TRANSFORM_FIRST:
            y = gcn_aggregate(x @ self.lin.weight.t(), graph)
            return _act(y + self.lin.bias if self.lin.bias is not None else y, self.relu)
        return _act(self.lin(gcn_aggregate(x, graph)), self.relu)


class SAGEConv(GraphLayer):
    """order: as GCNConv's ("auto": transform-first when the neighbour Dense narrows the features), for reduce
    "mean" only: max does not commute with W_n, so "auto" keeps a max layer aggregate-first and
    "transform-first" with max is refused."""

    def __init__(self, in_features: int, out_features: int, reduce: str = "mean", root_weight: bool = True,
                 bias: bool = True, relu: bool = False, order: str = "auto") -> None:
        super().__init__()
        if reduce not in ("mean", "max"):
            raise ValueError(f"SAGEConv reduce must be 'mean' or 'max', got {reduce!r}")
        self.reduce = reduce
        self.lin_neighbor = torch.nn.Linear(in_features, out_features, bias=bias)
        self.lin_root = torch.nn.Linear(in_features, out_features, bias=False) if root_weight else None
        self.relu = relu
        if order != "auto" and order not in ORDERS:
            raise ValueError(f"unknown SAGEConv order {order!r} (auto, {', '.join(ORDERS)})")
        if order == TRANSFORM_FIRST and reduce != "mean":
            raise ValueError("a transform-first SAGEConv needs reduce 'mean' (max does not commute with W_n)")
        self.order = order

    @property
    def resolved_order(self) -> str:
        """The order this layer runs and exports: "auto" resolved by qgnn.model_file.auto_order."""
        if self.order == "auto":
            return auto_order(self.lin_neighbor.in_features, self.lin_neighbor.out_features, self.reduce)
        return self.order

    def forward(self, x: Tensor, graph: Graph) -> Tensor:
        if self.resolved_order == TRANSFORM_FIRST:
            y = aggregate(x @ self.lin_neighbor.weight.t(), graph, "mean")
            y = y + self.lin_neighbor.bias if self.lin_neighbor.bias is not None else y
        else:
            y = self.lin_neighbor(aggregate(x, graph, self.reduce))
        if self.lin_root is not None:
            y = y + self.lin_root(x)
        return _act(y, self.relu)


def gat_edges(graph: Graph) -> Tuple[Tensor, Tensor]:
    """(source, destination) of every attention term of GATConv, row by row as the runtime walks them (and
    qgnn.sim.kernels.gat_rows lists them): row i's self-loop, then its edges in CSR order. The runtime adds the
    self-loop to every row, so an explicit self-loop edge counts twice."""
    size = graph.degree + 1
    starts = torch.cumsum(size, 0) - size
    dest = torch.repeat_interleave(torch.arange(graph.num_nodes), size)
    source = torch.empty_like(dest)
    is_edge = torch.ones_like(dest, dtype=torch.bool)
    is_edge[starts] = False
    source[starts] = torch.arange(graph.num_nodes)
    source[is_edge] = graph.col_idx
    return source, dest


def segment_softmax(e: Tensor, index: Tensor, rows: int) -> Tensor:
    """Softmax of e [E, H] over the entries sharing index (a destination row), with the row max subtracted
    first, as the runtime does. Every row holds at least its self-loop, so no sum is 0."""
    emax = _scatter_max(e, index, rows).detach()  # the max only shifts the exponent: no gradient needed
    t = torch.exp(e - emax.index_select(0, index))
    total = e.new_zeros(rows, e.shape[1]).index_add_(0, index, t)
    return t / total.index_select(0, index)


class GATConv(GraphLayer):
    """Graph attention (Veličković et al., ICLR 2018), the runtime's GATConv: `heads` heads of `head_dim`
    features, concatenated (heads * head_dim outputs) or averaged (head_dim outputs); W without bias, one bias
    added after the attention; LeakyReLU slope 0.2 (the format fixes it). `dropout` is the attention dropout
    (on the softmax coefficients, training only; export drops it). relu=True fuses the runtime's activation
    (it has no ELU)."""

    NEGATIVE_SLOPE = 0.2

    def __init__(self, in_features: int, head_dim: int, heads: int = 1, concat: bool = True, bias: bool = True,
                 relu: bool = False, dropout: float = 0.0) -> None:
        super().__init__()
        if heads < 1 or head_dim < 1:
            raise ValueError(f"GATConv needs heads >= 1 and head_dim >= 1, got {heads} and {head_dim}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"GATConv attention dropout must be in [0, 1), got {dropout}")
        self.heads, self.head_dim, self.concat = heads, head_dim, concat
        self.lin = torch.nn.Linear(in_features, heads * head_dim, bias=False)
        self.att_src = torch.nn.Parameter(torch.empty(heads, head_dim))
        self.att_dst = torch.nn.Parameter(torch.empty(heads, head_dim))
        out = heads * head_dim if concat else head_dim
        self.bias = torch.nn.Parameter(torch.zeros(out)) if bias else None
        self.relu = relu
        self.dropout = dropout
        # Glorot, as the reference implementations (PyG, the paper's code) initialise W and the attention
        # vectors; torch's default Linear init trains Cora's GAT to a lower accuracy.
        torch.nn.init.xavier_uniform_(self.lin.weight)
        torch.nn.init.xavier_uniform_(self.att_src)
        torch.nn.init.xavier_uniform_(self.att_dst)

    @property
    def out_features(self) -> int:
        return self.heads * self.head_dim if self.concat else self.head_dim

    def messages(self, x: Tensor) -> Tensor:
        return x @ self.lin.weight.t()

    def forward(self, x: Tensor, graph: Graph) -> Tensor:
        return gat_propagate(self.messages(x), self.att_src, self.att_dst, self.bias, graph, self.concat,
                             self.relu, self.dropout if self.training else 0.0)


def gat_logits(m: Tensor, att_src: Tensor, att_dst: Tensor, graph: Graph) -> Tensor:
    """LeakyReLU(0.2) logits [E, H] of gat_edges' terms from the messages m [N, H F]."""
    heads, f = att_src.shape
    mh = m.view(-1, heads, f)
    src = (mh * att_src.unsqueeze(0)).sum(-1)
    dst = (mh * att_dst.unsqueeze(0)).sum(-1)
    source, dest = gat_edges(graph)
    return torch.nn.functional.leaky_relu(src.index_select(0, source) + dst.index_select(0, dest),
                                          GATConv.NEGATIVE_SLOPE)


def gat_combine(alpha: Tensor, m: Tensor, bias: Optional[Tensor], graph: Graph, concat: bool,
                relu: bool) -> Tensor:
    """sum_j alpha_ij m_j per head (alpha [E, H] over gat_edges' terms), heads concatenated or averaged, plus
    the bias, then the activation."""
    heads = alpha.shape[1]
    mh = m.view(graph.num_nodes, heads, -1)
    source, dest = gat_edges(graph)
    weighted = alpha.unsqueeze(-1) * mh.index_select(0, source)
    y = mh.new_zeros(mh.shape).index_add_(0, dest, weighted)
    y = y.reshape(graph.num_nodes, -1) if concat else y.mean(dim=1)
    return _act(y + bias if bias is not None else y, relu)


def gat_propagate(m: Tensor, att_src: Tensor, att_dst: Tensor, bias: Optional[Tensor], graph: Graph,
                  concat: bool, relu: bool, dropout: float = 0.0) -> Tensor:
    """GATConv after its Dense: logits, softmax per destination row and head, (attention dropout), the
    weighted message sum, heads, bias, activation."""
    e = gat_logits(m, att_src, att_dst, graph)
    alpha = segment_softmax(e, gat_edges(graph)[1], graph.num_nodes)
    if dropout > 0.0:
        alpha = torch.nn.functional.dropout(alpha, dropout, training=True)
    return gat_combine(alpha, m, bias, graph, concat, relu)


class GINConv(GraphLayer):
    """`mlp` runs on (1 + eps) x_i + sum_j x_j; it may hold Linear, BatchNorm1d (after a Linear), ReLU and
    Dropout modules. A trailing ReLU in the MLP is the same as relu=True."""

    def __init__(self, mlp: Union[torch.nn.Module, Sequence[torch.nn.Module]], eps: float = 0.0,
                 train_eps: bool = False, relu: bool = False) -> None:
        super().__init__()
        self.mlp = mlp if isinstance(mlp, torch.nn.Module) else torch.nn.Sequential(*mlp)
        if train_eps:
            self.eps = torch.nn.Parameter(torch.tensor([float(eps)]))
        else:
            self.register_buffer("eps", torch.tensor([float(eps)]))
        self.relu = relu

    def forward(self, x: Tensor, graph: Graph) -> Tensor:
        h = (1 + self.eps) * x + aggregate(x, graph, "sum")
        return _act(self.mlp(h), self.relu)


def gin_mlp(dims: Sequence[int], batch_norm: bool = False) -> torch.nn.Sequential:
    """Linear(dims[0], dims[1]) [BatchNorm1d] ReLU Linear(...) ... Linear(dims[-2], dims[-1])."""
    mods = []
    for k in range(len(dims) - 1):
        mods.append(torch.nn.Linear(dims[k], dims[k + 1]))
        if k < len(dims) - 2:
            if batch_norm:
                mods.append(torch.nn.BatchNorm1d(dims[k + 1]))
            mods.append(torch.nn.ReLU())
    return torch.nn.Sequential(*mods)


class GlobalPool(GraphLayer):
    def __init__(self, reduce: str = "sum") -> None:
        super().__init__()
        if reduce not in REDUCES:
            raise ValueError(f"GlobalPool reduce must be one of {REDUCES}, got {reduce!r}")
        self.reduce = reduce

    def forward(self, x: Tensor, graph: Graph) -> Tensor:
        return global_pool(x, graph, self.reduce)


class GraphModel(torch.nn.Module):
    """Layers run in order. Members may be the layers above, torch.nn.Linear, and (fused or dropped at
    export) torch.nn.ReLU, torch.nn.BatchNorm1d, torch.nn.Dropout, torch.nn.Identity."""

    def __init__(self, *layers: torch.nn.Module) -> None:
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):  # GraphModel([a, b]) = GraphModel(a, b)
            layers = tuple(layers[0])
        self.layers = torch.nn.ModuleList(layers)

    def forward(self, x: Tensor, row_ptr, col_idx=None, graph_ptr=None) -> Tensor:
        graph = row_ptr if isinstance(row_ptr, Graph) else Graph(row_ptr, col_idx, graph_ptr)
        for layer in self.layers:
            x = layer(x, graph) if isinstance(layer, GraphLayer) else layer(x)
        return x


def predict(model: torch.nn.Module, x, graph: Graph) -> Tensor:
    """argmax over classes in eval mode, without gradients (the first on ties, like the runtime)."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model(torch.as_tensor(x, dtype=torch.float32), graph).argmax(dim=1)
    finally:
        model.train(was_training)
