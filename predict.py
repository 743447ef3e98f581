"""Read digits in image files: `python predict.py [--model PATH] [--json] [--top K | --number] PATH...`."""

import sys

from digitlab.predict_cli import main

if __name__ == "__main__":
    sys.exit(main())
