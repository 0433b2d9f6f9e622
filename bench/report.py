#!/usr/bin/env python3
"""Markdown tables from a Google Benchmark JSON file of qgnn-bench-kernels / qgnn-bench-invoke.

Usage: bench/report.py RESULTS.json [--time cpu|real] [--compare OTHER.json]

Reads the `_median` aggregates (run with --benchmark_repetitions=N --benchmark_out=RESULTS.json
--benchmark_out_format=json). One path component of every benchmark name is its precision (f32, int8,
int4, w8a8, w4a8, w4a4); the other components form the row key. Each row shows the median time of every
precision and the ratio precision / f32 of the same row, both from the same file (the same run), so slow
drifts of a shared machine cancel out as much as they can. --compare adds, per ratio, the same ratio
from a second run, as a quick check of how stable the ratios are.
"""
import argparse
import json
import sys
from collections import OrderedDict

PRECISIONS = ["f32", "int8", "int4", "w8a8", "w4a8", "w4a4"]
UNITS = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}  # to microseconds


def load_medians(path, time_key):
    with open(path) as f:
        data = json.load(f)
    medians = OrderedDict()
    for b in data["benchmarks"]:
        if b.get("aggregate_name") != "median" or b.get("error_occurred"):
            continue
        name = b["run_name"]
        parts = name.split("/")
        precision = next((p for p in parts if p in PRECISIONS), None)
        family = parts[0] if precision is not None else "other"
        if precision is None:
            precision, parts = "f32", ["other", name]  # no precision: listed on its own, no ratio
        key = "/".join(p for p in parts[1:] if p != precision)
        us = b[time_key] * UNITS[b["time_unit"]]
        counters = {k: b[k] for k in ("arena_bytes", "model_bytes") if k in b}
        medians.setdefault(family, OrderedDict()).setdefault(key, OrderedDict())[precision] = (us, counters)
    return data.get("context", {}), medians


def fmt_time(us):
    if us >= 1000:
        return f"{us / 1000:.2f} ms"
    return f"{us:.1f} µs" if us < 100 else f"{us:.0f} µs"


def fmt_bytes(n):
    n = int(round(n))
    if n >= 1 << 20:
        return f"{n / (1 << 20):.2f} MiB"
    if n >= 1 << 10:
        return f"{n / (1 << 10):.1f} KiB"
    return f"{n} B"


def table(family, rows, other_rows):
    precisions = [p for p in PRECISIONS if any(p in r for r in rows.values())]
    quantized = [p for p in precisions if p != "f32"]
    with_counters = any(c for r in rows.values() for (_, c) in r.values())
    if family == "other":
        lines = ["#### other", "", "| case | median |", "|---|---:|"]
        lines += [f"| {key} | {fmt_time(r['f32'][0])} |" for key, r in rows.items()]
        return "\n".join(lines)
    header = ["case"] + [f"{p} median" for p in precisions] + [f"{p}/f32" for p in quantized]
    lines = [f"#### {family}", "", "| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    for key, r in rows.items():
        cells = [key or "-"]
        cells += [fmt_time(r[p][0]) if p in r else "" for p in precisions]
        for p in quantized:
            if p not in r or "f32" not in r:
                cells.append("")
                continue
            ratio = f"{r[p][0] / r['f32'][0]:.2f}"
            o = (other_rows or {}).get(key, {})
            if p in o and "f32" in o:
                ratio += f" ({o[p][0] / o['f32'][0]:.2f})"
            cells.append(ratio)
        lines.append("| " + " | ".join(cells) + " |")
    if with_counters:
        lines += ["", "| case | " + " | ".join(f"{p} arena / model" for p in precisions) + " |",
                  "|" + "|".join(["---"] + ["---:"] * len(precisions)) + "|"]
        for key, r in rows.items():
            cells = [key or "-"]
            for p in precisions:
                c = r.get(p, (0, {}))[1]
                cells.append(f"{fmt_bytes(c['arena_bytes'])} / {fmt_bytes(c['model_bytes'])}" if c else "")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results")
    ap.add_argument("--time", choices=["cpu", "real"], default="cpu",
                    help="cpu_time (default; excludes time the thread was descheduled) or real_time")
    ap.add_argument("--compare", help="a second run's JSON: its ratios are shown in parentheses")
    args = ap.parse_args()
    time_key = "cpu_time" if args.time == "cpu" else "real_time"
    context, medians = load_medians(args.results, time_key)
    other = load_medians(args.compare, time_key)[1] if args.compare else {}
    print(f"<!-- {args.results}: {context.get('date', '?')}, {context.get('num_cpus', '?')} CPUs, "
          f"{time_key} medians -->")
    for family, rows in medians.items():
        print()
        print(table(family, rows, other.get(family)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
