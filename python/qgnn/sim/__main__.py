"""python3 -m qgnn.sim MODEL.qgnn DATA.qgd [--split all|train|val|test] [--fold K] [--batch B] [--json]

Accuracy and the SHA-256 of all int8 logits, batched and ordered exactly like
`qgnn-run MODEL DATA --split S [--fold K] --batch B --json`, so `outputs_sha256` compares directly."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import List, Optional

from .._fb import FormatError
from ..folds import fold_mismatch_warning
from ..qgd import read_qgd
from ..quantized_model import read_quantized_model
from .evaluate import evaluate


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python3 -m qgnn.sim",
                                 description="Bit-exact integer simulation of a quantized qgnn model.")
    ap.add_argument("model", help="quantized model (.qgnn)")
    ap.add_argument("data", help="data set (.qgd)")
    ap.add_argument("--split", default="all", choices=("all", "train", "val", "test"),
                    help="which graphs (or nodes) to run and score (default %(default)s, as qgnn-run)")
    ap.add_argument("--fold", type=int,
                    help="graph classification: the --split of cross-validation fold K (test = fold K, val = fold "
                         "(K+1)%%k, train = the rest; as python3 -m qgnn.train --fold K)")
    ap.add_argument("--batch", type=int, default=1,
                    help="graphs per invoke, graph classification (default %(default)s, as qgnn-run)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    return ap


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    if args.batch < 1 or args.batch > (1 << 20):
        print("qgnn.sim: error: --batch must be in [1, 2^20]", file=sys.stderr)
        return 2
    try:
        qm = read_quantized_model(args.model)
        gs = read_qgd(args.data)
        t0 = time.perf_counter()
        res = evaluate(qm, gs, args.split, args.batch, fold=args.fold)
        seconds = time.perf_counter() - t0
    except (FormatError, OSError, ValueError, TypeError, OverflowError) as exc:
        print(f"qgnn.sim: error: {exc}", file=sys.stderr)
        return 1
    sel = res.selection
    if sel.note:
        print(f"qgnn.sim: note: {sel.note}", file=sys.stderr)
    warning = fold_mismatch_warning(qm.description, gs, sel)
    if warning:
        print(f"qgnn.sim: warning: {warning}", file=sys.stderr)
    if args.json:
        out = {"model": args.model, "model_name": qm.name, "data": args.data, "data_name": gs.name}
        out.update(res.to_json())
        out["warning"] = warning
        out["seconds"] = round(seconds, 3)
        print(json.dumps(out, indent=2))
        return 0
    node = res.task != 0
    what = (f"node classification, {sel.description} scored of {res.nodes}" if node else
            f"graph classification, {sel.description}, {res.batch} graph(s) per invoke")
    print(f"model     {args.model} ({qm.name or 'unnamed'}, quantized)")
    print(f"data      {args.data} ({gs.name}): {what}")
    if res.accuracy is not None:
        print(f"accuracy  {res.accuracy:.4f} ({res.correct} / {res.evaluated})")
    else:
        print("accuracy  n/a (no labels)")
    print(f"outputs   sha256 {res.outputs_sha256}")
    print(f"time      {seconds:.3f} s for {res.invokes} invoke(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
