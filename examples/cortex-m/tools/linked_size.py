#!/usr/bin/env python3
"""Bytes each static library contributes to a linked firmware, from the GNU ld map file (-Wl,-Map).

`arm-none-eabi-size` on an archive counts every function of it, including those a firmware never calls and
--gc-sections drops; this counts what is really in the image: the input sections kept in the output's
.text (code + read-only data), .data and .bss, per archive.

Usage: linked_size.py [--objects] [--exclude REGEX] FIRMWARE.map [ARCHIVE_NAME ...]
  e.g. linked_size.py --exclude '_f32E' qgnn-fw.map libqgnn.a libqgnn_kernels.a
Prints "archive text data bss" lines and a total of the named archives; --objects splits archives into their
object files; --exclude leaves out the input sections whose name matches REGEX (with -ffunction-sections a
function's section is named after its mangled name) and prints their bytes on an "(excluded)" line.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from typing import Dict, List

# An input section: " .text.name  0xADDR  0xSIZE  path/lib.a(obj)"; a long name puts the rest on the next line.
_ENTRY = re.compile(r"^\s+(0x[0-9a-fA-F]+)\s+(0x[0-9a-fA-F]+)\s+(\S.*)$")
_OUTPUTS = {".text": "text", ".vectors": "text", ".ARM.exidx": "text", ".init_array": "text",
            ".data": "data", ".bss": "bss"}


def parse(lines: List[str], objects: bool = False, exclude=None):
    sizes: Dict[str, Dict[str, int]] = defaultdict(lambda: defaultdict(int))
    excluded = 0
    in_map = False
    output = None
    pending = None  # an input section name waiting for its address line
    for line in lines:
        if line.startswith("Linker script and memory map"):
            in_map = True
            continue
        if not in_map:
            continue
        if line and not line[0].isspace():
            # An output section header (".text  0x... 0x...") or something else at column 0.
            name = line.split()[0]
            output = _OUTPUTS.get(name)
            pending = None
            continue
        if output is None:
            continue
        stripped = line.strip()
        section = pending
        if stripped.startswith(".") or stripped.startswith("COMMON") or stripped.startswith("*("):
            parts = stripped.split()
            if stripped.startswith("*("):
                continue
            if len(parts) == 1:
                pending = parts[0]
                continue
            section = parts[0]
            line = " " + " ".join(parts[1:])
        m = _ENTRY.match(line)
        if not m:
            continue
        size = int(m.group(2), 16)
        origin = m.group(3).strip()
        archive = origin.split("(")[0].rsplit("/", 1)[-1] if "(" in origin else origin.rsplit("/", 1)[-1]
        pending = None
        if exclude is not None and section is not None and exclude.search(section):
            excluded += size
            continue
        if objects and "(" in origin:
            archive += "(" + origin.split("(", 1)[1]
        sizes[archive][output] += size
    return sizes, excluded


def main(argv: List[str]) -> int:
    objects = False
    exclude = None
    while argv and argv[0].startswith("--"):
        if argv[0] == "--objects":
            objects, argv = True, argv[1:]
        elif argv[0] == "--exclude" and len(argv) > 1:
            exclude, argv = re.compile(argv[1]), argv[2:]
        else:
            break
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(argv[0], encoding="utf-8", errors="replace") as f:
            sizes, excluded = parse(f.read().splitlines(), objects, exclude)
    except OSError as e:
        print(f"linked_size: {e}", file=sys.stderr)
        return 1
    names = argv[1:]
    wanted = sorted(sizes) if not names else sorted(k for k in sizes if k.split("(")[0] in names)
    total = {"text": 0, "data": 0, "bss": 0}
    print(f"{'archive':<44} {'text':>8} {'data':>8} {'bss':>8}")
    for name in wanted:
        s = sizes.get(name, {})
        print(f"{name:<44} {s.get('text', 0):>8} {s.get('data', 0):>8} {s.get('bss', 0):>8}")
        for k in total:
            total[k] += s.get(k, 0)
    print(f"{'(total)':<44} {total['text']:>8} {total['data']:>8} {total['bss']:>8}")
    if exclude is not None:
        print(f"{'(excluded)':<44} {excluded:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
