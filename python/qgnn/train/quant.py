"""Quantization on top of qgnn.train: post-training quantization (PTQ) with qgnn.qat's quantizer, QAT
fine-tuning with the training loops of qgnn.train, and scoring an exported quantized model with qgnn.sim
(bit-exact with qgnn-run). Used by `python3 -m qgnn.train --qat` and scripts/accuracy_table.py.

    from qgnn.train import fit, Hyper
    from qgnn.train.quant import QATConfig, quantization_aware_training, sim_accuracy
    model, float_acc = fit("gcn", gs, Hyper.defaults(gs.task))
    q, _ = quantization_aware_training(model, gs, QATConfig(bits=8, ranges="percentile", degree_quant=True))
    q.selection                              # which epoch was kept (lowest quantized val loss, 0 = the start)
    qm = q.quantized_model(task=gs.task)     # or qgnn.qat.export_quantized(q, path, ...)
    sim_accuracy(qm, gs)                     # {"train": ..., "val": ..., "test": ...} from the integer simulator
    check_collapse(q, gs, float_acc, sim_accuracy(qm, gs))   # collapsed to the majority class?
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import math
from typing import Dict, List, Optional, Tuple, Union

import numpy as np
import torch

from ..qgd import GRAPH_CLASSIFICATION, GraphSet
from ..qat.observers import discrete_columns
from ..sim.engine import input_scales as model_input_scales
from . import EVAL_CHUNK, SPLITS, Log, accuracy, batch_graphs, item_scores, train_graph_classifier, \
    train_node_classifier, whole

RANGES = ("minmax", "percentile", "pauta")
INPUT_SCALES = ("auto", "tensor", "column")  # qgnn.qat.input_scales.MODES
ORDERS = ("auto", "aggregate-first", "transform-first")  # GCNConv / SAGEConv order (qgnn.qat.prepare's order)
# How activation ranges move while QAT fine-tunes. "frozen" (default): the PTQ calibration's ranges, fixed. With
# "ema" every training batch moves every grid (an EMA of that batch's range estimate), so each epoch ends on a
# different, partly random grid: measured on NCI1 GIN INT4 fold 1, the quantized val accuracy swung between 66
# and 79 % from epoch to epoch even at lr 2e-4, and settled on a steady climb with frozen ranges (docs/qat.md).
RANGE_UPDATES = ("frozen", "ema")
DISTILL = ("sqd", "aqd")


@dataclasses.dataclass
class QATConfig:
    """How to quantize: bits (8 or 4 everywhere, optionally overridden per component), range estimator,
    Degree-Quant, and the QAT fine-tuning schedule (epochs, lr; weight decay and batch size come from the float
    Hyper). `epochs = 0` means PTQ: ranges calibrated on the train split (absolute min/max of the estimator's
    per-batch ranges over one float pass), no training."""

    bits: int = 8
    weight_bits: Optional[int] = None
    aggregation_bits: Optional[int] = None
    output_bits: Optional[int] = None
    attention_bits: Optional[int] = None  # GATConv attention logits; 8 unless named, as qgnn-convert
    ranges: Optional[str] = None  # None: pauta, qgnn-convert's default (qgnn.qat.prepare), Degree-Quant or not
    pauta_k: Optional[float] = None  # None: by bits, 5 for 8-bit activations, 3 for 4-bit (as qgnn-convert)
    degree_quant: bool = False
    epochs: Optional[int] = None  # None: QAT_EPOCHS of the task
    lr: Optional[float] = None  # None: QAT_LR
    distill: Optional[str] = None  # "sqd" | "aqd" when qgnn.qat provides them
    distill_weight: float = 1.0
    input_scales: str = "auto"  # per-column input scales: auto (when columns differ in scale), tensor, column
    order: str = "auto"  # GCNConv / mean SAGEConv order: auto (transform-first when the layer narrows) or forced
    range_updates: str = "frozen"  # activation ranges during fine-tuning: frozen at the PTQ calibration, or ema

    def bits_spec(self) -> Union[int, Dict[str, int]]:
        """What qgnn.qat.prepare takes: an int, or the per-component dict when a component differs."""
        comps = {"weights": self.weight_bits, "aggregation": self.aggregation_bits, "output": self.output_bits,
                 "attention": self.attention_bits}
        if all(v is None for v in comps.values()):
            return self.bits
        spec = {"default": self.bits}  # the input and the first layer's weights stay 8 unless named, as a bare width
        spec.update({k: v for k, v in comps.items() if v is not None})
        return spec

    def resolved_ranges(self) -> str:
        from ..qat.model import DEFAULT_RANGES

        return self.ranges or DEFAULT_RANGES

    def describe(self) -> str:
        spec = self.bits_spec()
        bits = (f"INT{spec}" if isinstance(spec, int) else
                "bits " + ", ".join(f"{k} {v}" for k, v in spec.items()))
        k = "5 (8-bit) / 3 (4-bit)" if self.pauta_k is None else f"{self.pauta_k}"
        rng = self.resolved_ranges() + (f" (k = {k})" if self.resolved_ranges() == "pauta" else "")
        parts = [bits, f"{rng} ranges"]
        if self.degree_quant:
            parts.append("Degree-Quant masking")
        if self.distill:
            parts.append(f"{self.distill.upper()} self-distillation (weight {self.distill_weight})")
        if self.input_scales != "auto":
            parts.append(f"{self.input_scales} input scales")
        if self.order != "auto":
            parts.append(f"{self.order} GCNConv/SAGEConv")
        parts.append("ranges frozen after calibration" if self.range_updates == "frozen" else
                     "ranges follow an EMA of the training batches")
        return ", ".join(parts)


QAT_EPOCHS = {GRAPH_CLASSIFICATION: 15, "node": 20}
# QAT fine-tunes a trained float model: at a twentieth of the float training's rate (0.01). At 0.002 the raw-
# attribute variants drifted from their PTQ start (NCI1 raw folds 0-2, INT4: mean -3.6 points against FP32 at
# 0.002, +0.08 at 0.0005; IMDB-BINARY raw -2.33 / +3.00), the other sets moved within their noise (docs/qat.md).
QAT_LR = 0.0005


def qat_defaults(task: int) -> Tuple[int, float]:
    """(epochs, lr) of QAT fine-tuning for a task."""
    return QAT_EPOCHS[GRAPH_CLASSIFICATION if task == GRAPH_CLASSIFICATION else "node"], QAT_LR


def distill_available() -> Dict[str, bool]:
    """Which self-distillation methods qgnn.qat offers (qgnn.qat.distill: SQD, AQD, "sqd+aqd")."""
    from .. import qat

    methods = getattr(getattr(qat, "distill", None), "METHODS", ()) if hasattr(qat, "train_step") else ()
    return {m: m in methods for m in DISTILL}


def prepare_model(model: torch.nn.Module, cfg: QATConfig, seed: int = 0, name: str = "model"):
    """A QATModel around a deep copy of `model` (the float model is left untouched)."""
    from .. import qat

    return qat.prepare(copy.deepcopy(model).eval(), bits=cfg.bits_spec(), ranges=cfg.resolved_ranges(),
                       degree_quant=cfg.degree_quant, pauta_k=cfg.pauta_k, seed=seed, name=name,
                       input_scales=cfg.input_scales, order=cfg.order)


@torch.no_grad()
def calibrate(q, gs: GraphSet, split: str = "train", batch_size: int = EVAL_CHUNK) -> None:
    """PTQ calibration: one eval-mode float pass over `split` (graph task: batches of graphs; node task: the
    whole graph, as qgnn-convert does), the observers combining batch ranges absolutely (min of lows, max of
    highs). Afterwards the ranges go back to the configured momentum for further training."""
    saved = [(o, o.momentum) for o in q.observers()]
    for o, _ in saved:
        o.momentum = None
    q.eval()
    q.calibrating = True
    q.quant_enabled = False
    try:
        if gs.task == GRAPH_CLASSIFICATION:
            idx = gs.split(split).astype(np.int64)
            batches = [idx[k:k + batch_size] for k in range(0, idx.size, batch_size)]
            if getattr(q, "input_col_obs", None) is not None:
                # Per-column scales normalise the input by gains from ALL the split's input ranges: observe
                # the input first, so every batch of the full pass sees the final gains (as the converter).
                # The full pass observes the same inputs again, which leaves absolute ranges as they are.
                xs = [batch_graphs(gs, b)[0] for b in batches]
                q.input_col_obs.discrete = discrete_columns(np.concatenate([np.asarray(x) for x in xs]))
                for x in xs:
                    q.observe_input(x)
            for b in batches:
                x, graph, _ = batch_graphs(gs, b)
                q(x, graph)
        else:
            x, graph = whole(gs)
            if getattr(q, "input_col_obs", None) is not None:
                q.input_col_obs.discrete = discrete_columns(np.asarray(x))
            q(x, graph)
    finally:
        q.input_frozen = True  # the input is data: its ranges stay the calibrated ones
        q.calibrating = False
        q.quant_enabled = True
        for o, m in saved:
            o.momentum = m


def post_training_quantization(model: torch.nn.Module, gs: GraphSet, cfg: QATConfig, seed: int = 0,
                               name: str = "model"):
    """PTQ with the QAT quantizer: calibrate on the train split, no training. Returns the QATModel (eval)."""
    q = prepare_model(model, cfg, seed=seed, name=name)
    calibrate(q, gs, "train")
    return q.eval()


@dataclasses.dataclass
class EpochSelection:
    """Which QAT epoch was kept: the quantized model's accuracy and mean cross-entropy on `split` after
    calibration (epoch 0, the PTQ start) and after every epoch; the kept one by select_epoch (lowest loss)."""

    split: str  # "val", or "train" when the data set has no validation split
    accuracies: List[float]
    best_epoch: int  # the kept epoch
    losses: List[float] = dataclasses.field(default_factory=list)  # mean cross-entropy (nats), per epoch

    @property
    def best_accuracy(self) -> float:
        return self.accuracies[self.best_epoch]

    @property
    def best_loss(self) -> float:
        return self.losses[self.best_epoch]

    def describe(self) -> str:
        epochs = len(self.accuracies) - 1
        if epochs == 0:
            return (f"no fine-tuning epochs (quantized {self.split} accuracy {self.best_accuracy:.4f}, "
                    f"loss {self.best_loss:.4f})")
        return (f"epoch {self.best_epoch} of {epochs} kept (the lowest quantized {self.split} loss "
                f"{self.best_loss:.4f}, accuracy {self.best_accuracy:.4f}; start {self.losses[0]:.4f} / "
                f"{self.accuracies[0]:.4f}, last {self.losses[-1]:.4f} / {self.accuracies[-1]:.4f}; best accuracy "
                f"{max(self.accuracies):.4f})")


def select_epoch(losses: List[float]) -> int:
    """The epoch of the LOWEST mean cross-entropy of the quantized model on the selection split (ties: the
    earliest, the one closest to the float model). Why the loss and not the accuracy:

    * accuracy on n items moves in steps of 1/n: 5.3 points on MUTAG's 19 validation graphs, 1 on IMDB-BINARY's
      100. Most epochs tie or differ by one or two items, and which tied epoch is kept (the latest, the earliest)
      decides; the previous rule (the latest epoch within one standard error of the best accuracy) kept on such
      sets whichever late epoch sat inside the 9-point margin. Every item's cross-entropy moves continuously with
      its logits, so the mean ranks epochs that the accuracy cannot tell apart;
    * it is a proper scoring rule (lowest in expectation for the true class probabilities) and the objective the
      fine-tuning minimises on the train split, so its validation value is the held-out estimate of what the
      training optimises: the usual early-stopping criterion. It sees over-fitting that the accuracy hides:
      IMDB-BINARY z-scored INT4 fold 3, val loss 0.64 at the start, 1.08 after 15 epochs, val accuracy 0.66-0.72
      throughout.

    Measured on the robustness table's runs (docs/qat.md "Epoch selection", scripts/qat_selection_study.py):
    INT4 QAT Δ vs FP32 over 10 folds, old rule / this one: MUTAG raw -2.60 / -0.44, IMDB-BINARY z-scored
    -2.50 / +0.20, MUTAG z-scored -0.50 / -1.58 (2 graphs of 188, inside its 2.4-point standard error); NCI1 and
    Cora move by less than their standard errors. The kept epoch's loss is never above the start's, so a run
    that degrades keeps the PTQ start."""
    if not losses:
        raise ValueError("select_epoch needs the loss of at least one epoch")
    values = np.asarray(losses, dtype=np.float64)
    # A NaN loss (float logits overflowing in a diverging run, e.g. the float control) is no candidate: argmin
    # would return it. With every loss NaN the start is kept.
    return int(np.argmin(np.where(np.isnan(values), np.inf, values)))


class _BestEpoch:
    """Scores the QAT model (its eval forward = the exported model's integer result) after each epoch on the
    selection split (accuracy and cross-entropy) and keeps a copy of every state: parameters and buffers AND the
    observers' ranges, since the exported model is quantized from both."""

    def __init__(self, q, gs: GraphSet, epochs: int, log: Optional[Log]) -> None:
        self.q, self.gs, self.epochs, self.log = q, gs, epochs, log
        self.split = "val" if gs.val.size else "train"
        self.accuracies: List[float] = []
        self.losses: List[float] = []
        self.states: List[Tuple[dict, list]] = []  # per epoch: the model is small, every state is kept

    def __call__(self, epoch: int) -> None:
        correct, loss = item_scores(self.q, self.gs, self.split)
        acc, mean_loss = float(correct.mean()), float(loss.mean())
        better = not self.losses or mean_loss < min(self.losses)
        self.accuracies.append(acc)
        self.losses.append(mean_loss)
        # Parameters and buffers, and every observer's whole state (per-tensor ranges, per-column arrays, EMA
        # bookkeeping), also of observers that hold nothing yet (quantization off in the float control).
        self.states.append(({k: v.detach().clone() for k, v in self.q.state_dict().items()},
                            [copy.deepcopy(vars(o)) for o in self.q.observers()]))
        if self.log is not None:
            if epoch == 0 and self.split == "train":
                self.log("QAT: the data set has no validation split; the epoch is selected on the training split")
            what = "start (ranges calibrated)" if epoch == 0 else f"epoch {epoch}/{self.epochs}"
            self.log(f"QAT {what}: quantized {self.split} acc {acc:.4f}, loss {mean_loss:.4f}"
                     + ("  (lowest loss so far)" if better else ""))

    def restore(self) -> EpochSelection:
        epoch = select_epoch(self.losses)
        state, observers = self.states[epoch]
        self.q.load_state_dict(state)
        for o, saved in zip(self.q.observers(), observers):
            vars(o).update(copy.deepcopy(saved))
        return EpochSelection(self.split, self.accuracies, epoch, self.losses)


def quantization_aware_training(model: torch.nn.Module, gs: GraphSet, cfg: QATConfig, *, weight_decay: float = 0.0,
                                batch_size: int = 32, seed: int = 0, name: str = "model",
                                log_every: Optional[int] = None, log: Log = print, log_epochs: bool = False):
    """QAT fine-tuning of a copy of the trained float `model`: prepare (bits, ranges, Degree-Quant), calibrate
    the ranges on the train split as PTQ does, then the task's training loop of qgnn.train (Adam) for
    cfg.epochs at cfg.lr. The quantized model is scored on the validation split (the training split when there
    is none) after calibration and after every epoch, and the state (weights and ranges) of the lowest
    cross-entropy there is kept (select_epoch; ties: the earlier epoch), so its loss there is never above
    its PTQ start's; `q.selection` (an EpochSelection) records it, and log_epochs logs each score. With
    cfg.epochs == 0 this is post_training_quantization. Returns (QATModel in eval mode, accuracies of its eval
    forward, which equals the exported model's integer result)."""
    epochs, lr = qat_defaults(gs.task)
    epochs = epochs if cfg.epochs is None else cfg.epochs
    lr = lr if cfg.lr is None else cfg.lr
    torch.manual_seed(seed)
    if epochs == 0:
        q = post_training_quantization(model, gs, cfg, seed=seed, name=name)
        best = _BestEpoch(q, gs, 0, log if log_epochs else None)
        best(0)
    else:
        q = prepare_model(model, cfg, seed=seed, name=name)
        calibrate(q, gs, "train")  # start from the PTQ ranges; training keeps them (or follows them by EMA)
        if cfg.range_updates not in RANGE_UPDATES:
            raise ValueError(f"unknown range update {cfg.range_updates!r} (one of {', '.join(RANGE_UPDATES)})")
        q.ranges_frozen = cfg.range_updates == "frozen"
        best = _BestEpoch(q, gs, epochs, log if log_epochs else None)
        best(0)
        if cfg.distill:
            _train_with_distillation(q, gs, cfg, epochs=epochs, lr=lr, weight_decay=weight_decay,
                                     batch_size=batch_size, seed=seed, log_every=log_every, log=log, on_epoch=best)
        elif gs.task == GRAPH_CLASSIFICATION:
            train_graph_classifier(q, gs, epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                                   seed=seed, log_every=log_every, log=log, on_epoch=best)
        else:
            train_node_classifier(q, gs, epochs=epochs, lr=lr, weight_decay=weight_decay, log_every=log_every,
                                  log=log, on_epoch=best)
    q.selection = best.restore()
    q.eval()
    return q, {s: accuracy(q, gs, s) for s in SPLITS}


# A quantized model at or below the majority-class rate + COLLAPSE_MARGIN has collapsed (it answers no better
# than always naming the most frequent class) - but only a loss if the float model was clearly better: at least
# FLOAT_MARGIN above that rate. 5 points is one graph in 20 of a small TU validation fold, so a float model just
# one lucky graph above a constant answer does not make its quantized copy "collapsed".
COLLAPSE_MARGIN = 0.01
FLOAT_MARGIN = 0.05


def majority_rate(gs: GraphSet, split: str) -> float:
    """The accuracy of the best constant answer on `split`: the largest class share among its labels."""
    labels = gs.labels[gs.split(split).astype(np.int64)].astype(np.int64)
    return float(np.bincount(labels).max() / labels.size) if labels.size else float("nan")


@torch.no_grad()
def activation_sqnr(q, gs: GraphSet, split: str) -> Dict[str, float]:
    """SQNR (dB) of every quantized activation over one eval forward of `split` (graph task: its graphs;
    node task: the whole graph): 10 log10(sum v^2 / sum (v - dequantized)^2), v being the float value the
    component computes from its quantized inputs. Rounding and clipping at that point only, not accumulated
    from earlier layers; -inf where the signal is 0, +inf where the error is."""
    q.eval()
    q.sqnr_stats = {}
    try:
        if gs.task == GRAPH_CLASSIFICATION:
            idx = gs.split(split).astype(np.int64)
            for k in range(0, idx.size, EVAL_CHUNK):
                x, graph, _ = batch_graphs(gs, idx[k:k + EVAL_CHUNK])
                q(x, graph)
        else:
            q(*whole(gs))
        stats = q.sqnr_stats
    finally:
        q.sqnr_stats = None
    return {name: _db(signal, noise) for name, (signal, noise) in stats.items()}


def _db(signal: float, noise: float) -> float:
    return math.inf if noise == 0 else -math.inf if signal == 0 else 10.0 * math.log10(signal / noise)


def input_column_sqnr(q, gs: GraphSet, split: str) -> np.ndarray:
    """SQNR (dB) of each input feature column under the model's one input scale, over the nodes `split`
    reads. A column far smaller than the others (0/1 labels beside raw attributes in the hundreds) rounds to
    0 and loses everything while the tensor's SQNR, dominated by the large column, looks healthy."""
    from ..sim.numerics import dequantize, quantize_float

    if gs.task == GRAPH_CLASSIFICATION:
        idx = gs.split(split).astype(np.int64)
        gp = gs.graph_ptr.astype(np.int64)
        nodes = np.concatenate([np.arange(gp[g], gp[g + 1]) for g in idx]) if idx.size else np.zeros(0, np.int64)
        x = gs.features[nodes]
    else:
        x = gs.features
    qm = q.quantized_model()
    qp = qm.input_quant
    scales = model_input_scales(qm)  # per column when the model has column scales, else the one scale
    deq = dequantize(quantize_float(x, scales, qp.zero_point, qp.bits), scales, qp.zero_point)
    x64 = x.astype(np.float64)
    signal, noise = (x64 ** 2).sum(axis=0), ((x64 - deq.astype(np.float64)) ** 2).sum(axis=0)
    return np.array([_db(a, b) for a, b in zip(signal, noise)])


@dataclasses.dataclass
class CollapseCheck:
    """check_collapse's verdict on one quantized model."""

    split: str
    quantized: float
    float: float
    majority: float
    collapsed: bool
    degenerate: List[str]
    sqnr: Dict[str, float]  # measured only for a collapsed model (one extra eval forward)
    lost_columns: List[int]  # input columns of SQNR <= 0 dB (error >= signal); collapsed models only
    num_columns: int

    def message(self) -> str:
        text = (f"the quantized model collapsed to majority-class accuracy: quantized {self.split} accuracy "
                f"{self.quantized:.4f} <= majority-class rate {self.majority:.4f} + {COLLAPSE_MARGIN}, while the "
                f"float model scores {self.float:.4f} (>= majority + {FLOAT_MARGIN})")
        causes = []
        if self.degenerate:
            causes.append("degenerate range (no non-zero value) at " + ", ".join(self.degenerate))
        if self.lost_columns:
            shown = ", ".join(str(c) for c in self.lost_columns[:8]) + (", ..." if len(self.lost_columns) > 8 else "")
            causes.append(f"{len(self.lost_columns)} of {self.num_columns} input feature columns lost to the one "
                          f"input scale (SQNR <= 0 dB: columns {shown}; features of very different scales per "
                          "column, e.g. raw attributes beside one-hot labels)")
        measured = {k: v for k, v in self.sqnr.items() if not (math.isnan(v) or v == math.inf)}
        if measured:
            worst = sorted(measured.items(), key=lambda kv: kv[1])[:3]
            causes.append("lowest activation SQNR " + ", ".join(f"{k} {v:.1f} dB" for k, v in worst))
        return text + ("; " + "; ".join(causes) if causes else "")


def check_collapse(q, gs: GraphSet, float_acc: Dict[str, float], quant_acc: Dict[str, Optional[float]]) \
        -> CollapseCheck:
    """Has quantization collapsed the model? Judged on the validation split (train when there is none):
    quantized accuracy <= majority rate + COLLAPSE_MARGIN while the float model is >= majority + FLOAT_MARGIN.
    A collapsed verdict names the likely cause: degenerate ranges, input columns lost to the one input scale
    and the activations of lowest SQNR."""
    split = "val" if gs.val.size else "train"
    maj = majority_rate(gs, split)
    qa, fa = quant_acc[split], float_acc[split]
    collapsed = bool(qa <= maj + COLLAPSE_MARGIN and fa >= maj + FLOAT_MARGIN)
    sqnr = activation_sqnr(q, gs, split) if collapsed else {}
    columns = input_column_sqnr(q, gs, split) if collapsed else np.zeros(0)
    lost = [int(c) for c in np.flatnonzero(columns <= 0.0)]
    return CollapseCheck(split, qa, fa, maj, collapsed, q.degenerate_activations(), sqnr, lost, int(gs.feature_dim))


def fine_tune_control(model: torch.nn.Module, gs: GraphSet, *, weight_decay: float = 0.0, batch_size: int = 32,
                      seed: int = 0):
    """The control for QAT: the same fine-tuning (QATModel wrapper, BatchNorm frozen, Dropout off, the task's
    QAT epochs and lr, same batches, the same epoch selection on val: here of the float loss) with
    quantization disabled, scored in float. Its difference to the float model is what the extra training alone
    changes; a QAT result is judged against both. Returns (the fine-tuned QATModel, quantization still off, in
    eval mode, `selection` set; its float accuracies per split)."""
    epochs, lr = qat_defaults(gs.task)
    torch.manual_seed(seed)
    q = prepare_model(model, QATConfig(), seed=seed)
    q.quant_enabled = False
    best = _BestEpoch(q, gs, epochs, None)
    best(0)
    if gs.task == GRAPH_CLASSIFICATION:
        train_graph_classifier(q, gs, epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                               seed=seed, on_epoch=best)
    else:
        train_node_classifier(q, gs, epochs=epochs, lr=lr, weight_decay=weight_decay, on_epoch=best)
    q.selection = best.restore()
    q.eval()
    return q, {s: accuracy(q, gs, s) for s in SPLITS}


def _train_with_distillation(q, gs: GraphSet, cfg: QATConfig, *, epochs: int, lr: float, weight_decay: float,
                             batch_size: int, seed: int, log_every: Optional[int], log: Log,
                             on_epoch=None) -> None:
    """The qgnn.train loops (same optimiser, batches, schedule) with qgnn.qat.train_step: loss = cross-entropy
    + distill_weight * the SQD / AQD self-distillation loss of qgnn.qat.distill (its default settings)."""
    from . import accuracy
    from .. import qat

    if not distill_available().get(cfg.distill):
        raise ValueError(f"qgnn.qat offers no {cfg.distill.upper()} distillation in this tree")
    dcfg = qat.DistillConfig(method=cfg.distill, weight=cfg.distill_weight)
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(q.parameters(), lr=lr, weight_decay=weight_decay)
    graph_task = gs.task == GRAPH_CLASSIFICATION
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=max(1, epochs // 2), gamma=0.5) if graph_task else None
    if not graph_task:
        x, graph = whole(gs)
        labels = torch.from_numpy(gs.labels.astype(np.int64))
        train = torch.from_numpy(gs.train.astype(np.int64))
    for epoch in range(1, epochs + 1):
        stats = {}
        if graph_task:
            order = rng.permutation(gs.train.astype(np.int64))
            for k in range(0, order.size, batch_size):
                xb, gb, yb = batch_graphs(gs, order[k:k + batch_size])
                if yb.numel() < 2:
                    continue  # as the float loop skips one-graph batches of BatchNorm models
                stats = qat.train_step(q, opt, xb, gb, yb, dcfg)
            sched.step()
        else:
            stats = qat.train_step(q, opt, x, graph, labels[train], dcfg, rows=train)
        if log_every and (epoch % log_every == 0 or epoch == epochs):
            log(f"epoch {epoch:4d}  " + "  ".join(f"{k} {v:.4f}" for k, v in stats.items()) +
                f"  train acc {accuracy(q, gs, 'train'):.4f}  val acc {accuracy(q, gs, 'val'):.4f}")
        if on_epoch is not None:
            on_epoch(epoch)


def sim_accuracy(quantized, gs: GraphSet, splits=SPLITS, batch: int = 1) -> Dict[str, Optional[float]]:
    """Accuracy of a quantized model (a quantized ModelDesc or a .qgnn path) per split from qgnn.sim, i.e. exactly what
    `qgnn-run MODEL DATA --split S` reports. An empty split gives None."""
    from .. import sim

    out: Dict[str, Optional[float]] = {}
    for s in splits:
        if gs.split(s).size == 0:
            out[s] = None
            continue
        out[s] = sim.evaluate(quantized, gs, s, batch).accuracy
    return out


__all__ = ["QATConfig", "RANGES", "INPUT_SCALES", "RANGE_UPDATES", "DISTILL", "QAT_EPOCHS", "QAT_LR", "qat_defaults", "distill_available",
           "prepare_model", "calibrate", "post_training_quantization", "quantization_aware_training",
           "fine_tune_control", "sim_accuracy", "EpochSelection", "CollapseCheck", "check_collapse",
           "activation_sqnr", "majority_rate", "COLLAPSE_MARGIN", "FLOAT_MARGIN"]
