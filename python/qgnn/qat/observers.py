"""Range estimators of qgnn.qat: min/max, percentile (Degree-Quant) and Pauta / 3-sigma (QGNN-IC).

Each observer summarises the values one activation takes during training (or calibration) as a closed range
[lo, hi]; the quantizer then widens it to contain 0 (activation_quant_params, as the C++ converter does).
Batch statistics are combined across batches either by an exponential moving average (`momentum`, the first
batch initialises) or absolutely (`momentum=None`: the smallest lo and the largest hi ever seen).

The estimators are defined exactly as the converter's (converter/src/range_methods.cc), so that a range QAT
learns and one qgnn-convert calibrates agree:
  * minmax: [min(0, min v), max(0, max v)] over all values;
  * percentile P: over the NON-ZERO values, widened to contain 0: [min(0, pct(nz, 100 - P)), max(0, pct(nz, P))]
    (numpy's default linear interpolation). Over all values, a sparse tensor (bag-of-words features below 1 %
    density, mostly-zero ReLU outputs) has both percentiles at 0 and its range collapses;
  * pauta: non-zero mean +- k sigma, intersected with [min, max] (the quantizer adds 0).
A tensor without a non-zero value gives the degenerate range [0, 0] (reported by the quantizer), never a
made-up [0, 1].
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np
import torch

METHODS = ("minmax", "percentile", "pauta")

# Degree-Quant's percentiles: 0.1 / 99.9 for INT8, 1 / 99 for INT4.
DEFAULT_PERCENTILES = {8: (0.1, 99.9), 4: (1.0, 99.0)}
# Pauta's default k by bits, as the converter's effective_sigma: 5 for 8-bit activations, 3 for 4-bit ones (the
# rounding noise of 8 bits is 16x finer, so clipping the tails costs relatively more there).
DEFAULT_PAUTA_K = {8: 5.0, 4: 3.0}


def pauta_k(k: Optional[float], bits: int) -> float:
    """k, or the default by bits when k is None."""
    return DEFAULT_PAUTA_K[8 if bits >= 8 else 4] if k is None else float(k)


def batch_range(values: np.ndarray, method: str, bits: int = 8,
                percentiles: Optional[Tuple[float, float]] = None, k: Optional[float] = None) -> Tuple[float, float]:
    """[lo, hi] of one batch of values with `method` (float64)."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if v.size == 0:
        return float("inf"), float("-inf")
    vmin, vmax = float(v.min()), float(v.max())
    if method == "minmax":
        return min(vmin, 0.0), max(vmax, 0.0)
    # Over the non-zero values (as the C++ converter): 0 is exact whatever the range, and a point mass at 0
    # (ReLU outputs, sparse bag-of-words features) would pull the percentiles to 0 and shrink sigma, clipping
    # the informative tail.
    nz = v[v != 0]
    if method == "percentile":
        if nz.size == 0:
            return 0.0, 0.0
        p_lo, p_hi = percentiles or DEFAULT_PERCENTILES[8 if bits >= 8 else 4]
        lo, hi = np.percentile(nz, [p_lo, p_hi])
        return min(float(lo), 0.0), max(float(hi), 0.0)
    if method == "pauta":
        if nz.size == 0:
            return vmin, vmax
        mu, sigma = float(nz.mean()), float(nz.std())
        k = pauta_k(k, bits)
        return max(mu - k * sigma, vmin), min(mu + k * sigma, vmax)
    raise ValueError(f"unknown range method {method!r} (one of {', '.join(METHODS)})")


class RangeObserver:
    """Running range of one activation. `momentum` None: absolute (min of lows, max of highs); otherwise
    lo <- (1 - momentum) lo + momentum batch_lo (the first batch initialises)."""

    def __init__(self, method: str = "minmax", bits: int = 8, momentum: Optional[float] = 0.1,
                 percentiles: Optional[Tuple[float, float]] = None, k: Optional[float] = None) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown range method {method!r} (one of {', '.join(METHODS)})")
        self.method, self.bits, self.momentum, self.percentiles, self.k = method, bits, momentum, percentiles, k
        self.lo = float("inf")
        self.hi = float("-inf")

    @property
    def empty(self) -> bool:
        return not self.lo <= self.hi

    def update(self, values) -> None:
        if isinstance(values, torch.Tensor):
            values = values.detach().cpu().numpy()
        lo, hi = batch_range(values, self.method, self.bits, self.percentiles, self.k)
        if not lo <= hi:
            return
        if self.empty:
            self.lo, self.hi = lo, hi
        elif self.momentum is None:
            self.lo, self.hi = min(self.lo, lo), max(self.hi, hi)
        else:
            m = self.momentum
            self.lo = (1 - m) * self.lo + m * lo
            self.hi = (1 - m) * self.hi + m * hi

    def range(self) -> Tuple[float, float]:
        return self.lo, self.hi

    def __repr__(self) -> str:
        return f"RangeObserver({self.method}, bits={self.bits}, range=[{self.lo:.4g}, {self.hi:.4g}])"


def batch_column_ranges(values: np.ndarray, method: str, bits: int = 8,
                        percentiles: Optional[Tuple[float, float]] = None,
                        k: Optional[float] = None) -> Tuple[np.ndarray, np.ndarray]:
    """batch_range of every column of a [rows, K] batch at once (float64 [K] lows and highs): the same
    estimators, vectorised over the columns (Cora has 1433), so column k gets exactly batch_range(values[:, k])
    up to float rounding. No rows: every column empty (inf, -inf)."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2:
        raise ValueError(f"per-column ranges take a [rows, columns] batch, got shape {v.shape}")
    cols = v.shape[1]
    if v.shape[0] == 0:
        return np.full(cols, np.inf), np.full(cols, -np.inf)
    vmin, vmax = v.min(axis=0), v.max(axis=0)
    if method == "minmax":
        return np.minimum(vmin, 0.0), np.maximum(vmax, 0.0)
    if method == "percentile":
        # Over each column's non-zero values, widened to contain 0, as batch_range; a column without any is
        # [0, 0]. NaN marks the zeros so that nanpercentile skips them (numpy's linear interpolation).
        p_lo, p_hi = percentiles or DEFAULT_PERCENTILES[8 if bits >= 8 else 4]
        count = (v != 0).sum(axis=0)
        masked = np.where(v != 0, v, np.nan)
        lo = np.zeros(cols)
        hi = np.zeros(cols)
        live = count > 0
        if live.any():
            plo, phi = np.nanpercentile(masked[:, live], [p_lo, p_hi], axis=0)
            lo[live], hi[live] = np.minimum(plo, 0.0), np.maximum(phi, 0.0)
        return lo, hi
    if method == "pauta":
        # Over each column's non-zero values, as batch_range; a column without any keeps its min / max.
        nz = v != 0
        count = nz.sum(axis=0)
        safe = np.maximum(count, 1)
        mu = np.where(nz, v, 0.0).sum(axis=0) / safe
        sigma = np.sqrt(np.where(nz, (v - mu) ** 2, 0.0).sum(axis=0) / safe)
        k = pauta_k(k, bits)
        lo = np.maximum(mu - k * sigma, vmin)
        hi = np.minimum(mu + k * sigma, vmax)
        return np.where(count > 0, lo, vmin), np.where(count > 0, hi, vmax)
    raise ValueError(f"unknown range method {method!r} (one of {', '.join(METHODS)})")


# A column with at most this many distinct non-zero values on the calibration data is an indicator (one-hot
# labels, also standardised): its range is its min-max (converter kIndicatorColumnValues). Counts and
# row-normalised bag-of-words take more values and follow the range method.
INDICATOR_COLUMN_VALUES = 2


def discrete_columns(values) -> np.ndarray:
    """bool [K]: the indicator columns of a [rows, K] matrix (at most INDICATOR_COLUMN_VALUES distinct non-zero
    values)."""
    v = np.sort(np.asarray(values, dtype=np.float32), axis=0)
    if v.shape[0] == 0:
        return np.zeros(v.shape[1], dtype=bool)
    new = np.concatenate([v[:1] != 0, (v[1:] != v[:-1]) & (v[1:] != 0)], axis=0)
    return new.sum(axis=0) <= INDICATOR_COLUMN_VALUES


class ColumnRangeObserver:
    """RangeObserver per input column ([K] lows and highs), for per-column input scales: the same estimator,
    absolute or EMA combination and first-batch initialisation, on every column at once."""

    def __init__(self, method: str = "minmax", bits: int = 8, momentum: Optional[float] = 0.1,
                 percentiles: Optional[Tuple[float, float]] = None, k: Optional[float] = None) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown range method {method!r} (one of {', '.join(METHODS)})")
        self.method, self.bits, self.momentum, self.percentiles, self.k = method, bits, momentum, percentiles, k
        self.lo: Optional[np.ndarray] = None
        self.hi: Optional[np.ndarray] = None
        # Indicator columns (discrete_columns) take their min-max whatever the method, as the converter's
        # input_column_range: clipping a rare category erases it. None: every column follows the method.
        self.discrete: Optional[np.ndarray] = None

    @property
    def empty(self) -> bool:
        return self.lo is None

    def update(self, values) -> None:
        if isinstance(values, torch.Tensor):
            values = values.detach().cpu().numpy()
        values = np.asarray(values)
        if values.ndim != 2 or values.shape[0] == 0:
            return  # no rows: nothing observed (as RangeObserver on an empty batch)
        lo, hi = batch_column_ranges(values, self.method, self.bits, self.percentiles, self.k)
        if self.discrete is not None:
            v = np.asarray(values, dtype=np.float64)
            lo = np.where(self.discrete, v.min(axis=0), lo)
            hi = np.where(self.discrete, v.max(axis=0), hi)
        if self.empty:
            self.lo, self.hi = lo, hi
        elif self.lo.shape != lo.shape:
            raise ValueError(f"{lo.size} columns observed after {self.lo.size}")
        elif self.momentum is None:
            self.lo, self.hi = np.minimum(self.lo, lo), np.maximum(self.hi, hi)
        else:
            m = self.momentum
            self.lo = (1 - m) * self.lo + m * lo
            self.hi = (1 - m) * self.hi + m * hi

    def range(self) -> Tuple[np.ndarray, np.ndarray]:
        """(lo, hi) float64 [K]; raises when nothing was observed."""
        if self.empty:
            raise ValueError("the per-column input observer holds no ranges yet")
        return self.lo, self.hi

    def __repr__(self) -> str:
        cols = 0 if self.empty else self.lo.size
        return f"ColumnRangeObserver({self.method}, bits={self.bits}, {cols} columns)"
