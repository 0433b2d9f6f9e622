"""The graph data set format (.qgd, schema/qgd.fbs): an in-memory GraphSet, validation, read and write."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

import flatbuffers
import numpy as np

from . import _fb
from ._atomic import PathLike, write_bytes_atomic
from ._fb import FormatError
from .schema import qgd_generated as fbd

QGD_IDENTIFIER = b"QGD1"
# Newest version this reader knows. Version 2 adds sparse features; the writer stamps it only on files that
# store them, so dense files stay version 1 and readable by older readers, which refuse sparse ones.
QGD_VERSION = 2
QGD_DENSE_VERSION = 1
GRAPH_CLASSIFICATION = 0
NODE_CLASSIFICATION = 1


@dataclass
class SparseFeatures:
    """Node features as CSR of their non-zeros (no scipy): node i's entries are col_idx[e] with value
    values[e] for e in row_ptr[i]:row_ptr[i+1], columns strictly increasing within a node."""

    row_ptr: np.ndarray
    col_idx: np.ndarray
    values: np.ndarray
    dim: int

    def __post_init__(self) -> None:
        self.row_ptr = np.asarray(self.row_ptr, dtype=np.int32).reshape(-1)
        self.col_idx = np.asarray(self.col_idx, dtype=np.int32).reshape(-1)
        self.values = np.asarray(self.values, dtype=np.float32).reshape(-1)
        self.dim = int(self.dim)

    @property
    def num_nodes(self) -> int:
        return int(self.row_ptr.shape[0]) - 1

    @property
    def nnz(self) -> int:
        return int(self.values.shape[0])

    @property
    def shape(self):
        return (self.num_nodes, self.dim)

    @classmethod
    def from_dense(cls, dense: np.ndarray) -> "SparseFeatures":
        dense = np.asarray(dense, dtype=np.float32)
        if dense.ndim != 2:
            raise ValueError(f"features must be 2-D, got shape {dense.shape}")
        rows, cols = np.nonzero(dense)  # row-major order: columns increase within a row
        row_ptr = np.zeros(dense.shape[0] + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=dense.shape[0]), out=row_ptr[1:])
        if row_ptr[-1] > np.iinfo(np.int32).max:
            raise FormatError(f"{row_ptr[-1]} non-zero features do not fit the int32 CSR of the .qgd format")
        return cls(row_ptr, cols, dense[rows, cols], dense.shape[1])

    def to_dense(self) -> np.ndarray:
        out = np.zeros(self.shape, np.float32)
        rows = np.repeat(np.arange(self.num_nodes), np.diff(self.row_ptr))
        out[rows, self.col_idx] = self.values
        return out

    def density(self) -> float:
        """Fraction of non-zero entries (explicit zeros in `values` do not count)."""
        total = self.num_nodes * self.dim
        return float(np.count_nonzero(self.values)) / total if total else 0.0

    def problem(self, num_nodes: int) -> Optional[str]:
        """What is wrong with this CSR for a set of `num_nodes` nodes, or None (checked in the order a
        reader trips over it: offsets first, so the column checks index safely)."""
        rp, ci, nnz = self.row_ptr, self.col_idx, self.nnz
        if rp.shape[0] != num_nodes + 1:
            return f"feature_row_ptr holds {rp.shape[0]} offsets, expected num_nodes + 1 = {num_nodes + 1}"
        if ci.shape[0] != nnz:
            return f"feature_col_idx holds {ci.shape[0]} columns but feature_values {nnz} values"
        if rp[0] != 0 or rp[-1] != nnz or np.any(np.diff(rp) < 0):
            return f"feature_row_ptr must start at 0, be non-decreasing and end at nnz = {nnz}"
        if self.dim < 1:
            return f"feature_dim {self.dim} is not > 0"
        if nnz and (ci.min() < 0 or ci.max() >= self.dim):
            bad = int(np.flatnonzero((ci < 0) | (ci >= self.dim))[0])
            return f"feature_col_idx[{bad}] = {ci[bad]} is not a feature column (feature_dim {self.dim})"
        if nnz > 1:
            # Strictly increasing within a node: every step but those that start a new row must go up.
            step_ok = np.diff(ci.astype(np.int64)) > 0
            starts = rp[1:-1]
            starts = starts[(starts > 0) & (starts < nnz)]
            step_ok[starts - 1] = True
            if not np.all(step_ok):
                bad = int(np.flatnonzero(~step_ok)[0]) + 1
                node = int(np.searchsorted(rp, bad, side="right")) - 1
                return (f"feature_col_idx[{bad}] = {ci[bad]} of node {node} does not increase "
                        f"(previous {ci[bad - 1]})")
        if not np.all(np.isfinite(self.values)):
            bad = int(np.flatnonzero(~np.isfinite(self.values))[0])
            return f"feature_values[{bad}] is NaN or infinity"
        return None


@dataclass
class GraphSet:
    """One CSR adjacency over all nodes, cut into graphs by `graph_ptr`.

    Row i of the CSR (col_idx[row_ptr[i]:row_ptr[i+1]]) lists the sources j of the edges j -> i, as global
    node ids. `features` is [num_nodes, feature_dim] float32. `labels` has one entry per graph
    (GRAPH_CLASSIFICATION) or per node (NODE_CLASSIFICATION); train/val/test index those graphs or nodes.

    Features are stored dense (`features`) or sparse (`features_csr`, a SparseFeatures; pass features=None).
    A sparse set stays sparse when read and written; reading `features` then gives a dense copy, made once
    and read-only (an in-place edit could not reach the CSR): assign `features` or `features_csr` instead.
    `is_sparse` tells which form is stored; `sparsify()` / `densify()` switch in place.
    """

    name: str
    task: int
    graph_ptr: np.ndarray
    row_ptr: np.ndarray
    col_idx: np.ndarray
    features: Optional[np.ndarray]
    labels: np.ndarray
    num_classes: int
    class_names: List[str] = field(default_factory=list)
    train: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint32))
    val: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint32))
    test: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint32))
    fold: Optional[np.ndarray] = None
    description: str = ""
    features_csr: Optional[SparseFeatures] = None

    def __post_init__(self) -> None:
        self.graph_ptr = np.asarray(self.graph_ptr, dtype=np.int32)
        self.row_ptr = np.asarray(self.row_ptr, dtype=np.int32)
        self.col_idx = np.asarray(self.col_idx, dtype=np.int32)
        if self.__dict__.get("features") is None and self.features_csr is None:
            raise ValueError("a GraphSet needs features (dense) or features_csr (sparse)")
        self.labels = np.asarray(self.labels, dtype=np.int32)
        for name in ("train", "val", "test"):
            setattr(self, name, np.asarray(getattr(self, name), dtype=np.uint32).reshape(-1))
        if self.fold is not None:
            self.fold = np.asarray(self.fold, dtype=np.uint8)

    @property
    def num_nodes(self) -> int:
        return int(self.row_ptr.shape[0]) - 1

    @property
    def num_edges(self) -> int:
        return int(self.col_idx.shape[0])

    @property
    def num_graphs(self) -> int:
        return int(self.graph_ptr.shape[0]) - 1

    @property
    def feature_dim(self) -> int:
        if self.features_csr is not None:
            return self.features_csr.dim
        return int(self.features.shape[1]) if self.features.ndim == 2 else 0

    @property
    def is_sparse(self) -> bool:
        return self.features_csr is not None

    def feature_density(self) -> float:
        """Fraction of non-zero feature values (0 without features)."""
        if self.features_csr is not None:
            return self.features_csr.density()
        x = self.features
        return float(np.count_nonzero(x)) / x.size if x.size else 0.0

    def sparsify(self) -> "GraphSet":
        """Store the features as CSR (in place; returns self)."""
        if self.features_csr is None:
            self.features_csr = SparseFeatures.from_dense(self.features)
        return self

    def densify(self) -> "GraphSet":
        """Store the features dense (in place; returns self)."""
        if self.features_csr is not None:
            self.features = self.features_csr.to_dense()
        return self

    def split(self, name: str) -> np.ndarray:
        """Indices of the split "train", "val", "test" or "all"."""
        if name == "all":
            n = self.num_graphs if self.task == GRAPH_CLASSIFICATION else self.num_nodes
            return np.arange(n, dtype=np.uint32)
        if name not in ("train", "val", "test"):
            raise ValueError(f"unknown split {name!r} (train, val, test or all)")
        return getattr(self, name)

    def validate(self) -> None:
        """Raise FormatError unless every invariant of schema/qgd.fbs holds."""
        n, e = self.num_nodes, self.num_edges

        def fail(msg: str) -> None:
            raise FormatError(f"data set {self.name!r}: {msg}")

        if self.task not in (GRAPH_CLASSIFICATION, NODE_CLASSIFICATION):
            fail(f"unknown task {self.task}")
        if n < 0:
            fail("row_ptr is empty (needs num_nodes + 1 entries)")
        rp, gp = self.row_ptr, self.graph_ptr
        if rp[0] != 0 or rp[-1] != e or np.any(np.diff(rp) < 0):
            fail("row_ptr must start at 0, be non-decreasing and end at num_edges")
        if gp.shape[0] < 1 or gp[0] != 0 or gp[-1] != n or np.any(np.diff(gp) < 0):
            fail("graph_ptr must start at 0, be non-decreasing and end at num_nodes")
        if e and (self.col_idx.min() < 0 or self.col_idx.max() >= n):
            fail("col_idx holds node ids outside [0, num_nodes)")
        if e:
            dst = np.repeat(np.arange(n), np.diff(rp))
            graph_of = np.repeat(np.arange(self.num_graphs), np.diff(gp))
            if np.any(graph_of[dst] != graph_of[self.col_idx]):
                fail("an edge connects two different graphs")
        if self.features_csr is not None:
            problem = self.features_csr.problem(n)
            if problem:
                fail(problem)
        else:
            if self.features.ndim != 2 or self.features.shape[0] != n:
                fail(f"features must be [num_nodes={n}, feature_dim], got {self.features.shape}")
            if not np.all(np.isfinite(self.features)):
                fail("features hold NaN or infinity")
        items = self.num_graphs if self.task == GRAPH_CLASSIFICATION else n
        if self.labels.shape != (items,):
            fail(f"expected {items} labels, got {self.labels.shape[0]}")
        if self.num_classes < 1:
            fail("num_classes must be >= 1")
        if items and (self.labels.min() < 0 or self.labels.max() >= self.num_classes):
            fail(f"labels outside [0, {self.num_classes})")
        if self.class_names and len(self.class_names) != self.num_classes:
            fail(f"{len(self.class_names)} class names for {self.num_classes} classes")
        for name in ("train", "val", "test"):
            idx = getattr(self, name)
            if idx.size and int(idx.max()) >= items:
                fail(f"split {name} indexes past the {items} items")
        if self.fold is not None and self.fold.size and self.fold.shape != (items,):
            fail(f"fold must have one entry per item ({items}), got {self.fold.shape[0]}")


# `features` and `features_csr` are properties over one stored form, kept in the instance __dict__ under the
# field names (so `GraphSet(**gs.__dict__)` still works), set after the dataclass is made so that the generated
# __init__ takes them as arguments. While a CSR is stored, __dict__["features"] is None or its read-only
# dense copy. The generated __init__ assigns features_csr last: until then the key is missing, which tells
# construction (where giving both forms is an error) from a later assignment (which switches the form).
def _get_features(self: GraphSet) -> np.ndarray:
    csr = self.__dict__.get("features_csr")
    dense = self.__dict__.get("features")
    if csr is not None and dense is None:
        dense = csr.to_dense()
        dense.flags.writeable = False
        self.__dict__["features"] = dense
    return dense


def _set_features(self: GraphSet, value) -> None:
    if value is None:
        self.__dict__["features"] = None
        return
    if value is self.__dict__.get("features"):
        return
    self.__dict__["features"] = np.asarray(value, dtype=np.float32)
    if "features_csr" in self.__dict__:
        self.__dict__["features_csr"] = None  # `gs.features = x`: the set is dense from now on


def _get_features_csr(self: GraphSet) -> Optional[SparseFeatures]:
    return self.__dict__.get("features_csr")


def _set_features_csr(self: GraphSet, value: Optional[SparseFeatures]) -> None:
    constructing = "features_csr" not in self.__dict__
    dense = self.__dict__.get("features")
    if value is None:
        old = self.__dict__.get("features_csr")
        if old is not None:  # `gs.features_csr = None` densifies
            self.__dict__["features"] = old.to_dense() if dense is None or not dense.flags.writeable else dense
        self.__dict__["features_csr"] = None
        return
    if not isinstance(value, SparseFeatures):
        raise TypeError(f"features_csr must be a SparseFeatures, got {type(value).__name__}")
    # dataclasses.replace(sparse_set, ...) passes both forms, `features` being the read-only dense copy of
    # the same CSR: it is dropped (and remade on demand). Anything else given beside a CSR is ambiguous.
    if constructing and dense is not None and (dense.flags.writeable or dense.shape != value.shape):
        raise ValueError("give features (dense) or features_csr (sparse), not both (to replace the features "
                         "of a sparse set, pass features_csr=None)")
    self.__dict__["features"] = None
    self.__dict__["features_csr"] = value


GraphSet.features = property(_get_features, _set_features)  # type: ignore[assignment]
GraphSet.features_csr = property(_get_features_csr, _set_features_csr)  # type: ignore[assignment]


def to_bytes(gs: GraphSet) -> bytes:
    """Serialize a validated GraphSet into .qgd bytes."""
    gs.validate()
    csr = gs.features_csr
    feature_bytes = 8 * csr.nnz + 4 * csr.num_nodes if csr is not None else gs.features.nbytes
    b = flatbuffers.Builder(1024 + feature_bytes + 8 * (gs.num_edges + gs.num_nodes))
    name = _fb.create_string(b, gs.name)
    description = _fb.create_string(b, gs.description)
    class_names = _fb.create_string_vector(b, gs.class_names)
    vectors = {
        "GraphPtr": _fb.create_array(b, gs.graph_ptr, np.int32),
        "RowPtr": _fb.create_array(b, gs.row_ptr, np.int32),
        "ColIdx": _fb.create_array(b, gs.col_idx, np.int32),
        "Features": _fb.create_array(b, gs.features if csr is None else np.zeros(0), np.float32),
        "Labels": _fb.create_array(b, gs.labels, np.int32),
        "Train": _fb.create_array(b, gs.train, np.uint32),
        "Val": _fb.create_array(b, gs.val, np.uint32),
        "Test": _fb.create_array(b, gs.test, np.uint32),
    }
    if csr is not None:
        vectors["FeatureRowPtr"] = _fb.create_array(b, csr.row_ptr, np.int32)
        vectors["FeatureColIdx"] = _fb.create_array(b, csr.col_idx, np.int32)
        vectors["FeatureValues"] = _fb.create_array(b, csr.values, np.float32)
    fold = _fb.create_array(b, gs.fold, np.uint8) if gs.fold is not None and gs.fold.size else None
    fbd.GraphSetStart(b)
    fbd.GraphSetAddVersion(b, QGD_VERSION if csr is not None else QGD_DENSE_VERSION)
    fbd.GraphSetAddName(b, name)
    fbd.GraphSetAddTask(b, gs.task)
    fbd.GraphSetAddNumNodes(b, gs.num_nodes)
    fbd.GraphSetAddNumEdges(b, gs.num_edges)
    fbd.GraphSetAddFeatureDim(b, gs.feature_dim)
    fbd.GraphSetAddNumClasses(b, gs.num_classes)
    fbd.GraphSetAddClassNames(b, class_names)
    for field_name, off in vectors.items():
        getattr(fbd, "GraphSetAdd" + field_name)(b, off)
    if fold is not None:
        fbd.GraphSetAddFold(b, fold)
    fbd.GraphSetAddDescription(b, description)
    b.Finish(fbd.GraphSetEnd(b), file_identifier=QGD_IDENTIFIER)
    return bytes(b.Output())


def from_bytes(buf: bytes, what: str = ".qgd") -> GraphSet:
    """Parse and validate .qgd bytes."""
    _fb.check_identifier(buf, QGD_IDENTIFIER, what)
    try:
        t = fbd.GraphSet.GetRootAs(buf, 0)
        version = t.Version()
        if version < 1 or version > QGD_VERSION:
            raise FormatError(f"{what}: unsupported .qgd version {version} (this reader knows {QGD_VERSION})")
        num_nodes, feature_dim = t.NumNodes(), t.FeatureDim()
        features = _fb.read_array(t, "Features", np.float32)
        csr = None
        if not t.FeatureRowPtrIsNone():
            if version < 2:
                raise FormatError(f"{what}: sparse features need .qgd version 2 (the file says {version})")
            if features.size:
                raise FormatError(f"{what}: {features.size} dense feature values beside sparse features")
            csr = SparseFeatures(_fb.read_array(t, "FeatureRowPtr", np.int32),
                                 _fb.read_array(t, "FeatureColIdx", np.int32),
                                 _fb.read_array(t, "FeatureValues", np.float32), feature_dim)
            features = None
        elif not (t.FeatureColIdxIsNone() and t.FeatureValuesIsNone()):
            raise FormatError(f"{what}: feature_col_idx or feature_values without feature_row_ptr")
        elif features.size != num_nodes * feature_dim:
            raise FormatError(f"{what}: {features.size} feature values for {num_nodes} x {feature_dim}")
        else:
            features = features.reshape(num_nodes, feature_dim)
        fold = _fb.read_array(t, "Fold", np.uint8)
        gs = GraphSet(
            name=_fb.read_string(t.Name()),
            task=t.Task(),
            graph_ptr=_fb.read_array(t, "GraphPtr", np.int32),
            row_ptr=_fb.read_array(t, "RowPtr", np.int32),
            col_idx=_fb.read_array(t, "ColIdx", np.int32),
            features=features,
            features_csr=csr,
            labels=_fb.read_array(t, "Labels", np.int32),
            num_classes=t.NumClasses(),
            class_names=_fb.read_string_vector(t, "ClassNames"),
            train=_fb.read_array(t, "Train", np.uint32),
            val=_fb.read_array(t, "Val", np.uint32),
            test=_fb.read_array(t, "Test", np.uint32),
            fold=fold if fold.size else None,
            description=_fb.read_string(t.Description()),
        )
    except FormatError:
        raise
    except (IndexError, struct.error, UnicodeDecodeError, ValueError) as exc:
        raise FormatError(f"{what}: corrupt FlatBuffer ({exc})") from exc
    if gs.num_nodes != num_nodes or gs.num_edges != t.NumEdges():
        raise FormatError(f"{what}: num_nodes/num_edges disagree with row_ptr/col_idx")
    gs.validate()
    return gs


def read_qgd(path: PathLike) -> GraphSet:
    return from_bytes(Path(path).read_bytes(), str(path))


def write_qgd(gs: GraphSet, path: PathLike) -> None:
    """Validate and write atomically."""
    write_bytes_atomic(path, to_bytes(gs))
