"""Train Digit Lab's models: `python train.py [--arch NAME|--all] ...` (see --help)."""

import sys

from digitlab.train_cli import main

if __name__ == "__main__":
    sys.exit(main())
