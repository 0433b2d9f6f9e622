"""Self-distillation for QAT: QGNN-IC's SQD and AQD (Xu, Ma, Zeng, Huang, Mathematics 2023), docs/qat.md.

No separate teacher model: the teacher is the *same* QATModel run another way, with the same parameters and the
same quantization parameters as the student pass (the quantized ModelDesc the last forward used). SQD's targets are
detached (gradients only through the deterministic quantized path); AQD's full-precision path is not detached
by default (gradients through both paths: with a straight-through estimator and shared weights, only that
gradient sees the clipping part of the quantization gap; docs/qat.md).

* SQD - stochastic quantization distillation. Teacher = the stochastic quantized path: at every quantization
  point (input, aggregation, GIN hidden, layer output, pooled output) a coin with probability `sqd_p_fp` keeps
  the whole tensor in full precision for this pass; otherwise it is quantized, with unbiased stochastic
  rounding (`sqd_stochastic_rounding`) instead of round-half-away. Loss = T^2 KL(softmax(z_t/T) || softmax(z_q/T))
  (Hinton et al., 2015) on the logits, z_t detached.
* AQD - attention quantization distillation. Teacher = the full-precision path (no fake quantization at all).
  For each chosen layer l, with F_q, F_fp the [rows, C] values the layer hands on:
      channel attention   e_c = mean_i |F_fp[i, c]|,  a = softmax((e / max e) / tau)      (sums to 1)
      normaliser          r^2 = (mean F_fp^2 + mean F_q^2) / 2        (detached)
      L_l = sum_c a_c mean_i ((F_q[i, c] - F_fp[i, c]) / r)^2
  or, with attention="node", Zagoruyko & Komodakis' (ICLR 2017) attention transfer over nodes: the map
  A_i = mean_c F[i, c]^2, L2-normalised within each graph, L_l = mean_graphs ||A_q - A_fp||^2 (graph-level
  layers fall back to channel attention). AQD = mean_l L_l  (+ aqd_logit_weight * T^2 KL(FP || quantized)).

Eval / export are untouched: both teachers exist only inside these functions; QATModel.forward computes what it
always did (the exact runtime arithmetic).

    cfg = qat.DistillConfig(method="sqd+aqd", weight=1.0)
    stats = qat.train_step(q, optimizer, x, graph, labels, cfg)   # task + weight * distill, one step
  or, in an existing loop:
    q.record_features = True                                      # needed by AQD
    logits = q(x, graph)
    loss = F.cross_entropy(logits, labels) + lam * qat.distillation_loss(q, x, graph, logits, method="aqd")
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import nn as qnn
from .model import QATModel

METHODS = ("none", "sqd", "aqd", "sqd+aqd")
ATTENTIONS = ("channel", "node")


@dataclass
class DistillConfig:
    """Hyper-parameters of qgnn.qat's self-distillation (defaults: docs/qat.md)."""

    method: str = "sqd"                 # "sqd" | "aqd" | "sqd+aqd" | "none"
    weight: float = 1.0                 # lambda in loss = task + lambda * distill (train_step)
    temperature: float = 2.0            # T of every logit KL (multiplied by T^2)
    sqd_weight: float = 1.0             # weight of the SQD term inside the distillation loss
    sqd_p_fp: float = 0.5               # probability that a quantization point runs in full precision
    sqd_stochastic_rounding: bool = True
    aqd_weight: float = 1.0             # weight of the AQD feature term inside the distillation loss
    aqd_attention: str = "channel"      # "channel" | "node"
    aqd_tau: float = 0.5                # softmax temperature of the channel attention
    aqd_layers: Optional[Sequence[int]] = None  # layer indices (exported layer list); default: all but the last
    aqd_logit_weight: float = 0.0       # optional logit KL (FP -> quantized) added to the AQD term
    sqd_detach: bool = True             # SQD targets detached (soft labels, Hinton et al.)
    aqd_detach: bool = False            # AQD: gradients through both paths (see docs/qat.md: STE makes a
                                        # detached shared-weight teacher blind to the gap it measures)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.aqd_attention not in ATTENTIONS:
            raise ValueError(f"aqd_attention must be one of {ATTENTIONS}, got {self.aqd_attention!r}")
        if not 0.0 <= self.sqd_p_fp <= 1.0:
            raise ValueError("sqd_p_fp must lie in [0, 1]")
        if self.temperature <= 0 or self.aqd_tau <= 0:
            raise ValueError("temperatures must be > 0")

    @property
    def uses_sqd(self) -> bool:
        return "sqd" in self.method

    @property
    def uses_aqd(self) -> bool:
        return "aqd" in self.method


def _config(config: Optional[DistillConfig], method: Optional[str], overrides: Dict) -> DistillConfig:
    cfg = config or DistillConfig()
    if method is not None:
        overrides = dict(overrides, method=method)
    return dataclasses.replace(cfg, **overrides) if overrides else cfg


# ---------------------------------------------------------------------------------------------------
# Loss pieces
# ---------------------------------------------------------------------------------------------------

def kd_kl(student_logits: Tensor, teacher_logits: Tensor, temperature: float = 2.0) -> Tensor:
    """Hinton et al. (2015): T^2 * KL(softmax(t/T) || softmax(s/T)), mean over rows. >= 0, 0 iff equal."""
    if student_logits.shape[0] == 0:
        return student_logits.sum() * 0.0
    t = temperature
    kl = F.kl_div(F.log_softmax(student_logits / t, dim=1), F.log_softmax(teacher_logits / t, dim=1),
                  reduction="batchmean", log_target=True)
    return kl.clamp(min=0.0) * (t * t)


def channel_attention(feat_fp: Tensor, tau: float = 0.5) -> Tensor:
    """a = softmax((e / max e) / tau), e_c = mean_i |F[i, c]|: sums to 1, larger for high-magnitude channels."""
    e = feat_fp.detach().abs().mean(dim=0) if feat_fp.shape[0] else feat_fp.new_zeros(feat_fp.shape[1])
    e = e / e.max().clamp(min=1e-12)
    return torch.softmax(e / tau, dim=0)


def node_attention_map(feat: Tensor, graph: qnn.Graph) -> Tensor:
    """Attention transfer over nodes (Zagoruyko & Komodakis 2017, p = 2): A_i = mean_c F[i, c]^2, divided by
    the L2 norm of A over the nodes of i's graph."""
    a = feat.pow(2).mean(dim=1)
    norm2 = a.new_zeros(graph.num_graphs).index_add_(0, graph.graph_of_node, a * a)
    return a / norm2.clamp(min=1e-24).sqrt().index_select(0, graph.graph_of_node)


def aqd_layer_loss(feat_q: Tensor, feat_fp: Tensor, graph: Optional[qnn.Graph] = None,
                   attention: str = "channel", tau: float = 0.5) -> Tensor:
    """One layer's attention-weighted feature distillation loss (>= 0; 0 when feat_q == feat_fp)."""
    if feat_q.shape[0] == 0:
        return feat_q.sum() * 0.0
    if attention == "node" and graph is not None and feat_q.shape[0] == graph.num_nodes:
        d = node_attention_map(feat_q, graph) - node_attention_map(feat_fp, graph)
        per_graph = d.new_zeros(graph.num_graphs).index_add_(0, graph.graph_of_node, d * d)
        return per_graph.mean()
    a = channel_attention(feat_fp, tau)
    r2 = 0.5 * (feat_fp.detach().pow(2).mean() + feat_q.detach().pow(2).mean())
    m = (feat_q - feat_fp).pow(2).mean(dim=0) / r2.clamp(min=1e-24)
    return (a * m).sum()


# ---------------------------------------------------------------------------------------------------
# Teacher passes (same module, same parameters, no observation)
# ---------------------------------------------------------------------------------------------------

def _teacher_ctx(detach: bool):
    return torch.no_grad() if detach else contextlib.nullcontext()


def _current_qm(q: QATModel):
    """The quantized ModelDesc of the student pass: the one the last forward used (ranges move after it)."""
    if not q.quant_enabled:
        return None
    return q.last_quantized if q.last_quantized is not None else q.quantized_model()


def full_precision_forward(q: QATModel, x: Tensor, graph: qnn.Graph,
                           feats: Optional[List[Tensor]] = None) -> Tensor:
    """The same network without any fake quantization (BatchNorm folded with running statistics, as the QAT
    surrogate); observers untouched."""
    return q._run(torch.as_tensor(x, dtype=torch.float32), graph, None, False, feats=feats)


def stochastic_forward(q: QATModel, x: Tensor, graph: qnn.Graph, p_fp: float = 0.5,
                       stochastic_rounding: bool = True) -> Tensor:
    """SQD's stochastic quantized path with the student's quantization parameters; observers untouched. In
    eval mode (or with nothing stochastic to do) it is the deterministic quantized path."""
    qm = _current_qm(q)
    stoch = (p_fp, stochastic_rounding) if q.training else None
    return q._run(torch.as_tensor(x, dtype=torch.float32), graph, qm, False, stoch=stoch)


# ---------------------------------------------------------------------------------------------------
# Public losses and the training step
# ---------------------------------------------------------------------------------------------------

def distillation_terms(q: QATModel, x: Tensor, graph: qnn.Graph, logits_q: Tensor,
                       method: Optional[str] = None, config: Optional[DistillConfig] = None,
                       rows: Optional[Tensor] = None, **overrides) -> Dict[str, Tensor]:
    """The separate (unweighted) terms: {"sqd"}, {"aqd", "aqd_logits"}. logits_q must come from q's most
    recent forward on (x, graph) (AQD also needs q.record_features = True for that forward). rows: rows of
    the logits the KL terms use (e.g. the training nodes of a node classification graph); default all."""
    cfg = _config(config, method, overrides)
    graph = graph if isinstance(graph, qnn.Graph) else qnn.Graph(*graph)
    sel = (lambda t: t) if rows is None else (lambda t: t[rows])
    out: Dict[str, Tensor] = {}
    if cfg.uses_sqd:
        with _teacher_ctx(cfg.sqd_detach):
            z_t = stochastic_forward(q, x, graph, cfg.sqd_p_fp, cfg.sqd_stochastic_rounding)
        z_t = z_t.detach() if cfg.sqd_detach else z_t
        out["sqd"] = kd_kl(sel(logits_q), sel(z_t), cfg.temperature)
    if cfg.uses_aqd:
        feats_q = q.last_features
        if feats_q is None or len(feats_q) != len(q.entries):
            raise ValueError("AQD needs the student's layer outputs: set q.record_features = True before the "
                             "forward that produced logits_q (or use qgnn.qat.distill_forward / train_step)")
        feats_fp: List[Tensor] = []
        with _teacher_ctx(cfg.aqd_detach):
            z_fp = full_precision_forward(q, x, graph, feats_fp)
        if cfg.aqd_detach:
            feats_fp, z_fp = [f.detach() for f in feats_fp], z_fp.detach()
        layers = cfg.aqd_layers if cfg.aqd_layers is not None else range(len(q.entries) - 1)
        losses = [aqd_layer_loss(feats_q[i], feats_fp[i], graph, cfg.aqd_attention, cfg.aqd_tau) for i in layers]
        out["aqd"] = torch.stack(losses).mean() if losses else logits_q.sum() * 0.0
        if cfg.aqd_logit_weight:
            out["aqd_logits"] = kd_kl(sel(logits_q), sel(z_fp), cfg.temperature)
    return out


def distillation_loss(q: QATModel, x: Tensor, graph: qnn.Graph, logits_q: Tensor,
                      method: Optional[str] = None, config: Optional[DistillConfig] = None,
                      rows: Optional[Tensor] = None, **overrides) -> Tensor:
    """sqd_weight * SQD + aqd_weight * (AQD + aqd_logit_weight * KL) for the chosen method (unweighted by
    `weight`: the caller forms task + lambda * this). See distillation_terms for the arguments."""
    cfg = _config(config, method, overrides)
    return _combine(cfg, distillation_terms(q, x, graph, logits_q, config=cfg, rows=rows), logits_q)


def distill_forward(q: QATModel, x: Tensor, graph: qnn.Graph, config: Optional[DistillConfig] = None,
                    rows: Optional[Tensor] = None, **overrides) -> Tuple[Tensor, Tensor, Dict[str, float]]:
    """Student forward (q(x, graph): the exact quantized arithmetic, observers updated in training) and its
    distillation loss: (logits_q, distill_loss, {term: value})."""
    cfg = _config(config, None, overrides)
    graph = graph if isinstance(graph, qnn.Graph) else qnn.Graph(*graph)
    was = q.record_features
    q.record_features = was or cfg.uses_aqd
    try:
        logits = q(x, graph)
    finally:
        q.record_features = was
    terms = distillation_terms(q, x, graph, logits, config=cfg, rows=rows)
    loss = _combine(cfg, terms, logits)
    return logits, loss, {k: float(v) for k, v in terms.items()}


def _combine(cfg: DistillConfig, t: Dict[str, Tensor], logits: Tensor) -> Tensor:
    total = logits.new_zeros(())
    if "sqd" in t:
        total = total + cfg.sqd_weight * t["sqd"]
    if "aqd" in t:
        total = total + cfg.aqd_weight * (t["aqd"] + cfg.aqd_logit_weight * t.get("aqd_logits", 0.0))
    return total


def train_step(q: QATModel, optimizer: torch.optim.Optimizer, x: Tensor, graph: qnn.Graph, labels: Tensor,
               config: Optional[DistillConfig] = None, rows: Optional[Tensor] = None,
               task_loss: Callable[[Tensor, Tensor], Tensor] = F.cross_entropy,
               **overrides) -> Dict[str, float]:
    """One optimisation step of loss = task_loss(logits[rows], labels) + weight * distill (q in train mode).
    Composes with every prepare option (bits, ranges, Degree-Quant). Returns the loss values (floats)."""
    cfg = _config(config, None, overrides)
    q.train()
    optimizer.zero_grad()
    logits, dl, terms = distill_forward(q, x, graph, cfg, rows=rows)
    task = task_loss(logits if rows is None else logits[rows], labels)
    loss = task + cfg.weight * dl if cfg.method != "none" else task
    loss.backward()
    optimizer.step()
    return {"loss": float(loss), "task": float(task), "distill": float(dl), **terms}
