"""`python -m digitlab serve [streamlit flags]`: serve the app with its model server warm, as `make run` does.

The model server (digitlab.model_server) starts first and loads TensorFlow and the default
model while Streamlit starts in this process, with Streamlit's own command line. The libraries
the pages import are imported here too, so that the first visitor waits for neither. (The
pages' own modules are not: their Streamlit caches must be made once Streamlit's runtime runs.)
"""

import importlib
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"
PRELOADED = ("altair", "pandas", "digitlab.explain", "digitlab.feedback", "digitlab.jobs", "digitlab.preprocess")
USAGE = "usage: python -m digitlab serve [streamlit run flags, e.g. --server.port 8501]"


def serve(streamlit_flags):
    """Start the model server, import the app's pages, then run `streamlit run app.py` in this process."""
    from streamlit.web import cli

    from digitlab.model_server import model_server

    model_server()
    for module in PRELOADED:
        importlib.import_module(module)

    return cli.main(["run", str(APP), *streamlit_flags], prog_name="streamlit")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] != ["serve"]:
        print(USAGE, file=sys.stderr)
        return 2
    return serve(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
