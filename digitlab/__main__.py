"""`python -m digitlab serve [streamlit flags]`: serve the app as `make run` does."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "serve":
        print("usage: python -m digitlab serve [streamlit flags]", file=sys.stderr)
        return 2
    os.execv(sys.executable, [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), *argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
