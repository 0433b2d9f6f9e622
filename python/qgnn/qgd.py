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
QGD_VERSION = 1
GRAPH_CLASSIFICATION = 0
NODE_CLASSIFICATION = 1


@dataclass
class GraphSet:
    """One CSR adjacency over all nodes, cut into graphs by `graph_ptr`.

    Row i of the CSR (col_idx[row_ptr[i]:row_ptr[i+1]]) lists the sources j of the edges j -> i, as global
    node ids. `features` is [num_nodes, feature_dim] float32. `labels` has one entry per graph
    (GRAPH_CLASSIFICATION) or per node (NODE_CLASSIFICATION); train/val/test index those graphs or nodes.
    """

    name: str
    task: int
    graph_ptr: np.ndarray
    row_ptr: np.ndarray
    col_idx: np.ndarray
    features: np.ndarray
    labels: np.ndarray
    num_classes: int
    class_names: List[str] = field(default_factory=list)
    train: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint32))
    val: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint32))
    test: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint32))
    fold: Optional[np.ndarray] = None
    description: str = ""

    def __post_init__(self) -> None:
        self.graph_ptr = np.asarray(self.graph_ptr, dtype=np.int32)
        self.row_ptr = np.asarray(self.row_ptr, dtype=np.int32)
        self.col_idx = np.asarray(self.col_idx, dtype=np.int32)
        self.features = np.asarray(self.features, dtype=np.float32)
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
        return int(self.features.shape[1]) if self.features.ndim == 2 else 0

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


def to_bytes(gs: GraphSet) -> bytes:
    """Serialize a validated GraphSet into .qgd bytes."""
    gs.validate()
    b = flatbuffers.Builder(1024 + gs.features.nbytes + 8 * (gs.num_edges + gs.num_nodes))
    name = _fb.create_string(b, gs.name)
    description = _fb.create_string(b, gs.description)
    class_names = _fb.create_string_vector(b, gs.class_names)
    vectors = {
        "GraphPtr": _fb.create_array(b, gs.graph_ptr, np.int32),
        "RowPtr": _fb.create_array(b, gs.row_ptr, np.int32),
        "ColIdx": _fb.create_array(b, gs.col_idx, np.int32),
        "Features": _fb.create_array(b, gs.features, np.float32),
        "Labels": _fb.create_array(b, gs.labels, np.int32),
        "Train": _fb.create_array(b, gs.train, np.uint32),
        "Val": _fb.create_array(b, gs.val, np.uint32),
        "Test": _fb.create_array(b, gs.test, np.uint32),
    }
    fold = _fb.create_array(b, gs.fold, np.uint8) if gs.fold is not None and gs.fold.size else None
    fbd.GraphSetStart(b)
    fbd.GraphSetAddVersion(b, QGD_VERSION)
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
        if features.size != num_nodes * feature_dim:
            raise FormatError(f"{what}: {features.size} feature values for {num_nodes} x {feature_dim}")
        fold = _fb.read_array(t, "Fold", np.uint8)
        gs = GraphSet(
            name=_fb.read_string(t.Name()),
            task=t.Task(),
            graph_ptr=_fb.read_array(t, "GraphPtr", np.int32),
            row_ptr=_fb.read_array(t, "RowPtr", np.int32),
            col_idx=_fb.read_array(t, "ColIdx", np.int32),
            features=features.reshape(num_nodes, feature_dim),
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
