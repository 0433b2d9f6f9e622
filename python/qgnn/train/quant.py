"""Quantization on top of qgnn.train: post-training quantization (PTQ) with qgnn.qat's quantizer, QAT
fine-tuning with the training loops of qgnn.train, and scoring an exported quantized model with qgnn.sim
(bit-exact with qgnn-run). Used by `python3 -m qgnn.train --qat` and scripts/accuracy_table.py.

    from qgnn.train import fit, Hyper
    from qgnn.train.quant import QATConfig, quantization_aware_training, sim_accuracy
    model, float_acc = fit("gcn", gs, Hyper.defaults(gs.task))
    q, _ = quantization_aware_training(model, gs, QATConfig(bits=8, ranges="percentile", degree_quant=True))
    qm = q.quantized_model(task=gs.task)     # or qgnn.qat.export_quantized(q, path, ...)
    sim_accuracy(qm, gs)                     # {"train": ..., "val": ..., "test": ...} from the integer simulator
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
from typing import Dict, Optional, Tuple, Union

import numpy as np
import torch

from ..qgd import GRAPH_CLASSIFICATION, GraphSet
from . import EVAL_CHUNK, SPLITS, Log, batch_graphs, train_graph_classifier, train_node_classifier, whole

RANGES = ("minmax", "percentile", "pauta")
INPUT_SCALES = ("auto", "tensor", "column")  # qgnn.qat.input_scales.MODES
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
    ranges: Optional[str] = None  # None: percentile with degree_quant, else minmax (qgnn.qat.prepare)
    pauta_k: float = 3.0
    degree_quant: bool = False
    epochs: Optional[int] = None  # None: QAT_EPOCHS of the task
    lr: Optional[float] = None  # None: QAT_LR
    distill: Optional[str] = None  # "sqd" | "aqd" when qgnn.qat provides them
    distill_weight: float = 1.0
    input_scales: str = "auto"  # per-column input scales: auto (when columns differ in scale), tensor, column

    def bits_spec(self) -> Union[int, Dict[str, int]]:
        """What qgnn.qat.prepare takes: an int, or the per-component dict when a component differs."""
        comps = {"weights": self.weight_bits, "aggregation": self.aggregation_bits, "output": self.output_bits}
        if all(v is None for v in comps.values()):
            return self.bits
        spec = {"default": self.bits, "input": self.bits}
        spec.update({k: v for k, v in comps.items() if v is not None})
        return spec

    def resolved_ranges(self) -> str:
        return self.ranges or ("percentile" if self.degree_quant else "minmax")

    def describe(self) -> str:
        spec = self.bits_spec()
        bits = (f"INT{spec}" if isinstance(spec, int) else
                "bits " + ", ".join(f"{k} {v}" for k, v in spec.items()))
        rng = self.resolved_ranges() + (f" (k = {self.pauta_k})" if self.resolved_ranges() == "pauta" else "")
        parts = [bits, f"{rng} ranges"]
        if self.degree_quant:
            parts.append("Degree-Quant masking")
        if self.distill:
            parts.append(f"{self.distill.upper()} self-distillation (weight {self.distill_weight})")
        if self.input_scales != "auto":
            parts.append(f"{self.input_scales} input scales")
        return ", ".join(parts)


QAT_EPOCHS = {GRAPH_CLASSIFICATION: 15, "node": 20}
QAT_LR = 0.002


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
                       input_scales=cfg.input_scales)


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
                for b in batches:
                    q.observe_input(batch_graphs(gs, b)[0])
            for b in batches:
                x, graph, _ = batch_graphs(gs, b)
                q(x, graph)
        else:
            x, graph = whole(gs)
            q(x, graph)
    finally:
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


def quantization_aware_training(model: torch.nn.Module, gs: GraphSet, cfg: QATConfig, *, weight_decay: float = 0.0,
                                batch_size: int = 32, seed: int = 0, name: str = "model",
                                log_every: Optional[int] = None, log: Log = print):
    """QAT fine-tuning of a copy of the trained float `model`: prepare (bits, ranges, Degree-Quant), calibrate
    the ranges on the train split as PTQ does, then the
    task's training loop of qgnn.train (Adam, the last epoch kept) for cfg.epochs at cfg.lr. With
    cfg.epochs == 0 this is post_training_quantization. Returns (QATModel in eval mode, accuracies of its eval
    forward, which equals the exported model's integer result)."""
    epochs, lr = qat_defaults(gs.task)
    epochs = epochs if cfg.epochs is None else cfg.epochs
    lr = lr if cfg.lr is None else cfg.lr
    torch.manual_seed(seed)
    if epochs == 0:
        q = post_training_quantization(model, gs, cfg, seed=seed, name=name)
    else:
        q = prepare_model(model, cfg, seed=seed, name=name)
        calibrate(q, gs, "train")  # start from the PTQ ranges; training then follows them by EMA
        if cfg.distill:
            _train_with_distillation(q, gs, cfg, epochs=epochs, lr=lr, weight_decay=weight_decay,
                                     batch_size=batch_size, seed=seed, log_every=log_every, log=log)
        elif gs.task == GRAPH_CLASSIFICATION:
            train_graph_classifier(q, gs, epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                                   seed=seed, log_every=log_every, log=log)
        else:
            train_node_classifier(q, gs, epochs=epochs, lr=lr, weight_decay=weight_decay, log_every=log_every,
                                  log=log)
    q.eval()
    from . import accuracy

    return q, {s: accuracy(q, gs, s) for s in SPLITS}


def fine_tune_control(model: torch.nn.Module, gs: GraphSet, *, weight_decay: float = 0.0, batch_size: int = 32,
                      seed: int = 0):
    """The control for QAT: the same fine-tuning (QATModel wrapper, BatchNorm frozen, Dropout off, the task's
    QAT epochs and lr, same batches) with quantization disabled, scored in float. Its difference to the float
    model is what the extra training alone changes; a QAT result is judged against both. Returns (the
    fine-tuned QATModel, quantization still off, in eval mode; its float accuracies per split)."""
    from . import accuracy

    epochs, lr = qat_defaults(gs.task)
    torch.manual_seed(seed)
    q = prepare_model(model, QATConfig(), seed=seed)
    q.quant_enabled = False
    if gs.task == GRAPH_CLASSIFICATION:
        train_graph_classifier(q, gs, epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                               seed=seed)
    else:
        train_node_classifier(q, gs, epochs=epochs, lr=lr, weight_decay=weight_decay)
    q.eval()
    return q, {s: accuracy(q, gs, s) for s in SPLITS}


def _train_with_distillation(q, gs: GraphSet, cfg: QATConfig, *, epochs: int, lr: float, weight_decay: float,
                             batch_size: int, seed: int, log_every: Optional[int], log: Log) -> None:
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


__all__ = ["QATConfig", "RANGES", "INPUT_SCALES", "DISTILL", "QAT_EPOCHS", "QAT_LR", "qat_defaults", "distill_available",
           "prepare_model", "calibrate", "post_training_quantization", "quantization_aware_training",
           "fine_tune_control", "sim_accuracy"]
