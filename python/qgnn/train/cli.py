"""python3 -m qgnn.train: train a float GCN / GraphSAGE / GIN / GAT on a .qgd data set and export it as .qgnn.

Node classification trains on the stored train split (Planetoid: the public split) and reports val and test
accuracy of the last epoch's model. Graph classification uses the stored split, or fold K of the `fold` array
(--fold K: test = fold K, val = fold (K + 1) % k, train = the rest), or every fold in turn (--folds all: mean
and std of the test accuracy; the model of fold 0, or of --fold, is written).

With --qat the float model (trained here, or read with --init) is fine-tuned by quantization-aware training
(qgnn.qat: the runtime's integer arithmetic in the forward pass) and the QUANTIZED model is written to -o; its
accuracy is measured with qgnn.sim on the written file (bit-exact with qgnn-run). --float-out also writes the
float model after QAT (its fine-tuned float weights, BatchNorm folded) with the activation ranges the QAT
observers ended with stored in it, so that qgnn-convert can quantize it with those ranges (JSON: float_output_acc
is that file's float accuracy; float_acc stays the float model's before QAT). --qat-epochs 0 is post-training
quantization with the same quantizer.

QAT keeps the epoch whose quantized model scores best on the validation split (the training split when there is
none), counting the calibrated start as epoch 0, so the written model is never worse there than post-training
quantization. A quantized model that collapsed to majority-class accuracy while the float model is clearly
better (qgnn.train.quant.check_collapse) is not written: exit status 3, nothing written (not the --float-out
file either: its stored ranges would reproduce the collapse); --force writes it with a warning.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import math
import os
import shlex
import sys
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import torch

from .. import export, load
from ..qat import export_float, export_quantized
from .._fb import FormatError
from ..export_model import ExportError
from ..qgd import GRAPH_CLASSIFICATION, read_qgd
from . import MODELS, SPLITS, Hyper, accuracy, describe_model, fit, fold_split, num_folds
from .quant import DISTILL, INPUT_SCALES, ORDERS, RANGE_UPDATES, RANGES, QATConfig, check_collapse, \
    distill_available, qat_defaults, quantization_aware_training, sim_accuracy

EXIT_COLLAPSED = 3  # the quantized model collapsed and --force was not given: nothing written

TASK_NAMES = {GRAPH_CLASSIFICATION: "graph_classification", 1: "node_classification"}


class UsageError(ValueError):
    """Arguments that do not fit the data set (exit status 1, like a bad data file)."""


class CollapsedError(ValueError):
    """The quantized model collapsed (exit status EXIT_COLLAPSED, nothing written)."""


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python3 -m qgnn.train", description=__doc__.split("\n\n")[0],
        epilog="Defaults depend on the task. Node classification: --hidden 16 --layers 2 --epochs 200 --lr 0.01 "
               "--weight-decay 5e-4 --dropout 0.5 (Kipf & Welling's GCN); --model gat: --hidden 8 --heads 8 "
               "--output-heads 1 --lr 0.005 --dropout 0.6 (Velickovic et al.'s Cora GAT). Graph classification: --hidden 32 "
               "--layers 3 --epochs 100 --lr 0.01 --weight-decay 0 --dropout 0 --batch-size 32 (the demo GIN; "
               "learning rate halved after epochs/2).")
    ap.add_argument("--data", required=True, help="input .qgd data set")
    ap.add_argument("--model", required=True, choices=MODELS, help="layer kind")
    ap.add_argument("-o", "--output", required=True,
                    help="output .qgnn model (written atomically): float, or quantized with --qat")
    ap.add_argument("--hidden", type=int, help="hidden width")
    ap.add_argument("--layers", type=int, help="message-passing layers")
    ap.add_argument("--epochs", type=int, help="training epochs (the last epoch's model is kept)")
    ap.add_argument("--lr", type=float, help="Adam learning rate")
    ap.add_argument("--weight-decay", type=float, help="Adam weight decay (L2), on every parameter")
    ap.add_argument("--dropout", type=float, help="dropout probability (0 leaves Dropout out)")
    ap.add_argument("--batch-size", type=int, help="graphs per mini-batch (graph classification)")
    ap.add_argument("--aggr", choices=("mean", "max"), help="SAGEConv neighbour aggregation (default mean)")
    ap.add_argument("--heads", type=int, help="GAT: attention heads of each hidden layer (default 8)")
    ap.add_argument("--output-heads", type=int,
                    help="GAT, node classification: heads of the output layer, averaged (default 1)")
    ap.add_argument("--pool", choices=("sum", "mean", "max"),
                    help="graph readout (graph classification, default sum)")
    ap.add_argument("--seed", type=int, default=0, help="torch and shuffling seed (default %(default)s)")
    ap.add_argument("--fold", type=int, help="graph classification: train on fold K of the `fold` array")
    ap.add_argument("--folds", choices=("all",), help="graph classification: run every fold")
    ap.add_argument("--log-every", type=int, default=0, metavar="N", help="print losses every N epochs")
    ap.add_argument("--json", action="store_true",
                    help="print a one-line JSON summary on stdout (progress goes to stderr)")
    g = ap.add_argument_group("quantization-aware training (docs/qat.md)")
    g.add_argument("--qat", action="store_true",
                   help="fine-tune the float model with QAT and write the quantized model to -o")
    g.add_argument("--bits", type=int, choices=(8, 4), help="bits of every component (default 8)")
    g.add_argument("--weight-bits", type=int, choices=(8, 4), help="Dense weight bits (default --bits)")
    g.add_argument("--aggregation-bits", type=int, choices=(8, 4), help="aggregation output bits (default --bits)")
    g.add_argument("--output-bits", type=int, choices=(8, 4),
                   help="layer output bits (default --bits; the logits stay INT8, as qgnn-convert)")
    g.add_argument("--attention-bits", type=int, choices=(8, 4),
                   help="GAT attention logit bits (default 8 whatever --bits, as qgnn-convert's `att`)")
    g.add_argument("--ranges", choices=RANGES,
                   help="activation range estimator (default pauta, as qgnn-convert; --degree-quant keeps it)")
    g.add_argument("--pauta-k", type=float,
                   help="k of the Pauta (k-sigma) ranges (default 5 for 8-bit activations, 3 for 4-bit, as "
                        "qgnn-convert)")
    g.add_argument("--degree-quant", action="store_true",
                   help="Degree-Quant protective masking in training (the range estimator stays --ranges)")
    g.add_argument("--qat-epochs", type=int,
                   help="QAT fine-tuning epochs (default 15 graph / 20 node classification; 0 = PTQ)")
    g.add_argument("--qat-lr", type=float, help="QAT Adam learning rate (default 0.0005)")
    g.add_argument("--init", metavar="FLOAT.qgnn",
                   help="start QAT from this float model instead of training one (its architecture is used)")
    g.add_argument("--float-out", metavar="FLOAT.qgnn",
                   help="also write the QAT-tuned float model with the learned activation ranges stored (with --qat)")
    g.add_argument("--input-scales", choices=INPUT_SCALES,
                   help="input quantization: one scale per feature column when columns differ in scale (auto, "
                        "the default), always one scale (tensor) or always per column (column); docs/qat.md")
    g.add_argument("--order", choices=ORDERS,
                   help="GCNConv and SAGEConv order of the quantized model: transform-first when a layer narrows "
                        "the features (auto, the default; qgnn-convert's rule; a SAGEConv only with mean) or forced "
                        "for every GCNConv and mean SAGEConv; docs/qat.md")
    g.add_argument("--range-updates", choices=RANGE_UPDATES,
                   help="activation ranges while QAT trains: kept at the PTQ calibration (frozen, the default) or "
                        "following an EMA of the training batches (ema); docs/qat.md")
    g.add_argument("--distill", choices=DISTILL,
                   help="SQD / AQD self-distillation during QAT (only if qgnn.qat provides it)")
    g.add_argument("--distill-weight", type=float, help="weight of the distillation loss (default 1)")
    g.add_argument("--force", action="store_true",
                   help="write the quantized model even if it collapsed to majority-class accuracy (a warning)")
    return ap


def _hyper(args: argparse.Namespace, task: int) -> Hyper:
    hp = Hyper.defaults(task, args.model)
    for name in ("hidden", "layers", "epochs", "lr", "weight_decay", "dropout", "batch_size", "aggr", "pool",
                 "heads", "output_heads"):
        value = getattr(args, name)
        if value is not None:
            setattr(hp, name, value)
    return hp


def _check_args(ap: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Checks that need no data (argparse exit status 2)."""
    for name, lo in (("hidden", 1), ("layers", 1), ("epochs", 1), ("batch_size", 1), ("heads", 1),
                     ("output_heads", 1)):
        value = getattr(args, name)
        if value is not None and value < lo:
            ap.error(f"--{name.replace('_', '-')} must be >= {lo}, got {value}")
    if args.lr is not None and not (math.isfinite(args.lr) and args.lr > 0):
        ap.error(f"--lr must be a positive number, got {args.lr}")
    if args.weight_decay is not None and not (math.isfinite(args.weight_decay) and args.weight_decay >= 0):
        ap.error(f"--weight-decay must be >= 0, got {args.weight_decay}")
    if args.dropout is not None and not 0 <= args.dropout < 1:
        ap.error(f"--dropout must be in [0, 1), got {args.dropout}")
    if args.aggr is not None and args.model != "sage":
        ap.error("--aggr applies to --model sage only")
    for flag, value in (("--heads", args.heads), ("--output-heads", args.output_heads),
                        ("--attention-bits", args.attention_bits)):
        if value is not None and args.model != "gat":
            ap.error(f"{flag} applies to --model gat only")
    if args.fold is not None and args.fold < 0:
        ap.error(f"--fold must be >= 0, got {args.fold}")
    if args.log_every < 0:
        ap.error("--log-every must be >= 0")
    out_dir = Path(args.output).parent
    if not out_dir.is_dir():
        ap.error(f"output directory {out_dir} does not exist")
    qat_only = [("--bits", args.bits), ("--weight-bits", args.weight_bits),
                ("--aggregation-bits", args.aggregation_bits), ("--output-bits", args.output_bits),
                ("--attention-bits", args.attention_bits), ("--ranges", args.ranges), ("--pauta-k", args.pauta_k), ("--degree-quant", args.degree_quant or None),
                ("--qat-epochs", args.qat_epochs), ("--qat-lr", args.qat_lr), ("--init", args.init),
                ("--float-out", args.float_out), ("--distill", args.distill),
                ("--distill-weight", args.distill_weight), ("--force", args.force or None),
                ("--input-scales", args.input_scales), ("--order", args.order),
                ("--range-updates", args.range_updates)]
    if not args.qat:
        for flag, value in qat_only:
            if value is not None:
                ap.error(f"{flag} needs --qat")
        return
    if args.pauta_k is not None and (args.ranges or "") != "pauta":
        ap.error("--pauta-k applies to --ranges pauta only")
    if args.pauta_k is not None and not (math.isfinite(args.pauta_k) and args.pauta_k > 0):
        ap.error(f"--pauta-k must be > 0, got {args.pauta_k}")
    if args.qat_epochs is not None and args.qat_epochs < 0:
        ap.error(f"--qat-epochs must be >= 0, got {args.qat_epochs}")
    if args.qat_lr is not None and not (math.isfinite(args.qat_lr) and args.qat_lr > 0):
        ap.error(f"--qat-lr must be a positive number, got {args.qat_lr}")
    if args.distill_weight is not None and args.distill is None:
        ap.error("--distill-weight needs --distill")
    if args.distill is not None and not distill_available().get(args.distill):
        ap.error(f"--distill {args.distill}: qgnn.qat in this tree has no {args.distill.upper()} distillation")
    if args.init is not None:
        if not Path(args.init).is_file():
            ap.error(f"--init {args.init}: no such file")
        for name in ("hidden", "layers", "epochs", "lr", "dropout", "aggr", "pool", "heads", "output_heads"):
            if getattr(args, name) is not None:
                ap.error(f"--{name} does not apply with --init (the float model is read, not trained)")
        if args.folds:
            ap.error("--folds all does not apply with --init (one float model)")
    if args.float_out is not None:
        if not Path(args.float_out).parent.is_dir():
            ap.error(f"output directory {Path(args.float_out).parent} does not exist")
        if Path(args.float_out).resolve() == Path(args.output).resolve():
            ap.error("--float-out and -o name the same file")


# Feature columns whose typical magnitudes differ by more than this factor slow or stall gradient training (a
# GCN on Cora with four extra columns at +-500 stays near 20 % test accuracy, standardised it reaches 75 %).
FEATURE_SCALE_RATIO = 100.0


def feature_scale_warning(features: np.ndarray) -> str:
    """A one-line warning when the input columns differ hugely in scale ("" otherwise): the largest column
    magnitude (max |x| over the column's non-zero values) against the median one."""
    x = np.abs(np.asarray(features, dtype=np.float64))
    if x.ndim != 2 or x.size == 0:
        return ""
    peak = x.max(axis=0)
    live = peak[peak > 0]
    if live.size < 2:
        return ""
    ratio = float(live.max() / np.median(live))
    if ratio <= FEATURE_SCALE_RATIO:
        return ""
    return (f"feature columns differ in scale by {ratio:.0f}x (largest |x| {live.max():.4g}, median column "
            f"{np.median(live):.4g}): float training may stall; standardise them (python3 -m qgnn.data variant "
            "zscore) or scale the large columns. Quantization handles it (per-column input scales); training "
            "does not")


def _check_data(args: argparse.Namespace, task: int, folds: int) -> None:
    """Checks against the data set (exit status 1)."""
    graph = task == GRAPH_CLASSIFICATION
    if not graph:
        for flag, value in (("--fold", args.fold), ("--folds", args.folds), ("--batch-size", args.batch_size),
                            ("--pool", args.pool)):
            if value is not None:
                raise UsageError(f"{flag} applies to graph classification; {args.data} is a node "
                                 "classification data set")
    if graph and args.output_heads is not None:
        raise UsageError(f"--output-heads applies to node classification (a graph model ends in a Linear); "
                         f"{args.data} is a graph classification data set")
    if (args.fold is not None or args.folds) and folds == 0:
        raise UsageError(f"{args.data} has no fold array (--fold/--folds need one; the stored "
                         "train/val/test split is used without them)")
    if args.fold is not None and args.fold >= folds:
        raise UsageError(f"--fold {args.fold} outside 0..{folds - 1} ({args.data} has {folds} folds)")


def _summary(acc: Dict[str, float], data) -> str:
    """'train 0.9867 (148/150), val 0.8421 (16/19), test ...'"""
    parts = []
    for s in SPLITS:
        n = data.split(s).size
        parts.append(f"{s} {acc[s]:.4f} ({round(acc[s] * n) if n else 0}/{n})")
    return ", ".join(parts)


def _keep_freed_memory() -> None:
    """Ask glibc to keep freed memory instead of returning it to the kernel (mallopt M_MMAP_THRESHOLD,
    M_TRIM_THRESHOLD, M_TOP_PAD). Full-batch training allocates and frees the same large tensors every epoch
    (Cora: 60 MB messages); served by fresh mmaps, the page faults cost more system time than the
    arithmetic. Process-wide, so done here and not on import; nothing happens outside glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        for param, value in ((-3, 1 << 30), (-1, 1 << 30), (-2, 1 << 28)):
            libc.mallopt(param, value)
    except (OSError, AttributeError):
        pass


def _clean(acc: Dict[str, Optional[float]]) -> Dict[str, Optional[float]]:
    """JSON-ready accuracies: an empty split (nan in PyTorch, None from qgnn.sim) is null."""
    return {s: (None if v is None or math.isnan(v) else round(v, 6)) for s, v in acc.items()}


def main(argv: Optional[List[str]] = None) -> int:
    ap = _parser()
    args = ap.parse_args(argv)
    _check_args(ap, args)
    out = sys.stderr if args.json else sys.stdout

    def log(msg: str) -> None:
        print(msg, file=out, flush=True)

    torch.set_num_threads(1)
    _keep_freed_memory()
    try:
        gs = read_qgd(args.data)
        folds = num_folds(gs)
        _check_data(args, gs.task, folds)
        scale_warning = feature_scale_warning(gs.features)
        if scale_warning and args.init is None:
            print(f"warning: {args.data}: {scale_warning}", file=sys.stderr, flush=True)
        hp = _hyper(args, gs.task)
        qcfg = _qat_config(args, gs.task) if args.qat else None
        if args.folds == "all":
            runs = list(range(folds))
            keep = args.fold if args.fold is not None else 0
        else:
            runs = [args.fold]  # None: the stored split
            keep = args.fold
        results, kept = [], None
        for fold in runs:
            data = gs if fold is None else fold_split(gs, fold)
            if data.train.size == 0:
                raise UsageError(f"{args.data}: the train split is empty")
            if len(runs) > 1 and args.log_every:
                log(f"fold {fold}:")
            if args.init is not None:
                model = load(args.init)
                acc = {s: accuracy(model, data, s) for s in SPLITS}
            else:
                model, acc = fit(args.model, data, hp, seed=args.seed, log_every=args.log_every or None, log=log)
            qmodel = qacc = None
            if args.qat:
                if args.log_every:
                    log(f"float: {_summary(acc, data)}; QAT ({qcfg.describe()}):")
                qmodel, _ = quantization_aware_training(
                    model, data, qcfg, weight_decay=hp.weight_decay, batch_size=hp.batch_size, seed=args.seed,
                    name=f"{gs.name.lower()}_{args.model}_int{qcfg.bits}", log_every=args.log_every or None,
                    log=log, log_epochs=True)
                qacc = sim_accuracy(qmodel.quantized_model(task=gs.task), data)
                log(f"QAT: {qmodel.selection.describe()}")
            results.append({"fold": fold, **_clean(acc)} if qacc is None else
                           {"fold": fold, **_clean(qacc), "float": _clean(acc)})
            if fold == keep:
                kept = (model, data, acc, qmodel, qacc)
            if len(runs) > 1:
                shown = acc if qacc is None else qacc
                log(f"fold {fold}: " + "  ".join(f"{s} {shown[s]:.4f} ({data.split(s).size})" for s in SPLITS)
                    + ("" if qacc is None else f"  (float test {acc['test']:.4f})"))
        model, data, acc, qmodel, kept_qacc = kept
        if qmodel is not None:
            # Before anything is written: a collapsed model is refused, the --float-out file included (its
            # stored ranges are the collapsed ones; qgnn-convert would reproduce the collapse from them).
            verdict = check_collapse(qmodel, data, acc, kept_qacc)
            if verdict.collapsed and not args.force:
                raise CollapsedError(f"{verdict.message()}. Nothing written; --force writes it anyway")
            if verdict.collapsed:
                print(f"warning: --force: writing a collapsed model: {verdict.message()}", file=sys.stderr)
        # qgnn.folds.training_fold and converter::training_fold read this sentence back (the tools warn when a
        # model is scored on another fold): keep its wording.
        where = ("the stored train/val/test split" if keep is None else
                 f"fold {keep} of {folds} (test = fold {keep}, val = fold {(keep + 1) % folds}, train = the rest)")
        summary = _summary(acc, data)
        command = " ".join(shlex.quote(a) for a in ["python3", "-m", "qgnn.train"] +
                           (sys.argv[1:] if argv is None else list(argv)))
        settings = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in _settings(hp, gs.task, args.model))
        schedule = (f" (learning rate halved after epoch {max(1, hp.epochs // 2)})"
                    if gs.task == GRAPH_CLASSIFICATION else " (full batch)")
        description = (
            f"{args.model.upper()} on {gs.name} ({TASK_NAMES[gs.task].replace('_', ' ')}): "
            f"{describe_model(args.model, gs.task, hp, gs.num_classes)}; BatchNorm folded, Dropout dropped at "
            f"export. Trained in float on {where} of {Path(args.data).name}: {settings}, Adam{schedule}, "
            f"seed {args.seed}, torch {torch.__version__}, 1 thread; the last epoch's model (no selection). "
            f"Command: {command} (qgnn package on the Python path). "
            f"Float accuracy measured in PyTorch: {summary}."
        )
        if args.init is not None:
            description = (f"Float model read from {Path(args.init).name} (not trained here); float accuracy "
                           f"on {where} of {Path(args.data).name}, measured in PyTorch: {summary}.")
        float_path = args.float_out if args.qat else args.output
        float_out_acc = None
        if float_path is not None:
            float_kwargs = dict(name=f"{gs.name.lower()}_{args.model}", class_names=gs.class_names)
            if qmodel is not None:
                # The QAT-tuned float weights with the ranges its observers ended with: quantizing this file
                # with its stored ranges reproduces the quantized model (the pre-QAT weights would not fit them).
                expected = {s: accuracy(qmodel.model, data, s) for s in SPLITS}
                float_out_acc = _clean(expected)
                note = (f" Weights after QAT ({qcfg.describe()}), with the activation ranges its observers ended "
                        f"with stored; their float accuracy measured in PyTorch: {_summary(expected, data)}.")
                if qmodel.input_fold() is not None:
                    note += (" QAT quantized the input per column; the per-column input ranges are not stored "
                             "(the stored input range is the per-tensor one).")
                export_float(qmodel, float_path, ranges_source=f"qgnn.qat: {qcfg.describe()}",
                             description=description + note, **float_kwargs)
            else:
                expected = acc
                export(model, float_path, description=description, **float_kwargs)
            check = {s: accuracy(load(float_path), data, s) for s in SPLITS}
            if _clean(check) != _clean(expected):
                log(f"warning: the exported model scores {check}, the trained one {expected} (float rounding of "
                    "the folded weights)")
        float_acc, qacc = acc, None
        if args.qat:
            epochs, lr = qat_defaults(gs.task)
            epochs = epochs if qcfg.epochs is None else qcfg.epochs
            lr = lr if qcfg.lr is None else qcfg.lr
            how = (f"post-training quantization (no fine-tuning; ranges calibrated on the train split)" if epochs == 0
                   else f"QAT fine-tuning {epochs} epochs, Adam lr {lr}, weight decay {hp.weight_decay}"
                        f"{', batch ' + str(hp.batch_size) if gs.task == GRAPH_CLASSIFICATION else ''}, ranges "
                        "calibrated on the train split first, BatchNorm frozen, Dropout off; "
                        f"{qmodel.selection.describe()}")
            qdesc = (f"{description} Quantized with qgnn.qat: {qcfg.describe()}; {how}.")
            written = export_quantized(qmodel, args.output, name=f"{gs.name.lower()}_{args.model}_int{qcfg.bits}",
                                       task=gs.task, class_names=gs.class_names, description=qdesc)
            per_column = written.input_column_scales is not None
            if per_column:
                log("input quantized per column (the feature columns differ in scale; --input-scales "
                    f"{qcfg.input_scales})")
            qacc = sim_accuracy(args.output, data)  # the written file, through the integer simulator
            acc = {s: (float("nan") if v is None else v) for s, v in qacc.items()}
            summary = (_summary(acc, data) + f" (float: {_summary(float_acc, data)}); QAT "
                       f"{qmodel.selection.describe()}")
    except CollapsedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_COLLAPSED
    except (FormatError, ExportError, UsageError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    size = os.path.getsize(args.output)
    log(f"wrote {args.output} ({size} bytes); {summary}")
    report = {
        "data": args.data, "dataset": gs.name, "task": TASK_NAMES[gs.task], "model": args.model,
        "seed": args.seed, "fold": keep, "num_folds": folds,
        "hyper": dict(_settings(hp, gs.task, args.model, trained=args.init is None)),
        "train_acc": _clean(acc)["train"], "val_acc": _clean(acc)["val"], "test_acc": _clean(acc)["test"],
        "output": args.output, "output_bytes": size,
    }
    if args.qat:
        report.update(quantized=True, qat=_qat_report(qcfg, gs.task), float_acc=_clean(float_acc),
                      quantized_acc=_clean(acc), float_test_acc=_clean(float_acc)["test"],
                      quantized_test_acc=_clean(acc)["test"], float_output=args.float_out,
                      float_output_acc=float_out_acc, input_column_scales=per_column,
                      init=args.init)
        report["qat"].update(selection_split=qmodel.selection.split, selected_epoch=qmodel.selection.best_epoch,
                             epoch_acc=[round(a, 6) for a in qmodel.selection.accuracies],
                             epoch_loss=[round(v, 6) for v in qmodel.selection.losses])
    if len(runs) > 1:
        tests = np.array([r["test"] for r in results], dtype=np.float64)
        mean, std = float(tests.mean()), float(tests.std())
        log(f"test accuracy over {len(runs)} folds: {mean:.4f} ± {std:.4f} (mean ± std)"
            + (" (quantized)" if args.qat else ""))
        report.update(folds=results, test_acc_mean=round(mean, 6), test_acc_std=round(std, 6))
        if args.qat:
            ft = np.array([r["float"]["test"] for r in results], dtype=np.float64)
            log(f"float test accuracy over {len(runs)} folds: {ft.mean():.4f} ± {ft.std():.4f}")
            report.update(float_test_acc_mean=round(float(ft.mean()), 6),
                          float_test_acc_std=round(float(ft.std()), 6))
    if args.json:
        print(json.dumps(report, ensure_ascii=False), flush=True)
    return 0


def _qat_config(args: argparse.Namespace, task: int) -> QATConfig:
    return QATConfig(bits=args.bits or 8, weight_bits=args.weight_bits, aggregation_bits=args.aggregation_bits,
                     output_bits=args.output_bits, attention_bits=args.attention_bits, ranges=args.ranges,
                     pauta_k=args.pauta_k, degree_quant=args.degree_quant,
                     epochs=args.qat_epochs, lr=args.qat_lr, distill=args.distill,
                     distill_weight=1.0 if args.distill_weight is None else args.distill_weight,
                     input_scales=args.input_scales or "auto", order=args.order or "auto",
                     range_updates=args.range_updates or "frozen")


def _qat_report(cfg: QATConfig, task: int) -> dict:
    epochs, lr = qat_defaults(task)
    return {"bits": cfg.bits_spec(), "ranges": cfg.resolved_ranges(), "pauta_k": cfg.pauta_k,
            "degree_quant": cfg.degree_quant, "epochs": epochs if cfg.epochs is None else cfg.epochs,
            "lr": lr if cfg.lr is None else cfg.lr, "distill": cfg.distill, "input_scales": cfg.input_scales,
            "order": cfg.order,
            "range_updates": cfg.range_updates,
            "description": cfg.describe()}


def _settings(hp: Hyper, task: int, kind: str, trained: bool = True):
    """The settings that apply to this task and model, in a fixed order. Without float training (--init: the
    model is read) only those QAT uses too: weight decay and the batch size."""
    if not trained:
        return [("weight_decay", hp.weight_decay)] + ([("batch_size", hp.batch_size)]
                                                      if task == GRAPH_CLASSIFICATION else [])
    items = [("hidden", hp.hidden), ("layers", hp.layers), ("epochs", hp.epochs), ("lr", hp.lr),
             ("weight_decay", hp.weight_decay), ("dropout", hp.dropout)]
    if task == GRAPH_CLASSIFICATION:
        items += [("batch_size", hp.batch_size), ("pool", hp.pool)]
    if kind == "sage":
        items.append(("aggr", hp.aggr))
    if kind == "gat":
        items += [("heads", hp.heads)] + ([] if task == GRAPH_CLASSIFICATION else [("output_heads", hp.output_heads)])
    return items


if __name__ == "__main__":
    sys.exit(main())
