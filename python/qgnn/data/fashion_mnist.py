"""Fashion-MNIST (Xiao et al. 2017) as a graph classification set: every image is a graph of patches.

Input: the four IDX files of the official distribution (Debian: `apt-get install dataset-fashion-mnist` puts
them in /usr/share/datasets/fashion-mnist), gzip-compressed or not:
  train-images-idx3-ubyte[.gz]  train-labels-idx1-ubyte[.gz]
  t10k-images-idx3-ubyte[.gz]   t10k-labels-idx1-ubyte[.gz]
IDX: big-endian; magic = two zero bytes, the element type (0x08 = unsigned byte) and the number of dimensions;
then one uint32 per dimension, then the elements in row-major order. Images are [N, rows, cols], labels [N].

Graph of an image, patch size P (rows and cols must be multiples of P): an (rows/P) x (cols/P) grid of nodes,
node (r, c) = the P x P patch at pixel rows r*P.., cols c*P.., numbered row-major (node r * C + c).
  features: the patch's P*P pixels / 255 (row-major inside the patch), then r / (R - 1) and c / (C - 1)
            (0 when the grid has a single row / column); P*P + 2 columns, all in [0, 1];
  edges:    between 8-neighbouring patches (|dr| <= 1 and |dc| <= 1, not the node itself), both directions.
Split: train = the first N_train - N_train // 12 images of the train file, val = its last N_train // 12 (the
last 5000 for the full 60000), test = the t10k images; graph order train file then t10k. No folds.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from ..qgd import GRAPH_CLASSIFICATION, GraphSet
from .common import DataError, edges_to_csr

DEFAULT_SOURCE = "/usr/share/datasets/fashion-mnist"
DEFAULT_PATCH = 4
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
VAL_FRACTION = 12  # val = the last N // 12 train images: 5000 of 60000, as in the usual 55000/5000 split


def _find(directory: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem):
        if (directory / name).is_file():
            return directory / name
    raise DataError(f"missing file {directory / (stem + '.gz')} (or {stem} uncompressed)")


def read_idx(path, ndim: int) -> np.ndarray:
    """An unsigned-byte IDX file with `ndim` dimensions (gzip or raw) as a uint8 array. Raises DataError on
    anything malformed (bad magic, wrong type or rank, truncated data, trailing bytes)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except FileNotFoundError:
        raise DataError(f"missing file {path}") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: cannot read or decompress: {exc}") from None
    if len(raw) < 4:
        raise DataError(f"{path}: truncated IDX header ({len(raw)} bytes)")
    if raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{path}: bad IDX magic {raw[:4].hex()} (must start with two zero bytes)")
    if raw[2] != 0x08:
        raise DataError(f"{path}: IDX element type 0x{raw[2]:02x}, expected 0x08 (unsigned byte)")
    if raw[3] != ndim:
        raise DataError(f"{path}: IDX file has {raw[3]} dimensions, expected {ndim} "
                        f"(magic {raw[:4].hex()}, expected 0000080{ndim})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header ({len(raw)} bytes, {header} needed)")
    dims = [int.from_bytes(raw[4 + 4 * k:8 + 4 * k], "big") for k in range(ndim)]
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(raw) < expected:
        raise DataError(f"{path}: truncated: dimensions {dims} need {expected - header} data bytes, "
                        f"the file holds {len(raw) - header}")
    if len(raw) > expected:
        raise DataError(f"{path}: {len(raw) - expected} bytes after the {dims} elements")
    data = np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)
    return data


def _read_pair(directory: Path, which: str, limit: Optional[int]) -> Tuple[np.ndarray, np.ndarray]:
    img_path, lab_path = (_find(directory, stem) for stem in FILES[which])
    images, labels = read_idx(img_path, 3), read_idx(lab_path, 1)
    if images.shape[0] != labels.shape[0]:
        raise DataError(f"{img_path}: {images.shape[0]} images but {lab_path.name} holds {labels.shape[0]} "
                        "labels")
    bad = np.flatnonzero(labels >= len(CLASS_NAMES))
    if bad.size:
        raise DataError(f"{lab_path}: label {labels[bad[0]]} of item {bad[0]} outside 0..{len(CLASS_NAMES) - 1}")
    if limit is not None:
        if limit < 1:
            raise DataError(f"the {which} limit must be >= 1, got {limit}")
        images, labels = images[:limit], labels[:limit]
    return images, labels


def grid_csr(rows: int, cols: int) -> Tuple[np.ndarray, np.ndarray]:
    """CSR (row_ptr, col_idx) of the 8-neighbour grid graph, nodes numbered row-major, no self-loops."""
    r, c = np.divmod(np.arange(rows * cols), cols)
    src, dst = [], []
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr == 0 and dc == 0:
                continue
            ok = (r + dr >= 0) & (r + dr < rows) & (c + dc >= 0) & (c + dc < cols)
            src.append((r[ok] + dr) * cols + c[ok] + dc)
            dst.append(r[ok] * cols + c[ok])
    row_ptr, col_idx, _ = edges_to_csr(np.concatenate(src), np.concatenate(dst), rows * cols, symmetric=True)
    return row_ptr, col_idx


def patch_features(images: np.ndarray, patch: int) -> np.ndarray:
    """[N * R * C, patch² + 2] float32: each patch's pixels / 255, then its normalised (row, col)."""
    n, h, w = images.shape
    rows, cols = h // patch, w // patch
    pix = images.reshape(n, rows, patch, cols, patch).transpose(0, 1, 3, 2, 4).reshape(n * rows * cols, -1)
    r, c = np.divmod(np.arange(rows * cols), cols)
    coords = np.stack([r / max(rows - 1, 1), c / max(cols - 1, 1)], axis=1).astype(np.float32)
    out = np.empty((n * rows * cols, patch * patch + 2), dtype=np.float32)
    out[:, :-2] = pix
    out[:, :-2] /= np.float32(255)
    out[:, -2:] = np.tile(coords, (n, 1))
    return out


def import_fashion_mnist(source=DEFAULT_SOURCE, patch: int = DEFAULT_PATCH, limit_train: Optional[int] = None,
                         limit_test: Optional[int] = None) -> GraphSet:
    d = Path(source)
    if not d.is_dir():
        raise DataError(f"{d} is not a directory (apt-get install dataset-fashion-mnist puts the files in "
                        f"{DEFAULT_SOURCE})")
    if patch < 1:
        raise DataError(f"--patch must be >= 1, got {patch}")
    train_x, train_y = _read_pair(d, "train", limit_train)
    test_x, test_y = _read_pair(d, "test", limit_test)
    if train_x.shape[1:] != test_x.shape[1:]:
        raise DataError(f"train images are {train_x.shape[1:]}, t10k images {test_x.shape[1:]}")
    h, w = train_x.shape[1:]
    if h % patch or w % patch:
        raise DataError(f"patch size {patch} does not divide the {h} x {w} images")
    rows, cols = h // patch, w // patch
    nodes = rows * cols

    images = np.concatenate([train_x, test_x])
    labels = np.concatenate([train_y, test_y]).astype(np.int32)
    g = images.shape[0]
    rp1, ci1 = grid_csr(rows, cols)
    e1 = ci1.size
    if g * e1 > np.iinfo(np.int32).max or g * nodes > np.iinfo(np.int32).max:
        raise DataError(f"{g} graphs of {nodes} nodes and {e1} edges do not fit the int32 CSR of .qgd")
    row_ptr = np.empty(g * nodes + 1, dtype=np.int64)
    row_ptr[0] = 0
    row_ptr[1:] = (rp1[1:][None, :] + e1 * np.arange(g)[:, None]).reshape(-1)
    col_idx = (ci1[None, :] + nodes * np.arange(g, dtype=np.int64)[:, None]).reshape(-1)
    graph_ptr = nodes * np.arange(g + 1, dtype=np.int64)

    n_train_file = train_x.shape[0]
    n_val = n_train_file // VAL_FRACTION
    idx = np.arange(g, dtype=np.uint32)
    train, val, test = idx[:n_train_file - n_val], idx[n_train_file - n_val:n_train_file], idx[n_train_file:]
    description = (
        f"Fashion-MNIST imported by qgnn.data fashion-mnist from {d}: {g} images as graphs of {rows} x {cols} "
        f"patches of {patch} x {patch} pixels ({nodes} nodes, {e1} directed edges each: 8-neighbour grid, both "
        f"directions, no self-loops). Node features: the patch's {patch * patch} pixels / 255 (row-major), then "
        f"row / {max(rows - 1, 1)} and col / {max(cols - 1, 1)}. Graphs 0..{n_train_file - 1}: the first "
        f"{n_train_file} images of train-images-idx3-ubyte (train = the first {train.size}, val = the last "
        f"{val.size}); graphs {n_train_file}..{g - 1}: the first {test.size} images of t10k-images-idx3-ubyte "
        f"(test). Classes: {', '.join(CLASS_NAMES)}."
    )
    return GraphSet(
        name="Fashion-MNIST",
        task=GRAPH_CLASSIFICATION,
        graph_ptr=graph_ptr,
        row_ptr=row_ptr,
        col_idx=col_idx,
        features=patch_features(images, patch),
        labels=labels,
        num_classes=len(CLASS_NAMES),
        class_names=list(CLASS_NAMES),
        train=train,
        val=val,
        test=test,
        fold=None,
        description=description,
    )
