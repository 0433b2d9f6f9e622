"""python3 -m qgnn.train --data FILE.qgd --model gcn|sage|gin ... -o MODEL.qgnn (see qgnn/train/cli.py)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
