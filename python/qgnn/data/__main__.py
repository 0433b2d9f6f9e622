"""python3 -m qgnn.data {tu,planetoid,fashion-mnist} ... -o FILE.qgd"""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

from .._fb import FormatError
from ..qgd import write_qgd
from .common import DataError
from .fashion_mnist import DEFAULT_PATCH, DEFAULT_SOURCE, import_fashion_mnist
from .planetoid import import_planetoid
from .tu import DEFAULT_DEGREE_CAP, DEFAULT_FOLDS, DEFAULT_SEED, import_tu


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python3 -m qgnn.data", description="Import a data set into .qgd.")
    sub = ap.add_subparsers(dest="format", required=True)
    tu = sub.add_parser("tu", help="TU text format (graph classification)")
    tu.add_argument("dir", help="directory holding NAME_A.txt, NAME_graph_indicator.txt, ...")
    tu.add_argument("--name", help="file prefix NAME (default: the directory name)")
    tu.add_argument("--degree-cap", type=int, default=DEFAULT_DEGREE_CAP,
                    help="sets without node labels/attributes: one-hot of min(degree, CAP) "
                         "(default %(default)s)")
    tu.add_argument("--folds", type=int, default=DEFAULT_FOLDS, help="stratified folds (default %(default)s)")
    tu.add_argument("--seed", type=int, default=DEFAULT_SEED,
                    help="fold shuffling seed (default %(default)s)")
    tu.add_argument("-o", "--output", required=True, help="output .qgd file")
    pl = sub.add_parser("planetoid", help="Planetoid pickles (node classification, public split)")
    pl.add_argument("dir", help="directory holding ind.NAME.{x,y,tx,ty,allx,ally,graph,test.index}")
    pl.add_argument("name", help="data set name, e.g. cora")
    pl.add_argument("-o", "--output", required=True, help="output .qgd file")
    fm = sub.add_parser("fashion-mnist", help="Fashion-MNIST IDX files -> graphs of image patches "
                                              "(graph classification)")
    fm.add_argument("--source", default=DEFAULT_SOURCE,
                    help="directory holding {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] "
                         "(default %(default)s)")
    fm.add_argument("--patch", type=int, default=DEFAULT_PATCH,
                    help="patch size in pixels; (28 / PATCH)^2 nodes per image (default %(default)s)")
    fm.add_argument("--limit-train", type=int, metavar="N", help="only the first N train-file images")
    fm.add_argument("--limit-test", type=int, metavar="M", help="only the first M t10k images")
    fm.add_argument("-o", "--output", required=True, help="output .qgd file")
    return ap


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.format == "tu":
            if args.folds < 2 or args.folds > 255:
                raise DataError("--folds must be in 2..255")
            gs = import_tu(args.dir, args.name, args.degree_cap, args.folds, args.seed)
        elif args.format == "planetoid":
            gs = import_planetoid(args.dir, args.name)
        else:
            gs = import_fashion_mnist(args.source, args.patch, args.limit_train, args.limit_test)
        write_qgd(gs, args.output)
    except (DataError, FormatError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    size = os.path.getsize(args.output)
    items = gs.num_graphs if gs.task == 0 else gs.num_nodes
    print(f"wrote {args.output} ({size} bytes): {gs.name}, {gs.num_graphs} graphs, {gs.num_nodes} nodes, "
          f"{gs.num_edges} edges, {gs.feature_dim} features, {gs.num_classes} classes, "
          f"{items} labelled items, split {gs.train.size}/{gs.val.size}/{gs.test.size}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
