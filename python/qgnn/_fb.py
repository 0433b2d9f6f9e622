"""Small helpers around the flatbuffers Python builder and readers (shared by the .qgd and .qgnn code)."""

from __future__ import annotations

from typing import Callable, List, Optional, Sequence

import flatbuffers
import numpy as np
from flatbuffers import number_types


class FormatError(ValueError):
    """A file is not a valid .qgd / .qgnn file (or a value cannot be represented in one)."""


def create_string(builder: flatbuffers.Builder, text: str) -> int:
    # Pass bytes: flatbuffers 2.0.8's CreateString(str) uses len(str) as the byte length, which corrupts
    # the buffer for non-ASCII text.
    return builder.CreateString(text.encode("utf-8"))


def create_string_vector(builder: flatbuffers.Builder, items: Sequence[str]) -> int:
    offsets = [create_string(builder, s) for s in items]
    builder.StartVector(4, len(offsets), 4)
    for off in reversed(offsets):
        builder.PrependUOffsetTRelative(off)
    return builder.EndVector()


def create_offset_vector(builder: flatbuffers.Builder, offsets: Sequence[int]) -> int:
    builder.StartVector(4, len(offsets), 4)
    for off in reversed(offsets):
        builder.PrependUOffsetTRelative(off)
    return builder.EndVector()


def create_array(builder: flatbuffers.Builder, values, dtype) -> int:
    """A vector of scalars from anything numpy can convert, stored little-endian as `dtype`."""
    arr = np.ascontiguousarray(np.asarray(values).astype(np.dtype(dtype).newbyteorder("<"), copy=False))
    return builder.CreateNumpyVector(arr.reshape(-1))


def create_aligned_bytes(builder: flatbuffers.Builder, data: bytes, alignment: int = 16) -> int:
    """A [ubyte] vector whose first element is `alignment`-aligned (schema `force_align`, which flatc's
    Python generator ignores). Alignment holds in the finished buffer because Finish pads to minalign."""
    n = len(data)
    builder.StartVector(1, n, alignment)
    builder.head = builder.head - n
    builder.Bytes[builder.head:builder.head + n] = data
    builder.vectorNumElems = n
    return builder.EndVector()


def read_array(table, name: str, dtype) -> np.ndarray:
    """Copy of the vector field `name` of a generated table as a numpy array (empty when absent)."""
    if getattr(table, name + "IsNone")():
        return np.zeros(0, dtype=dtype)
    arr = getattr(table, name + "AsNumpy")()
    return np.array(arr, dtype=dtype)


def read_string(value: Optional[bytes]) -> str:
    return "" if value is None else value.decode("utf-8")


def read_string_vector(table, name: str) -> List[str]:
    getter: Callable[[int], bytes] = getattr(table, name)
    return [read_string(getter(i)) for i in range(getattr(table, name + "Length")())]


def check_identifier(buf: bytes, identifier: bytes, what: str) -> None:
    if len(buf) < 8:
        raise FormatError(f"{what}: file too short ({len(buf)} bytes)")
    if bytes(buf[4:8]) != identifier:
        raise FormatError(f"{what}: file identifier is {bytes(buf[4:8])!r}, expected {identifier!r}")
    root = number_types.UOffsetTFlags.py_type(int.from_bytes(bytes(buf[0:4]), "little"))
    if root < 8 or root >= len(buf):
        raise FormatError(f"{what}: root offset {root} out of range for a {len(buf)}-byte file")
