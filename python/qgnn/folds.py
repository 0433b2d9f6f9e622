"""Cross-validation folds of a .qgd data set: the one definition qgnn.train, qgnn.sim and the C++ tools share
(converter/include/qgnn/converter/folds.h is its twin).

A graph-classification set may carry a `fold` array (qgnn.data tu writes k stratified folds). Fold K of k is:
test = the graphs of fold K, val = those of fold (K + 1) % k, train = the rest, each in graph order. The
stored train/val/test of a set from qgnn.data tu are fold 0's. Needs only numpy (no torch)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .qgd import NODE_CLASSIFICATION, GraphSet

MIN_FOLDS = 3  # a train, a val and a test fold
FOLD_SPLITS = ("train", "val", "test")


def num_folds(gs: GraphSet) -> int:
    """k of the data set's stored `fold` array (0 when it has none)."""
    return int(gs.fold.max()) + 1 if gs.fold is not None and gs.fold.size else 0


def _check_fold(gs: GraphSet, fold: int) -> int:
    if fold < 0:
        raise ValueError(f"--fold {fold} is negative")
    if gs.task == NODE_CLASSIFICATION:
        raise ValueError(f'--fold applies to graph classification; data set "{gs.name}" is node classification '
                         "(use its stored split: --split train, val or test)")
    k = num_folds(gs)
    if k == 0:
        raise ValueError(f'data set "{gs.name}" has no fold array (--fold needs one, e.g. from python3 -m '
                         "qgnn.data tu; use its stored split without --fold)")
    if k < MIN_FOLDS:
        raise ValueError(f'data set "{gs.name}" has {k} folds; cross-validation needs at least {MIN_FOLDS}')
    if fold >= k:
        raise ValueError(f'--fold {fold} outside 0..{k - 1} (data set "{gs.name}" has {k} folds)')
    return k


def fold_indices(gs: GraphSet, fold: int):
    """(train, val, test) graph indices of fold `fold` (uint32, graph order)."""
    k = _check_fold(gs, fold)
    idx = np.arange(gs.fold.size, dtype=np.uint32)
    val_fold = (fold + 1) % k
    return (idx[(gs.fold != fold) & (gs.fold != val_fold)], idx[gs.fold == val_fold], idx[gs.fold == fold])


def fold_split(gs: GraphSet, fold: int) -> GraphSet:
    """A copy of `gs` whose train/val/test are fold `fold` of its k folds: test = fold, val = (fold + 1) % k,
    train = the rest. Fold 0 is the split qgnn.data.tu stores (test = fold 0, val = fold 1)."""
    train, val, test = fold_indices(gs, fold)
    return dataclasses.replace(gs, train=train, val=val, test=test)


def _rule(fold: int, k: int) -> str:
    return f"test = fold {fold}, val = fold {(fold + 1) % k}, train = the rest"


def stored_split_fold(gs: GraphSet) -> Optional[int]:
    """The fold whose train, val and test are exactly the stored ones (as sets), else None."""
    k = num_folds(gs)
    if gs.task == NODE_CLASSIFICATION or k < MIN_FOLDS:
        return None
    stored = [np.sort(np.asarray(gs.split(s), dtype=np.uint32)) for s in FOLD_SPLITS]
    for f in range(k):
        if all(np.array_equal(a, b) for a, b in zip(fold_indices(gs, f), stored)):
            return f
    return None


@dataclass
class Selection:
    """The graphs (or nodes) a tool runs: qgnn-run's `selection` JSON object, field for field."""
    split: str
    fold: Optional[int]  # None: the stored split
    num_folds: int
    indices: np.ndarray
    graphs: int
    nodes: int
    description: str
    note: Optional[str]

    def to_json(self) -> dict:
        return {"split": self.split, "fold": self.fold, "num_folds": self.num_folds, "graphs": self.graphs,
                "nodes": self.nodes, "description": self.description, "note": self.note}


def select_split(gs: GraphSet, split: str, fold: Optional[int] = None) -> Selection:
    """Split `split` (train, val, test or all) of `gs`, of fold `fold` (None: the stored split). ValueError
    with a message on an unknown or empty split, --fold on a node task / a set without folds / out of range,
    and --fold with "all". Same results and messages as converter::select_split."""
    if split not in FOLD_SPLITS + ("all",):
        raise ValueError(f'unknown split "{split}" (expected train, val, test or all)')
    k = num_folds(gs)
    node = gs.task == NODE_CLASSIFICATION
    if fold is None:
        idx = np.asarray(gs.split(split), dtype=np.uint32)
        if idx.size == 0:
            raise ValueError(f'split "{split}" of data set "{gs.name}" is empty')
    else:
        _check_fold(gs, fold)
        if split not in FOLD_SPLITS:
            raise ValueError(f"--fold {fold} selects the train, val or test split of that fold; --split {split} "
                             "is every graph whatever the fold")
        idx = fold_indices(gs, fold)[FOLD_SPLITS.index(split)]
        if idx.size == 0:
            raise ValueError(f'split "{split}" of fold {fold} of data set "{gs.name}" is empty')
    if node:
        graphs, nodes = 0, int(idx.size)
        counts = f"{nodes} nodes"
    else:
        sizes = np.diff(np.asarray(gs.graph_ptr, dtype=np.int64))
        graphs, nodes = int(idx.size), int(sizes[idx.astype(np.int64)].sum())
        counts = f"{graphs} graphs, {nodes} nodes"
    note = None
    if fold is not None:
        description = f"split {split} of fold {fold} of {k} ({_rule(fold, k)}): {counts}"
    elif split == "all":
        description = f"split all: {counts}"
    else:
        description = f"split {split} (stored): {counts}"
        if k >= MIN_FOLDS and not node:
            same = stored_split_fold(gs)
            note = (f"split {split} is the data set's stored {split} split, which is no fold's ({k} folds); a "
                    "model trained with --fold K is scored with --fold K" if same is None else
                    f"split {split} = fold {same}'s {split} graphs (the stored split, {_rule(same, k)}); a model "
                    "trained on another fold needs --fold K")
    return Selection(split, fold, k, idx, graphs, nodes, description, note)


# The sentence qgnn.train writes into a model's description (train/cli.py); the val fold must be (K + 1) % N.
_TRAINED_ON = re.compile(r"Trained in float on fold (\d{1,3}) of (\d{1,3}) \(test = fold (\d{1,3}), "
                         r"val = fold (\d{1,3}), train = the rest\)")


def training_fold(description: str):
    """(fold, k) a model was trained on per its description's qgnn.train sentence, else None."""
    m = _TRAINED_ON.search(description or "")
    if not m:
        return None
    fold, k, test, val = (int(g) for g in m.groups())
    if k < MIN_FOLDS or fold >= k or test != fold or val != (fold + 1) % k:
        return None
    return fold, k


def fold_mismatch_warning(description: str, gs: GraphSet, sel: Selection) -> Optional[str]:
    """A warning when a model trained on fold F is run on another fold's split (or a stored split that is
    not fold F's); None when they agree or nothing is known. Same text as converter::fold_mismatch_warning."""
    trained = training_fold(description)
    if trained is None or sel.split not in FOLD_SPLITS:
        return None
    fold, k_trained = trained
    k = num_folds(gs)
    if k != k_trained:
        return (f"the model was trained on fold {fold} of {k_trained} (its description) but data set "
                f'"{gs.name}" has {k} folds')
    used = sel.fold if sel.fold is not None else stored_split_fold(gs)
    if used == fold:
        return None
    what = (f"fold {used}'s" if sel.fold is not None else
            "the stored one, no fold's" if used is None else f"the stored one, fold {used}'s")
    return (f"the model was trained on fold {fold} of {k} (its description) but split {sel.split} here is {what}: "
            f"use --fold {fold} for that model's own {sel.split} graphs")

__all__ = ["FOLD_SPLITS", "MIN_FOLDS", "Selection", "fold_indices", "fold_mismatch_warning", "fold_split",
           "num_folds", "select_split", "stored_split_fold", "training_fold"]
