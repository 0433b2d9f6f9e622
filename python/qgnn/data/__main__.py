"""python3 -m qgnn.data {tu,planetoid,fashion-mnist} ... -o FILE.qgd; python3 -m qgnn.data variant KIND IN.qgd -o OUT.qgd"""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

from .._fb import FormatError
from ..qgd import read_qgd, write_qgd
from . import variants
from .common import SPARSE_DENSITY, DataError, store_features
from .fashion_mnist import DEFAULT_PATCH, DEFAULT_SOURCE, import_fashion_mnist
from .planetoid import import_planetoid
from .planetoid_topology import import_planetoid_topology
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
    pl.add_argument("--topology-only", action="store_true",
                    help="graph, labels and split only, no features (ind.NAME.allx not needed, e.g. pubmed); "
                         "give it features with `variant synthetic-features`")
    _features_option(pl, "auto")
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
    _variant_parser(sub)
    return ap


def _features_option(p: argparse.ArgumentParser, default: Optional[str]) -> None:
    forms = ["dense", "sparse", "auto"] + (["keep"] if default is None else [])
    p.add_argument("--features", choices=forms, default=default,
                   help="how the file stores the node features: dense, sparse (CSR of the non-zeros, .qgd "
                        f"version 2) or auto (sparse below {100 * SPARSE_DENSITY:g} %% non-zeros)"
                        + ("; keep: as the input stores them (default; zscore: dense, synthetic-features: "
                           "auto)" if default is None else " (default %(default)s)"))


def _variant_parser(sub) -> None:
    va = sub.add_parser("variant", help="derive a robustness variant of a .qgd data set (deterministic by seed)")
    kinds = va.add_subparsers(dest="variant", required=True)

    def kind(name: str, help: str, seeded: bool = True) -> argparse.ArgumentParser:
        k = kinds.add_parser(name, help=help, description=help)
        k.add_argument("input", help="input .qgd data set")
        k.add_argument("-o", "--output", required=True, help="output .qgd file")
        _features_option(k, None)
        if seeded:
            k.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")
        return k

    raw = kind("raw-attributes", "append continuous columns in the hundreds (like TU node_attributes) next to "
                                 "the existing ones, some informative, some noise")
    raw.add_argument("--columns", type=int, default=variants.DEFAULT_COLUMNS,
                     help="columns to append (default %(default)s)")
    raw.add_argument("--informative", type=int, default=-1,
                     help="how many of them carry signal (default: half, rounded up)")
    raw.add_argument("--scale", type=float, default=variants.DEFAULT_SCALE,
                     help="magnitude of the values (default %(default)s)")
    kind("zscore", "standardise every feature column (mean 0, std 1 over all nodes)", seeded=False)
    th = kind("thin", "drop non-zeros of a bag-of-words set at random down to --density")
    th.add_argument("--density", type=float, required=True,
                    help="target fraction of non-zero entries, in (0, 1] (e.g. 0.008)")
    th.add_argument("--tfidf-max", type=float, default=0.0, metavar="V",
                    help="redraw the kept values uniformly in (0, V] (TF-IDF-like; default: keep them)")
    sy = kind("synthetic-features", "sparse TF-IDF-like features correlated with the node labels, for a node "
                                    "classification set without features (planetoid --topology-only)")
    sy.add_argument("--dim", type=int, default=variants.DEFAULT_SYNTHETIC_DIM,
                    help="feature columns (default %(default)s)")
    sy.add_argument("--density", type=float, default=variants.DEFAULT_SYNTHETIC_DENSITY,
                    help="expected fraction of non-zeros (default %(default)s)")
    sy.add_argument("--signal", type=float, default=variants.DEFAULT_SIGNAL,
                    help="probability that a word comes from the node's class topic (default %(default)s)")
    sy.add_argument("--tfidf-max", type=float, default=variants.DEFAULT_TFIDF_MAX, metavar="V",
                    help="largest value (default %(default)s)")
    sy.add_argument("--replace", action="store_true", help="discard the features the set already has")


def _variant_form(args: argparse.Namespace) -> str:
    if args.features is not None:
        return args.features
    return {"zscore": "dense", "synthetic-features": "auto"}.get(args.variant, "keep")


def _variant(args: argparse.Namespace):
    gs = read_qgd(args.input)
    if args.variant == "raw-attributes":
        return variants.raw_attributes(gs, args.columns, args.informative, args.scale, args.seed)
    if args.variant == "zscore":
        return variants.zscore(gs)
    if args.variant == "thin":
        return variants.thin(gs, args.density, args.tfidf_max, args.seed)
    return variants.synthetic_features(gs, args.dim, args.density, args.signal, args.tfidf_max, args.seed,
                                       args.replace)


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.format == "tu":
            if args.folds < 2 or args.folds > 255:
                raise DataError("--folds must be in 2..255")
            gs = import_tu(args.dir, args.name, args.degree_cap, args.folds, args.seed)
        elif args.format == "planetoid":
            gs = (import_planetoid_topology if args.topology_only else import_planetoid)(args.dir, args.name)
        elif args.format == "variant":
            gs = store_features(_variant(args), _variant_form(args))
        else:
            gs = import_fashion_mnist(args.source, args.patch, args.limit_train, args.limit_test)
        if args.format == "planetoid":
            gs = store_features(gs, args.features)
        write_qgd(gs, args.output)
    except (DataError, FormatError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    size = os.path.getsize(args.output)
    items = gs.num_graphs if gs.task == 0 else gs.num_nodes
    print(f"wrote {args.output} ({size} bytes): {gs.name}, {gs.num_graphs} graphs, {gs.num_nodes} nodes, "
          f"{gs.num_edges} edges, {gs.feature_dim} features, {gs.num_classes} classes, "
          f"{items} labelled items, split {gs.train.size}/{gs.val.size}/{gs.test.size}"
          + (f", {100 * gs.feature_density():.3f} % non-zero features" if args.format == "variant" else "")
          + (" (stored sparse)" if gs.is_sparse else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
